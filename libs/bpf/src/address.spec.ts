import { addressBytes, formatAddress } from './address';

const bytes = (...b: number[]) => Uint8Array.from([...b, ...Array(16 - b.length).fill(0)]);

describe('formatAddress', () => {
  it('prints IPv4 from the first four bytes', () => {
    expect(formatAddress(bytes(198, 18, 0, 1, 9, 9), 0)).toBe('198.18.0.1');
  });

  it('prints IPv6 in RFC 5952 form', () => {
    expect(formatAddress(Buffer.from('fd007477000000000000000000000001', 'hex'), 1)).toBe(
      'fd00:7477::1',
    );
    expect(formatAddress(Buffer.alloc(16), 1)).toBe('::');
    expect(formatAddress(Buffer.from('20010db8000000010000000000000001', 'hex'), 1)).toBe(
      '2001:db8:0:1::1',
    );
    expect(formatAddress(Buffer.from('20010db8000100020003000400050006', 'hex'), 1)).toBe(
      '2001:db8:1:2:3:4:5:6',
    );
  });

  it('prints nothing for non-IP', () => {
    expect(formatAddress(bytes(), 2)).toBe('');
  });
});

describe('addressBytes', () => {
  const field = Buffer.from([198, 18, 0, 1, ...Array(12).fill(0xee)]);
  it('IPv4: the first 4 bytes, as a view of the record', () => {
    const b = addressBytes(field, 0);
    expect([...b]).toEqual([198, 18, 0, 1]);
    expect(b.buffer).toBe(field.buffer);
  });
  it('IPv6: all 16; non-IP: none', () => {
    expect(addressBytes(field, 1)).toHaveLength(16);
    expect(addressBytes(field, 2)).toHaveLength(0);
    expect(formatAddress(addressBytes(field, 0), 0)).toBe('198.18.0.1');
  });
});
