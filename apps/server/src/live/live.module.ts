import { Module } from '@nestjs/common';
import { MetricsModule } from '../health/metrics.module';
import { LiveGateway } from './live.gateway';
import { LiveListenerService } from './live-listener.service';

@Module({ imports: [MetricsModule], providers: [LiveListenerService, LiveGateway] })
export class LiveModule {}
