import { mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Batch__Output } from '@tidewatch/proto';
import { Spool, SpoolError } from './spool';

function batch(startMs: number, pad = 0): Batch__Output {
  return {
    sequence: 0,
    windowStartMs: startMs,
    windowEndMs: startMs + 10_000,
    traffic: [],
    rates: [],
    ports: [],
    talkers: Array.from({ length: pad }, () => ({
      src: 'x',
      dst: 'y',
      protocol: 'PROTOCOL_TCP' as const,
      packets: 1,
      bytes: 1,
    })),
    connections: null,
    drops: [],
    health: null,
    abnormal: [],
    flowsSampled: false,
  };
}

function spoolBytesOnDisk(dir: string): number {
  return readdirSync(join(dir, 'spool'))
    .filter((n) => n.endsWith('.json'))
    .reduce((sum, n) => sum + statSync(join(dir, 'spool', n)).size, 0);
}

describe('Spool', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'tw-spool-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('numbers batches from 1, replays unacknowledged ones in order, and survives a restart', () => {
    const s = Spool.open(dir, 1 << 20);
    expect([1, 2, 3].map((i) => s.append(batch(i)).sequence)).toEqual([1, 2, 3]);
    s.ack(1);
    expect(s.pendingAfter(0)).toEqual([2, 3]);
    const again = Spool.open(dir, 1 << 20);
    expect(again.pendingAfter(0)).toEqual([2, 3]);
    expect(again.read(2)!.windowStartMs).toBe(2);
    expect(again.append(batch(4)).sequence).toBe(4);
    again.ack(4);
    expect(again.depth).toBe(0);
    // Sequences keep growing even once the spool is empty.
    expect(Spool.open(dir, 1 << 20).append(batch(5)).sequence).toBe(5);
  });

  it('drops the oldest when full, counts it, and never holds more than the bound', () => {
    const one = Buffer.byteLength(JSON.stringify({ ...batch(1000), sequence: 1 }));
    const bound = one * 3 + 10;
    const s = Spool.open(dir, bound);
    for (let i = 0; i < 10; i++) {
      s.append(batch(1000 + i));
      expect(spoolBytesOnDisk(dir)).toBeLessThanOrEqual(bound);
    }
    expect(s.pendingAfter(0)).toEqual([8, 9, 10]);
    expect(s.takeDropped()).toEqual({ spool_full: 7 });
    expect(s.takeDropped()).toEqual({});
    // A batch larger than the whole spool is counted too, never written.
    s.append(batch(0, 1000));
    expect(s.takeDropped()).toEqual({ spool_full: 1 });
    expect(spoolBytesOnDisk(dir)).toBeLessThanOrEqual(bound);
  });

  it('keeps the dropped count across a restart until reported', () => {
    const one = Buffer.byteLength(JSON.stringify({ ...batch(1000), sequence: 1 }));
    const s = Spool.open(dir, one + 5);
    s.append(batch(1000));
    s.append(batch(1001));
    expect(Spool.open(dir, one + 5).takeDropped()).toEqual({ spool_full: 1 });
  });

  it('carries the losses a dropped batch was reporting over to the next report', () => {
    const withLoss = (i: number): Batch__Output => ({
      ...batch(i),
      health: {
        cpuPercent: 0,
        rssBytes: 0,
        bpfRunTimeNs: 0,
        bpfRunCount: 0,
        spoolDepth: 0,
        spoolBytes: 0,
        recordsDropped: [
          { reason: 'spool_full', count: 4 },
          { reason: 'flow_limit', count: 9 },
        ],
        flowTableFull: 0,
      },
    });
    const one = Buffer.byteLength(JSON.stringify({ ...withLoss(1000), sequence: 1 }));
    const s = Spool.open(dir, one + 5);
    s.append(withLoss(1000));
    s.append(batch(1001));
    expect(s.takeDropped()).toEqual({ spool_full: 5, flow_limit: 9 });
  });

  it('forgets a batch that cannot be read back, counting it, also across a restart', () => {
    const s = Spool.open(dir, 1 << 20);
    [1, 2, 3].forEach((i) => s.append(batch(i)));
    writeFileSync(join(dir, 'spool', `${'2'.padStart(20, '0')}.json`), '{not json');
    expect(s.read(2)).toBeUndefined();
    s.discard(2);
    expect(s.pendingAfter(0)).toEqual([1, 3]);
    expect(Spool.open(dir, 1 << 20).pendingAfter(0)).toEqual([1, 3]);
    expect(Spool.open(dir, 1 << 20).takeDropped()).toEqual({ spool_read_failed: 1 });
  });

  it('says clearly when the state directory cannot be used', () => {
    writeFileSync(join(dir, 'file'), 'x');
    expect(() => Spool.open(join(dir, 'file', 'state'), 1000)).toThrow(SpoolError);
    expect(() => Spool.open(join(dir, 'file', 'state'), 1000)).toThrow(/ENOTDIR.*check stateDir/);
  });
});
