import { Module } from '@nestjs/common';
import { FleetRollupService } from './fleet-rollups';
import { PartitionMaintenanceService } from './partition-maintenance.service';

@Module({
  providers: [PartitionMaintenanceService, FleetRollupService],
  exports: [PartitionMaintenanceService, FleetRollupService],
})
export class StorageModule {}
