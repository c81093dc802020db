import { DataSource } from 'typeorm';
import { MIGRATIONS } from './migrations';

export class DatabaseUnavailableError extends Error {
  override name = 'DatabaseUnavailableError';
}

export class SchemaBehindError extends Error {
  override name = 'SchemaBehindError';
}

/** Connects or fails with one clear line naming the database and the cause. */
export async function connectOrExplain(ds: DataSource, databaseUrl: string): Promise<DataSource> {
  try {
    return ds.isInitialized ? ds : await ds.initialize();
  } catch (err) {
    throw new DatabaseUnavailableError(
      `cannot connect to PostgreSQL at ${redactUrl(databaseUrl)}: ${redactSecrets((err as Error).message, databaseUrl)}`,
    );
  }
}

/** Names of migrations applied in the database, oldest first. */
export async function appliedMigrations(ds: DataSource): Promise<string[]> {
  const exists = await ds.query(`SELECT to_regclass('typeorm_migrations') IS NOT NULL AS ok`);
  if (!exists[0].ok) return [];
  const rows: { name: string }[] = await ds.query(
    `SELECT name FROM typeorm_migrations ORDER BY id`,
  );
  return rows.map((r) => r.name);
}

/** Refuses a database whose schema is behind (or ahead of) this build. */
export async function assertSchemaCurrent(ds: DataSource): Promise<void> {
  const applied = new Set(await appliedMigrations(ds));
  const known = MIGRATIONS.map((m) => m.name);
  const pending = known.filter((n) => !applied.has(n));
  if (pending.length > 0) {
    throw new SchemaBehindError(
      `database schema is behind: ${pending.length} migration(s) pending (${pending.join(', ')}); ` +
        'run `tidewatch-server migrate run` or start with MIGRATE_ON_START=true',
    );
  }
  const unknown = [...applied].filter((n) => !known.includes(n));
  if (unknown.length > 0) {
    throw new SchemaBehindError(
      `database schema is newer than this server (unknown migrations: ${unknown.join(', ')}); upgrade the server`,
    );
  }
}

const SECRET_PARAMS = ['password', 'sslpassword'];

/** The URL without its password (userinfo or `?password=`), for messages and logs. */
export function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    for (const k of SECRET_PARAMS) if (u.searchParams.has(k)) u.searchParams.set(k, '***');
    // No fragment: an unencoded '#' in a password starts one, and it would hold the rest.
    u.hash = '';
    return u.toString();
  } catch {
    return '<invalid url>';
  }
}

/** `text` with every form of the URL's password (raw or decoded) replaced by ***. */
export function redactSecrets(text: string, url: string): string {
  const secrets = new Set<string>();
  try {
    const u = new URL(url);
    const found = [u.password, ...SECRET_PARAMS.map((k) => u.searchParams.get(k) ?? '')];
    for (const s of found.filter((s) => s.length > 0)) {
      secrets.add(s);
      try {
        secrets.add(decodeURIComponent(s));
      } catch {
        // not percent-decodable: the raw form is enough
      }
    }
  } catch {
    return text;
  }
  let out = text;
  for (const s of [...secrets].sort((a, b) => b.length - a.length)) out = out.split(s).join('***');
  return out;
}
