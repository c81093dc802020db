import { Module } from '@nestjs/common';
import { AccessGuard } from '../auth/access.guard';
import { MetricsModule } from '../health/metrics.module';
import { NotifyModule } from '../notify/notify.module';
import { LiveGateway } from './live.gateway';
import { LiveListenerService } from './live-listener.service';

@Module({
  imports: [MetricsModule, NotifyModule],
  providers: [LiveListenerService, LiveGateway, AccessGuard],
})
export class LiveModule {}
