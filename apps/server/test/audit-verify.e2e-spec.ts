import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { appendFileSync, readFileSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { Client } from 'pg';
import { DataSource } from 'typeorm';
import { ENTRY_COLUMNS, EntryRow, fromRow } from '../src/audit/audit-chain';
import { AuditCheckpointService } from '../src/audit/audit-checkpoint.service';
import { entryHash } from '../src/audit/audit-entry';
import {
  generateSigningKeyPem,
  keyId,
  loadVerifyKey,
  signCheckpoint,
} from '../src/audit/checkpoint-signing';
import { AuditService } from '../src/audit/audit.service';
import { ConfigurationService } from '../src/config/configuration.service';
import { createDataSource } from '../src/database/data-source';
import { runMigrations } from '../src/database/migrate';
import { testAuditDir } from './support/audit';
import { createTestDatabase, PG_ADMIN_URL, TestDatabase } from './support/database';
import { testEnv } from './support/server';

// Real PostgreSQL on a loaded CI machine: seconds, not the default 5.
jest.setTimeout(60_000);

// Tampering with real PostgreSQL, the way an attacker with the database's
// superuser would (triggers disabled), against the verifier and the signed
// checkpoints in a file the database never sees. Ground truth: the sequence
// the test changed, removed or restored past.

const N = 50;
const CHECKPOINT_AT = 30;

interface Trail {
  db: TestDatabase;
  ds: DataSource;
  audit: AuditService;
  checkpoints: AuditCheckpointService;
  checkpointFile: string;
}

const open: Trail[] = [];

/** A fresh database with N entries and a signed checkpoint at CHECKPOINT_AT. */
async function trail(): Promise<Trail> {
  const db = await createTestDatabase();
  const ds = await createDataSource(db.url, 2).initialize();
  await runMigrations(ds);
  const checkpointFile = path.join(testAuditDir(), `${randomBytes(6).toString('hex')}.jsonl`);
  const config = new ConfigurationService(
    testEnv(db.url, { AUDIT_CHECKPOINT_FILE: checkpointFile }),
  );
  const audit = new AuditService(ds, config);
  const checkpoints = new AuditCheckpointService(ds, audit, config);
  const t = { db, ds, audit, checkpoints, checkpointFile };
  open.push(t);
  for (let i = 1; i <= N; i++) {
    await audit.record({
      actor: `user${i % 7}`,
      actorRole: 'operator',
      source: '198.18.0.7',
      action: 'test.action',
      target: `host-${i}`,
      outcome: i % 5 ? 'success' : 'denied',
      details: { i },
    });
    if (i === CHECKPOINT_AT) expect((await checkpoints.checkpoint())?.sequence).toBe(String(i));
  }
  return t;
}

/** What a superuser can do: statements with the append-only triggers disabled. */
async function asSuperuser(db: TestDatabase, statements: string[]): Promise<void> {
  await db.query('BEGIN');
  await db.query('ALTER TABLE audit_entries DISABLE TRIGGER ALL');
  for (const s of statements) await db.query(s);
  for (const t of ['no_update', 'no_delete', 'no_truncate']) {
    await db.query(`ALTER TABLE audit_entries ENABLE ALWAYS TRIGGER audit_entries_${t}`);
  }
  await db.query('COMMIT');
}

afterAll(async () => {
  for (const t of open) {
    await t.ds.destroy().catch(() => undefined);
    await t.db.drop();
  }
});

it('verifies an intact trail, fully and from the last checkpoint', async () => {
  const t = await trail();
  const full = await t.checkpoints.verify('full');
  expect(full).toMatchObject({ ok: true, checked: N, checkpointsChecked: 1, from: null });
  expect(full.brokenAt).toBeUndefined();
  const inc = await t.checkpoints.verify('incremental');
  expect(inc).toMatchObject({
    ok: true,
    checked: N - CHECKPOINT_AT + 1,
    from: String(CHECKPOINT_AT),
  });
  // The file holds exactly the one signed line for sequence 30.
  const lines = readFileSync(t.checkpointFile, 'utf8').trim().split('\n');
  expect(lines.map((l) => (JSON.parse(l) as { sequence: string }).sequence)).toEqual([
    String(CHECKPOINT_AT),
  ]);
});

it('names entry k when a superuser edits it with the triggers bypassed', async () => {
  const t = await trail();
  const k = 17;
  await asSuperuser(t.db, [
    `UPDATE audit_entries SET outcome = 'success', actor = 'someone-else' WHERE sequence = ${k}`,
  ]);
  expect(await t.checkpoints.verify('full')).toMatchObject({
    ok: false,
    brokenAt: String(k),
    reason: `entry ${k} does not match its hash: it was modified`,
  });
});

it('names the first missing sequence when a range is deleted', async () => {
  const t = await trail();
  await asSuperuser(t.db, ['DELETE FROM audit_entries WHERE sequence BETWEEN 20 AND 24']);
  expect(await t.checkpoints.verify('full')).toMatchObject({
    ok: false,
    brokenAt: '20',
    reason: 'entries 20–24 are missing',
  });
});

it('catches a consistent recomputation of the whole chain with the signed checkpoint', async () => {
  const t = await trail();
  const k = 10;
  // The attacker changes entry k and recomputes every hash after it, so the chain is consistent.
  const rows = (
    await t.db.query<EntryRow>(`SELECT ${ENTRY_COLUMNS} FROM audit_entries ORDER BY sequence`)
  ).map(fromRow);
  const updates: string[] = [];
  let prev = rows[k - 2].hash;
  for (const e of rows.slice(k - 1)) {
    const changed = { ...e, actor: e.sequence === BigInt(k) ? 'mallory' : e.actor, prevHash: prev };
    const hash = entryHash(changed);
    updates.push(
      `UPDATE audit_entries SET actor = '${changed.actor}', prev_hash = '\\x${prev.toString('hex')}', hash = '\\x${hash.toString('hex')}' WHERE sequence = ${e.sequence}`,
    );
    prev = hash;
  }
  await asSuperuser(t.db, updates);
  const full = await t.checkpoints.verify('full');
  expect(full).toMatchObject({ ok: false, brokenAt: String(CHECKPOINT_AT) });
  expect(full.reason).toMatch(
    /differs from the checkpoint signed at .*: the chain was rewritten between the start and 30/,
  );
  // The chain itself is consistent: without the checkpoint nothing would show.
  expect(full.checked).toBe(CHECKPOINT_AT - 1);
  expect(await t.checkpoints.verify('incremental')).toMatchObject({
    ok: false,
    brokenAt: String(CHECKPOINT_AT),
  });
});

it('says "head behind the last checkpoint" for a restored older backup', async () => {
  const t = await trail();
  // A real backup of the database now (N entries), then more entries and a checkpoint.
  const dump = path.join(testAuditDir(), `${t.db.name}.dump`);
  execFileSync('pg_dump', ['-Fc', '-f', dump, t.db.url]);
  for (let i = 0; i < 5; i++)
    await t.audit.record({ actor: 'late', action: 'test.late', outcome: 'success' });
  expect((await t.checkpoints.checkpoint())?.sequence).toBe(String(N + 5));
  // The operator (or an attacker) restores the backup into the database.
  const restored = `${t.db.name}_restored`;
  const admin = new Client({ connectionString: PG_ADMIN_URL });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${restored}`);
  const url = new URL(t.db.url);
  url.pathname = `/${restored}`;
  try {
    execFileSync('pg_restore', ['-d', url.toString(), dump]);
    const ds = await createDataSource(url.toString(), 1).initialize();
    try {
      const config = new ConfigurationService(
        testEnv(url.toString(), { AUDIT_CHECKPOINT_FILE: t.checkpointFile }),
      );
      const svc = new AuditCheckpointService(ds, new AuditService(ds, config), config);
      for (const mode of ['full', 'incremental'] as const) {
        const r = await svc.verify(mode);
        expect(r).toMatchObject({ ok: false, brokenAt: String(N + 1) });
        expect(r.reason).toMatch(
          new RegExp(
            `^head behind the last checkpoint: the trail ends at sequence ${N} but the checkpoint signed at \\S+ names sequence ${N + 5}`,
          ),
        );
      }
    } finally {
      await ds.destroy();
    }
  } finally {
    await admin.query(`DROP DATABASE IF EXISTS ${restored} WITH (FORCE)`);
    await admin.end();
  }
});

it('refuses a checkpoint file with a forged line', async () => {
  const t = await trail();
  const line = JSON.parse(readFileSync(t.checkpointFile, 'utf8').trim()) as Record<string, string>;
  const forged = { ...line, sequence: '49', hash: 'ab'.repeat(32) };
  execFileSync('sh', ['-c', `printf '%s\\n' '${JSON.stringify(forged)}' >> ${t.checkpointFile}`]);
  expect(await t.checkpoints.verify('full')).toMatchObject({
    ok: false,
    reason: `checkpoint file ${t.checkpointFile}, line 2: signature does not verify`,
  });
});

it("catches a removed head of the trail from the checkpoint's count, also from the last checkpoint", async () => {
  const t = await trail();
  // Entries 1..5 deleted by a superuser, nothing else touched: the chain from 6 on is intact.
  await asSuperuser(t.db, ['DELETE FROM audit_entries WHERE sequence <= 5']);
  const reason = new RegExp(
    `^entries 1–5 are missing: the checkpoint signed at \\S+ counted ${CHECKPOINT_AT} entries up to ${CHECKPOINT_AT}, ${CHECKPOINT_AT - 5} are left`,
  );
  for (const mode of ['incremental', 'full'] as const) {
    const r = await t.checkpoints.verify(mode);
    expect({ mode, ok: r.ok, brokenAt: r.brokenAt }).toEqual({ mode, ok: false, brokenAt: '1' });
    expect(r.reason).toMatch(reason);
  }
});

it('catches entries put in front of what a checkpoint counted', async () => {
  const t = await trail();
  // The checkpoint at 30 counted 30 entries; one claiming 25 would say 1..5 were not there yet.
  const signer = (
    t.checkpoints as unknown as {
      signer: {
        privateKey: import('node:crypto').KeyObject;
        publicKey: import('node:crypto').KeyObject;
      };
    }
  ).signer;
  const [head] = await t.db.query<{ hash: Buffer }>(
    `SELECT hash FROM audit_entries WHERE sequence = ${CHECKPOINT_AT + 5}`,
  );
  const c = signCheckpoint(
    { sequence: BigInt(CHECKPOINT_AT + 5), hash: head.hash, count: BigInt(CHECKPOINT_AT) },
    signer.privateKey,
    signer.publicKey,
  );
  appendFileSync(t.checkpointFile, `${JSON.stringify(c)}\n`);
  const r = await t.checkpoints.verify('incremental');
  expect(r).toMatchObject({ ok: false, brokenAt: '1' });
  expect(r.reason).toMatch(/^entries 1–5 were not in the trail when the checkpoint signed at/);
});

describe('signing key rotation', () => {
  it('verifies across a rotation with the retired public key kept; refuses without it, and a late line of the old key', async () => {
    const t = await trail();
    // The rotation, as the README describes it: a new key, the old one's public half kept.
    const dir = testAuditDir();
    const id = randomBytes(4).toString('hex');
    const oldPublic = path.join(dir, `retired-${id}.pub.pem`);
    const oldKey = loadVerifyKey(path.join(dir, 'signing-key.pem'));
    writeFileSync(oldPublic, oldKey.export({ type: 'spki', format: 'pem' }).toString());
    const newKey = path.join(dir, `signing-key-${id}.pem`);
    writeFileSync(newKey, generateSigningKeyPem().privatePem, { mode: 0o600 });
    const rotated = (extra: Record<string, string> = {}) =>
      new ConfigurationService(
        testEnv(t.db.url, {
          AUDIT_CHECKPOINT_FILE: t.checkpointFile,
          AUDIT_SIGNING_KEY_FILE: newKey,
          ...extra,
        }),
      );
    const config = rotated({ AUDIT_RETIRED_PUBLIC_KEYS: oldPublic });
    const audit = new AuditService(t.ds, config);
    const svc = new AuditCheckpointService(t.ds, audit, config);
    for (let i = 0; i < 5; i++)
      await audit.record({ actor: 'after', action: 'test.after', outcome: 'success' });
    // The server starting with the new key: server.started names it, and it signs a checkpoint.
    await svc.onApplicationBootstrap();
    await svc.beforeApplicationShutdown();
    const [started] = await t.db.query<{ details: string }>(
      `SELECT details FROM audit_entries WHERE action = 'server.started'`,
    );
    expect(JSON.parse(started.details)).toMatchObject({ signingKey: keyId(loadVerifyKey(newKey)) });
    const lines = readFileSync(t.checkpointFile, 'utf8').trim().split('\n');
    // Start (after server.started) and stop (after server.stopped): both by the new key.
    expect(
      lines.map((l) => [(JSON.parse(l) as { keyId: string }).keyId, JSON.parse(l).sequence]),
    ).toEqual([
      [keyId(oldKey), String(CHECKPOINT_AT)],
      [keyId(loadVerifyKey(newKey)), String(N + 6)],
      [keyId(loadVerifyKey(newKey)), String(N + 7)],
    ]);

    const full = await svc.verify('full');
    expect(full).toMatchObject({ ok: true, checked: N + 7, checkpointsChecked: 3 });
    expect(await svc.verify('incremental')).toMatchObject({ ok: true, from: String(N + 7) });

    // Without the retired key the old line is not trusted: named, not skipped.
    const without = rotated();
    const blind = new AuditCheckpointService(t.ds, new AuditService(t.ds, without), without);
    expect(await blind.verify('full')).toMatchObject({
      ok: false,
      reason: `checkpoint file ${t.checkpointFile}, line 1: signed by another key (${keyId(oldKey)})`,
    });

    // The old key (say it leaked) signs one more checkpoint after the rotation: refused.
    await t.checkpoints.checkpoint();
    expect((await svc.verify('full')).reason).toBe(
      `checkpoint file ${t.checkpointFile}, line 4: signed by the retired key ${keyId(oldKey)} after the current key ${keyId(loadVerifyKey(newKey))} took over`,
    );
  });
});
