import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { Client } from 'pg';

/** The machine's PostgreSQL (127.0.0.1:5432, trust auth), or TEST_PG_URL. */
export const PG_ADMIN_URL =
  process.env.TEST_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';

export interface TestDatabase {
  name: string;
  url: string;
  /** Runs one statement on the test database (one connection, opened on first use). */
  query<T = Record<string, unknown>>(sql: string, params?: unknown[]): Promise<T[]>;
  /** Drops the database, even with connections left open. */
  drop(): Promise<void>;
}

/**
 * A fresh database with a random name (`<prefix>_<12 hex>`) for one test file.
 * Fails, never skips, when PostgreSQL is unreachable, saying where it looked.
 */
export async function createTestDatabase(prefix = 'tw_test'): Promise<TestDatabase> {
  const name = `${prefix}_${randomBytes(6).toString('hex')}`;
  const admin = new Client({ connectionString: PG_ADMIN_URL });
  try {
    await admin.connect();
  } catch (err) {
    throw new Error(
      `PostgreSQL is required for this test and is not reachable at ${PG_ADMIN_URL}: ${(err as Error).message}`,
    );
  }
  try {
    await admin.query(`CREATE DATABASE ${name}`);
  } finally {
    await admin.end();
  }
  const url = new URL(PG_ADMIN_URL);
  url.pathname = `/${name}`;
  let client: Promise<Client> | undefined;
  const connected = () =>
    (client ??= (async () => {
      const c = new Client({ connectionString: url.toString() });
      await c.connect();
      return c;
    })());
  return {
    name,
    url: url.toString(),
    async query<T>(sql: string, params?: unknown[]) {
      return (await (await connected()).query(sql, params)).rows as T[];
    },
    async drop() {
      if (client) await (await client).end().catch(() => undefined);
      const a = new Client({ connectionString: PG_ADMIN_URL });
      await a.connect();
      try {
        await a.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      } finally {
        await a.end();
      }
    },
  };
}

/**
 * '' when PostgreSQL answers, else why not. Synchronous (a child process),
 * since jest registers tests synchronously: for describeWhere's reasons.
 */
export function postgresMissing(): string {
  const script = `
const { Client } = require(process.argv[1]);
const c = new Client({ connectionString: process.argv[2], connectionTimeoutMillis: 3000 });
c.connect().then(() => c.end()).then(() => process.exit(0), (e) => { console.error(e.message); process.exit(1); });`;
  const r = spawnSync(process.execPath, ['-e', script, require.resolve('pg'), PG_ADMIN_URL], {
    encoding: 'utf8',
    timeout: 10_000,
  });
  return r.status === 0
    ? ''
    : `PostgreSQL not reachable at ${PG_ADMIN_URL} (${(r.stderr || 'timeout').trim()})`;
}
