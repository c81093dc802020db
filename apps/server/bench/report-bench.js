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
const { insertHosts, generateHistory } = require('./history');

const PG = process.env.BENCH_PG_URL || 'postgres://postgres@127.0.0.1:5432/postgres';
const HOSTS = Number(process.env.BENCH_REPORT_HOSTS || 1_000);
const ANOMALIES = Number(process.env.BENCH_REPORT_ANOMALIES || 2_000);
const RUNS = Number(process.env.BENCH_RUNS || 3);
const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const log = (m) => process.stderr.write(`bench:reports: ${m}\n`);
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

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
    await insertHosts(db, ids, new Date(from.getTime() - DAY));
    const t0 = Date.now();
    const counts = await generateHistory(db, ids, from, to, { anomalies: ANOMALIES, log });
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
