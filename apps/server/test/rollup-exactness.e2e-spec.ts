import { Client } from 'pg';
import type { NormalizedBatch } from '../src/storage/normalized-batch';
import { createDataSource } from '../src/database/data-source';
import { runMigrations } from '../src/database/migrate';
import { storeBatches, StoredBatch } from '../src/storage/batch-store';
import { RollupFillfactor1795760000000 } from '../src/database/migrations/1795760000000-rollup-fillfactor';
import { partitionDdl, periodsBetween } from '../src/storage/partitions';
import { partitionedTables, partitionUnit, rollupTable, SERIES } from '../src/storage/series';
import { createTestDatabase, TestDatabase } from './support/database';

// Ground truth: the raw rows themselves. After many windows stored in flushes
// of varied size (so that most rollup rows are merged into several times),
// every 1 min and 1 h rollup row equals the series' own aggregate (`agg`) over
// the raw rows of its bucket: integers exactly (also past 2^53), floating-point
// sums to rounding, and no bucket more or less.

const MAX_COUNT = Number.MAX_SAFE_INTEGER; // 2^53 - 1, the largest count a batch may carry
const START = Date.UTC(2026, 0, 15, 10, 57, 0); // windows run across an hour boundary

let db: TestDatabase;
let pg: Client;

function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function window(agent: number, seq: number, r: () => number): NormalizedBatch {
  const start = START + (seq - 1) * 10_000;
  const int = (n: number) => Math.floor(r() * n);
  // Agent 0 sends the largest counts a batch may carry: their sums only fit in a bigint.
  const big = (n: number) => (agent === 0 && r() < 0.5 ? MAX_COUNT : int(n));
  const traffic: NormalizedBatch['traffic'] = [];
  for (const iface of ['eth0', 'bond0|x'])
    for (const direction of [1, 2])
      for (const protocol of [1, 2, 3])
        if (r() < 0.8)
          traffic.push({
            iface,
            direction,
            family: 1 + int(2),
            protocol,
            packets: big(1e6),
            bytes: big(1e9),
          });
  // Duplicate keys inside one window must add up as well.
  const dedupe = new Map<string, NormalizedBatch['traffic'][number]>();
  for (const t of traffic) dedupe.set(`${t.iface}/${t.direction}/${t.family}/${t.protocol}`, t);
  const histogram = r() < 0.8;
  return {
    sequence: seq,
    windowStart: new Date(start),
    windowEnd: new Date(start + 10_000 - int(2) * 500),
    flowsSampled: r() < 0.2,
    traffic: [...dedupe.values()],
    rates: [1, 2].map((direction) => ({
      iface: '',
      direction,
      avgPps: r() * 1e4,
      peakPps: r() * 2e4,
      avgBps: r() * 1e9,
      peakBps: r() * 2e9,
    })),
    ports: [443, 5432, 53].map((port) => ({
      port,
      protocol: port === 53 ? 2 : 1,
      packets: big(1e5),
      bytes: int(1e8),
      connections: int(50),
      abnormal: r() < 0.1,
    })),
    talkers: Array.from({ length: 4 }, (_, i) => ({
      src: `198.18.${agent}.${i + 1}`,
      dst: `198.19.0.${1 + int(3)}`,
      protocol: 1,
      packets: int(1e4),
      bytes: big(1e7),
    })),
    drops: r() < 0.5 ? [{ reason: 'NO_SOCKET', count: 1 + int(5) }] : [],
    abnormal:
      r() < 0.3
        ? [{ peer: '198.19.9.9', port: 23, protocol: 1, direction: 1, connections: 1 + int(3) }]
        : [],
    connections: {
      openedClient: int(100),
      openedServer: int(100),
      failed: int(3),
      closed: int(100),
      active: int(1000),
      peakOpenedPerSecond: r() * 30,
      retransmits: int(10),
      durationSumMs: r() * 1e5,
      // Two bucket layouts: only histograms with the same bounds are added.
      durations: histogram
        ? {
            boundsMs: r() < 0.5 ? [10, 100, 1000] : [5, 50.5],
            counts: [] as number[],
            sumMs: r() * 1e5,
          }
        : null,
    },
    health: {
      cpuPercent: r() * 5,
      rssBytes: 30_000_000 + int(1e7),
      bpfRunTimeNs: big(1e7),
      bpfRunCount: int(1e6),
      spoolDepth: int(3),
      spoolBytes: 0,
      flowTableFull: int(2),
      recordsDropped: int(2),
    },
    scan: null,
    listening: null,
    records: 0,
  };
}

beforeAll(async () => {
  db = await createTestDatabase();
  const ds = createDataSource(db.url, 2);
  await ds.initialize();
  try {
    await runMigrations(ds);
  } finally {
    await ds.destroy();
  }
  pg = new Client({ connectionString: db.url });
  await pg.connect();
  for (const { table, resolution, updatedInPlace } of partitionedTables()) {
    const unit = partitionUnit(resolution);
    for (const p of periodsBetween(new Date(START), new Date(START + 86_400_000), unit)) {
      await pg.query(partitionDdl(table, p, unit, updatedInPlace));
    }
  }
});

afterAll(async () => {
  await pg?.end();
  await db?.drop();
});

it('keeps every 1 min and 1 h rollup equal to the aggregate of its raw rows', async () => {
  const r = prng(12);
  const agents = [
    '00000000-0000-4000-8000-000000000001',
    '00000000-0000-4000-8000-000000000002',
    '00000000-0000-4000-8000-000000000003',
  ];
  const items: StoredBatch[] = [];
  for (let seq = 1; seq <= 60; seq++)
    agents.forEach((agentId, i) => {
      const batch = window(i, seq, r);
      const d = batch.connections.durations;
      if (d)
        d.counts = Array.from({ length: d.boundsMs.length + 1 }, () =>
          i === 0 ? MAX_COUNT : Math.floor(r() * 100),
        );
      items.push({ agentId, batch });
    });
  // Flushes of 1 to 40 windows, mixing agents, as the writer makes them.
  let stored = 0;
  for (let i = 0; i < items.length;) {
    const n = 1 + Math.floor(r() * 40);
    await pg.query('BEGIN');
    stored += await storeBatches(pg, items.slice(i, i + n));
    await pg.query('COMMIT');
    i += n;
  }
  const expectRaw = items.reduce(
    (n, { batch: b }) =>
      n +
      b.traffic.length +
      b.rates.length +
      b.ports.length +
      b.talkers.length +
      b.drops.length +
      b.abnormal.length +
      1 +
      (b.connections.durations ? 1 : 0),
    0,
  );
  expect(stored).toBe(expectRaw);
  const [{ n: windows }] = (await pg.query(`SELECT count(*)::int AS n FROM windows_raw`)).rows as {
    n: number;
  }[];
  expect(windows).toBe(items.length);

  for (const s of SERIES) {
    const keys = ['agent_id', 'bucket', ...s.dims];
    for (const [resolution, unit] of [
      ['1m', 'minute'],
      ['1h', 'hour'],
    ] as const) {
      const order = keys.map((_, i) => i + 1).join(', ');
      // Every value as text: bigint sums past 2^53 compare exactly; doubles are parsed below.
      const text = (e: string, type: string) =>
        type.endsWith('[]')
          ? `(${e})::text`
          : `(${e})::${type === 'double precision' ? 'float8' : type}::text`;
      const truth = await pg.query(
        `SELECT agent_id::text, date_trunc('${unit}', window_start, 'UTC') AS bucket, ${s.dims.map((d) => `${d}::text`).join(', ')}${s.dims.length ? ',' : ''}
                ${s.rollup.map((c) => `${text(c.agg, c.type)} AS ${c.name}`).join(', ')}
           FROM ${s.raw} GROUP BY ${order} ORDER BY ${order}`,
      );
      const got = await pg.query(
        `SELECT agent_id::text, bucket, ${s.dims.map((d) => `${d}::text`).join(', ')}${s.dims.length ? ',' : ''}
                ${s.rollup.map((c) => `${text(c.name, c.type)} AS ${c.name}`).join(', ')}
           FROM ${rollupTable(s, resolution)} ORDER BY ${order}`,
      );
      const label = `${s.name} ${resolution}`;
      expect({ label, rows: got.rows.length }).toEqual({ label, rows: truth.rows.length });
      expect(truth.rows.length).toBeGreaterThan(0);
      truth.rows.forEach((want: Record<string, unknown>, i) => {
        const have = got.rows[i] as Record<string, unknown>;
        for (const k of keys) expect({ label, k, v: have[k] }).toEqual({ label, k, v: want[k] });
        for (const c of s.rollup) {
          if (c.type === 'double precision') {
            const w = Number(want[c.name]);
            expect(Math.abs(Number(have[c.name]) - w)).toBeLessThanOrEqual(Math.abs(w) * 1e-12);
          } else
            expect({ label, c: c.name, v: have[c.name] }).toEqual({
              label,
              c: c.name,
              v: want[c.name],
            });
        }
      });
    }
  }
  // The sums really went past 2^53 (the bigint path was exercised).
  const [{ max }] = (await pg.query(`SELECT max(bytes)::text AS max FROM traffic_1h`)).rows as {
    max: string;
  }[];
  expect(BigInt(max) > BigInt(MAX_COUNT)).toBe(true);
});

it('creates rollup partitions with room for in-place updates, and the migration sets it on existing ones', async () => {
  const fillfactors = async () =>
    (
      await pg.query(
        `SELECT c.relname, coalesce(array_to_string(c.reloptions, ','), '') AS o
           FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid JOIN pg_class p ON p.oid = i.inhparent
          WHERE p.relname = ANY($1::text[]) ORDER BY 1`,
        [partitionedTables().map((t) => t.table)],
      )
    ).rows as { relname: string; o: string }[];
  const expected = (rollupOption: string) => (r: { relname: string }) => ({
    relname: r.relname,
    // Raw rows and fleet rows (inserted, never updated in place) keep the default.
    o: /_raw_p|^scan_windows_p|_fleet_/.test(r.relname) ? '' : rollupOption,
  });
  const now = await fillfactors();
  expect(now.length).toBeGreaterThan(SERIES.length * 3);
  expect(now).toEqual(now.map(expected('fillfactor=70')));
  const ds = createDataSource(db.url, 1);
  await ds.initialize();
  const qr = ds.createQueryRunner();
  try {
    await new RollupFillfactor1795760000000().down(qr);
    expect(await fillfactors()).toEqual(now.map(expected('')));
    await new RollupFillfactor1795760000000().up(qr);
    expect(await fillfactors()).toEqual(now);
  } finally {
    await qr.release();
    await ds.destroy();
  }
});
