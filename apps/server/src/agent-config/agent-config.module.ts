import { Module } from '@nestjs/common';
import { AuditModule } from '../audit/audit.module';
import { HostsRepositoryModule } from '../hosts/hosts-repository.module';
import { AgentConfigController } from './agent-config.controller';
import { AgentConfigService } from './agent-config.service';
import { ConfigLayersController } from './config-layers.controller';
import { ConfigLayersService } from './config-layers.service';

@Module({
  imports: [AuditModule, HostsRepositoryModule],
  controllers: [AgentConfigController, ConfigLayersController],
  providers: [AgentConfigService, ConfigLayersService],
  exports: [AgentConfigService],
})
export class AgentConfigModule {}
