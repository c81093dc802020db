import { DataSource, Migration } from 'typeorm';

/** Serializes migrations across replicas that start at the same time. */
const MIGRATION_LOCK = 0x7477_6d67;

async function withMigrationLock<T>(ds: DataSource, run: () => Promise<T>): Promise<T> {
  const qr = ds.createQueryRunner();
  await qr.connect();
  try {
    await qr.query('SELECT pg_advisory_lock($1)', [MIGRATION_LOCK]);
    return await run();
  } finally {
    await qr.query('SELECT pg_advisory_unlock($1)', [MIGRATION_LOCK]).catch(() => undefined);
    await qr.release();
  }
}

export function runMigrations(ds: DataSource): Promise<Migration[]> {
  return withMigrationLock(ds, () => ds.runMigrations({ transaction: 'each' }));
}

export function revertLastMigration(ds: DataSource): Promise<void> {
  return withMigrationLock(ds, () => ds.undoLastMigration({ transaction: 'each' }));
}
