import { Module } from '@nestjs/common';
import { HostsRepository } from './hosts.repository';

/**
 * The hosts table's one owner, in a module of its own: agent-config needs it, and HostsModule
 * needs agent-config (a host's view shows its configuration), so the repository cannot live
 * in HostsModule without a cycle. HostsModule exports it too.
 */
@Module({
  providers: [HostsRepository],
  exports: [HostsRepository],
})
export class HostsRepositoryModule {}
