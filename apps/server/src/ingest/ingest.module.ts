import { Module } from '@nestjs/common';
import { MetricsModule } from '../health/metrics.module';
import { AgentConfigModule } from '../agent-config/agent-config.module';
import { AuditModule } from '../audit/audit.module';
import { NotifyModule } from '../notify/notify.module';
import { HostsModule } from '../hosts/hosts.module';
import { StorageModule } from '../storage/storage.module';
import { BatchWriterService } from './batch-writer.service';
import { IngestGrpcServer } from './ingest-grpc.server';

@Module({
  imports: [
    HostsModule,
    AgentConfigModule,
    NotifyModule,
    StorageModule,
    MetricsModule,
    AuditModule,
  ],
  providers: [BatchWriterService, IngestGrpcServer],
  exports: [IngestGrpcServer, BatchWriterService],
})
export class IngestModule {}
