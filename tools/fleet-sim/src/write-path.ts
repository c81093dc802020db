// The write path alone (issue #12): the server's storeBatches on one PostgreSQL session per
// variant, the same generated windows (fleet-sim's makeWindow, through the wire round trip
// and validateBatch), the variants interleaved flush by flush so that the machine's load
// hits them alike. CPU from /proc for each variant's backend and process.cpuUsage() for
// Node. Variants (WRITE_PATH_VARIANTS, comma-separated):
//   rollups  — raw rows and, in the same statements, the 1 min and 1 h upserts (before #12)
//   raw      — the raw rows only (what ingest does once the per-agent rollups are derived)
//   derived  — raw, plus deriving the 1 min rollups from those raw rows and the 1 h ones from
//              the 1 min rows afterwards (INSERT … SELECT … GROUP BY, one transaction per
//              series and resolution), its PostgreSQL CPU counted to the variant
//   copy     — rollups' statements, but the raw rows arrive by binary COPY into per-session
//              TEMP staging tables (ON COMMIT DELETE ROWS) and go on to the raw table and the
//              rollups from there, in the same transaction; its tables must equal rollups'
//   copyraw  — binary COPY straight into the raw tables, then the rollups from the raw rows of
//              the flush's (agent, window) keys that this transaction inserted (xmin)
//   rawcopy  — raw's rows by binary COPY straight into the raw tables, no rollups
// node tools/fleet-sim/dist/write-path.js  [WRITE_PATH_WARMUP=1 WRITE_PATH_FLUSHES=12 WRITE_PATH_AGENTS=20
// WRITE_PATH_WINDOWS=8]
import { randomUUID } from 'node:crypto';
import * as os from 'node:os';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { Client } from 'pg';
import { from as copyFrom } from 'pg-copy-streams';
import { loadTidewatchV1 } from '@tidewatch/proto';
import { validateBatch } from '@tidewatch/server/dist/ingest/batch-validation';
import {
  rawRecordsOf,
  rawRowsOf,
  rawInsertSql,
  rollupInsert,
  seriesInsertSql,
  type StoredBatch,
} from '@tidewatch/server/dist/storage/batch-store';
import {
  rollupTable,
  SERIES,
  type RollupColumn,
  type Series,
} from '@tidewatch/server/dist/storage/series';
import { partitionDdl, periodsBetween } from '@tidewatch/server/dist/storage/partitions';
import { partitionedTables, partitionUnit } from '@tidewatch/server/dist/storage/series';
import { createDatabase, PG_URL, serverCli } from './bench-db';
import { cpuSeconds } from './copy-baseline';
import { BinaryCopyWriter, type CopyType } from './copy-binary';
import { makeWindow } from './windows';

const FLUSHES = Number(process.env.WRITE_PATH_FLUSHES ?? 12);
const AGENTS = Number(process.env.WRITE_PATH_AGENTS ?? 20);
const WINDOWS = Number(process.env.WRITE_PATH_WINDOWS ?? 8);
// Flushes stored first and left out of the figures: the JIT's warm-up, which a server pays once.
const WARMUP = Number(process.env.WRITE_PATH_WARMUP ?? 1);
const VARIANTS = (process.env.WRITE_PATH_VARIANTS ?? 'rollups,raw,derived').split(',');

const LIMITS = { maxRecords: 1_000_000, notBefore: new Date(0), notAfter: new Date(8.64e15) };
const method = loadTidewatchV1().Ingest.service.Stream;

const mergeAgg = (c: RollupColumn): string =>
  c.merge === 'sum'
    ? `sum(${c.name})`
    : c.merge === 'max'
      ? `max(${c.name})`
      : c.merge === 'or'
        ? `bool_or(${c.name})`
        : `tw_sum_array(${c.name})`;

/** The derivation of one series' 1 min rows from raw (or 1 h from 1 min) in [$1, $2). */
function deriveSql(s: Series, target: '1m' | '1h'): string {
  const cols = ['agent_id', 'bucket', ...s.dims, ...s.rollup.map((c) => c.name)];
  const fromRaw = target === '1m';
  const time = fromRaw
    ? "date_trunc('minute', window_start, 'UTC')"
    : "date_trunc('hour', bucket, 'UTC')";
  const aggs = s.rollup.map((c) => (fromRaw ? c.agg : mergeAgg(c)));
  const group = Array.from({ length: 2 + s.dims.length }, (_, i) => i + 1).join(', ');
  return `INSERT INTO ${rollupTable(s, target)} (${cols.join(', ')})
    SELECT agent_id, ${time}, ${[...s.dims, ...aggs].join(', ')}
      FROM ${fromRaw ? s.raw : rollupTable(s, '1m')}
     WHERE ${fromRaw ? 'window_start' : 'bucket'} >= $1 AND ${fromRaw ? 'window_start' : 'bucket'} < $2
     GROUP BY ${group}`;
}

/** The session's staging table of one series' raw rows, emptied at every commit. */
const stageTable = (s: Series): string => `tw_stage_${s.name}`;

function stageDdl(s: Series): string {
  const cols = [
    'agent_id uuid',
    'window_start timestamptz',
    ...s.rawColumns.map((c) => `${c.name} ${c.type}`),
  ];
  return `CREATE TEMP TABLE ${stageTable(s)} (${cols.join(', ')}) ON COMMIT DELETE ROWS`;
}

/** The server's statement of one series, reading the raw rows from its staging table. */
function stagedSeriesSql(s: Series): string {
  const cols = ['agent_id', 'window_start', ...s.rawColumns.map((c) => c.name)].join(', ');
  return `WITH raw AS (
    INSERT INTO ${s.raw} (${cols}) SELECT ${cols} FROM ${stageTable(s)} RETURNING ${cols}
  ), m AS (
    ${rollupInsert(s, '1m', 'raw')}
  )
  ${rollupInsert(s, '1h', 'raw')}`;
}

/** The rollups of one series from the raw rows of the flush's keys this transaction inserted. */
function fromRawSql(s: Series): string {
  const cols = s.rawColumns.map((c) => `r.${c.name}`);
  return `WITH raw AS MATERIALIZED (
    SELECT k.a AS agent_id, k.w AS window_start, ${cols.join(', ')}
      FROM unnest($1::uuid[], $2::timestamptz[]) k(a, w)
      JOIN ${s.raw} r ON r.agent_id = k.a AND r.window_start = k.w
     WHERE r.xmin = pg_current_xact_id()::xid
  ), m AS (
    ${rollupInsert(s, '1m', 'raw')}
  )
  ${rollupInsert(s, '1h', 'raw')}`;
}

/** The batches' raw rows per series in binary COPY format. */
function binaryRowsOf(items: StoredBatch[]): { series: Series; rows: number; data: Buffer }[] {
  return rawRecordsOf(items).map(({ series, rows }) => {
    const w = new BinaryCopyWriter([
      'uuid',
      'timestamptz',
      ...series.rawColumns.map((c) => c.type as CopyType),
    ]);
    for (const r of rows) w.row(r);
    return { series, rows: rows.length, data: w.finish() };
  });
}

async function copyBinary(db: Client, sql: string, data: Buffer): Promise<void> {
  const sink = db.query(copyFrom(sql) as never) as unknown as NodeJS.WritableStream;
  await pipeline(Readable.from([data]), sink);
}

/**
 * The encoder against PostgreSQL's own text input, on the values the generated windows do not
 * reach (negative and 2^53-scale integers, empty arrays, non-ASCII text, pre-2000 instants, NULL).
 */
async function checkEncoder(db: Client): Promise<void> {
  const types: CopyType[] = [
    'uuid',
    'timestamptz',
    'text',
    'smallint',
    'integer',
    'bigint',
    'double precision',
    'boolean',
    'double precision[]',
    'bigint[]',
  ];
  const rows: unknown[][] = [
    [
      randomUUID(),
      new Date('1999-12-31T23:59:59.999Z'),
      'eth0',
      -32768,
      -2147483648,
      -(2 ** 53) + 1,
      -0.5,
      false,
      [],
      [],
    ],
    [
      randomUUID(),
      new Date(),
      'réseau ✓',
      32767,
      2147483647,
      2 ** 53 - 1,
      1e300,
      true,
      [0.1, 2.5e-7],
      [-1, 0, 4294967296, 2 ** 40 + 7],
    ],
    [randomUUID(), new Date(0), '', 0, 0, 0, 0, true, [1], [4294967295]],
    [randomUUID(), new Date(1), null, null, null, null, null, null, null, null],
  ];
  const cols = types.map((t, i) => `c${i} ${t}`).join(', ');
  await db.query(
    `CREATE TEMP TABLE tw_copy_bin (${cols}); CREATE TEMP TABLE tw_copy_txt (${cols})`,
  );
  const w = new BinaryCopyWriter(types);
  for (const r of rows) w.row(r);
  await copyBinary(db, 'COPY tw_copy_bin FROM STDIN (FORMAT binary)', w.finish());
  for (const r of rows)
    await db.query(
      `INSERT INTO tw_copy_txt VALUES (${types.map((t, i) => `$${i + 1}::${t}`).join(', ')})`,
      r,
    );
  const [{ n, diff }] = (
    await db.query(`SELECT (SELECT count(*) FROM tw_copy_bin)::int AS n,
       (SELECT count(*) FROM ((TABLE tw_copy_bin EXCEPT ALL TABLE tw_copy_txt)
                        UNION ALL (TABLE tw_copy_txt EXCEPT ALL TABLE tw_copy_bin)) d)::int AS diff`)
  ).rows as { n: number; diff: number }[];
  await db.query('DROP TABLE tw_copy_bin, tw_copy_txt');
  if (n !== rows.length || diff !== 0)
    throw new Error(`binary COPY encoder: ${n} rows of ${rows.length}, ${diff} differ from text`);
}

function flushItems(ids: string[], flush: number, start: number): StoredBatch[] {
  const items: StoredBatch[] = [];
  for (let w = 0; w < WINDOWS; w++) {
    const seq = flush * WINDOWS + w + 1;
    ids.forEach((agentId, i) => {
      const wire = method.requestDeserialize(
        method.requestSerialize({ batch: makeWindow(i, seq, start + (seq - 1) * 10_000) }),
      );
      items.push({
        agentId,
        batch: validateBatch(wire.batch as NonNullable<typeof wire.batch>, LIMITS),
      });
    });
  }
  return items;
}

async function main(): Promise<void> {
  const admin = new Client({ connectionString: PG_URL });
  await admin.connect();
  const names: string[] = [];
  const clients: Client[] = [];
  try {
    const start = Math.floor((Date.now() - 2 * 3_600_000) / 60_000) * 60_000;
    // A database per variant (same schema, same partitions): no variant scans another's rows.
    const sessions = new Map<string, { db: Client; pid: number; ids: string[] }>();
    // The same agent ids in every database, so that copy's tables can be compared row for row.
    const ids = Array.from({ length: AGENTS }, () => randomUUID());
    for (const v of VARIANTS) {
      const { name, url } = await createDatabase(admin, `tw_writepath_${v}`);
      names.push(name);
      serverCli(url, 'migrate', 'run');
      const db = new Client({ connectionString: url });
      await db.connect();
      clients.push(db);
      const [{ pid }] = (await db.query('SELECT pg_backend_pid() AS pid')).rows as {
        pid: number;
      }[];
      for (const t of partitionedTables()) {
        const unit = partitionUnit(t.resolution);
        for (const p of periodsBetween(
          new Date(start - 86_400_000),
          new Date(Date.now() + 86_400_000),
          unit,
        ))
          await db.query(partitionDdl(t.table, p, unit, t.updatedInPlace));
      }
      if (v === 'copy') for (const s of SERIES) await db.query(stageDdl(s));
      if (v === 'copy' || v === 'copyraw') await checkEncoder(db);
      sessions.set(v, { db, pid, ids });
    }
    const rollupSql = new Map(SERIES.map((s) => [s.raw, seriesInsertSql(s)]));
    const rawSql = new Map(SERIES.map((s) => [s.raw, rawInsertSql(s)]));
    const stagedSql = new Map(SERIES.map((s) => [s.raw, stagedSeriesSql(s)]));
    const fromRaw = new Map(SERIES.map((s) => [s.raw, fromRawSql(s)]));
    const acc = new Map(
      VARIANTS.map((v) => [v, { pg: 0, node: 0, ms: 0, records: 0, derivePg: 0, derive1hPg: 0 }]),
    );
    let derivedTo = start;
    const checks: string[] = [];
    const derive = async (db: Client, target: '1m' | '1h', from: number, to: number) => {
      if (to <= from) return;
      await db.query('BEGIN ISOLATION LEVEL REPEATABLE READ');
      for (const s of SERIES) await db.query(deriveSql(s, target), [new Date(from), new Date(to)]);
      await db.query('COMMIT');
    };
    for (let f = 0; f < WARMUP + FLUSHES; f++) {
      // The order alternates per round, so neither variant always runs first.
      const order = f % 2 === 0 ? VARIANTS : [...VARIANTS].reverse();
      for (const v of order) {
        const { db, pid, ids } = sessions.get(v)!;
        const items = flushItems(ids, f, start);
        const pg0 = cpuSeconds(pid);
        const n0 = process.cpuUsage();
        const t0 = performance.now();
        await db.query('BEGIN');
        let records = 0;
        // The writer's own work (row mapping, parameters, encoding) is inside the timed part.
        if (v === 'copyraw' || v === 'rawcopy') {
          const keys = [
            ...new Map(items.map((i) => [`${i.agentId}/${+i.batch.windowStart}`, i])).values(),
          ];
          const params = [keys.map((i) => i.agentId), keys.map((i) => i.batch.windowStart)];
          for (const { series, rows, data } of binaryRowsOf(items)) {
            const cols = ['agent_id', 'window_start', ...series.rawColumns.map((c) => c.name)];
            await copyBinary(
              db,
              `COPY ${series.raw} (${cols.join(', ')}) FROM STDIN (FORMAT binary)`,
              data,
            );
            if (v === 'copyraw') await db.query(fromRaw.get(series.raw)!, params);
            records += rows;
          }
        } else if (v === 'copy')
          for (const { series, rows, data } of binaryRowsOf(items)) {
            await copyBinary(db, `COPY ${stageTable(series)} FROM STDIN (FORMAT binary)`, data);
            await db.query(stagedSql.get(series.raw)!);
            records += rows;
          }
        else
          for (const { table, values } of rawRowsOf(items)) {
            const sql = (v === 'rollups' ? rollupSql : rawSql).get(table)!;
            await db.query(sql, values);
            records += values[0].length;
          }
        await db.query('COMMIT');
        const n = process.cpuUsage(n0);
        const a = acc.get(v)!;
        if (v === 'derived') {
          // The minutes this flush closed, as a timer would derive them: one snapshot.
          const to = Math.floor((start + (f + 1) * WINDOWS * 10_000) / 60_000) * 60_000;
          const d0 = cpuSeconds(pid);
          await derive(db, '1m', derivedTo, to);
          if (f >= WARMUP) a.derivePg += cpuSeconds(pid) - d0;
          derivedTo = to;
        }
        if (f < WARMUP) continue;
        a.ms += performance.now() - t0;
        a.pg += cpuSeconds(pid) - pg0;
        a.node += (n.user + n.system) / 1e6;
        a.records += records;
      }
    }
    if (acc.has('derived')) {
      // The rest: the last open minute, then every hour from the 1 min rows.
      const { db, pid } = sessions.get('derived')!;
      const a = acc.get('derived')!;
      const pg0 = cpuSeconds(pid);
      const t0 = performance.now();
      const end = start + (WARMUP + FLUSHES) * WINDOWS * 10_000 + 60_000;
      await derive(db, '1m', derivedTo, end);
      const h0 = cpuSeconds(pid);
      await derive(db, '1h', Math.floor(start / 3_600_000) * 3_600_000, end + 3_600_000);
      a.derive1hPg = cpuSeconds(pid) - h0;
      a.derivePg += cpuSeconds(pid) - pg0;
      a.pg += cpuSeconds(pid) - pg0;
      a.ms += performance.now() - t0;
    }
    // The derived rollups must equal the upserted ones (same windows, other agent ids).
    if (acc.has('derived') && acc.has('rollups')) {
      for (const s of SERIES)
        for (const r of ['1m', '1h'] as const) {
          const c = s.rollup[0].name;
          const sql = `SELECT count(*)::text AS n, sum(${c})::text AS v, string_agg(bucket::text, ',' ORDER BY bucket) AS b
                         FROM (SELECT bucket, sum(${c === 'abnormal' ? 'abnormal::int' : c}::numeric) AS ${c}
                                 FROM ${rollupTable(s, r)} GROUP BY 1) x`;
          const [x] = (await sessions.get('rollups')!.db.query(sql)).rows;
          const [y] = (await sessions.get('derived')!.db.query(sql)).rows;
          if (JSON.stringify(x) !== JSON.stringify(y))
            throw new Error(
              `${rollupTable(s, r)}: upserted ${JSON.stringify(x).slice(0, 200)} != derived ${JSON.stringify(y).slice(0, 200)}`,
            );
        }
    }
    // Binary COPY must store exactly what the unnest path stores: raw, 1 min and 1 h rows.
    const pairs = [...['copy', 'copyraw'].map((c) => [c, 'rollups']), ['rawcopy', 'raw']].filter(
      ([c, b]) => acc.has(c) && acc.has(b),
    );
    for (const [c, b] of pairs)
      for (const s of SERIES)
        for (const t of [s.raw, rollupTable(s, '1m'), rollupTable(s, '1h')]) {
          const sql = `SELECT count(*)::int AS n, md5(string_agg(x::text, ',' ORDER BY x::text)) AS h FROM ${t} x`;
          const [x] = (await sessions.get(b)!.db.query(sql)).rows;
          const [y] = (await sessions.get(c)!.db.query(sql)).rows;
          if (x.n !== y.n || x.h !== y.h)
            throw new Error(`${t}: unnest ${JSON.stringify(x)} != ${c} ${JSON.stringify(y)}`);
        }
    for (const [c, b] of pairs) checks.push(`${c} = ${b} (raw, 1m, 1h row for row)`);
    const out: Record<string, unknown> = {
      warmup: WARMUP,
      flushes: FLUSHES,
      agents: AGENTS,
      windows: WINDOWS,
    };
    for (const [v, a] of acc)
      out[v] = {
        records: a.records,
        pgCpuS: +a.pg.toFixed(2),
        ...(v === 'derived'
          ? {
              ofItDerivationPgCpuS: +a.derivePg.toFixed(2),
              ofThat1hFrom1mPgCpuS: +a.derive1hPg.toFixed(2),
            }
          : {}),
        nodeCpuS: +a.node.toFixed(2),
        wallS: +(a.ms / 1000).toFixed(2),
        recordsPerCpuS: Math.round(a.records / (a.pg + a.node)),
        recordsPerWallS: Math.round(a.records / (a.ms / 1000)),
      };
    out.checks = checks;
    out.loadavg = os.loadavg().map((x) => +x.toFixed(2));
    process.stdout.write(`${JSON.stringify(out, null, 2)}\n`);
  } finally {
    for (const db of clients) await db.end().catch(() => undefined);
    for (const name of names) await admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
    await admin.end();
  }
}

main().catch((err) => {
  process.stderr.write(`${(err as Error).stack}\n`);
  process.exitCode = 1;
});
