import { Module } from '@nestjs/common';
import { AuditService } from './audit.service';

/** The audit trail. Import it where actions are recorded (not global: the imports show who writes). */
@Module({
  providers: [AuditService],
  exports: [AuditService],
})
export class AuditModule {}
