import { Injectable } from '@nestjs/common';
import { NotFoundError } from '../common/domain-errors';
import { AgentConfigService } from '../agent-config/agent-config.service';
import { HostDetailView, HostPage, HostView } from './dto/host.view';
import { HostStatus, ListHostsQuery } from './dto/list-hosts.query';
import { HostRow, HostsRepository } from './hosts.repository';

/** A host as a report's coverage section needs it. */
export interface ScopedHost {
  agentId: string;
  hostname: string;
  labels: Record<string, string>;
  masking: string;
  status: HostStatus;
  enrolledAt: Date;
  lastSeenAt: Date | null;
  revokedAt: Date | null;
}

const iso = (d: Date | null) => (d ? d.toISOString() : null);

@Injectable()
export class HostsService {
  constructor(
    private readonly hosts: HostsRepository,
    private readonly agentConfigs: AgentConfigService,
  ) {}

  async list(q: ListHostsQuery): Promise<HostPage> {
    const { rows, total } = await this.hosts.page(q);
    return { items: rows.map((r) => this.view(r)), total, limit: q.limit, offset: q.offset };
  }

  async get(agentId: string): Promise<HostDetailView> {
    const r = await this.hosts.find(agentId);
    if (!r) throw new NotFoundError(`no host with agentId ${agentId}`);
    const config = await this.agentConfigs.state(agentId);
    return {
      ...this.view(r),
      interfaces: r.interfaces,
      masking: r.masking,
      highestSequence: Number(r.highest_sequence),
      lastBatchAt: iso(r.last_batch_at),
      startedAt: iso(r.started_at),
      revokedAt: iso(r.revoked_at),
      health: r.health,
      lostBatches: Number(r.lost_batches),
      config: config.desired,
      configApplied: config.applied,
      configVersion: config.runningVersion,
    };
  }

  /** The hosts of a report's scope (null: the whole fleet), by hostname. */
  async inScope(agentIds: string[] | null): Promise<ScopedHost[]> {
    const rows = await this.hosts.inScope(agentIds);
    return rows.map((r) => ({
      agentId: r.agent_id,
      hostname: r.hostname,
      labels: r.labels,
      masking: r.masking,
      status: r.status,
      enrolledAt: r.enrolled_at,
      lastSeenAt: r.last_seen_at,
      revokedAt: r.revoked_at,
    }));
  }

  /** Batches agents declared lost (their spool overflowed), recorded in [from, to). */
  sequenceGaps(
    agentIds: string[] | null,
    from: Date,
    to: Date,
  ): Promise<{ agentId: string; firstSequence: string; lastSequence: string; recordedAt: Date }[]> {
    return this.hosts.sequenceGaps(agentIds, from, to);
  }

  private view(r: HostRow): HostView {
    return {
      agentId: r.agent_id,
      hostname: r.hostname,
      status: r.status,
      labels: r.labels,
      kernelRelease: r.kernel_release,
      agentVersion: r.agent_version,
      capabilities: r.capabilities,
      lastSeenAt: iso(r.last_seen_at),
      enrolledAt: r.enrolled_at.toISOString(),
    };
  }
}
