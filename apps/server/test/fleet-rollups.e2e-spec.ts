import { Client } from 'pg';
import { DataSource } from 'typeorm';
import { ConfigurationService } from '../src/config/configuration.service';
import { createDataSource } from '../src/database/data-source';
import { runMigrations } from '../src/database/migrate';
import type { NormalizedBatch } from '../src/storage/normalized-batch';
import { storeBatches, StoredBatch } from '../src/storage/batch-store';
import { FleetRollupService } from '../src/storage/fleet-rollups';
import { PartitionMaintenanceService } from '../src/storage/partition-maintenance.service';
import {
  FLEET_RESOLUTIONS,
  FLEET_SERIES,
  FLEET_TIERS,
  fleetSource,
  fleetTable,
  rollupTable,
  seriesByName,
} from '../src/storage/series';
import {
  buildSegmentQuery,
  fleetCoverage,
  querySeries,
  SegmentQuery,
  summed,
} from '../src/storage/series-query';
import { exactPlan } from '../src/traffic/time-range';
import { createTestDatabase, TestDatabase } from './support/database';
import { testEnv } from './support/server';

// Ground truth: the per-agent tables. The fleet rollups are derived from them, and a
// fleet-wide answer (fleet rows for summed buckets, per-agent rows for the rest) must equal
// the same query read from the per-agent tables alone: after a derivation, after late
// windows land in buckets already summed (spool replay), after the recomputation, and when a
// flush is still open while the derivation seals its buckets. Retention drops the fleet
// tables' partitions with the others.

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;
// Windows run across a minute, an hour and a day boundary.
const START = Date.UTC(2026, 0, 15, 23, 58, 0);
const AGENTS = [
  '00000000-0000-4000-8000-00000000000a',
  '00000000-0000-4000-8000-00000000000b',
  '00000000-0000-4000-8000-00000000000c',
];

let db: TestDatabase;
let ds: DataSource;
let pg: Client;
let fleet: FleetRollupService;
let partitions: PartitionMaintenanceService;

function window(agent: number, seq: number): NormalizedBatch {
  const start = START + (seq - 1) * 10_000;
  const v = (k: number) => ((agent + 1) * 7919 * seq * (k + 3)) % 100_003;
  return {
    sequence: seq,
    windowStart: new Date(start),
    windowEnd: new Date(start + 10_000),
    flowsSampled: false,
    traffic: [1, 2].flatMap((direction) =>
      [1, 2].map((protocol) => ({
        iface: agent === 2 ? 'bond0' : 'eth0',
        direction,
        family: 1,
        protocol,
        packets: v(direction * protocol),
        bytes: v(direction * protocol + 9) * 1000,
      })),
    ),
    rates: [],
    ports: [22, 443, 5432].map((port, i) => ({
      port,
      protocol: 1,
      packets: v(i),
      bytes: v(i + 4) * 100,
      connections: v(i + 8) % 50,
      abnormal: (seq + agent + i) % 11 === 0,
    })),
    talkers: [
      ...[1, 2].map((k) => ({
        src: `198.18.0.${agent + 1}`,
        dst: `198.19.0.${k}`,
        protocol: 1,
        packets: v(k + 20),
        bytes: v(k + 30) * 10,
      })),
      // Ties: two pairs per agent with the same bytes in every window, above every other
      // pair, so the top 5 is cut inside them and the order by address decides.
      ...[1, 2].map((k) => ({
        src: `198.18.9.${agent + 1}`,
        dst: `198.19.9.${k}`,
        protocol: 1,
        packets: 7,
        bytes: 2_000_000,
      })),
    ],
    drops: [],
    abnormal: [],
    connections: {
      openedClient: 0,
      openedServer: 0,
      failed: 0,
      closed: 0,
      active: 0,
      peakOpenedPerSecond: 0,
      retransmits: 0,
      durationSumMs: 0,
      durations: null,
    },
    health: {
      cpuPercent: 1,
      rssBytes: 1,
      bpfRunTimeNs: 0,
      bpfRunCount: 0,
      spoolDepth: 0,
      spoolBytes: 0,
      flowTableFull: 0,
      recordsDropped: 0,
    },
    scan: null,
    listening: null,
    records: 0,
  };
}

async function store(items: StoredBatch[], client: Client = pg): Promise<void> {
  await client.query('BEGIN');
  await storeBatches(client, items);
  await client.query('COMMIT');
}

/** The dashboard's fleet-wide shapes over [from, to). */
function shapes(from: Date, to: Date): { label: string; q: SegmentQuery }[] {
  const traffic = seriesByName('traffic');
  const plan = exactPlan(from, to);
  const out: { label: string; q: SegmentQuery }[] = [
    {
      label: 'summary',
      q: {
        series: traffic,
        segments: plan,
        groupBy: ['protocol', 'direction'],
        metrics: [summed('packets'), summed('bytes')],
        agentIds: null,
        filters: {},
      },
    },
    {
      label: 'summary iface=eth0',
      q: {
        series: traffic,
        segments: plan,
        groupBy: ['direction'],
        metrics: [summed('packets'), summed('bytes')],
        agentIds: null,
        filters: { iface: 'eth0' },
      },
    },
    {
      label: 'top ports',
      q: {
        series: seriesByName('ports'),
        segments: plan,
        groupBy: ['port', 'protocol'],
        metrics: [
          summed('packets'),
          summed('bytes'),
          summed('connections'),
          {
            name: 'abnormal',
            raw: 'bool_or(abnormal)',
            rollup: 'bool_or(abnormal)',
            outer: 'bool_or',
          },
        ],
        agentIds: null,
        filters: {},
        orderBy: [{ key: 'bytes', desc: true }, { key: 'port' }, { key: 'protocol' }],
        limit: 2,
      },
    },
    {
      label: 'top talkers',
      q: {
        series: seriesByName('talkers'),
        segments: plan,
        groupBy: ['src', 'dst', 'protocol'],
        metrics: [summed('packets'), summed('bytes')],
        agentIds: null,
        filters: {},
        orderBy: [
          { key: 'bytes', desc: true },
          { key: 'src' },
          { key: 'dst' },
          { key: 'protocol' },
        ],
        limit: 5,
      },
    },
  ];
  for (const resolution of ['raw', '1m', '1h'] as const)
    out.push({
      label: `series ${resolution}`,
      q: {
        series: traffic,
        segments: [{ resolution, from, to }],
        groupBy: ['direction'],
        byTime: true,
        metrics: [summed('packets'), summed('bytes')],
        agentIds: null,
        filters: {},
      },
    });
  return out;
}

const RANGES: [Date, Date][] = [
  [new Date(START - 12 * HOUR + 7_000), new Date(START + 2 * DAY + 5 * MINUTE)], // days and hours
  [new Date(START - 30 * MINUTE), new Date(START + 30 * MINUTE + 3_000)], // minutes, raw edges
  [new Date(START + 45_000), new Date(START + 3 * MINUTE + 15_000)], // raw edges only
  [new Date(START - 2 * DAY + 5 * HOUR), new Date(START + 8 * DAY)], // a month-week, days, 6 h
];

/** Every shape, fleet-wide and from the per-agent tables alone: equal, and not empty. */
async function expectFleetEqualsPerAgent(expectFleetRows: boolean): Promise<void> {
  for (const [from, to] of RANGES)
    for (const { label, q } of shapes(from, to)) {
      const truth = buildSegmentQuery(q);
      const want = await ds.query(truth.sql, truth.params);
      const got = await querySeries(ds, q);
      expect({ label, from, rows: got }).toEqual({ label, from, rows: want });
      if (label === 'summary') expect(want.length).toBeGreaterThan(0);
      if (label === 'top talkers') {
        // The cut falls inside tied pairs (same bytes): the order by address decides.
        expect(want).toHaveLength(5);
        expect(new Set(want.map((w: { bytes: string }) => w.bytes)).size).toBeLessThan(5);
      }
    }
  const cov = await fleetCoverage(ds, new Date(0), new Date(START + 3 * DAY));
  const plan = buildSegmentQuery(shapes(RANGES[0][0], RANGES[0][1])[0].q, cov);
  // The fleet tables are really read (the daily one too), or, before any pass, not at all.
  const minutes = buildSegmentQuery(shapes(RANGES[1][0], RANGES[1][1])[3].q, cov);
  if (expectFleetRows) {
    expect(plan.sql).toContain('traffic_fleet_1d');
    expect(plan.sql).toContain('traffic_fleet_6h');
    expect(plan.sql).toContain('traffic_fleet_1m');
    expect(minutes.sql).toContain('talkers_fleet_10m');
    // Summed metrics: the parts' rows are aggregated once (the equality above holds for it).
    expect(minutes.sql).not.toContain('GROUP BY 1, 2, 3 UNION ALL');
  } else {
    expect(plan.sql).not.toContain('_fleet_');
    expect(minutes.sql).not.toContain('_fleet_');
  }
}

/** Each tier's block, written apart from FLEET_TIERS: its start from a row's bucket, its end from its start (`bucket`). */
const utc = (e: string) => `((${e}) AT TIME ZONE 'UTC')`;
const BLOCKS: Partial<Record<string, { start: string; end: string }>> = {
  '10m': {
    start: `to_timestamp(floor(extract(epoch from bucket) / 600) * 600)`,
    end: `bucket + interval '10 minutes'`,
  },
  '6h': {
    start: `to_timestamp(floor(extract(epoch from bucket) / 21600) * 21600)`,
    end: `bucket + interval '6 hours'`,
  },
  '1d': { start: `date_trunc('day', bucket, 'UTC')`, end: `bucket + interval '24 hours'` },
  // Month-weeks: days 1-7, 8-14, 15-21, 22-28, 29-end of the UTC month.
  '7d': {
    start: `${utc(`date_trunc('month', ${utc('bucket')}) + make_interval(days => 7 * least((extract(day from ${utc('bucket')})::int - 1) / 7, 4))`)}`,
    end: `CASE WHEN extract(day from ${utc('bucket')}) < 29 THEN bucket + interval '168 hours'
               ELSE ${utc(`date_trunc('month', ${utc('bucket')}) + interval '1 month'`)} END`,
  },
};

/** Each fleet table's rows equal the per-agent rows summed over agents, bucket by bucket. */
async function expectFleetTablesExact(weekSummed = false): Promise<void> {
  expect(Object.keys(BLOCKS).sort()).toEqual(
    Object.values(FLEET_TIERS)
      .flatMap((ts) => ts.map((t) => t.tier))
      .sort(),
  );
  for (const name of FLEET_SERIES) {
    const s = seriesByName(name);
    const keys = ['bucket', ...s.dims];
    const order = keys.map((_, i) => i + 1).join(', ');
    const vals = (e: (c: string) => string) =>
      s.rollup.map((c) => `(${e(c.name)})::text AS ${c.name}`).join(', ');
    const agg = (c: string) => (c === 'abnormal' ? `bool_or(${c})` : `sum(${c})`);
    for (const r of FLEET_RESOLUTIONS) {
      const cols = [...s.dims, ...s.rollup.map((c) => c.name)].join(', ');
      const src = fleetSource(r);
      const block = BLOCKS[r];
      const source =
        r === 'raw'
          ? `SELECT window_start AS bucket, ${s.dims.join(', ')}, ${s.rollup.map((c) => `${c.agg} AS ${c.name}`).join(', ')} FROM ${s.raw} GROUP BY 1, ${s.dims.map((_, i) => i + 2).join(', ')}`
          : `SELECT ${block ? block.start : 'bucket'} AS bucket, ${cols} FROM ${rollupTable(s, src as '1m' | '1h')}`;
      const [{ summed_to: upTo }] = await db.query<{ summed_to: Date }>(
        `SELECT summed_to FROM fleet_rollup_state WHERE resolution = $1`,
        [src],
      );
      // A tier holds the blocks wholly summed; the others, the buckets summed.
      const limit = block ? `${block.end} <= $1` : 'bucket < $1';
      const want = await db.query(
        `SELECT ${keys.join(', ')}, ${vals(agg)} FROM (${source}) x WHERE ${limit} GROUP BY ${order} ORDER BY ${order}`,
        [upTo],
      );
      const got = await db.query(
        `SELECT ${keys.join(', ')}, ${vals((c) => c)} FROM ${fleetTable(s, r)} ORDER BY ${order}`,
      );
      expect({ table: fleetTable(s, r), rows: got }).toEqual({
        table: fleetTable(s, r),
        rows: want,
      });
      // No month-week is wholly summed before the last passes.
      if (r !== '7d' || weekSummed) expect(want.length).toBeGreaterThan(0);
    }
  }
}

beforeAll(async () => {
  db = await createTestDatabase();
  ds = createDataSource(db.url, 4);
  await ds.initialize();
  await runMigrations(ds);
  const config = new ConfigurationService(testEnv(db.url));
  partitions = new PartitionMaintenanceService(ds, config);
  fleet = new FleetRollupService(ds, config, partitions);
  await partitions.ensureRange(new Date(START - DAY), new Date(START + 9 * DAY));
  pg = new Client({ connectionString: db.url });
  await pg.connect();
});

afterAll(async () => {
  await pg?.end();
  await ds?.destroy();
  await db?.drop();
});

const batches = (agent: number, seqs: number[], shift = 0): StoredBatch[] =>
  seqs.map((seq) => {
    const batch = window(agent, seq);
    batch.windowStart = new Date(batch.windowStart.getTime() + shift);
    batch.windowEnd = new Date(batch.windowEnd.getTime() + shift);
    return { agentId: AGENTS[agent], batch };
  });
const range = (a: number, b: number) => Array.from({ length: b - a + 1 }, (_, i) => a + i);

it('answers fleet-wide queries exactly as the per-agent rollups, through late windows and recomputation', async () => {
  // Agents a and b send 36 windows (6 minutes); agent c's last 12 stay in its spool.
  await store([
    ...batches(0, range(1, 36)),
    ...batches(1, range(1, 36)),
    ...batches(2, range(1, 24)),
  ]);
  await expectFleetEqualsPerAgent(false);

  const report = await fleet.run(new Date(START + 2 * DAY + HOUR));
  // The 1 h buckets close a grace minute after they end: up to Jan 18 00:00.
  expect(report.summedTo['1h']?.getTime()).toBe(Date.UTC(2026, 0, 18));
  await expectFleetTablesExact();
  await expectFleetEqualsPerAgent(true);
  expect((await db.query(`SELECT count(*)::int AS n FROM fleet_rollup_dirty`))[0]).toEqual({
    n: 0,
  });

  // The spool replays: windows into raw, minute, hour and day buckets already summed.
  await store(batches(2, range(25, 36)));
  const marked = await db.query<{ resolution: string; n: number }>(
    `SELECT resolution, count(DISTINCT bucket)::int AS n FROM fleet_rollup_dirty GROUP BY 1 ORDER BY 1`,
  );
  expect(marked).toEqual([
    { resolution: '1h', n: 1 },
    { resolution: '1m', n: 2 },
    { resolution: 'raw', n: 12 },
  ]);
  // Before the recomputation the marked buckets are read from the hosts' rows: still exact.
  await expectFleetEqualsPerAgent(true);

  const again = await fleet.run(new Date(START + 2 * DAY + HOUR));
  expect(again.recomputed).toBe(15);
  expect((await db.query(`SELECT count(*)::int AS n FROM fleet_rollup_dirty`))[0]).toEqual({
    n: 0,
  });
  await expectFleetTablesExact();
  await expectFleetEqualsPerAgent(true);
});

it('seals a bucket only after a flush writing into it commits (or the flush marks it)', async () => {
  // An open flush holds the seal lock shared while writing into buckets not sealed yet.
  const flush = new Client({ connectionString: db.url });
  await flush.connect();
  try {
    // Jan 18 12:04 .. 12:06: after every bucket the first pass sealed.
    const late = batches(0, range(37, 48), 2.5 * DAY);
    await flush.query('BEGIN');
    await storeBatches(flush, late);
    const pass = fleet.run(new Date(START + 3 * DAY));
    // The pass waits for the flush: its seal lock request shows up ungranted.
    for (;;) {
      const [{ n }] = await db.query<{ n: number }>(
        `SELECT count(*)::int AS n FROM pg_locks WHERE locktype = 'advisory' AND NOT granted`,
      );
      if (n > 0) break;
      await new Promise((r) => setImmediate(r));
    }
    await flush.query('COMMIT');
    await pass;
  } finally {
    await flush.end();
  }
  // The flush committed before the seal: its rows are summed, no marker was needed.
  expect((await db.query(`SELECT count(*)::int AS n FROM fleet_rollup_dirty`))[0]).toEqual({
    n: 0,
  });
  await expectFleetTablesExact();
  await expectFleetEqualsPerAgent(true);

  // Past the month-week of Jan 15-21: its block is summed, and read by a total over it.
  await fleet.run(new Date(START + 8 * DAY));
  await expectFleetTablesExact(true);
  await expectFleetEqualsPerAgent(true);
  const cov = await fleetCoverage(ds, new Date(0), new Date(START + 9 * DAY));
  const week = buildSegmentQuery(shapes(RANGES[3][0], RANGES[3][1])[3].q, cov);
  expect(week.sql).toContain('talkers_fleet_7d');
  // A late window into that week marks its hour: the week is left out of the month-week rows
  // and read from days, 6 h blocks and hours (the marked one from the hosts' rows) until it
  // is recomputed, exact throughout.
  await store(batches(1, [49], 3 * DAY));
  const marked = await fleetCoverage(ds, new Date(0), new Date(START + 9 * DAY));
  expect(marked.dirty['1h']).toHaveLength(1);
  expect(buildSegmentQuery(shapes(RANGES[3][0], RANGES[3][1])[3].q, marked).sql).toMatch(
    /FROM talkers_fleet_7d WHERE bucket >= \$\d+ AND bucket < \$\d+ AND bucket <> ALL/,
  );
  await expectFleetEqualsPerAgent(true);
  expect((await fleet.run(new Date(START + 8 * DAY))).recomputed).toBe(3);
  await expectFleetTablesExact(true);
  await expectFleetEqualsPerAgent(true);
});

it('drops the fleet tables partitions past retention with the per-agent ones', async () => {
  const parts = async (tables: string[]) =>
    (
      await db.query<{ relname: string }>(
        `SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
           JOIN pg_class p ON p.oid = i.inhparent WHERE p.relname = ANY($1::text[]) ORDER BY 1`,
        [tables],
      )
    ).map((r) => r.relname);
  const fleetTables = FLEET_SERIES.flatMap((n) =>
    FLEET_RESOLUTIONS.map((r) => fleetTable(seriesByName(n), r)),
  );
  const before = await parts(fleetTables);
  expect(before).toContain('traffic_fleet_raw_p20260116');
  expect(before).toContain('traffic_fleet_1d_p202601');
  // Raw retention is 7 days, 1 min 35, 1 h 400 (the defaults): 20 days later only raw goes.
  const dropped = await partitions.applyRetention(new Date(START + 20 * DAY));
  expect(dropped).toEqual(
    expect.arrayContaining(['traffic_raw_p20260116', 'traffic_fleet_raw_p20260116']),
  );
  expect(dropped.filter((d) => /_fleet_(1m|10m|1h|6h|1d|7d)_/.test(d))).toEqual([]);
  const later = await partitions.applyRetention(new Date(START + 500 * DAY));
  expect(later).toEqual(
    expect.arrayContaining([
      'traffic_1h_p202601',
      'traffic_fleet_1h_p202601',
      'traffic_fleet_1d_p202601',
      'talkers_fleet_1m_p20260116',
    ]),
  );
  expect(await parts(fleetTables)).toEqual([]);
});
