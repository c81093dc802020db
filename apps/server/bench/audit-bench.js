#!/usr/bin/env node
// npm run bench:audit — how long the audit trail takes to verify, on real PostgreSQL:
//   1. BENCH_AUDIT_ENTRIES (1,000,000) entries chained with SM3 exactly as the
//      server writes them (the hashes from the server's own entryHash), bulk-loaded;
//   2. full verify of the whole chain (every entry re-hashed and linked);
//   3. a signed checkpoint 1,000 entries before the head, then incremental
//      verify from it (the default of GET /api/v1/audit/verify), median of runs.
// Targets: full verify of 1,000,000 entries < 60 s, incremental of 1,000 < 200 ms.
// Also: sequential and concurrent write rates through the one write path.
// Needs a built server (npm run build -w @tidewatch/server). Not a test.
'use strict';

const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { randomBytes } = require('node:crypto');
const { Client } = require('pg');

const DIST = path.join(__dirname, '..', 'dist');
const { createDataSource } = require(path.join(DIST, 'database', 'data-source'));
const { runMigrations } = require(path.join(DIST, 'database', 'migrate'));
const { entryHash, GENESIS_HASH } = require(path.join(DIST, 'audit', 'audit-entry'));
const { verifyWithDataSource } = require(path.join(DIST, 'audit', 'audit-verifier'));
const { CheckpointLog } = require(path.join(DIST, 'audit', 'checkpoint-log'));
const cs = require(path.join(DIST, 'audit', 'checkpoint-signing'));
const { AuditService } = require(path.join(DIST, 'audit', 'audit.service'));
const { ConfigurationService } = require(path.join(DIST, 'config', 'configuration.service'));
const { parseEnvironment } = require(path.join(DIST, 'config', 'environment'));

const PG = process.env.BENCH_PG_URL || 'postgres://postgres@127.0.0.1:5432/postgres';
const N = Number(process.env.BENCH_AUDIT_ENTRIES || 1_000_000);
const INCREMENTAL = 1_000;
const RUNS = Number(process.env.BENCH_RUNS || 7);
const ALG = process.env.AUDIT_HASH_ALGORITHM || 'sm3';
const log = (m) => process.stderr.write(`bench:audit: ${m}\n`);
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

async function bulkLoad(db, n) {
  const BATCH = 10_000;
  let prev = GENESIS_HASH;
  const t0 = Date.now() - n * 10;
  for (let start = 1; start <= n; start += BATCH) {
    const cols = {
      seq: [],
      time: [],
      actor: [],
      action: [],
      target: [],
      outcome: [],
      details: [],
      prev: [],
      hash: [],
    };
    for (let s = start; s < Math.min(start + BATCH, n + 1); s++) {
      const e = {
        sequence: BigInt(s),
        timeMs: t0 + s * 10,
        actor: `user${s % 97}`,
        actorRole: 'operator',
        source: '198.18.0.9',
        action: s % 3 ? 'traffic.viewed' : 'auth.login',
        target: `host-${s % 1000}`,
        outcome: s % 11 ? 'success' : 'denied',
        reason: null,
        requestId: null,
        details: `{"n":${s}}`,
        hashAlg: ALG,
        prevHash: prev,
      };
      const hash = entryHash(e);
      cols.seq.push(String(s));
      cols.time.push(new Date(e.timeMs).toISOString());
      cols.actor.push(e.actor);
      cols.action.push(e.action);
      cols.target.push(e.target);
      cols.outcome.push(e.outcome);
      cols.details.push(e.details);
      cols.prev.push(`\\x${prev.toString('hex')}`);
      cols.hash.push(`\\x${hash.toString('hex')}`);
      prev = hash;
    }
    await db.query(
      `INSERT INTO audit_entries (sequence, time, actor, actor_role, source, action, target, outcome,
                                  reason, request_id, details, hash_alg, prev_hash, hash)
       SELECT s, t, a, 'operator', '198.18.0.9', ac, tg, o, NULL, NULL, d, $10, p, h
         FROM unnest($1::bigint[], $2::timestamptz[], $3::text[], $4::text[], $5::text[], $6::text[],
                     $7::text[], $8::bytea[], $9::bytea[]) AS x(s, t, a, ac, tg, o, d, p, h)`,
      [
        cols.seq,
        cols.time,
        cols.actor,
        cols.action,
        cols.target,
        cols.outcome,
        cols.details,
        cols.prev,
        cols.hash,
        ALG,
      ],
    );
    if ((start - 1) % 100_000 === 0) log(`loaded ${start - 1 + cols.seq.length} / ${n}`);
  }
}

async function main() {
  const name = `tw_bench_audit_${randomBytes(4).toString('hex')}`;
  const admin = new Client({ connectionString: PG });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${name}`);
  const url = new URL(PG);
  url.pathname = `/${name}`;
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tw-bench-audit-'));
  const results = { entries: N, hashAlgorithm: ALG };
  let ds = null;
  try {
    ds = await createDataSource(url.toString(), 4).initialize();
    await runMigrations(ds);

    // Writes through the one write path (advisory lock, head read, insert, commit).
    const env = parseEnvironment({
      DATABASE_URL: url.toString(),
      AUDIT_HASH_ALGORITHM: ALG,
      AUDIT_CHECKPOINTS: 'off',
    });
    const audit = new AuditService(ds, new ConfigurationService(env));
    const W = 2_000;
    let t = performance.now();
    for (let i = 0; i < W; i++)
      await audit.record({ actor: 'bench', action: 'bench.sequential', outcome: 'success' });
    results.sequentialWritesPerSecond = Math.round(W / ((performance.now() - t) / 1000));
    t = performance.now();
    // 8 writers at once (4 pooled connections), each one entry after the other.
    const WRITERS = 8;
    await Promise.all(
      Array.from({ length: WRITERS }, async (_, w) => {
        for (let i = 0; i < W / WRITERS; i++) {
          await audit.record({ actor: `b${w}`, action: 'bench.concurrent', outcome: 'success' });
        }
      }),
    );
    results.concurrentWritesPerSecond = Math.round(W / ((performance.now() - t) / 1000));
    await ds.query('ALTER TABLE audit_entries DISABLE TRIGGER audit_entries_no_truncate');
    await ds.query('TRUNCATE audit_entries');
    await ds.query('ALTER TABLE audit_entries ENABLE ALWAYS TRIGGER audit_entries_no_truncate');
    log(
      `write path: ${results.sequentialWritesPerSecond}/s sequential, ${results.concurrentWritesPerSecond}/s with 8 concurrent writers (4 connections)`,
    );

    t = performance.now();
    const admin2 = new Client({ connectionString: url.toString() });
    await admin2.connect();
    await bulkLoad(admin2, N);
    await admin2.query('VACUUM ANALYZE audit_entries');
    await admin2.end();
    results.loadSeconds = +((performance.now() - t) / 1000).toFixed(1);
    log(`loaded ${N} entries in ${results.loadSeconds} s`);

    // A signed checkpoint INCREMENTAL entries before the head, in a file outside the database.
    const { privatePem } = cs.generateSigningKeyPem();
    const keyFile = path.join(dir, 'key.pem');
    fs.writeFileSync(keyFile, privatePem, { mode: 0o600 });
    const { privateKey, publicKey } = cs.loadSigningKey(keyFile);
    const cpSeq = N - INCREMENTAL + 1;
    const [row] = await ds.query('SELECT hash FROM audit_entries WHERE sequence = $1', [cpSeq]);
    const cpFile = path.join(dir, 'checkpoints.jsonl');
    const cp = cs.signCheckpoint(
      { sequence: BigInt(cpSeq), hash: row.hash, count: BigInt(cpSeq) },
      privateKey,
      publicKey,
    );
    fs.writeFileSync(cpFile, `${JSON.stringify(cp)}\n`);

    const inc = [];
    for (let i = 0; i < RUNS; i++) {
      const logFile = new CheckpointLog(cpFile, publicKey); // cold: reads the file each run
      t = performance.now();
      const r = await verifyWithDataSource(ds, logFile, 'incremental');
      inc.push(performance.now() - t);
      if (!r.ok || r.checked !== INCREMENTAL)
        throw new Error(`incremental verify: ${JSON.stringify(r)}`);
    }
    results.incrementalVerify = {
      entries: INCREMENTAL,
      medianMs: +median(inc).toFixed(1),
      maxMs: +Math.max(...inc).toFixed(1),
      runs: RUNS,
    };
    log(
      `incremental verify of ${INCREMENTAL}: median ${results.incrementalVerify.medianMs} ms, max ${results.incrementalVerify.maxMs} ms (${RUNS} runs)`,
    );

    t = performance.now();
    const full = await verifyWithDataSource(ds, new CheckpointLog(cpFile, publicKey), 'full');
    results.fullVerify = {
      entries: full.checked,
      seconds: +((performance.now() - t) / 1000).toFixed(2),
      ok: full.ok,
    };
    if (!full.ok || full.checked !== N) throw new Error(`full verify: ${JSON.stringify(full)}`);
    log(`full verify of ${full.checked}: ${results.fullVerify.seconds} s`);

    console.log('| measurement | value | target |');
    console.log('| --- | --- | --- |');
    console.log(
      `| full verify, ${N.toLocaleString('en')} entries (${ALG}) | ${results.fullVerify.seconds} s | < 60 s |`,
    );
    console.log(
      `| incremental verify, ${INCREMENTAL} entries (median of ${RUNS}) | ${results.incrementalVerify.medianMs} ms (max ${results.incrementalVerify.maxMs}) | < 200 ms |`,
    );
    console.log(`| write path, one writer | ${results.sequentialWritesPerSecond} entries/s | |`);
    console.log(
      `| write path, 8 concurrent writers (4 connections) | ${results.concurrentWritesPerSecond} entries/s | |`,
    );
    const out = path.join(__dirname, '..', '..', '..', 'bench', 'results');
    fs.mkdirSync(out, { recursive: true });
    fs.writeFileSync(
      path.join(out, `audit-${new Date().toISOString().replace(/[:.]/g, '-')}.json`),
      JSON.stringify(results, null, 2),
    );
  } finally {
    await ds?.destroy().catch(() => undefined);
    await admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
    await admin.end();
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

module.exports = { bulkLoad };

if (require.main === module) {
  main().catch((err) => {
    console.error(err);
    process.exit(1);
  });
}
