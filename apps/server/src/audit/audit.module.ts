import { Module } from '@nestjs/common';
import { AuditCheckpointService } from './audit-checkpoint.service';
import { AuditController } from './audit.controller';
import { AuditQueryService } from './audit-query.service';
import { AuditService } from './audit.service';

/**
 * The audit trail: the write path (AuditService, for every module that records),
 * checkpoints and heartbeat, and the auditadmin's routes. Not global: the imports
 * show who writes.
 */
@Module({
  controllers: [AuditController],
  providers: [AuditService, AuditQueryService, AuditCheckpointService],
  exports: [AuditService, AuditQueryService, AuditCheckpointService],
})
export class AuditModule {}
