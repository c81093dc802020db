// npm run bench:server — the server under load, end to end on this machine:
//  1. history for the hosts generated straight into the tables (1 h rollup
//     for 30 d, 1 min for the last 25 h, raw 10-s windows for the last 6 h);
//  2. N simulated agents over real gRPC catching up a backlog as fast as the
//     acks allow: sustained stored window records/s;
//  3. the same agents paced at one window per second each: ack latency;
//  4. dashboard queries (fleet summary + series) over 1 h, 24 h and 30 d;
//  5. 10,000 agents connected at once, a window each every 10 s (fleet-phases.ts);
//  6. 1,000 agents catching up an hour of spooled windows beside live agents and queries.
// Between 2 and 3, the limit: the catch-up's windows as the server's rows,
// loaded with COPY into a fresh migrated database (copy-baseline.ts), and
// EXPLAIN ANALYZE of one flush's ingest statements (rolled back).
// BENCH_CPU_PROF=1 runs the server under --cpu-prof and prints its top costs.
// The server runs as its own process (peak RSS from /proc VmHWM); load
// generator, server and PostgreSQL share the machine.
import { ChildProcess, execFileSync, spawn } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import { appendFileSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Client } from 'pg';
import { storeBatches } from '@tidewatch/server/dist/storage/batch-store';
import { SERIES } from '@tidewatch/server/dist/storage/series';
import { partitionDdl } from '@tidewatch/server/dist/storage/partitions';
import { validateBatch } from '@tidewatch/server/dist/ingest/batch-validation';
import { loadTidewatchV1 } from '@tidewatch/proto';
import { createDatabase, PG_URL, SERVER_BIN, serverCli } from './bench-db';
import { copyLoad, copyRowsOf, cpuSeconds } from './copy-baseline';
import { summarizeCpuProfile } from './cpu-profile';
import { fleetPhases, pct } from './fleet-phases';
import { SimAgent } from './sim-agent';
import { makeWindow, recordsOf } from './windows';

const ROOT = path.resolve(__dirname, '..', '..', '..');
const AGENTS = Number(process.env.BENCH_AGENTS ?? 100);
const CATCHUP_S = Number(process.env.BENCH_SECONDS ?? 30);
const PACED_S = Number(process.env.BENCH_PACED_SECONDS ?? 15);
const QUERY_RUNS = Number(process.env.BENCH_QUERY_RUNS ?? 30);
/** At most this many of the catch-up's windows go through the COPY baseline. */
const COPY_WINDOWS = Number(process.env.BENCH_COPY_WINDOWS ?? 20_000);
const CPU_PROF_DIR = process.env.BENCH_CPU_PROF
  ? path.join(os.tmpdir(), `tw-bench-cpu-prof-${randomBytes(3).toString('hex')}`)
  : '';
const HOUR = 3_600_000;
const DAY = 24 * HOUR;

const log = (m: string) => process.stderr.write(`bench: ${m}\n`);

async function startServer(
  databaseUrl: string,
): Promise<{ proc: ChildProcess; http: number; grpc: number }> {
  // The audit trail's checkpoint signing key (the server refuses to start without one).
  const auditDir = path.join(os.tmpdir(), `tw-bench-audit-${randomBytes(4).toString('hex')}`);
  mkdirSync(auditDir, { recursive: true, mode: 0o700 });
  const auditKey = path.join(auditDir, 'audit-signing-key.pem');
  execFileSync(process.execPath, [SERVER_BIN, 'audit', 'keygen', '--out', auditKey], {
    stdio: 'ignore',
  });
  const prof = CPU_PROF_DIR ? ['--cpu-prof', `--cpu-prof-dir=${CPU_PROF_DIR}`] : [];
  const proc = spawn(process.execPath, [...prof, SERVER_BIN, 'serve'], {
    env: {
      ...process.env,
      AUDIT_SIGNING_KEY_FILE: auditKey,
      DATABASE_URL: databaseUrl,
      HTTP_HOST: '127.0.0.1',
      HTTP_PORT: '0',
      GRPC_HOST: '127.0.0.1',
      GRPC_PORT: '0',
      LOG_LEVEL: 'info',
      RETENTION_1H_DAYS: '400',
    },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  return new Promise((resolve, reject) => {
    let out = '';
    const serverLog = process.env.BENCH_SERVER_LOG; // the server's own log lines, kept when set
    proc.stdout?.on('data', (c: Buffer) => {
      if (serverLog) appendFileSync(serverLog, c);
      out += c.toString();
      const line = out.split('\n').find((l) => l.includes('"event":"listening"'));
      if (line) {
        const m = JSON.parse(line) as { httpPort: number; grpcPort: number };
        resolve({ proc, http: m.httpPort, grpc: m.grpcPort });
      }
    });
    proc.on('exit', (code) => reject(new Error(`server exited (${code}) before listening`)));
  });
}

function peakRssBytes(pid: number): number {
  const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) * 1024 : NaN;
}

// The server's own partition DDL (rollup partitions leave room for in-place updates).
const partitionSql = (table: string, start: Date, unit: 'day' | 'month') =>
  partitionDdl(table, start, unit, !table.endsWith('_raw'));

async function generateHistory(
  db: Client,
  ids: string[],
  now: number,
): Promise<Record<string, number>> {
  const hourNow = Math.floor(now / HOUR) * HOUR;
  const minNow = Math.floor(now / 60_000) * 60_000;
  const from1h = hourNow - 30 * DAY;
  const from1m = minNow - 25 * HOUR;
  const fromRaw = Math.floor(now / 10_000) * 10_000 - 6 * HOUR;
  for (let t = from1h; t <= now + DAY; t += DAY) {
    const day = new Date(Math.floor(t / DAY) * DAY);
    const month = new Date(Date.UTC(day.getUTCFullYear(), day.getUTCMonth(), 1));
    await db.query(partitionSql('traffic_1h', month, 'month'));
    await db.query(partitionSql('traffic_1m', day, 'day'));
    await db.query(partitionSql('traffic_raw', day, 'day'));
  }
  const counts: Record<string, number> = {};
  const gen = async (table: string, timeCol: string, from: number, to: number, step: string) => {
    const r = await db.query(
      `INSERT INTO ${table} (agent_id, ${timeCol}, iface, direction, family, protocol, packets, bytes)
       SELECT a.id, b.t, 'eth0', d, 1, p, (1000 + random() * 1e6)::bigint, (1e5 + random() * 1e9)::bigint
         FROM unnest($1::uuid[]) a(id),
              generate_series($2::timestamptz, $3::timestamptz, $4::interval) b(t),
              generate_series(1, 2) d, generate_series(1, 4) p
        ORDER BY b.t`,
      [ids, new Date(from), new Date(to), step],
    );
    counts[table] = r.rowCount ?? 0;
  };
  // Up to now at every resolution; the live agents' windows then add to it.
  await gen('traffic_1h', 'bucket', from1h, hourNow, '1 hour');
  await gen('traffic_1m', 'bucket', from1m, minNow, '1 minute');
  await gen('traffic_raw', 'window_start', fromRaw, now, '10 seconds');
  await db.query('ANALYZE');
  return counts;
}

/**
 * The catch-up's windows (each agent's sequences 1..n, at most COPY_WINDOWS in
 * all, round robin over agents) as the server's rows, COPY'd into a fresh
 * database with the server's schema; only the COPY itself is timed.
 */
async function copyBaseline(
  ids: string[],
  seqs: number[],
  backlogStart: number,
  now: number,
): Promise<{
  windows: number;
  rows: number;
  records: number;
  ms: number;
  recordsPerSecond: number;
  cpuSeconds: number;
}> {
  const admin = new Client({ connectionString: PG_URL });
  await admin.connect();
  const { name, url } = await createDatabase(admin, 'tw_bench_copy');
  try {
    serverCli(url, 'migrate', 'run');
    const db = new Client({ connectionString: url });
    await db.connect();
    try {
      for (let t = backlogStart - DAY; t <= now + DAY; t += DAY) {
        const day = new Date(Math.floor(t / DAY) * DAY);
        for (const s of SERIES) await db.query(partitionSql(s.raw, day, 'day'));
      }
    } finally {
      await db.end();
    }
    const windows: { agentId: string; batch: ReturnType<typeof makeWindow> }[] = [];
    for (let s = 1; windows.length < COPY_WINDOWS && seqs.some((n) => n >= s); s++) {
      for (let i = 0; i < ids.length && windows.length < COPY_WINDOWS; i++) {
        if (seqs[i] >= s)
          windows.push({
            agentId: ids[i],
            batch: makeWindow(i, s, backlogStart + (s - 1) * 10_000),
          });
      }
    }
    const records = windows.reduce((n, w) => n + recordsOf(w.batch), 0);
    const tables = await copyRowsOf(windows);
    const rows = tables.reduce((n, t) => n + t.lines.length, 0);
    const { ms, cpuSeconds: cpu } = await copyLoad(url.toString(), tables);
    return {
      windows: windows.length,
      rows,
      records,
      ms,
      recordsPerSecond: records / (ms / 1000),
      cpuSeconds: cpu,
    };
  } finally {
    await admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
    await admin.end();
  }
}

interface ExplainNode {
  'Subplan Name'?: string;
  'Actual Total Time': number;
  Plans?: ExplainNode[];
}
interface ExplainResult {
  Plan: ExplainNode;
  'Planning Time': number;
  'Execution Time': number;
}

/**
 * EXPLAIN (ANALYZE, BUFFERS) of the ingest statements of one flush as large as
 * the server's mean (batches stored / write transactions so far): the next
 * window of the first agents, through the server's own storeBatches, rolled back.
 */
async function explainFlush(
  db: Client,
  ids: string[],
  seqs: number[],
  backlogStart: number,
  stored: number,
  http: number,
): Promise<{
  batches: number;
  series: Record<string, { planMs: number; execMs: number; rawInsertMs: number }>;
}> {
  const metrics = await (await fetch(`http://127.0.0.1:${http}/metrics`)).text();
  const tx = Number(/^tidewatch_server_db_write_seconds_count ([0-9.e+-]+)$/m.exec(metrics)?.[1]);
  const batches = Math.max(1, Math.min(ids.length, Math.round(stored / (tx || 1))));
  const method = loadTidewatchV1().Ingest.service.Stream;
  const limits = { maxRecords: 1_000_000, notBefore: new Date(0), notAfter: new Date(8.64e15) };
  const items = ids.slice(0, batches).map((agentId, i) => {
    const s = seqs[i] + 1;
    const wire = method.requestDeserialize(
      method.requestSerialize({ batch: makeWindow(i, s, backlogStart + (s - 1) * 10_000) }),
    );
    return { agentId, batch: validateBatch(wire.batch as NonNullable<typeof wire.batch>, limits) };
  });
  const series: Record<string, { planMs: number; execMs: number; rawInsertMs: number }> = {};
  await db.query('BEGIN');
  try {
    await storeBatches(
      {
        query: async (sql: string, params?: unknown[]) => {
          const table = /INSERT INTO (\w+)/.exec(sql)?.[1] ?? '?';
          const r = await db.query(`EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) ${sql}`, params);
          const plan = (r.rows[0] as { 'QUERY PLAN': ExplainResult[] })['QUERY PLAN'][0];
          // The raw INSERT is the CTE "raw"; the rest of the execution is the two rollup upserts.
          const raw = plan.Plan.Plans?.find((n) => n['Subplan Name'] === 'CTE raw');
          series[table] = {
            planMs: plan['Planning Time'],
            execMs: plan['Execution Time'],
            rawInsertMs: raw?.['Actual Total Time'] ?? NaN,
          };
          return [];
        },
      },
      items,
    );
  } finally {
    await db.query('ROLLBACK');
  }
  return { batches, series };
}

/** The viewer's session token (the REST API needs a signed-in user). */
let bearer = '';

async function signIn(http: number, username: string, password: string): Promise<string> {
  const res = await fetch(`http://127.0.0.1:${http}/api/v1/auth/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ username, password }),
  });
  if (res.status !== 200) throw new Error(`sign-in -> ${res.status}: ${await res.text()}`);
  return ((await res.json()) as { accessToken: string }).accessToken;
}

async function timeGet(url: string): Promise<number> {
  const t = performance.now();
  const res = await fetch(url, { headers: { authorization: `Bearer ${bearer}` } });
  await res.arrayBuffer();
  if (res.status !== 200) throw new Error(`${url} -> ${res.status}`);
  return performance.now() - t;
}

async function main(): Promise<void> {
  const admin = new Client({ connectionString: PG_URL });
  await admin.connect();
  const { name, url: databaseUrl } = await createDatabase(admin, 'tw_bench');
  let server: Awaited<ReturnType<typeof startServer>> | null = null;
  const agents: SimAgent[] = [];
  try {
    const cli = (...args: string[]) => serverCli(databaseUrl, ...args);
    cli('migrate', 'run');
    const token = cli('enroll', 'create', '--name', 'bench', '--expires', '2h');
    const viewerPassword = randomBytes(18).toString('base64url');
    const passwordFile = path.join(os.tmpdir(), `${name}-viewer-password`);
    writeFileSync(passwordFile, `${viewerPassword}\n`, { mode: 0o600 });
    try {
      cli(
        'users',
        'create',
        '--username',
        'bench-viewer',
        '--role',
        'viewer',
        '--password-file',
        passwordFile,
      );
    } finally {
      rmSync(passwordFile, { force: true });
    }
    const ids = Array.from({ length: AGENTS }, () => randomUUID());
    const now = Date.now();

    const db = new Client({ connectionString: databaseUrl });
    // Dropping the database at the end ends this session: that must not hide the bench's own error.
    db.on('error', (e) => log(`bench session: ${e.message}`));
    await db.connect();
    log('generating 30 days of history …');
    const t0 = performance.now();
    const history = await generateHistory(db, ids, now);
    log(`history: ${JSON.stringify(history)} in ${((performance.now() - t0) / 1000).toFixed(1)} s`);

    server = await startServer(databaseUrl);
    bearer = await signIn(server.http, 'bench-viewer', viewerPassword);
    const address = `127.0.0.1:${server.grpc}`;
    for (let i = 0; i < AGENTS; i++) {
      agents.push(
        new SimAgent({
          address,
          agentId: ids[i],
          hostname: `bench-${String(i).padStart(3, '0')}`,
          labels: { env: i % 5 ? 'prod' : 'uat', role: ['db', 'web', 'mq'][i % 3] },
          enrollmentToken: token,
          window: 8,
        }),
      );
    }
    await Promise.all(agents.map((a) => a.connect()));
    log(`${AGENTS} agents connected; catch-up ingest for ${CATCHUP_S} s …`);

    // Phase 2: backlog catch-up (agents that were cut off for a day), 10-s windows.
    const backlogStart = Math.floor(now / 10_000) * 10_000 - DAY;
    const records = makeWindow(0, 1, backlogStart);
    const perBatch = recordsOf(records);
    const seqs = new Array<number>(AGENTS).fill(0);
    let stop = false;
    const started = performance.now();
    const pump = async (i: number) => {
      while (!stop && backlogStart + seqs[i] * 10_000 < Date.now() - 60_000) {
        const s = ++seqs[i];
        await agents[i].send(makeWindow(i, s, backlogStart + (s - 1) * 10_000));
      }
    };
    const pumps = agents.map((_, i) => pump(i));
    await new Promise((r) => setTimeout(r, 5_000));
    const ackedAt5 = agents.reduce((s, a) => s + a.acked, 0);
    const t5 = performance.now();
    // The server's PostgreSQL backends (its pool) and the server process, CPU over the measured span.
    const backends = (
      await db.query(
        `SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()`,
      )
    ).rows.map((r: { pid: number }) => r.pid);
    const serverPid = server.proc.pid as number;
    const pgCpu5 = backends.reduce((s, p) => s + cpuSeconds(p), 0);
    const serverCpu5 = cpuSeconds(serverPid);
    const simCpu5 = process.cpuUsage();
    await new Promise((r) => setTimeout(r, (CATCHUP_S - 5) * 1000));
    const ackedEnd = agents.reduce((s, a) => s + a.acked, 0);
    const tEnd = performance.now();
    const span = (tEnd - t5) / 1000;
    const simCpu = process.cpuUsage(simCpu5);
    const cpu = {
      postgresBackends: backends.length,
      postgresCores: (backends.reduce((s, p) => s + cpuSeconds(p), 0) - pgCpu5) / span,
      serverCores: (cpuSeconds(serverPid) - serverCpu5) / span,
      simulatorCores: (simCpu.user + simCpu.system) / 1e6 / span,
    };
    stop = true;
    await Promise.all(pumps);
    await Promise.all(agents.map((a, i) => a.drain(seqs[i])));
    const batchesPerSecond = (ackedEnd - ackedAt5) / ((tEnd - t5) / 1000);
    const catchupLatencies = agents.flatMap((a) => a.latenciesMs.splice(0));
    const catchupRss = peakRssBytes(serverPid);
    log(
      `catch-up: ${batchesPerSecond.toFixed(0)} batches/s x ${perBatch} records (over ${((tEnd - started) / 1000).toFixed(0)} s), cores ${JSON.stringify(cpu)}`,
    );
    const [catchupStored] = (await db.query(`SELECT count(*)::int AS n FROM windows_raw`)).rows as {
      n: number;
    }[];
    const sent = seqs.reduce((s, n) => s + n, 0);
    if (catchupStored.n !== sent)
      throw new Error(`catch-up: ${sent} windows sent, ${catchupStored.n} stored`);

    // The limit: the same windows as the server's rows, COPY'd into a fresh migrated database.
    const copy = await copyBaseline(ids, seqs, backlogStart, now);
    log(
      `COPY: ${copy.windows} windows, ${copy.rows} rows in ${(copy.ms / 1000).toFixed(1)} s = ${Math.round(copy.recordsPerSecond)} records/s`,
    );
    const explain = await explainFlush(db, ids, seqs, backlogStart, catchupStored.n, server.http);
    log(`EXPLAIN ANALYZE of one ${explain.batches}-batch flush: ${JSON.stringify(explain.series)}`);

    // Phase 3: paced, one window per agent per second.
    log(`paced ingest (${AGENTS} windows/s) for ${PACED_S} s …`);
    for (let k = 0; k < PACED_S; k++) {
      const tick = performance.now();
      await Promise.all(
        agents.map((a, i) => {
          const s = ++seqs[i];
          return a.send(makeWindow(i, s, backlogStart + (s - 1) * 10_000));
        }),
      );
      await new Promise((r) => setTimeout(r, Math.max(0, 1000 - (performance.now() - tick))));
    }
    await Promise.all(agents.map((a, i) => a.drain(seqs[i])));
    const paced = agents.flatMap((a) => a.latenciesMs.splice(0));

    // Phase 4: dashboard queries, fleet-wide.
    const queries: Record<string, { summary: number[]; series: number[] }> = {};
    for (const [label, span] of [
      ['1h', HOUR],
      ['24h', DAY],
      ['30d', 30 * DAY],
    ] as const) {
      queries[label] = { summary: [], series: [] };
      for (let i = 0; i < QUERY_RUNS + 2; i++) {
        const to = new Date();
        const q = `from=${new Date(to.getTime() - span).toISOString()}&to=${to.toISOString()}`;
        const s = await timeGet(`http://127.0.0.1:${server.http}/api/v1/traffic/summary?${q}`);
        const r = await timeGet(
          `http://127.0.0.1:${server.http}/api/v1/traffic/series?${q}&groupBy=direction`,
        );
        if (i >= 2) {
          queries[label].summary.push(s);
          queries[label].series.push(r);
        }
      }
    }
    const rss = peakRssBytes(server.proc.pid as number);
    const metrics = await (await fetch(`http://127.0.0.1:${server.http}/metrics`)).text();
    const metric = (name: string) =>
      Number(new RegExp(`^${name} ([0-9.e+-]+)$`, 'm').exec(metrics)?.[1] ?? NaN);
    const writeTx = {
      count: metric('tidewatch_server_db_write_seconds_count'),
      meanMs:
        (metric('tidewatch_server_db_write_seconds_sum') /
          metric('tidewatch_server_db_write_seconds_count')) *
        1000,
    };
    const [stored] = (await db.query(`SELECT count(*)::int AS n FROM windows_raw`)).rows as {
      n: number;
    }[];
    const total = seqs.reduce((n, x) => n + x, 0);
    if (stored.n !== total) throw new Error(`${total} windows sent, ${stored.n} stored`);

    // Phases 5 and 6: the fleet at scale (BENCH_FLEET=0 leaves them out).
    const fleet =
      process.env.BENCH_FLEET === '0'
        ? null
        : await fleetPhases({
            address,
            enrollmentToken: token,
            serverPid: server.proc.pid as number,
            firstHost: AGENTS,
            countStored: async () =>
              (
                (await db.query(`SELECT count(*)::int AS n FROM windows_raw`)).rows[0] as {
                  n: number;
                }
              ).n,
            query: (q) => timeGet(`http://127.0.0.1:${server?.http}${q}`),
            cpuSeconds,
            log,
          });
    await db.end();

    const result = {
      date: new Date().toISOString(),
      machine: {
        cpus: os.cpus().length,
        model: os.cpus()[0]?.model,
        memGiB: Math.round(os.totalmem() / 2 ** 30),
        node: process.version,
      },
      agents: AGENTS,
      history,
      ingest: {
        recordsPerBatch: perBatch,
        sustainedBatchesPerSecond: Math.round(batchesPerSecond),
        sustainedRecordsPerSecond: Math.round(batchesPerSecond * perBatch),
        batchesStored: stored.n,
        everyWindowStoredOnce: stored.n === total,
        cores: cpu,
        rawCopy: {
          ...copy,
          recordsPerSecond: Math.round(copy.recordsPerSecond),
          ratio: (batchesPerSecond * perBatch) / copy.recordsPerSecond,
          recordsPerCpuSecond: Math.round(copy.records / copy.cpuSeconds),
        },
        // The same comparison per CPU-second spent (server + its PostgreSQL backends against
        // the COPY's backend): other jobs on a shared machine move both rates, less this one.
        recordsPerCpuSecond: Math.round(
          (batchesPerSecond * perBatch) / (cpu.serverCores + cpu.postgresCores),
        ),
        cpuRatio:
          (batchesPerSecond * perBatch) /
          (cpu.serverCores + cpu.postgresCores) /
          (copy.records / copy.cpuSeconds),
        explainOneFlush: explain,
        writeTransactions: writeTx,
        catchupAckLatencyMs: {
          p50: pct(catchupLatencies, 50),
          p99: pct(catchupLatencies, 99),
          inFlightPerAgent: 8,
        },
        pacedAckLatencyMs: { p50: pct(paced, 50), p99: pct(paced, 99), batchesPerSecond: AGENTS },
      },
      serverPeakRssMiB: Math.round(rss / 2 ** 20),
      serverPeakRssCatchupMiB: Math.round(catchupRss / 2 ** 20),
      fleet: fleet && { connections: fleet.connections, catchup: fleet.catchup },
      dashboardMs: Object.fromEntries(
        Object.entries(queries).map(([k, v]) => [
          k,
          {
            summary: { p50: pct(v.summary, 50), p99: pct(v.summary, 99) },
            series: { p50: pct(v.series, 50), p99: pct(v.series, 99) },
          },
        ]),
      ),
    };
    const f = (n: number) => n.toFixed(1);
    const lines = [
      `tidewatch-server bench — ${AGENTS} agents, ${result.machine.cpus} CPUs (${result.machine.model})`,
      `| metric | value |`,
      `| --- | --- |`,
      `| sustained stored window records/s | ${result.ingest.sustainedRecordsPerSecond} (${result.ingest.sustainedBatchesPerSecond} batches/s x ${perBatch}) |`,
      `| raw COPY of the same rows, records/s (1 session, raw tables only) | ${result.ingest.rawCopy.recordsPerSecond} (${copy.windows} windows, ${copy.rows} rows in ${f(copy.ms / 1000)} s) |`,
      `| Tidewatch / raw COPY | ${result.ingest.rawCopy.ratio.toFixed(2)} |`,
      `| records per CPU-second: Tidewatch (server + its PG backends) / raw COPY (its backend) | ${result.ingest.recordsPerCpuSecond} / ${result.ingest.rawCopy.recordsPerCpuSecond} = ${result.ingest.cpuRatio.toFixed(2)} |`,
      `| every window stored exactly once | ${result.ingest.everyWindowStoredOnce} (${stored.n} of ${total}) |`,
      `| CPU cores during catch-up: server / its ${cpu.postgresBackends} PG backends / simulator | ${cpu.serverCores.toFixed(2)} / ${cpu.postgresCores.toFixed(2)} / ${cpu.simulatorCores.toFixed(2)} |`,
      `| server peak RSS through saturated catch-up | ${result.serverPeakRssCatchupMiB} MiB |`,
      `| EXPLAIN ANALYZE, one ${explain.batches}-batch flush (exec ms per raw table + rollups) | ${Object.entries(
        explain.series,
      )
        .map(([t, v]) => `${t} ${f(v.execMs)} (raw insert ${f(v.rawInsertMs)})`)
        .join(', ')} |`,
      `| ack latency, paced ${AGENTS} batches/s (p50 / p99) | ${f(result.ingest.pacedAckLatencyMs.p50)} / ${f(result.ingest.pacedAckLatencyMs.p99)} ms |`,
      `| ack latency, saturated catch-up (p50 / p99) | ${f(result.ingest.catchupAckLatencyMs.p50)} / ${f(result.ingest.catchupAckLatencyMs.p99)} ms |`,
      `| ingest transactions (count, mean) | ${writeTx.count}, ${f(writeTx.meanMs)} ms |`,
      `| server peak RSS | ${result.serverPeakRssMiB} MiB |`,
      ...Object.entries(result.dashboardMs).map(
        ([k, v]) =>
          `| dashboard ${k}, fleet summary / series (p50 / p99) | ${f(v.summary.p50)} / ${f(v.summary.p99)} ms, ${f(v.series.p50)} / ${f(v.series.p99)} ms |`,
      ),
      ...(fleet?.lines ?? []),
    ];
    process.stdout.write(`${lines.join('\n')}\n`);
    const dir = path.join(ROOT, 'bench', 'results');
    mkdirSync(dir, { recursive: true });
    const file = path.join(dir, `server-${result.date.replace(/[:.]/g, '-')}.json`);
    writeFileSync(file, `${JSON.stringify(result, null, 2)}\n`);
    log(`wrote ${path.relative(ROOT, file)}`);
  } finally {
    agents.forEach((a) => a.close());
    if (server) {
      server.proc.kill('SIGTERM');
      await new Promise((r) => server?.proc.once('exit', r));
      if (CPU_PROF_DIR) {
        process.stdout.write(summarizeCpuProfile(CPU_PROF_DIR, ROOT));
        log(`server CPU profile in ${CPU_PROF_DIR}`);
      }
    }
    if (process.env.BENCH_KEEP_DB) log(`kept database ${name}`);
    else await admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
    await admin.end();
  }
}

main().catch((err: Error) => {
  process.stderr.write(`bench: ${err.stack ?? err.message}\n`);
  process.exit(1);
});
