import { Module } from '@nestjs/common';
import { AnomaliesModule } from '../anomalies/anomalies.module';
import { AuditModule } from '../audit/audit.module';
import { HostsModule } from '../hosts/hosts.module';
import { TrafficModule } from '../traffic/traffic.module';
import { ReportBuilderService } from './report-builder.service';
import { ReportRetentionService } from './report-retention.service';
import { ReportSchedulerService } from './report-scheduler.service';
import { ReportsController } from './reports.controller';
import { ReportsService } from './reports.service';

@Module({
  imports: [TrafficModule, HostsModule, AnomaliesModule, AuditModule],
  controllers: [ReportsController],
  providers: [ReportBuilderService, ReportsService, ReportSchedulerService, ReportRetentionService],
  exports: [ReportsService, ReportSchedulerService],
})
export class ReportsModule {}
