import { Module } from '@nestjs/common';
import { MetricsModule } from '../health/metrics.module';
import { HostsModule } from '../hosts/hosts.module';
import { StorageModule } from '../storage/storage.module';
import { BatchWriterService } from './batch-writer.service';
import { IngestGrpcServer } from './ingest-grpc.server';

@Module({
  imports: [HostsModule, StorageModule, MetricsModule],
  providers: [BatchWriterService, IngestGrpcServer],
  exports: [IngestGrpcServer],
})
export class IngestModule {}
