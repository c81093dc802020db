import { Module } from '@nestjs/common';
import { AuthModule } from '../auth/auth.module';
import { MetricsModule } from '../health/metrics.module';
import { NotifyModule } from '../notify/notify.module';
import { LiveGateway } from './live.gateway';
import { LiveListenerService } from './live-listener.service';

@Module({
  imports: [AuthModule, MetricsModule, NotifyModule],
  providers: [LiveListenerService, LiveGateway],
})
export class LiveModule {}
