import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { NotFoundError } from '../common/domain-errors';
import { columnFor } from '../common/sql-columns';
import { parseLabelSelector } from '../common/label-selector';
import { AgentConfigService } from '../agent-config/agent-config.service';
import { ConfigurationService } from '../config/configuration.service';
import { HostDetailView, HostPage, HostView } from './dto/host.view';
import { HostStatus, ListHostsQuery } from './dto/list-hosts.query';

const SORT_COLUMNS: Record<ListHostsQuery['sort'], string> = {
  hostname: 'hostname',
  lastSeen: 'last_seen_at',
  enrolledAt: 'enrolled_at',
  agentVersion: 'agent_version',
  kernel: 'kernel_release',
};

interface HostRow {
  agent_id: string;
  hostname: string;
  labels: Record<string, string>;
  kernel_release: string;
  agent_version: string;
  capabilities: HostView['capabilities'];
  interfaces: HostDetailView['interfaces'];
  masking: string;
  highest_sequence: string;
  last_seen_at: Date | null;
  last_batch_at: Date | null;
  started_at: Date | null;
  enrolled_at: Date;
  revoked_at: Date | null;
  health: Record<string, unknown> | null;
  lost_batches: string;
  status: HostStatus;
}

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
    private readonly ds: DataSource,
    private readonly config: ConfigurationService,
    private readonly agentConfigs: AgentConfigService,
  ) {}

  private statusSql(): string {
    const offline = this.config.get('offlineAfterSeconds');
    return `CASE WHEN revoked_at IS NOT NULL THEN 'revoked'
                 WHEN last_seen_at > now() - interval '${offline} seconds' THEN 'online'
                 ELSE 'offline' END`;
  }

  async list(q: ListHostsQuery): Promise<HostPage> {
    const where: string[] = [];
    const params: unknown[] = [];
    if (q.status) {
      params.push(q.status);
      where.push(`(${this.statusSql()}) = $${params.length}`);
    }
    if (q.selector) {
      params.push(JSON.stringify(parseLabelSelector(q.selector)));
      where.push(`labels @> $${params.length}::jsonb`);
    }
    if (q.search) {
      params.push(`%${q.search.replace(/[\\%_]/g, (c) => `\\${c}`)}%`);
      where.push(`hostname ILIKE $${params.length}`);
    }
    const whereSql = where.length ? `WHERE ${where.join(' AND ')}` : '';
    const order = `${columnFor(SORT_COLUMNS, q.sort, 'sort')} ${q.order === 'desc' ? 'DESC' : 'ASC'} NULLS LAST, agent_id`;
    params.push(q.limit, q.offset);
    const rows: (HostRow & { total: string })[] = await this.ds.query(
      `SELECT *, ${this.statusSql()} AS status, count(*) OVER () AS total
         FROM hosts ${whereSql}
        ORDER BY ${order}
        LIMIT $${params.length - 1} OFFSET $${params.length}`,
      params,
    );
    let total = rows.length ? Number(rows[0].total) : 0;
    if (!rows.length && q.offset > 0) {
      const c: { n: string }[] = await this.ds.query(
        `SELECT count(*) AS n FROM hosts ${whereSql}`,
        params.slice(0, -2),
      );
      total = Number(c[0].n);
    }
    return { items: rows.map((r) => this.view(r)), total, limit: q.limit, offset: q.offset };
  }

  async get(agentId: string): Promise<HostDetailView> {
    const rows: HostRow[] = await this.ds.query(
      `SELECT *, ${this.statusSql()} AS status FROM hosts WHERE agent_id = $1`,
      [agentId],
    );
    if (!rows.length) throw new NotFoundError(`no host with agentId ${agentId}`);
    const r = rows[0];
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

  /** Agent ids matching a label selector (used by the traffic queries). */
  async idsForSelector(selector: string): Promise<string[]> {
    const rows: { agent_id: string }[] = await this.ds.query(
      `SELECT agent_id FROM hosts WHERE labels @> $1::jsonb`,
      [JSON.stringify(parseLabelSelector(selector))],
    );
    return rows.map((r) => r.agent_id);
  }

  /** The hosts of a report's scope (null: the whole fleet), by hostname. */
  async inScope(agentIds: string[] | null): Promise<ScopedHost[]> {
    const rows: HostRow[] = await this.ds.query(
      `SELECT *, ${this.statusSql()} AS status FROM hosts
        ${agentIds ? 'WHERE agent_id = ANY($1::uuid[])' : ''} ORDER BY hostname, agent_id`,
      agentIds ? [agentIds] : [],
    );
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
  async sequenceGaps(
    agentIds: string[] | null,
    from: Date,
    to: Date,
  ): Promise<{ agentId: string; firstSequence: string; lastSequence: string; recordedAt: Date }[]> {
    const rows: {
      agent_id: string;
      first_sequence: string;
      last_sequence: string;
      recorded_at: Date;
    }[] = await this.ds.query(
      `SELECT agent_id, first_sequence::text, last_sequence::text, recorded_at FROM sequence_gaps
        WHERE recorded_at >= $1 AND recorded_at < $2 ${agentIds ? 'AND agent_id = ANY($3::uuid[])' : ''}
        ORDER BY recorded_at, agent_id`,
      agentIds ? [from, to, agentIds] : [from, to],
    );
    return rows.map((r) => ({
      agentId: r.agent_id,
      firstSequence: r.first_sequence,
      lastSequence: r.last_sequence,
      recordedAt: r.recorded_at,
    }));
  }

  async exists(agentId: string): Promise<boolean> {
    const rows = await this.ds.query(`SELECT 1 FROM hosts WHERE agent_id = $1`, [agentId]);
    return rows.length > 0;
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
