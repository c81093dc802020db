import type { Batch__Output, Hello__Output } from '@tidewatch/proto';
import { BatchTooLargeError, InvalidInputError } from '../common/domain-errors';
import { BatchLimits, validateBatch, validateHello } from './batch-validation';

const NOW = Date.UTC(2026, 10, 26, 12);
const limits: BatchLimits = {
  maxRecords: 10,
  notBefore: new Date(NOW - 86_400_000),
  notAfter: new Date(NOW + 60_000),
};

function batch(over: Partial<Batch__Output> = {}): Batch__Output {
  return {
    sequence: 1,
    windowStartMs: NOW - 10_000,
    windowEndMs: NOW,
    traffic: [
      {
        iface: 'eth0',
        direction: 'DIRECTION_INGRESS',
        family: 'FAMILY_IPV4',
        protocol: 'PROTOCOL_TCP',
        packets: 3,
        bytes: 180,
      },
    ],
    rates: [],
    ports: [],
    talkers: [],
    connections: null,
    drops: [],
    health: null,
    abnormal: [],
    flowsSampled: false,
    ...over,
  };
}

const conns: NonNullable<Batch__Output['connections']> = {
  openedClient: 0,
  openedServer: 0,
  failed: 0,
  closed: 3,
  active: 0,
  peakOpenedPerSecond: 0,
  retransmits: 0,
  durationBoundsMs: [],
  durationCounts: [],
  durationSumMs: 0,
};

describe('validateBatch', () => {
  it('maps enum names to the stored codes', () => {
    const b = validateBatch(batch(), limits);
    expect(b.traffic[0]).toEqual({
      iface: 'eth0',
      direction: 1,
      family: 1,
      protocol: 1,
      packets: 3,
      bytes: 180,
    });
    expect(b.records).toBe(2);
    expect(b.connections.active).toBe(0);
  });

  it.each([
    [{ sequence: 0 }, /sequence must be an integer >= 1/],
    [{ windowEndMs: NOW - 10_000 }, /start < end/],
    [
      { windowStartMs: NOW - 2 * 86_400_000, windowEndMs: NOW - 2 * 86_400_000 + 1 },
      /before the retention horizon/,
    ],
    [{ windowStartMs: NOW + 3_600_000, windowEndMs: NOW + 3_610_000 }, /too far ahead/],
    [
      {
        ports: [
          {
            port: 70000,
            protocol: 'PROTOCOL_TCP',
            packets: 1,
            bytes: 1,
            connections: 0,
            abnormal: false,
          },
        ],
      },
      /ports\[0\]\.port/,
    ],
    [{ drops: [{ reason: 'a\u0000b', count: 1 }] }, /drops\[0\]\.reason contains a NUL/],
    [
      { connections: { ...conns, durationBoundsMs: [10, 100], durationCounts: [1, 2] } },
      /duration_counts must have one entry more than duration_bounds_ms \(3\), got 2/,
    ],
    [
      { connections: { ...conns, durationBoundsMs: [10, 10], durationCounts: [1, 2, 3] } },
      /duration_bounds_ms must be strictly increasing/,
    ],
    [
      { connections: { ...conns, durationBoundsMs: [10], durationCounts: [1, -2] } },
      /duration_counts\[1\] must be a non-negative integer/,
    ],
    [
      { traffic: [{ ...batch().traffic[0], bytes: 2 ** 60 }] },
      /traffic\[0\]\.bytes must be a non-negative integer/,
    ],
    [
      { traffic: [{ ...batch().traffic[0], protocol: 9 as unknown as 'PROTOCOL_TCP' }] },
      /traffic\[0\]\.protocol has an unknown value 9/,
    ],
  ])('refuses %j', (over, message) => {
    expect(() => validateBatch(batch(over as Partial<Batch__Output>), limits)).toThrow(
      InvalidInputError,
    );
    expect(() => validateBatch(batch(over as Partial<Batch__Output>), limits)).toThrow(message);
  });

  it('keeps a duration histogram as one more record', () => {
    const b = validateBatch(
      batch({
        connections: {
          ...conns,
          durationBoundsMs: [10, 100],
          durationCounts: [1, 0, 2],
          durationSumMs: 450,
        },
      }),
      limits,
    );
    expect(b.connections.durations).toEqual({ boundsMs: [10, 100], counts: [1, 0, 2], sumMs: 450 });
    expect(b.records).toBe(3);
    expect(validateBatch(batch({ connections: conns }), limits).connections.durations).toBeNull();
  });

  it('refuses too many records as too large', () => {
    const drops = Array.from({ length: 10 }, () => ({ reason: 'x', count: 1 }));
    expect(() => validateBatch(batch({ drops }), limits)).toThrow(BatchTooLargeError);
  });
});

describe('validateHello', () => {
  const hello = (over: Partial<Hello__Output> = {}): Hello__Output => ({
    agentId: '0B5C6C6E-3C0A-4D5B-9C3E-8F5F1E2A3B4C',
    hostname: 'db-1',
    agentVersion: '0.1.0',
    kernelRelease: '4.19.90',
    capabilities: [],
    interfaces: [],
    labels: { env: 'prod' },
    enrollmentToken: 'twe_x',
    agentCredential: '',
    masking: 'MASKING_NONE',
    startedAtMs: 0,
    configVersion: 0,
    oldestSequence: 0,
    ...over,
  });

  it('normalizes the agent id to lower case', () => {
    expect(validateHello(hello()).agentId).toBe('0b5c6c6e-3c0a-4d5b-9c3e-8f5f1e2a3b4c');
  });

  it.each([
    [{ agentId: 'host-1' }, /agent_id must be a UUID/],
    [{ hostname: '' }, /hostname must not be empty/],
    [{ labels: { 'bad key': 'x' } }, /labels key/],
    [{ enrollmentToken: '' }, /enrollment_token or an agent_credential/],
  ])('refuses %j', (over, message) => {
    expect(() => validateHello(hello(over as Partial<Hello__Output>))).toThrow(message);
  });
});
