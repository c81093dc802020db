// npm run bench:queries — issue #12's query goal: 1,000 hosts with 30 days of
// generated history (query-history.ts), then the dashboard's queries through
// the real server's REST API, signed in as a viewer: fleet and per-host
// summary and series, top ports and top talkers over 1 h, 24 h and 30 d (and,
// outside the goal, the fleet ones scoped by a label selector), median and p95
// of BENCH_QUERY_RUNS runs each, and EXPLAIN (ANALYZE, BUFFERS) of the goal's
// slowest one's statement (the server's own SQL, through its TrafficService). Before timing, the server derives its fleet rollups from the
// generated history (the time it takes is reported); then the last
// BENCH_QUERY_LIVE_SECONDS (90: the server's grace plus its derivation interval) are
// marked not derived yet, so fleet queries also sum the open tail from the hosts'
// rows as they do on a live fleet. Knobs: BENCH_QUERY_HOSTS (1000), BENCH_QUERY_RUNS (10).
// Kept apart from bench:server so that its ingest run stays short.
import { ChildProcess, execFileSync, spawn } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Client } from 'pg';
import { TrafficService } from '@tidewatch/server/dist/traffic/traffic.service';
import { FLEET_COVERAGE_SQL } from '@tidewatch/server/dist/storage/series-query';
import { createDatabase, PG_URL, SERVER_BIN, serverCli } from './bench-db';
import { generateQueryHistory } from './query-history';

// The host rows bench:reports and bench:console load too (plain JS, no types).
// eslint-disable-next-line @typescript-eslint/no-require-imports
const { insertHosts } = require('../../../apps/server/bench/history.js') as {
  insertHosts: (db: Client, ids: string[], enrolledAt: Date) => Promise<void>;
};

const ROOT = path.resolve(__dirname, '..', '..', '..');
const HOSTS = Number(process.env.BENCH_QUERY_HOSTS ?? 1000);
const RUNS = Number(process.env.BENCH_QUERY_RUNS ?? 10);
const LIVE_SECONDS = Number(process.env.BENCH_QUERY_LIVE_SECONDS ?? 90);
// BENCH_QUERY_LABEL=0 leaves out the label-scoped queries (half the run's time).
// The server's grace before it derives a bucket (its default, given to it explicitly).
const GRACE_SECONDS = 60;
const LABEL_QUERIES = process.env.BENCH_QUERY_LABEL !== '0';
const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const TARGET_P95_MS = 200;

const pct = (xs: number[], p: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length ? s[Math.min(s.length - 1, Math.ceil((p / 100) * s.length) - 1)] : NaN;
};
const log = (m: string) => process.stderr.write(`bench:queries: ${m}\n`);

async function startServer(databaseUrl: string): Promise<{ proc: ChildProcess; http: number }> {
  const auditDir = path.join(os.tmpdir(), `tw-qbench-audit-${randomBytes(4).toString('hex')}`);
  mkdirSync(auditDir, { recursive: true, mode: 0o700 });
  const auditKey = path.join(auditDir, 'audit-signing-key.pem');
  execFileSync(process.execPath, [SERVER_BIN, 'audit', 'keygen', '--out', auditKey], {
    stdio: 'ignore',
  });
  const proc = spawn(process.execPath, [SERVER_BIN, 'serve'], {
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
      // One derivation pass at start (timed by the bench), none while the queries run.
      FLEET_ROLLUP_INTERVAL_SECONDS: '3600',
      FLEET_ROLLUP_GRACE_SECONDS: String(GRACE_SECONDS),
    },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  // The signing key's directory goes when the server does.
  proc.once('exit', () => rmSync(auditDir, { recursive: true, force: true }));
  return new Promise((resolve, reject) => {
    let out = '';
    let listening = false;
    let partial = '';
    proc.stdout?.on('data', (c: Buffer) => {
      out += c.toString();
      const line = out.split('\n').find((l) => l.includes('"event":"listening"'));
      if (line && !listening) {
        listening = true;
        resolve({ proc, http: (JSON.parse(line) as { httpPort: number }).httpPort });
      }
      // The server's warnings and errors (pino: level 40 and up) are shown: a failed
      // derivation or check during the run is part of what the figures mean.
      const lines = (partial + c.toString()).split('\n');
      partial = lines.pop() ?? '';
      for (const l of lines) if (/"level":(4|5|6)\d/.test(l)) log(`server: ${l}`);
      if (listening) out = '';
    });
    proc.on('exit', (code) => reject(new Error(`server exited (${code}) before listening`)));
  });
}

interface Query {
  name: string;
  route: string;
  /** The TrafficService call answering the route (for EXPLAIN). */
  call: (t: TrafficService, q: Record<string, unknown>) => Promise<unknown>;
  params: Record<string, unknown>;
  perHost: boolean;
  /** Label-scoped (`selector`, half the hosts): measured, not part of the issue's goal. */
  label?: boolean;
}

const QUERIES: Query[] = [
  {
    name: 'fleet summary',
    route: 'summary',
    call: (t, q) => t.summary(q as never),
    params: {},
    perHost: false,
  },
  {
    name: 'host summary',
    route: 'summary',
    call: (t, q) => t.summary(q as never),
    params: {},
    perHost: true,
  },
  {
    name: 'fleet series',
    route: 'series',
    call: (t, q) => t.series(q as never),
    params: { groupBy: 'direction' },
    perHost: false,
  },
  {
    name: 'host series',
    route: 'series',
    call: (t, q) => t.series(q as never),
    params: { groupBy: 'direction' },
    perHost: true,
  },
  {
    name: 'top ports',
    route: 'ports',
    call: (t, q) => t.topPorts(q as never),
    params: { limit: 10, sort: 'bytes' },
    perHost: false,
  },
  {
    name: 'top talkers',
    route: 'talkers',
    call: (t, q) => t.topTalkers(q as never),
    params: { limit: 10, sort: 'bytes' },
    perHost: false,
  },
];
// The same fleet queries scoped by a label (env=prod: every other host, 500 of 1,000). They
// read the per-agent tables of the selected hosts: the fleet rollups cannot be split by label.
const LABEL = 'env=prod';
for (const q of QUERIES.filter((x) => !x.perHost))
  QUERIES.push({
    ...q,
    name: `label ${q.name}`,
    params: { ...q.params, selector: LABEL },
    label: true,
  });
const RANGES = [
  ['1h', HOUR],
  ['24h', DAY],
  ['30d', 30 * DAY],
] as const;

async function main(): Promise<void> {
  const admin = new Client({ connectionString: PG_URL });
  await admin.connect();
  // BENCH_QUERY_DB: a database an earlier run kept (BENCH_KEEP_DB=1) and its history, so that a
  // change can be timed against the same rows without generating them again (~5 min).
  const reuse = process.env.BENCH_QUERY_DB;
  const { name, url: databaseUrl } = reuse
    ? { name: reuse, url: Object.assign(new URL(PG_URL), { pathname: `/${reuse}` }).toString() }
    : await createDatabase(admin, 'tw_qbench');
  let server: Awaited<ReturnType<typeof startServer>> | null = null;
  let touching: NodeJS.Timeout | undefined;
  const db = new Client({ connectionString: databaseUrl });
  db.on('error', (e) => log(`bench session: ${e.message}`));
  try {
    const cli = (...args: string[]) => serverCli(databaseUrl, ...args);
    if (!reuse) cli('migrate', 'run');
    const password = randomBytes(18).toString('base64url');
    // A viewer of its own per run: a kept database already has the earlier runs' viewers.
    const viewer = `bench-viewer-${randomBytes(4).toString('hex')}`;
    const passwordFile = path.join(os.tmpdir(), `${name}-viewer-password`);
    writeFileSync(passwordFile, `${password}\n`, { mode: 0o600 });
    try {
      cli(
        'users',
        'create',
        '--username',
        viewer,
        '--role',
        'viewer',
        '--password-file',
        passwordFile,
      );
    } finally {
      rmSync(passwordFile, { force: true });
    }
    await db.connect();
    let ids: string[];
    let t0: number;
    let history: Record<string, number> = {};
    let generateSeconds = 0;
    if (reuse) {
      // The generation's instant, as the run that made the database recorded it.
      const c = await db.query<{ c: string | null }>(
        `SELECT shobj_description(oid, 'pg_database') AS c FROM pg_database WHERE datname = $1`,
        [name],
      );
      const m = /^bench:queries t0=(\S+)$/.exec(c.rows[0]?.c ?? '');
      if (!m) throw new Error(`${name} has no bench:queries t0 comment: not a kept bench database`);
      t0 = new Date(m[1]).getTime();
      // host-0001… in order: the ids the generating run used, in its order.
      ids = (
        await db.query<{ agent_id: string }>(`SELECT agent_id FROM hosts ORDER BY hostname`)
      ).rows.map((r) => r.agent_id);
      if (ids.length !== HOSTS) throw new Error(`${name} has ${ids.length} hosts, not ${HOSTS}`);
      log(`reusing ${name}: ${ids.length} hosts, history ending ${new Date(t0).toISOString()}`);
    } else {
      ids = Array.from({ length: HOSTS }, () => randomUUID());
      // Every range ends here, so each run reads the same rows (and the edges hit raw and 1 min).
      t0 = Date.now();
      await insertHosts(db, ids, new Date(t0 - 40 * DAY));
      log(`generating ${HOSTS} hosts x 30 days …`);
      const g0 = performance.now();
      history = await generateQueryHistory(db, ids, t0, databaseUrl, log);
      generateSeconds = (performance.now() - g0) / 1000;
      log(`history in ${generateSeconds.toFixed(0)} s: ${JSON.stringify(history)}`);
      await db.query(
        `COMMENT ON DATABASE ${name} IS 'bench:queries t0=${new Date(t0).toISOString()}'`,
      );
    }

    // Live hosts, as on a fleet whose agents report: the generated ones were "seen" when
    // they were inserted, minutes ago, so the server's silent-agent check (every 5 s) would
    // find all 1,000 silent and write an anomaly update for each, every 5 s, while the
    // queries are timed (~2,600 commits in a 15 s query phase instead of ~660).
    let deriveSeconds = 0;
    const touchHosts = () => db.query(`UPDATE hosts SET last_seen_at = now()`);
    await touchHosts();
    const s0 = performance.now();
    const spawnedAt = Date.now();
    server = await startServer(databaseUrl);
    touching = setInterval(() => {
      touchHosts().catch((e: Error) => log(`touching the hosts: ${e.message}`));
    }, 30_000);
    // The server's first pass derives the fleet rollups of the whole history, then the
    // empty stretch after it up to its start (less the grace): timing starts when that pass
    // is over, so that it neither competes with the queries nor undoes the live tail below.
    const STEP = { raw: 1000, '1m': 60_000, '1h': HOUR } as Record<string, number>;
    const upTo = (r: string) =>
      Math.floor(Math.max(t0, spawnedAt - GRACE_SECONDS * 1000) / STEP[r]) * STEP[r];
    let last = '';
    for (;;) {
      const st = await db.query<{
        resolution: string;
        sealed_to: Date | null;
        summed_to: Date | null;
      }>(`SELECT resolution, sealed_to, summed_to FROM fleet_rollup_state ORDER BY 1`);
      const now = JSON.stringify(st.rows);
      if (
        st.rows.every((r) => r.summed_to && r.summed_to.getTime() >= upTo(r.resolution)) &&
        // … and settled: unchanged over the last poll.
        now === last
      )
        break;
      last = now;
      await new Promise((r) => setTimeout(r, 1000));
    }
    deriveSeconds = (performance.now() - s0) / 1000;
    log(`fleet rollups derived in ${deriveSeconds.toFixed(0)} s (from the server's start)`);
    // A live fleet's open tail: buckets of the last LIVE_SECONDS are not derived yet.
    for (const [resolution, step] of Object.entries(STEP))
      await db.query(
        `UPDATE fleet_rollup_state SET summed_to = least(summed_to, $2) WHERE resolution = $1`,
        [resolution, new Date(Math.floor((t0 - LIVE_SECONDS * 1000) / step) * step)],
      );
    const login = await fetch(`http://127.0.0.1:${server.http}/api/v1/auth/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ username: viewer, password }),
    });
    if (login.status !== 200) throw new Error(`sign-in -> ${login.status}`);
    const bearer = ((await login.json()) as { accessToken: string }).accessToken;

    const to = new Date(t0).toISOString();
    const results: {
      query: string;
      range: string;
      p50: number;
      p95: number;
      max: number;
      /** Each timed run's milliseconds, in order (an outlier's place tells what preceded it). */
      runs: number[];
      params: Record<string, unknown>;
      call: Query['call'];
      label: boolean;
    }[] = [];
    // The goal's queries first, the label-scoped ones after them: those read many hosts'
    // rows, and would leave the caches colder for the per-host queries run between them.
    for (const [label, [range, span]] of (LABEL_QUERIES ? [false, true] : [false]).flatMap((l) =>
      RANGES.map((r) => [l, r] as const),
    )) {
      const from = new Date(t0 - span).toISOString();
      for (const q of QUERIES.filter((x) => !!x.label === label)) {
        const ms: number[] = [];
        let last: Record<string, unknown> = {};
        // One warm-up run, then RUNS timed; per-host queries take a different host each run.
        for (let i = 0; i <= RUNS; i++) {
          const params: Record<string, unknown> = {
            ...q.params,
            from,
            to,
            ...(q.perHost ? { agentId: ids[(i * 97) % ids.length] } : {}),
          };
          const qs = new URLSearchParams(
            Object.entries(params).map(([k, v]): [string, string] => [k, String(v)]),
          ).toString();
          const t = performance.now();
          const res = await fetch(
            `http://127.0.0.1:${server.http}/api/v1/traffic/${q.route}?${qs}`,
            {
              headers: { authorization: `Bearer ${bearer}` },
            },
          );
          const body = await res.text();
          const took = performance.now() - t;
          if (res.status !== 200) throw new Error(`${q.route}?${qs} -> ${res.status}: ${body}`);
          if (i > 0) ms.push(took);
          last = params;
        }
        const r = {
          query: q.name,
          range,
          p50: pct(ms, 50),
          p95: pct(ms, 95),
          max: Math.max(...ms),
        };
        log(
          `${range} ${q.name}: p50 ${r.p50.toFixed(1)} ms, p95 ${r.p95.toFixed(1)} ms; runs ${ms
            .map((x) => x.toFixed(0))
            .join(' ')}`,
        );
        results.push({ ...r, runs: ms, params: last, call: q.call, label: !!q.label });
      }
    }
    clearInterval(touching);

    // EXPLAIN (ANALYZE, BUFFERS) of the goal's slowest: the server's own statements for it.
    const slowest = results.filter((r) => !r.label).reduce((a, b) => (b.p95 > a.p95 ? b : a));
    const plans: { sql: string; plan: string }[] = [];
    const explain = {
      query: async (sql: string, params: unknown[]) => {
        // The fleet rollups' coverage is read for real: the plan is the one the server runs.
        if (sql === FLEET_COVERAGE_SQL) return (await db.query(sql, params)).rows;
        const r = await db.query(`EXPLAIN (ANALYZE, BUFFERS) ${sql}`, params);
        plans.push({
          sql,
          plan: r.rows.map((x: { 'QUERY PLAN': string }) => x['QUERY PLAN']).join('\n'),
        });
        return [];
      },
    };
    const traffic = new TrafficService(
      {
        ...explain,
        transaction: (_isolation: string, f: (em: typeof explain) => Promise<unknown>) =>
          f(explain),
      } as never,
      { exists: async () => true, idsForSelector: async () => [] } as never,
      { timeQuery: (_n: string, f: () => Promise<unknown>) => f() } as never,
    );
    await slowest.call(traffic, { resolution: 'auto', ...slowest.params });
    await db.end();

    const f = (n: number) => n.toFixed(1);
    const rows = results.map(({ query, range, p50, p95, max, runs }) => ({
      query,
      range,
      p50,
      p95,
      max,
      runs,
    }));
    const table = [
      `bench:queries — ${HOSTS} hosts x 30 days, ${RUNS} runs each, ${os.cpus().length} CPUs, load ${os
        .loadavg()
        .map((l) => l.toFixed(1))
        .join(
          ' ',
        )}; fleet rollups derived in ${deriveSeconds.toFixed(0)} s, last ${LIVE_SECONDS} s live`,
      '| query | 1 h p50 / p95 | 24 h p50 / p95 | 30 d p50 / p95 |',
      '| --- | --- | --- | --- |',
      ...QUERIES.filter((q) => LABEL_QUERIES || !q.label).map(
        (q) =>
          `| ${q.name} | ${RANGES.map(([range]) => {
            const r = rows.find((x) => x.query === q.name && x.range === range)!;
            return `${f(r.p50)} / ${f(r.p95)}${!q.label && r.p95 > TARGET_P95_MS ? ' ✗' : ''}`;
          }).join(' | ')} |`,
      ),
      `(ms; ✗ = p95 over ${TARGET_P95_MS} ms; label rows: selector ${LABEL}, not in the goal)`,
      `slowest: ${slowest.range} ${slowest.query}, p95 ${f(slowest.p95)} ms; EXPLAIN (ANALYZE, BUFFERS):`,
      ...plans.map((p) => `${p.sql}\n${p.plan}`),
    ];
    process.stdout.write(`${table.join('\n')}\n`);
    const result = {
      date: new Date().toISOString(),
      machine: { cpus: os.cpus().length, model: os.cpus()[0]?.model, node: process.version },
      hosts: HOSTS,
      runs: RUNS,
      history,
      generateSeconds,
      deriveSeconds,
      liveSeconds: LIVE_SECONDS,
      reusedDatabase: !!reuse,
      targetP95Ms: TARGET_P95_MS,
      queriesMs: rows,
      slowest: { query: slowest.query, range: slowest.range, params: slowest.params, plans },
    };
    const dir = path.join(ROOT, 'bench', 'results');
    mkdirSync(dir, { recursive: true });
    const file = path.join(dir, `queries-${result.date.replace(/[:.]/g, '-')}.json`);
    writeFileSync(file, `${JSON.stringify(result, null, 2)}\n`);
    log(`wrote ${path.relative(ROOT, file)}`);
  } finally {
    clearInterval(touching);
    if (server) {
      server.proc.kill('SIGTERM');
      await new Promise((r) => server?.proc.once('exit', r));
    }
    if (process.env.BENCH_KEEP_DB || reuse) log(`kept database ${name}`);
    else await admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
    await admin.end();
  }
}

main().catch((err: Error) => {
  process.stderr.write(`bench:queries: ${err.stack ?? err.message}\n`);
  process.exit(1);
});
