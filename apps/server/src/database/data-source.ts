// The one DataSource definition, used by the server and by the migration CLI
// (`tidewatch-server migrate …`, or `typeorm -d dist/database/data-source.js …`).
import 'reflect-metadata';
import { DataSource, DataSourceOptions } from 'typeorm';
import { parseDatabaseUrl } from '../config/environment';
import { ENTITIES } from './entities';
import { MIGRATIONS } from './migrations';

export function dataSourceOptions(databaseUrl: string, poolSize = 10): DataSourceOptions {
  return {
    type: 'postgres',
    url: databaseUrl,
    entities: ENTITIES,
    migrations: MIGRATIONS,
    migrationsTableName: 'typeorm_migrations',
    migrationsTransactionMode: 'each',
    synchronize: false,
    migrationsRun: false,
    logging: false,
    extra: { max: poolSize, application_name: 'tidewatch-server', connectionTimeoutMillis: 5_000 },
  };
}

export function createDataSource(databaseUrl: string, poolSize?: number): DataSource {
  return new DataSource(dataSourceOptions(databaseUrl, poolSize));
}

/** For the TypeORM CLI, which wants a module whose default export is a DataSource. */
export default new DataSource(
  dataSourceOptions(
    process.env.DATABASE_URL ? parseDatabaseUrl(process.env) : 'postgres://localhost/unset',
  ),
);
