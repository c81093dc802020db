import { Client } from 'pg';
import { DataSource } from 'typeorm';
import { entryHash, GENESIS_HASH } from '../src/audit/audit-entry';
import { fromRow, ENTRY_COLUMNS, EntryRow } from '../src/audit/audit-chain';
import { AuditService } from '../src/audit/audit.service';
import { AuditUnavailableError } from '../src/audit/audit.errors';
import { ConfigurationService } from '../src/config/configuration.service';
import { createDataSource } from '../src/database/data-source';
import { runMigrations } from '../src/database/migrate';
import { createTestDatabase, TestDatabase } from './support/database';
import { testEnv } from './support/server';

// Real PostgreSQL on a loaded CI machine: seconds, not the default 5.
jest.setTimeout(60_000);

// The one write path against real PostgreSQL: two DataSources stand for two server
// replicas writing at once. Ground truth: every record() call that resolved is one
// entry, sequences are exactly 1..N, and each entry chains to the one before.

let db: TestDatabase;
let replicaA: DataSource;
let replicaB: DataSource;

function service(ds: DataSource, extra: Record<string, string> = {}): AuditService {
  return new AuditService(ds, new ConfigurationService(testEnv(db.url, extra)));
}

async function allEntries() {
  const rows = await db.query<EntryRow>(
    `SELECT ${ENTRY_COLUMNS} FROM audit_entries ORDER BY sequence`,
  );
  return rows.map(fromRow);
}

beforeAll(async () => {
  db = await createTestDatabase();
  replicaA = await createDataSource(db.url, 4).initialize();
  await runMigrations(replicaA);
  replicaB = await createDataSource(db.url, 4).initialize();
}, 60_000);

afterAll(async () => {
  await replicaA?.destroy();
  await replicaB?.destroy();
  await db?.drop();
});

it('keeps sequence and chain linear under concurrent writers on two replicas', async () => {
  const a = service(replicaA);
  const b = service(replicaB, { AUDIT_HASH_ALGORITHM: 'sha256' });
  const writes: Promise<void>[] = [];
  for (let i = 0; i < 100; i++) {
    const svc = i % 2 ? b : a;
    writes.push(
      svc.record({
        actor: `user${i}`,
        actorRole: 'sysadmin',
        source: '198.18.0.1',
        action: 'test.concurrent',
        target: `t${i}`,
        outcome: 'success',
        details: { i, nested: { z: 1, a: [1, 'x'] } },
      }),
    );
  }
  await Promise.all(writes);
  const entries = await allEntries();
  expect(entries.map((e) => Number(e.sequence))).toEqual(
    Array.from({ length: 100 }, (_, i) => i + 1),
  );
  expect(new Set(entries.map((e) => e.target)).size).toBe(100);
  let prev: Buffer = GENESIS_HASH;
  for (const e of entries) {
    expect(e.prevHash.equals(prev)).toBe(true);
    expect(entryHash(e).equals(e.hash)).toBe(true);
    prev = e.hash;
  }
  // Each replica wrote with its own algorithm; the entry says which.
  expect(new Set(entries.map((e) => e.hashAlg))).toEqual(new Set(['sm3', 'sha256']));
  // Details are stored as canonical JSON (sorted keys), exactly what was hashed.
  expect(entries.find((e) => e.target === 't7')?.details).toBe(
    '{"i":7,"nested":{"a":[1,"x"],"z":1}}',
  );
});

it("refuses UPDATE, DELETE and TRUNCATE on the app's own connection, also in replica mode", async () => {
  const c = new Client({ connectionString: db.url });
  await c.connect();
  try {
    for (const sql of [
      `UPDATE audit_entries SET actor = 'mallory' WHERE sequence = 3`,
      `DELETE FROM audit_entries WHERE sequence = 3`,
      `TRUNCATE audit_entries`,
    ]) {
      await expect(c.query(sql)).rejects.toMatchObject({ code: '42501' });
    }
    await c.query(`SET session_replication_role = replica`);
    await expect(
      c.query(`UPDATE audit_entries SET actor = 'mallory' WHERE sequence = 3`),
    ).rejects.toMatchObject({
      code: '42501',
    });
    await expect(c.query(`DELETE FROM audit_entries`)).rejects.toMatchObject({ code: '42501' });
  } finally {
    await c.end();
  }
  expect((await allEntries()).length).toBe(100);
});

it('fails closed with AuditUnavailableError when the table refuses the insert', async () => {
  const a = service(replicaA);
  await db.query(
    `ALTER TABLE audit_entries ADD CONSTRAINT test_refuse CHECK (action <> 'test.refused') NOT VALID`,
  );
  try {
    await expect(
      a.record({ actor: 'x', action: 'test.refused', outcome: 'success' }),
    ).rejects.toBeInstanceOf(AuditUnavailableError);
  } finally {
    await db.query(`ALTER TABLE audit_entries DROP CONSTRAINT test_refuse`);
  }
  expect((await allEntries()).length).toBe(100);
});
