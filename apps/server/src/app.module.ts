import { DynamicModule, Module } from '@nestjs/common';
import { APP_GUARD } from '@nestjs/core';
import { TypeOrmModule } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { AgentConfigModule } from './agent-config/agent-config.module';
import { AnomaliesModule } from './anomalies/anomalies.module';
import { AuditModule } from './audit/audit.module';
import { AccessGuard } from './auth/access.guard';
import { AuthModule } from './auth/auth.module';
import { ConfigModule } from './config/config.module';
import { Environment } from './config/environment';
import { dataSourceOptions } from './database/data-source';
import { HealthModule } from './health/health.module';
import { HostsModule } from './hosts/hosts.module';
import { IngestModule } from './ingest/ingest.module';
import { LiveModule } from './live/live.module';
import { ReportsModule } from './reports/reports.module';
import { StorageModule } from './storage/storage.module';
import { TrafficModule } from './traffic/traffic.module';

@Module({})
export class AppModule {
  /** The whole server around a DataSource that is already connected and migrated. */
  static forRoot(env: Environment, dataSource: DataSource): DynamicModule {
    return {
      module: AppModule,
      imports: [
        ConfigModule.forRoot(env),
        TypeOrmModule.forRootAsync({
          useFactory: () => dataSourceOptions(env.databaseUrl, env.dbPoolSize),
          dataSourceFactory: async () => dataSource,
        }),
        AuthModule,
        AuditModule,
        StorageModule,
        HostsModule,
        AgentConfigModule,
        IngestModule,
        TrafficModule,
        LiveModule,
        AnomaliesModule,
        ReportsModule,
        HealthModule,
      ],
      // Every HTTP route passes this guard: authentication and @Roles (see auth/access.guard.ts).
      providers: [{ provide: APP_GUARD, useExisting: AccessGuard }],
    };
  }
}
