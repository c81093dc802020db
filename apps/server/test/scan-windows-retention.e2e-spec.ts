import { DataSource } from 'typeorm';
import { ConfigurationService } from '../src/config/configuration.service';
import { parseEnvironment } from '../src/config/environment';
import { createDataSource } from '../src/database/data-source';
import { runMigrations } from '../src/database/migrate';
import { ScanWindowsPartitioned1795770000000 } from '../src/database/migrations/1795770000000-scan-windows-partitioned';
import type { NormalizedBatch, NormalizedScan } from '../src/storage/normalized-batch';
import { PartitionMaintenanceService } from '../src/storage/partition-maintenance.service';
import { storeScanWindows } from '../src/storage/scan-store';
import { createTestDatabase, TestDatabase } from './support/database';

// Ground truth: the scan windows this file writes, counted per UTC day. The
// migration moves every one of them into its day's partition and back; the
// sweep drops exactly the days that end at or before now - RETENTION_RAW_DAYS
// (whole partitions, as for the traffic tables) and keeps every other row.

const DAY = 86_400_000;
const WINDOW = 10_000;
/** Noon, so that the retention cutoff (now - 2 days) falls in the middle of a day. */
const NOW = Math.floor(Date.now() / DAY) * DAY + 12 * 3_600_000;
const TODAY = NOW - 12 * 3_600_000;
const AGENTS = ['aaaaaaaa-aaaa-4aaa-8aaa-aaaaaaaaaaaa', 'bbbbbbbb-bbbb-4bbb-8bbb-bbbbbbbbbbbb'];
/** Windows per agent on each day, by days before today (the day of NOW). */
const PER_DAY: Record<number, number> = { 5: 3, 4: 4, 3: 5, 2: 6, 1: 7, 0: 8 };

const scan: NormalizedScan = {
  sources: [],
  sweeps: [
    {
      port: 22,
      protocol: 6,
      destinations: 30,
      sources: 1,
      topSource: 's',
      topSourceDestinations: 30,
    },
  ],
  syns: [],
  sourcesTotal: 0,
  sourcesTruncated: false,
  otherSources: null,
  sweepsTruncated: false,
  synsTruncated: false,
  recentSeconds: 0,
};

/** Window starts of one day: from 02:00 on, one every 10 s. */
const startsOf = (daysAgo: number) =>
  Array.from(
    { length: PER_DAY[daysAgo] },
    (_, i) => TODAY - daysAgo * DAY + 2 * 3_600_000 + i * WINDOW,
  );

const dayName = (t: number) => new Date(t).toISOString().slice(0, 10).replace(/-/g, '');

let db: TestDatabase;
let ds: DataSource;

async function countsByDay(table = 'scan_windows'): Promise<Record<string, number>> {
  const rows = await db.query<{ day: string; n: number }>(
    `SELECT to_char(window_start AT TIME ZONE 'UTC', 'YYYYMMDD') AS day, count(*)::int AS n
       FROM ${table} GROUP BY 1 ORDER BY 1`,
  );
  return Object.fromEntries(rows.map((r) => [r.day, r.n]));
}

const expected = (days: number[]) =>
  Object.fromEntries(days.map((d) => [dayName(TODAY - d * DAY), PER_DAY[d] * AGENTS.length]));

const partitions = async () =>
  (
    await db.query<{ relname: string }>(
      `SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
         JOIN pg_class p ON p.oid = i.inhparent WHERE p.relname = 'scan_windows' ORDER BY 1`,
    )
  ).map((r) => r.relname);

const isPartitioned = async () =>
  (
    await db.query<{ k: string }>(
      `SELECT relkind AS k FROM pg_class WHERE relname = 'scan_windows'`,
    )
  )[0].k === 'p';

beforeAll(async () => {
  db = await createTestDatabase();
  ds = createDataSource(db.url, 2);
  await ds.initialize();
  await runMigrations(ds);
  for (const a of AGENTS) {
    await db.query(`INSERT INTO hosts (agent_id, hostname) VALUES ($1, $2)`, [
      a,
      `h-${a.slice(0, 4)}`,
    ]);
  }
});

afterAll(async () => {
  await ds?.destroy();
  await db?.drop();
});

it('the migration moves every row of the unpartitioned table into its day, and back down', async () => {
  const qr = ds.createQueryRunner();
  try {
    await new ScanWindowsPartitioned1795770000000().down(qr);
    expect(await isPartitioned()).toBe(false);
    // Rows as the old schema held them: days 5..3 before today.
    for (const a of AGENTS)
      for (const d of [5, 4, 3])
        for (const s of startsOf(d))
          await db.query(
            `INSERT INTO scan_windows (agent_id, window_start, window_end, scan) VALUES ($1, $2, $3, $4)`,
            [a, new Date(s), new Date(s + WINDOW), JSON.stringify(scan)],
          );
    const before = await countsByDay();
    expect(before).toEqual(expected([5, 4, 3]));

    await new ScanWindowsPartitioned1795770000000().up(qr);
    expect(await isPartitioned()).toBe(true);
    expect(await partitions()).toEqual(
      [5, 4, 3].map((d) => `scan_windows_p${dayName(TODAY - d * DAY)}`),
    );
    for (const d of [5, 4, 3])
      expect(await countsByDay(`scan_windows_p${dayName(TODAY - d * DAY)}`)).toEqual(expected([d]));

    await new ScanWindowsPartitioned1795770000000().down(qr);
    expect(await isPartitioned()).toBe(false);
    expect(await countsByDay()).toEqual(before);
    await new ScanWindowsPartitioned1795770000000().up(qr);
    expect(await countsByDay()).toEqual(before);
  } finally {
    await qr.release();
  }
});

it('the sweep drops the days past RETENTION_RAW_DAYS and keeps every newer row', async () => {
  const config = new ConfigurationService(
    parseEnvironment({ DATABASE_URL: db.url, RETENTION_RAW_DAYS: '2', AUDIT_CHECKPOINTS: 'off' }),
  );
  const maintenance = new PartitionMaintenanceService(ds, config);
  // Days 2..0 through the ingest's own write path (partitions on demand, then the insert).
  const items = AGENTS.flatMap((agentId) =>
    [2, 1, 0].flatMap((d) =>
      startsOf(d).map((s) => ({
        agentId,
        // Only the fields the scan store reads; the rest of a batch goes to other tables.
        batch: {
          windowStart: new Date(s),
          windowEnd: new Date(s + WINDOW),
          scan,
        } as NormalizedBatch,
      })),
    ),
  );
  await maintenance.ensureFor(items.map((i) => i.batch.windowStart));
  await storeScanWindows(ds, items);
  expect(await countsByDay()).toEqual(expected([5, 4, 3, 2, 1, 0]));

  // An anomaly whose evidence names a window within retention, one day old.
  const kept = startsOf(1)[0];
  await db.query(
    `INSERT INTO anomalies (agent_id, type, severity, group_key, summary, first_seen, last_seen, evidence)
     VALUES ($1, 'host_sweep', 'high', '22', 'sweep', $2, $3, $4)`,
    [
      AGENTS[0],
      new Date(kept),
      new Date(kept + WINDOW),
      JSON.stringify({
        windows: [
          { start: new Date(kept).toISOString(), end: new Date(kept + WINDOW).toISOString() },
        ],
      }),
    ],
  );

  const report = await maintenance.run(new Date(NOW));
  // Cutoff NOW - 2 days = noon of day 2: days 5, 4 and 3 end before it; day 2 ends after it.
  expect(report.dropped.filter((t) => t.startsWith('scan_windows_')).sort()).toEqual(
    [5, 4, 3].map((d) => `scan_windows_p${dayName(TODAY - d * DAY)}`),
  );
  expect(await countsByDay()).toEqual(expected([2, 1, 0]));
  const total = await db.query<{ n: number }>(`SELECT count(*)::int AS n FROM scan_windows`);
  expect(total[0].n).toBe((PER_DAY[2] + PER_DAY[1] + PER_DAY[0]) * AGENTS.length);

  // The anomaly's evidence window still finds the scan figures it came from.
  const evidence = await db.query<{ scan: NormalizedScan }>(
    `SELECT s.scan FROM anomalies a
       CROSS JOIN LATERAL jsonb_array_elements(a.evidence->'windows') w
       JOIN scan_windows s ON s.agent_id = a.agent_id AND s.window_start = (w->>'start')::timestamptz`,
  );
  expect(evidence.map((e) => e.scan)).toEqual([scan]);

  // A second sweep finds nothing more to drop.
  expect((await maintenance.run(new Date(NOW))).dropped).toEqual([]);
  expect(await countsByDay()).toEqual(expected([2, 1, 0]));
});
