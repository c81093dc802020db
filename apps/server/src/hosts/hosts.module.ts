import { Module } from '@nestjs/common';
import { AgentConfigModule } from '../agent-config/agent-config.module';
import { AuditModule } from '../audit/audit.module';
import { EnrollmentModule } from '../enrollment/enrollment.module';
import { AgentRegistryService } from './agent-registry.service';
import { HostsController } from './hosts.controller';
import { HostsRepositoryModule } from './hosts-repository.module';
import { HostsService } from './hosts.service';

@Module({
  imports: [HostsRepositoryModule, EnrollmentModule, AgentConfigModule, AuditModule],
  controllers: [HostsController],
  providers: [HostsService, AgentRegistryService],
  exports: [HostsService, AgentRegistryService, HostsRepositoryModule],
})
export class HostsModule {}
