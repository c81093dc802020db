import { Module } from '@nestjs/common';
import { IngestModule } from '../ingest/ingest.module';
import { HealthController } from './health.controller';
import { MetricsModule } from './metrics.module';

@Module({ imports: [IngestModule, MetricsModule], controllers: [HealthController] })
export class HealthModule {}
