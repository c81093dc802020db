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
      `cannot connect to PostgreSQL at ${redactUrl(databaseUrl)}: ${(err as Error).message}`,
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

export function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.toString();
  } catch {
    return '<invalid url>';
  }
}
