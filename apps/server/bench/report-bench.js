#!/usr/bin/env node
// npm run bench:reports — how long a 30-day fleet compliance report takes, on real PostgreSQL:
//   1. BENCH_REPORT_HOSTS (1,000) hosts with 30 days of 1 h rollups generated straight into
//      the tables (traffic 2 directions x 4 protocols, 5 ports, 4 talker pairs, rates,
//      windows), a high-risk listener on every host and BENCH_REPORT_ANOMALIES (2,000)
//      anomalies, half of them acknowledged and resolved;
//   2. the real server in this process; a viewer asks GET /api/v1/reports for the fleet over
//      the 30 days as JSON, CSV and PDF (zh-CN), BENCH_RUNS times each: median and worst.
// Target: under 60 s for the PDF. Needs a built server (npm run build -w @tidewatch/server). Not a test.
'use strict';

const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { randomBytes, randomUUID } = require('node:crypto');
const { Client } = require('pg');

const DIST = path.join(__dirname, '..', 'dist');
const { startServer } = require(path.join(DIST, 'server'));
const { parseEnvironment } = require(path.join(DIST, 'config', 'environment'));
const { createLogger } = require(path.join(DIST, 'logging', 'logger'));
const { generateSigningKeyPem } = require(path.join(DIST, 'audit', 'checkpoint-signing'));
const { UsersService } = require(path.join(DIST, 'users', 'users.service'));
const { SessionsService } = require(path.join(DIST, 'auth', 'sessions.service'));

const PG = process.env.BENCH_PG_URL || 'postgres://postgres@127.0.0.1:5432/postgres';
const HOSTS = Number(process.env.BENCH_REPORT_HOSTS || 1_000);
const ANOMALIES = Number(process.env.BENCH_REPORT_ANOMALIES || 2_000);
const RUNS = Number(process.env.BENCH_RUNS || 3);
const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const log = (m) => process.stderr.write(`bench:reports: ${m}\n`);
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

function monthsBetween(from, to) {
  const out = [];
  let m = new Date(Date.UTC(from.getUTCFullYear(), from.getUTCMonth(), 1));
  while (m < to) {
    out.push(m);
    m = new Date(Date.UTC(m.getUTCFullYear(), m.getUTCMonth() + 1, 1));
  }
  return out;
}

async function generate(db, ids, from, to) {
  for (const m of monthsBetween(from, new Date(to.getTime() + DAY))) {
    const end = new Date(Date.UTC(m.getUTCFullYear(), m.getUTCMonth() + 1, 1));
    const y = m.getUTCFullYear();
    const mo = String(m.getUTCMonth() + 1).padStart(2, '0');
    for (const t of ['traffic_1h', 'rates_1h', 'ports_1h', 'talkers_1h', 'windows_1h']) {
      await db.query(
        `CREATE TABLE IF NOT EXISTS ${t}_p${y}${mo} PARTITION OF ${t}
           FOR VALUES FROM ('${m.toISOString()}') TO ('${end.toISOString()}')`,
      );
    }
  }
  const hours = `generate_series($2::timestamptz, $3::timestamptz - interval '1 hour', interval '1 hour') b(t)`;
  const args = [ids, from, to];
  const counts = {};
  const run = async (table, sql) => {
    const t0 = Date.now();
    const r = await db.query(sql, args);
    counts[table] = r.rowCount;
    log(`${table}: ${r.rowCount} rows in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
  };
  await run(
    'traffic_1h',
    `INSERT INTO traffic_1h (agent_id, bucket, iface, direction, family, protocol, packets, bytes)
     SELECT a.id, b.t, 'eth0', d, 1, p, (1000 + random() * 1e6)::bigint, (1e5 + random() * 1e9)::bigint
       FROM unnest($1::uuid[]) a(id), ${hours}, generate_series(1, 2) d, generate_series(1, 4) p`,
  );
  await run(
    'rates_1h',
    `INSERT INTO rates_1h (agent_id, bucket, iface, direction, peak_pps, peak_bps)
     SELECT a.id, b.t, i, d, random() * 1e5, random() * 1e9
       FROM unnest($1::uuid[]) a(id), ${hours}, generate_series(1, 2) d, unnest(ARRAY['', 'eth0']) i`,
  );
  await run(
    'ports_1h',
    `INSERT INTO ports_1h (agent_id, bucket, port, protocol, packets, bytes, connections, abnormal)
     SELECT a.id, b.t, p, CASE WHEN p = 53 THEN 2 ELSE 1 END, (random() * 1e5)::bigint,
            (random() * 1e8)::bigint, (random() * 1e3)::bigint, p = 31337
       FROM unnest($1::uuid[]) a(id), ${hours}, unnest(ARRAY[22, 53, 443, 5432, 31337]) p`,
  );
  await run(
    'talkers_1h',
    `INSERT INTO talkers_1h (agent_id, bucket, src, dst, protocol, packets, bytes)
     SELECT a.id, b.t, '198.18.' || (abs(hashtext(a.id::text)) % 250) || '.' || k,
            '198.19.0.' || k, 1, (random() * 1e5)::bigint, (random() * 1e8)::bigint
       FROM unnest($1::uuid[]) a(id), ${hours}, generate_series(1, 4) k`,
  );
  await run(
    'windows_1h',
    `INSERT INTO windows_1h (agent_id, bucket, windows, milliseconds, opened_client, opened_server,
                             failed, closed, active_sum, active_max, peak_opened_per_second,
                             retransmits, duration_sum_ms, cpu_max, cpu_sum, rss_max,
                             bpf_run_time_ns, bpf_run_count, flow_table_full, records_dropped)
     SELECT a.id, b.t, 360, 3600000, (random() * 1e4)::bigint, (random() * 1e4)::bigint,
            (random() * 100)::bigint, (random() * 2e4)::bigint, (random() * 1e5)::bigint,
            (random() * 1e3)::bigint, random() * 100, (random() * 1e3)::bigint, random() * 1e7,
            random() * 3, random() * 360, 40000000, 1000000, 10000, 0, 0
       FROM unnest($1::uuid[]) a(id), ${hours}`,
  );
  await run(
    'listening_ports',
    `INSERT INTO listening_ports (agent_id, protocol, port, loopback_only, first_seen, last_seen)
     SELECT a.id, 1, p, false, $2, $2 FROM unnest($1::uuid[]) a(id), unnest(ARRAY[22, 443]) p
      WHERE $3::timestamptz IS NOT NULL`,
  );
  await db.query(
    `INSERT INTO anomalies (agent_id, type, severity, status, group_key, summary, first_seen, last_seen,
                            evidence, acknowledged_by, acknowledged_at, resolved_by, resolved_at)
     SELECT ($1::uuid[])[1 + (i % array_length($1::uuid[], 1))], 'abnormal_port', 'medium',
            CASE WHEN i % 2 = 0 THEN 'resolved' ELSE 'open' END, 'k' || i, 'bench',
            $2::timestamptz + (i % 700) * interval '1 hour',
            $2::timestamptz + (i % 700) * interval '1 hour' + interval '10 minutes', '{}'::jsonb,
            CASE WHEN i % 2 = 0 THEN 'op' END,
            CASE WHEN i % 2 = 0 THEN $2::timestamptz + (i % 700) * interval '1 hour' + interval '5 minutes' END,
            CASE WHEN i % 2 = 0 THEN 'op' END,
            CASE WHEN i % 2 = 0 THEN $2::timestamptz + (i % 700) * interval '1 hour' + interval '40 minutes' END
       FROM generate_series(1, $4::int) i WHERE $3::timestamptz IS NOT NULL`,
    [...args, ANOMALIES],
  );
  counts.anomalies = ANOMALIES;
  await db.query('ANALYZE');
  return counts;
}

async function main() {
  const name = `tw_bench_reports_${randomBytes(4).toString('hex')}`;
  const admin = new Client({ connectionString: PG });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${name}`);
  const url = new URL(PG);
  url.pathname = `/${name}`;
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tw-bench-reports-'));
  let server = null;
  const db = new Client({ connectionString: url.toString() });
  try {
    const key = path.join(dir, 'audit-signing-key.pem');
    fs.writeFileSync(key, generateSigningKeyPem().privatePem, { mode: 0o600 });
    const totp = path.join(dir, 'totp.key');
    fs.writeFileSync(totp, randomBytes(32).toString('hex'), { mode: 0o600 });
    const env = parseEnvironment({
      DATABASE_URL: url.toString(),
      HTTP_HOST: '127.0.0.1',
      HTTP_PORT: '0',
      GRPC_HOST: '127.0.0.1',
      GRPC_PORT: '0',
      LOG_LEVEL: 'silent',
      AUDIT_SIGNING_KEY_FILE: key,
      AUDIT_CHECKPOINT_FILE: path.join(dir, 'checkpoints.jsonl'),
      AUDIT_SYSLOG: 'off',
      AUTH_TOTP_KEY_FILE: totp,
      RETENTION_1H_DAYS: '400',
    });
    // The server migrates the fresh database, then the history goes straight into its tables.
    server = await startServer(env, createLogger('silent'));
    await db.connect();
    const ids = Array.from({ length: HOSTS }, () => randomUUID());
    const to = new Date(Math.floor(Date.now() / HOUR) * HOUR);
    const from = new Date(to.getTime() - 30 * DAY);
    await db.query(
      `INSERT INTO hosts (agent_id, hostname, labels, masking, enrolled_at, last_seen_at)
       SELECT id, 'host-' || lpad(n::text, 4, '0'), jsonb_build_object('env', CASE WHEN n % 2 = 0 THEN 'prod' ELSE 'test' END),
              'MASKING_TRUNCATE', $2, now()
         FROM unnest($1::uuid[]) WITH ORDINALITY u(id, n)`,
      [ids, new Date(from.getTime() - DAY)],
    );
    const t0 = Date.now();
    const counts = await generate(db, ids, from, to);
    log(`history generated in ${((Date.now() - t0) / 1000).toFixed(1)} s`);

    const { user } = await server.app.get(UsersService).create(
      { name: 'bench', role: null, source: 'bench' },
      {
        username: 'bench-viewer',
        role: 'viewer',
        password: `pw-${randomBytes(12).toString('hex')}`,
      },
    );
    const token = (await server.app.get(SessionsService).create(user.id, 'bench')).token;
    const results = {};
    for (const format of ['json', 'csv', 'pdf']) {
      const times = [];
      let bytes = 0;
      for (let i = 0; i < RUNS; i++) {
        const t = performance.now();
        const res = await fetch(
          `http://127.0.0.1:${server.httpPort}/api/v1/reports?from=${from.toISOString()}&to=${to.toISOString()}&format=${format}&lang=zh-CN`,
          { headers: { authorization: `Bearer ${token}` } },
        );
        const body = Buffer.from(await res.arrayBuffer());
        if (res.status !== 200)
          throw new Error(`report ${format} -> ${res.status}: ${body.toString().slice(0, 300)}`);
        times.push((performance.now() - t) / 1000);
        bytes = body.length;
      }
      results[format] = {
        medianSeconds: +median(times).toFixed(2),
        worstSeconds: +Math.max(...times).toFixed(2),
        bytes,
      };
      log(
        `${format}: median ${median(times).toFixed(2)} s, worst ${Math.max(...times).toFixed(2)} s, ${bytes} bytes`,
      );
    }
    const out = {
      hosts: HOSTS,
      days: 30,
      rows: counts,
      runs: RUNS,
      reports: results,
      targetSeconds: 60,
      ok: results.pdf.worstSeconds < 60,
    };
    process.stdout.write(`${JSON.stringify(out, null, 2)}\n`);
  } finally {
    await server?.close().catch(() => undefined);
    await db.end().catch(() => undefined);
    await admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`).catch(() => undefined);
    await admin.end();
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((err) => {
  process.stderr.write(`bench:reports failed: ${err.stack || err}\n`);
  process.exit(1);
});
