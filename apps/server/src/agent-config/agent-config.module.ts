import { Module } from '@nestjs/common';
import { AuditModule } from '../audit/audit.module';
import { AgentConfigController } from './agent-config.controller';
import { AgentConfigService } from './agent-config.service';
import { ConfigLayersController } from './config-layers.controller';
import { ConfigLayersService } from './config-layers.service';

@Module({
  imports: [AuditModule],
  controllers: [AgentConfigController, ConfigLayersController],
  providers: [AgentConfigService, ConfigLayersService],
  exports: [AgentConfigService],
})
export class AgentConfigModule {}
