import { mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Batch__Output } from '@tidewatch/proto';
import { Spool } from './spool';
import { StateDirError } from '../state/errors';

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
    expect(() => Spool.open(join(dir, 'file', 'state'), 1000)).toThrow(StateDirError);
    expect(() => Spool.open(join(dir, 'file', 'state'), 1000)).toThrow(/ENOTDIR.*check stateDir/);
  });
});

describe('Spool renumbering (numbering restarted: the server holds more than this spool ever assigned)', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'tw-spool-renum-'));
  });
  afterEach(() => {
    jest.restoreAllMocks();
    rmSync(dir, { recursive: true, force: true });
  });

  const held = (s: Spool) =>
    s.pendingAfter(0).map((seq) => [seq, s.read(seq)!.sequence, s.read(seq)!.windowStartMs]);
  const filesOnDisk = () =>
    readdirSync(join(dir, 'spool'))
      .filter((n) => n.endsWith('.json'))
      .map((n) => Number(n.slice(0, 20)));

  it('gives every held batch a new number after the server, in order, and numbering goes on from there', () => {
    const s = Spool.open(dir, 1 << 20);
    [1, 2, 3].forEach((i) => s.append(batch(i)));
    s.ack(1);
    expect(s.renumberAfter(7)).toBe(2);
    expect(held(s)).toEqual([
      [8, 8, 2],
      [9, 9, 3],
    ]);
    expect(s.lastSequence).toBe(9);
    expect(s.append(batch(4)).sequence).toBe(10);
    expect(filesOnDisk()).toEqual([8, 9, 10]);
    // Persisted: a restart keeps the new numbers and goes on after them.
    const again = Spool.open(dir, 1 << 20);
    expect(held(again).map(([seq, , start]) => [seq, start])).toEqual([
      [8, 2],
      [9, 3],
      [10, 4],
    ]);
    expect(again.append(batch(5)).sequence).toBe(11);
  });

  it('with nothing held, numbering still continues after the server', () => {
    const s = Spool.open(dir, 1 << 20);
    expect(s.renumberAfter(7)).toBe(0);
    expect(s.append(batch(1)).sequence).toBe(8);
    expect(Spool.open(dir, 1 << 20).append(batch(2)).sequence).toBe(9);
  });

  it('changes nothing when the server holds no more than this spool assigned', () => {
    const s = Spool.open(dir, 1 << 20);
    [1, 2, 3].forEach((i) => s.append(batch(i)));
    expect(s.renumberAfter(3)).toBe(0);
    expect(s.pendingAfter(0)).toEqual([1, 2, 3]);
  });

  it('a crash between writing a renumbered batch and removing the old one: the restart ends with each batch once, in order', () => {
    const s = Spool.open(dir, 1 << 20);
    [1, 2, 3].forEach((i) => s.append(batch(i)));
    // eslint-disable-next-line @typescript-eslint/no-require-imports -- the module object the spool calls into
    const fs = require('node:fs') as typeof import('node:fs');
    const realUnlink = fs.unlinkSync;
    let unlinks = 0;
    jest.spyOn(fs, 'unlinkSync').mockImplementation((path) => {
      // The second batch's new file is written; the process dies before its old one goes.
      if (String(path).endsWith(`${'2'.padStart(20, '0')}.json`)) throw new Error('crash');
      unlinks++;
      return realUnlink(path);
    });
    expect(() => s.renumberAfter(7)).toThrow(/crash/);
    expect(unlinks).toBe(1);
    expect(filesOnDisk()).toEqual([2, 3, 8, 9]); // 2 is there twice: as 2 and as 9
    jest.restoreAllMocks();
    const again = Spool.open(dir, 1 << 20);
    expect(held(again)).toEqual([
      [8, 8, 1],
      [9, 9, 2],
      [10, 10, 3],
    ]);
    expect(filesOnDisk()).toEqual([8, 9, 10]);
    expect(again.append(batch(4)).sequence).toBe(11);
    expect(again.takeDropped()).toEqual({});
  });

  it('a crash after the plan was saved, before any file moved: the restart does the whole renumbering', () => {
    const s = Spool.open(dir, 1 << 20);
    [1, 2].forEach((i) => s.append(batch(i)));
    // eslint-disable-next-line @typescript-eslint/no-require-imports -- the module object the spool calls into
    const fs = require('node:fs') as typeof import('node:fs');
    const realRead = fs.readFileSync;
    jest.spyOn(fs, 'readFileSync').mockImplementation(((path: string, ...rest: unknown[]) => {
      if (String(path).endsWith('.json') && String(path).includes('/spool/'))
        throw new Error('crash');
      return (realRead as (...a: unknown[]) => unknown)(path, ...rest);
    }) as typeof fs.readFileSync);
    expect(() => s.renumberAfter(5)).toThrow(/crash/);
    jest.restoreAllMocks();
    expect(filesOnDisk()).toEqual([1, 2]);
    const again = Spool.open(dir, 1 << 20);
    expect(held(again)).toEqual([
      [6, 6, 1],
      [7, 7, 2],
    ]);
  });
});
