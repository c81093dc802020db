import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import * as path from 'node:path';
import { assertBuilt, BIN, SERVER_ROOT } from './support/child-server';
import { createTestDatabase, TestDatabase } from './support/database';

// Past one server: a distributed PostgreSQL (Citus) shards a table by one column
// and enforces a primary key or unique index only if it includes that column.
// Ground truth: the migrated schema itself, read from pg_catalog. Every
// time-series table (a row per agent and window or bucket: the ones to distribute
// by agent id) must have the agent id in each of its unique indexes; and no
// query of the server's source joins a table keyed by agent id on anything but
// the agent id (a join Citus could not route to one shard group).

let db: TestDatabase;

beforeAll(async () => {
  assertBuilt();
  db = await createTestDatabase();
  execFileSync(process.execPath, [BIN, 'migrate', 'run'], {
    env: { ...process.env, DATABASE_URL: db.url },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
}, 60_000);

afterAll(async () => {
  await db?.drop();
});

interface UniqueIndex {
  table: string;
  index: string;
  primary: boolean;
  has_agent_id: boolean;
}

it('every time-series table is keyed by agent id: each primary key and unique index includes agent_id', async () => {
  // Time series: tables (partitioned parents and their partitions) with agent_id and a time slot.
  const tables = (
    await db.query<{ table: string }>(`
      SELECT c.relname AS table
        FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
       WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p')
         AND EXISTS (SELECT 1 FROM pg_attribute a WHERE a.attrelid = c.oid AND NOT a.attisdropped
                      AND a.attname = 'agent_id')
         AND EXISTS (SELECT 1 FROM pg_attribute a WHERE a.attrelid = c.oid AND NOT a.attisdropped
                      AND a.attname IN ('window_start', 'bucket'))
       ORDER BY 1`)
  ).map((r) => r.table);
  // The schema's series, as a floor: a test that finds no table checks nothing.
  for (const kind of [
    'traffic',
    'rates',
    'ports',
    'talkers',
    'drops',
    'abnormal',
    'windows',
    'durations',
  ])
    for (const tier of ['raw', '1m', '1h']) expect(tables).toContain(`${kind}_${tier}`);
  expect(tables).toContain('scan_windows');

  const unique = await db.query<UniqueIndex>(
    `SELECT c.relname AS table, i.relname AS index, x.indisprimary AS primary,
            EXISTS (SELECT 1 FROM pg_attribute a WHERE a.attrelid = c.oid AND a.attname = 'agent_id'
                     AND a.attnum = ANY (x.indkey::int2[])) AS has_agent_id
       FROM pg_index x
       JOIN pg_class c ON c.oid = x.indrelid
       JOIN pg_class i ON i.oid = x.indexrelid
      WHERE x.indisunique AND c.relname = ANY ($1)
      ORDER BY 1, 2`,
    [tables],
  );
  // The rollups at least are keyed (ON CONFLICT upserts): the check sees real indexes.
  expect(unique.filter((u) => u.primary).map((u) => u.table)).toEqual(
    expect.arrayContaining(['traffic_1m', 'traffic_1h', 'windows_1m', 'scan_windows']),
  );
  expect(unique.filter((u) => !u.has_agent_id)).toEqual([]);
});

it('the only time-series tables without agent_id are the derived fleet rollups, listed here', async () => {
  // Fleet rollups (storage/fleet-rollups.ts) sum every host's rows per bucket: no agent to
  // shard by. Past one server they stay on the coordinator (local tables, rebuilt from the
  // distributed per-agent tables by the derivation; a marker per late bucket) and are read
  // by the fleet-wide views only. Any other table with a time slot and no agent_id fails here.
  const derived = ['traffic', 'ports', 'talkers'].flatMap((s) =>
    ['raw', '1m', '10m', '1h', '6h', '1d', '7d'].map((r) => `${s}_fleet_${r}`),
  );
  const unkeyed = (
    await db.query<{ table: string }>(`
      SELECT c.relname AS table
        FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
       WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p') AND NOT c.relispartition
         AND NOT EXISTS (SELECT 1 FROM pg_attribute a WHERE a.attrelid = c.oid AND NOT a.attisdropped
                          AND a.attname = 'agent_id')
         AND EXISTS (SELECT 1 FROM pg_attribute a WHERE a.attrelid = c.oid AND NOT a.attisdropped
                      AND a.attname IN ('window_start', 'bucket'))
       ORDER BY 1`)
  ).map((r) => r.table);
  // fleet_rollup_dirty: the derivation's markers (resolution, bucket), also coordinator-local.
  expect(unkeyed).toEqual([...derived, 'fleet_rollup_dirty'].sort());
});

/** The server's own source files (not its tests), recursively. */
function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) return e.name === 'migrations' ? [] : sources(p);
    return e.name.endsWith('.ts') && !e.name.endsWith('.spec.ts') ? [p] : [];
  });
}

it('no query joins a table keyed by agent id on anything but the agent id', async () => {
  const keyed = new Set(
    (
      await db.query<{ table: string }>(`
        SELECT c.relname AS table FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
         WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p') AND NOT c.relispartition
           AND EXISTS (SELECT 1 FROM pg_attribute a WHERE a.attrelid = c.oid AND NOT a.attisdropped
                        AND a.attname = 'agent_id')`)
    ).map((r) => r.table),
  );
  expect(keyed).toContain('hosts');
  // Every `JOIN <table> [alias] ON <condition>` (up to the next clause) in the SQL the server runs.
  const join =
    /\bJOIN\s+([a-z_0-9]+)(?:\s+(?:AS\s+)?([a-z_0-9]+))?\s+ON\s+([\s\S]*?)(?=\bWHERE\b|\bJOIN\b|\bGROUP\b|\bORDER\b|\bLIMIT\b|`|\$\{|$)/gi;
  const seen: { file: string; table: string; on: string }[] = [];
  for (const file of sources(path.join(SERVER_ROOT, 'src'))) {
    for (const m of readFileSync(file, 'utf8').matchAll(join)) {
      if (!keyed.has(m[1])) continue;
      seen.push({
        file: path.relative(SERVER_ROOT, file),
        table: m[1],
        on: m[3].replace(/\s+/g, ' ').trim(),
      });
    }
  }
  // The check sees the joins there are (anomalies and listening ports with their hosts).
  expect(seen.map((j) => j.table)).toContain('hosts');
  const agentIdEquality = /\b[a-z_0-9]+\.agent_id\s*=\s*[a-z_0-9]+\.agent_id\b/i;
  expect(seen.filter((j) => !agentIdEquality.test(j.on))).toEqual([]);
});
