import { Injectable } from '@nestjs/common';
import { DataSource, EntityManager } from 'typeorm';
import type { Role } from '../auth/roles';
import { AuditService } from '../audit/audit.service';
import { NotFoundError } from '../common/domain-errors';
import { parseLabelSelector } from '../common/label-selector';
import type { AnomalyStatus, EvidenceWindow, Finding, Severity } from './anomaly-types';
import { SEVERITIES } from './anomaly-types';
import { AnomalyTransitionError } from './anomaly.errors';
import { LISTENING_REFRESH_MINUTES } from './detectors';
import type { AnomalyHostsQuery, ListAnomaliesQuery } from './dto/anomalies.query';
import type { AnomalyView } from './dto/anomaly.view';
import { ANOMALY_CHANNEL, encodeAnomaly, type LiveAnomaly } from './live-anomaly';

/** A suppressed incident whose suppression has run out: the next finding reopens it. */
export function suppressionExpired(
  status: AnomalyStatus,
  suppressedUntil: Date | null,
  now: Date = new Date(),
): boolean {
  return status === 'suppressed' && !!suppressedUntil && suppressedUntil.getTime() <= now.getTime();
}

export interface Actor {
  name: string;
  role: Role;
  source: string | null;
  requestId: string | null;
}

interface Row {
  id: string;
  agent_id: string;
  hostname: string | null;
  type: string;
  severity: Severity;
  status: AnomalyStatus;
  summary: string;
  first_seen: Date;
  last_seen: Date;
  windows: number;
  evidence: Record<string, unknown>;
  acknowledged_by: string | null;
  acknowledged_at: Date | null;
  resolved_by: string | null;
  resolved_at: Date | null;
  suppressed_by: string | null;
  suppressed_until: Date | null;
  suppress_reason: string | null;
}

const MAX_EVIDENCE_WINDOWS = 20;

function view(r: Row): AnomalyView {
  return {
    id: String(r.id),
    agentId: r.agent_id,
    hostname: r.hostname,
    type: r.type,
    severity: r.severity,
    status: r.status,
    summary: r.summary,
    firstSeen: r.first_seen.toISOString(),
    lastSeen: r.last_seen.toISOString(),
    windows: r.windows,
    evidence: r.evidence,
    acknowledgedBy: r.acknowledged_by,
    acknowledgedAt: r.acknowledged_at?.toISOString() ?? null,
    resolvedBy: r.resolved_by,
    resolvedAt: r.resolved_at?.toISOString() ?? null,
    suppressedBy: r.suppressed_by,
    suppressedUntil: r.suppressed_until?.toISOString() ?? null,
    suppressReason: r.suppress_reason,
  };
}

const maxSeverity = (a: Severity, b: Severity): Severity =>
  SEVERITIES.indexOf(a) >= SEVERITIES.indexOf(b) ? a : b;

/** Largest value of each numeric figure across the incident's windows. */
function peaks(prev: unknown, figures: Finding['figures']): Record<string, number> {
  const out: Record<string, number> = { ...((prev as Record<string, number>) ?? {}) };
  for (const [k, v] of Object.entries(figures)) {
    if (typeof v === 'number') out[k] = Math.max(out[k] ?? v, v);
  }
  return out;
}

// hosts is joined in (read only) for the hostname and the label filter, here rather than in
// HostsRepository: the list pages, counts and ranks anomalies by those columns in one statement.
const SELECT = `SELECT a.*, h.hostname FROM anomalies a LEFT JOIN hosts h ON h.agent_id = a.agent_id`;

@Injectable()
export class AnomaliesService {
  constructor(
    private readonly ds: DataSource,
    private readonly audit: AuditService,
  ) {}

  /**
   * Records what one window's detectors found, inside the caller's
   * transaction: a repeat of a live incident (open, acknowledged, suppressed)
   * extends it; anything else is raised and announced.
   */
  async raise(
    em: EntityManager,
    agentId: string,
    window: EvidenceWindow,
    findings: Finding[],
  ): Promise<LiveAnomaly[]> {
    const raised: LiveAnomaly[] = [];
    for (const f of findings) {
      const [live] = (await em.query(
        `SELECT id, status, severity, evidence, suppressed_until FROM anomalies
          WHERE agent_id = $1 AND type = $2 AND group_key = $3
            AND status IN ('open', 'acknowledged', 'suppressed') FOR UPDATE`,
        [agentId, f.type, f.key],
      )) as Pick<Row, 'id' | 'status' | 'severity' | 'evidence' | 'suppressed_until'>[];
      if (live) {
        const ev = live.evidence as { windows?: EvidenceWindow[]; peak?: unknown };
        const windows = [...(ev.windows ?? []), window].slice(-MAX_EVIDENCE_WINDOWS);
        // A suppression that has expired lets the incident speak again.
        const reopen = suppressionExpired(live.status, live.suppressed_until);
        const evidence = { ...ev, figures: f.figures, peak: peaks(ev.peak, f.figures), windows };
        const [row] = (await em.query(
          `UPDATE anomalies SET last_seen = GREATEST(last_seen, $2), windows = windows + 1,
                  severity = $3, evidence = $4, summary = $5,
                  status = CASE WHEN $6 THEN 'open' ELSE status END
            WHERE id = $1 RETURNING *`,
          [
            live.id,
            window.end,
            maxSeverity(live.severity, f.severity),
            evidence,
            f.summary,
            reopen,
          ],
        )) as [Row[], number];
        if (reopen) raised.push(this.liveOf(row[0], 'raised'));
        continue;
      }
      const evidence = {
        figures: f.figures,
        first: f.figures,
        peak: peaks(undefined, f.figures),
        threshold: f.threshold,
        windows: [window],
      };
      const rows = (await em.query(
        `INSERT INTO anomalies (agent_id, type, severity, group_key, summary, first_seen, last_seen, evidence)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING *`,
        [agentId, f.type, f.severity, f.key, f.summary, window.start, window.end, evidence],
      )) as Row[];
      raised.push(this.liveOf(rows[0], 'raised'));
    }
    for (const a of raised)
      await em.query('SELECT pg_notify($1, $2)', [ANOMALY_CHANNEL, encodeAnomaly(a)]);
    return raised;
  }

  /** The live (open, acknowledged, suppressed) incidents of one type among these agents. */
  async liveOfType(
    em: EntityManager | DataSource,
    type: string,
    agentIds: string[],
  ): Promise<
    {
      agentId: string;
      key: string;
      status: AnomalyStatus;
      lastSeen: Date;
      suppressedUntil: Date | null;
    }[]
  > {
    const rows = (await em.query(
      `SELECT agent_id, group_key, status, last_seen, suppressed_until FROM anomalies
        WHERE agent_id = ANY($1::uuid[]) AND type = $2
          AND status IN ('open', 'acknowledged', 'suppressed')`,
      [agentIds, type],
    )) as (Pick<Row, 'agent_id' | 'status' | 'last_seen' | 'suppressed_until'> & {
      group_key: string;
    })[];
    return rows.map((r) => ({
      agentId: r.agent_id,
      key: r.group_key,
      status: r.status,
      lastSeen: r.last_seen,
      suppressedUntil: r.suppressed_until,
    }));
  }

  private liveOf(r: Row, event: string): LiveAnomaly {
    return {
      id: String(r.id),
      agentId: r.agent_id,
      type: r.type,
      severity: r.severity,
      status: r.status,
      event,
      summary: r.summary,
      firstSeen: new Date(r.first_seen).toISOString(),
      lastSeen: new Date(r.last_seen).toISOString(),
    };
  }

  /** The WHERE clause of the list's filters over `anomalies a LEFT JOIN hosts h`, and `p` to add more. */
  private filtered(q: Omit<ListAnomaliesQuery, 'limit' | 'offset'>) {
    const where: string[] = [];
    const params: unknown[] = [];
    const p = (v: unknown) => {
      params.push(v);
      return `$${params.length}`;
    };
    if (q.agentId) where.push(`a.agent_id = ${p(q.agentId)}`);
    if (q.type) where.push(`a.type = ANY(${p(q.type.split(','))})`);
    if (q.severity) where.push(`a.severity = ANY(${p(q.severity.split(','))})`);
    if (q.status) where.push(`a.status = ANY(${p(q.status.split(','))})`);
    if (q.from) where.push(`a.last_seen >= ${p(new Date(q.from))}`);
    if (q.to) where.push(`a.first_seen < ${p(new Date(q.to))}`);
    if (q.labels)
      where.push(`h.labels @> ${p(JSON.stringify(parseLabelSelector(q.labels, 'labels')))}::jsonb`);
    return { clause: where.length ? `WHERE ${where.join(' AND ')}` : '', params, p };
  }

  async list(
    q: ListAnomaliesQuery,
  ): Promise<{ items: AnomalyView[]; total: number; limit: number; offset: number }> {
    const { clause, params, p } = this.filtered(q);
    const [{ total }] = (await this.ds.query(
      `SELECT count(*)::int AS total FROM anomalies a LEFT JOIN hosts h ON h.agent_id = a.agent_id ${clause}`,
      params,
    )) as { total: number }[];
    const rows = (await this.ds.query(
      `${SELECT} ${clause} ORDER BY a.last_seen DESC, a.id DESC LIMIT ${p(q.limit)} OFFSET ${p(q.offset)}`,
      params,
    )) as Row[];
    return { items: rows.map(view), total, limit: q.limit, offset: q.offset };
  }

  /** Hosts by how many anomalies match the filters, most first (ties by agent id). */
  async hostCounts(
    q: AnomalyHostsQuery,
  ): Promise<{ items: { agentId: string; hostname: string | null; anomalies: number }[] }> {
    const { clause, params, p } = this.filtered(q);
    const rows = (await this.ds.query(
      `SELECT a.agent_id::text AS agent_id, max(h.hostname) AS hostname, count(*)::int AS anomalies
         FROM anomalies a LEFT JOIN hosts h ON h.agent_id = a.agent_id ${clause}
        GROUP BY a.agent_id ORDER BY anomalies DESC, a.agent_id LIMIT ${p(q.limit)}`,
      params,
    )) as { agent_id: string; hostname: string | null; anomalies: number }[];
    return {
      items: rows.map((r) => ({
        agentId: r.agent_id,
        hostname: r.hostname,
        anomalies: r.anomalies,
      })),
    };
  }

  /**
   * Listening ports among `ports` that hosts in scope (null: all) reported
   * during [from, before): first seen before its end, still seen at or after
   * its start (last_seen is refreshed at most every LISTENING_REFRESH_MINUTES,
   * so the start is widened by that much). hosts joined in for the hostname it sorts by.
   */
  async listeningPorts(
    agentIds: string[] | null,
    ports: number[],
    from: Date,
    before: Date,
  ): Promise<
    {
      agentId: string;
      hostname: string | null;
      protocol: number;
      port: number;
      loopbackOnly: boolean;
      firstSeen: Date;
    }[]
  > {
    const rows: {
      agent_id: string;
      hostname: string | null;
      protocol: number;
      port: number;
      loopback_only: boolean;
      first_seen: Date;
    }[] = await this.ds.query(
      `SELECT l.agent_id, h.hostname, l.protocol, l.port, l.loopback_only, l.first_seen
         FROM listening_ports l LEFT JOIN hosts h ON h.agent_id = l.agent_id
        WHERE l.port = ANY($1::int[]) AND l.first_seen < $2
          AND l.last_seen >= $3::timestamptz - make_interval(mins => $4)
          ${agentIds ? 'AND l.agent_id = ANY($5::uuid[])' : ''}
        ORDER BY h.hostname, l.agent_id, l.port, l.protocol`,
      agentIds
        ? [ports, before, from, LISTENING_REFRESH_MINUTES, agentIds]
        : [ports, before, from, LISTENING_REFRESH_MINUTES],
    );
    return rows.map((r) => ({
      agentId: r.agent_id,
      hostname: r.hostname,
      protocol: Number(r.protocol),
      port: Number(r.port),
      loopbackOnly: r.loopback_only,
      firstSeen: r.first_seen,
    }));
  }

  async get(id: string): Promise<AnomalyView> {
    const rows = (await this.ds.query(`${SELECT} WHERE a.id = $1`, [id])) as Row[];
    if (!rows[0]) throw new NotFoundError(`no anomaly ${id}`);
    return view(rows[0]);
  }

  acknowledge(id: string, actor: Actor, note?: string): Promise<AnomalyView> {
    return this.transition(id, actor, 'acknowledged', ['open'], note, (em, row) =>
      em.query(
        `UPDATE anomalies SET status = 'acknowledged', acknowledged_by = $2, acknowledged_at = now()
          WHERE id = $1 RETURNING id`,
        [row.id, actor.name],
      ),
    );
  }

  resolve(id: string, actor: Actor, note?: string): Promise<AnomalyView> {
    return this.transition(
      id,
      actor,
      'resolved',
      ['open', 'acknowledged', 'suppressed'],
      note,
      (em, row) =>
        em.query(
          `UPDATE anomalies SET status = 'resolved', resolved_by = $2, resolved_at = now() WHERE id = $1 RETURNING id`,
          [row.id, actor.name],
        ),
    );
  }

  suppress(id: string, actor: Actor, reason: string, until: Date): Promise<AnomalyView> {
    return this.transition(
      id,
      actor,
      'suppressed',
      ['open', 'acknowledged'],
      reason,
      (em, row) =>
        em.query(
          `UPDATE anomalies SET status = 'suppressed', suppressed_by = $2, suppressed_at = now(),
                  suppressed_until = $3, suppress_reason = $4 WHERE id = $1 RETURNING id`,
          [row.id, actor.name, until, reason],
        ),
      { until: until.toISOString() },
    );
  }

  /** One lifecycle step and its audit entry, in one transaction; a refused step is audited too. */
  private async transition(
    id: string,
    actor: Actor,
    to: AnomalyStatus,
    from: AnomalyStatus[],
    reason: string | undefined,
    apply: (em: EntityManager, row: Row) => Promise<unknown>,
    details: Record<string, unknown> = {},
  ): Promise<AnomalyView> {
    const entry = {
      actor: actor.name,
      actorRole: actor.role,
      source: actor.source,
      requestId: actor.requestId,
      action: `anomaly.${to}`,
      target: `anomaly:${id}`,
      reason: reason ?? null,
    };
    let refused: string | null = null;
    await this.ds.transaction(async (em) => {
      const rows = (await em.query(`SELECT * FROM anomalies WHERE id = $1 FOR UPDATE`, [
        id,
      ])) as Row[];
      const row = rows[0];
      if (!row) throw new NotFoundError(`no anomaly ${id}`);
      if (!from.includes(row.status)) {
        refused = `anomaly ${id} is ${row.status}; ${to} applies to ${from.join(' or ')}`;
        return;
      }
      await apply(em, row);
      await this.audit.recordIn(em, {
        ...entry,
        outcome: 'success',
        details: { ...details, type: row.type, agentId: row.agent_id, from: row.status },
      });
      const [after] = (await em.query(`SELECT * FROM anomalies WHERE id = $1`, [id])) as Row[];
      await em.query('SELECT pg_notify($1, $2)', [
        ANOMALY_CHANNEL,
        encodeAnomaly(this.liveOf(after, to)),
      ]);
    });
    if (refused) {
      await this.audit.record({ ...entry, outcome: 'failure', reason: refused });
      throw new AnomalyTransitionError(refused);
    }
    return this.get(id);
  }
}
