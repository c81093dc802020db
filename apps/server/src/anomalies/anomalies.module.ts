import { Module } from '@nestjs/common';
import { AuditModule } from '../audit/audit.module';
import { HostsRepositoryModule } from '../hosts/hosts-repository.module';
import { IngestModule } from '../ingest/ingest.module';
import { AnomaliesController } from './anomalies.controller';
import { AnomaliesService } from './anomalies.service';
import { AnomalyDetectorService } from './anomaly-detector.service';
import { SilentAgentsService } from './silent-agents.service';
import { ThresholdsService } from './thresholds.service';

@Module({
  imports: [AuditModule, HostsRepositoryModule, IngestModule],
  controllers: [AnomaliesController],
  providers: [AnomaliesService, ThresholdsService, AnomalyDetectorService, SilentAgentsService],
  exports: [AnomaliesService],
})
export class AnomaliesModule {}
