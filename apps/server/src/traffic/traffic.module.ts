import { Module } from '@nestjs/common';
import { MetricsModule } from '../health/metrics.module';
import { HostsModule } from '../hosts/hosts.module';
import { TrafficController } from './traffic.controller';
import { TrafficService } from './traffic.service';

@Module({
  imports: [HostsModule, MetricsModule],
  controllers: [TrafficController],
  providers: [TrafficService],
  exports: [TrafficService],
})
export class TrafficModule {}
