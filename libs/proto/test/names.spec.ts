import * as protobuf from 'protobufjs';
import {
  DIRECTION_CODES,
  DIRECTION_NAMES,
  FAMILY_CODES,
  INGEST_PROTO,
  MASKING_CODES,
  PROTOCOL_CODES,
  PROTOCOL_WIRE,
  directionName,
  protocolName,
} from '../src';

// ingest.proto is the source: the short-name mapping must cover every value
// it declares, at the number it declares, and nothing else.
describe('short names ↔ tidewatch.v1 enums', () => {
  const root = protobuf.loadSync(INGEST_PROTO);
  const byNumber = (name: string) => {
    const e = root.lookupEnum(`tidewatch.v1.${name}`);
    const out: string[] = [];
    for (const [k, v] of Object.entries(e.values)) out[v] = k;
    return out;
  };

  it.each([
    ['Direction', DIRECTION_CODES],
    ['Family', FAMILY_CODES],
    ['Protocol', PROTOCOL_CODES],
    ['MaskingMode', MASKING_CODES],
  ])('%s: every value at its proto number', (name, codes) => {
    expect([...codes]).toEqual(byNumber(name));
  });

  it('maps both ways; unspecified and unknown values have no short name', () => {
    for (const n of DIRECTION_NAMES)
      expect(directionName(DIRECTION_CODES[1 + DIRECTION_NAMES.indexOf(n)])).toBe(n);
    expect(PROTOCOL_WIRE.icmpv6).toBe('PROTOCOL_ICMPV6');
    expect(protocolName('PROTOCOL_ICMPV6')).toBe('icmpv6');
    expect(protocolName('PROTOCOL_UNSPECIFIED')).toBeUndefined();
    expect(protocolName('PROTOCOL_SCTP')).toBeUndefined();
    expect(directionName(undefined)).toBeUndefined();
  });
});
