import { Injectable } from '@nestjs/common';
import { DataSource, EntityManager, QueryRunner } from 'typeorm';
import { columnFor } from '../common/sql-columns';
import { parseLabelSelector } from '../common/label-selector';
import { ConfigurationService } from '../config/configuration.service';
import type { NormalizedHello } from './agent-hello';
import type { HostDetailView, HostView } from './dto/host.view';
import type { HostStatus, ListHostsQuery } from './dto/list-hosts.query';

/** The caller's transaction (an EntityManager of `ds.transaction`, or a QueryRunner). */
export type Transaction = EntityManager | QueryRunner;

/** Which hosts a statement looks at. */
export type HostFilter =
  | { kind: 'all' }
  | { kind: 'agents'; agentIds: string[] }
  | { kind: 'label'; key: string; value: string };

/** A hosts row as the hosts views read it, with its status. */
export interface HostRow {
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

/** A host locked by `lock`, as it was when the lock was taken. */
export interface LockedHost {
  agentId: string;
  labels: Record<string, string> | null;
  highestSequence: number;
  revoked: boolean;
}

/** What admission reads of an agent id, locked (FOR NO KEY UPDATE) until the caller's commit. */
export interface AdmissionState {
  revoked: boolean;
  reset: boolean;
  credential_hash: Buffer | null;
  highest_sequence: string;
  enrollment_token_id: string | null;
  retry_open: boolean;
}

/** The configuration an agent reported running and applying (hosts' config_* columns). */
export interface ConfigStateRow {
  config_version: string;
  config_applied_version: string | null;
  config_applied_ok: boolean | null;
  config_applied_error: string | null;
  config_applied_at: Date | null;
}

/** An agent nothing was heard from since `lastSeenAt`. */
export interface QuietHost {
  agentId: string;
  labels: Record<string, string>;
  lastSeenAt: Date;
  lastBatchAt: Date | null;
  highestSequence: number;
}

const SORT_COLUMNS: Record<ListHostsQuery['sort'], string> = {
  hostname: 'hostname',
  lastSeen: 'last_seen_at',
  enrolledAt: 'enrolled_at',
  agentVersion: 'agent_version',
  kernel: 'kernel_release',
};

function where(filter: HostFilter): { sql: string; params: unknown[] } {
  switch (filter.kind) {
    case 'all':
      return { sql: '', params: [] };
    case 'agents':
      return { sql: 'WHERE agent_id = ANY($1::uuid[])', params: [filter.agentIds] };
    case 'label':
      return {
        sql: 'WHERE labels @> $1::jsonb',
        params: [JSON.stringify({ [filter.key]: filter.value })],
      };
  }
}

/**
 * Every statement on the hosts table and on sequence_gaps (the batches an agent declared
 * lost), the hosts module's tables. Statements that must be part of the caller's transaction
 * take it (`tx`); the others run on the pool. Joins of hosts into another table's query stay
 * with that table's owner (the anomaly list, the configuration drift).
 */
@Injectable()
export class HostsRepository {
  constructor(
    private readonly ds: DataSource,
    private readonly config: ConfigurationService,
  ) {}

  private statusSql(): string {
    const offline = this.config.get('offlineAfterSeconds');
    return `CASE WHEN revoked_at IS NOT NULL THEN 'revoked'
                 WHEN last_seen_at > now() - interval '${offline} seconds' THEN 'online'
                 ELSE 'offline' END`;
  }

  /** One page of the hosts list and how many match its filters. */
  async page(q: ListHostsQuery): Promise<{ rows: HostRow[]; total: number }> {
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
    return { rows, total };
  }

  async find(agentId: string): Promise<HostRow | null> {
    const rows: HostRow[] = await this.ds.query(
      `SELECT *, ${this.statusSql()} AS status FROM hosts WHERE agent_id = $1`,
      [agentId],
    );
    return rows[0] ?? null;
  }

  async exists(agentId: string): Promise<boolean> {
    const rows = await this.ds.query(`SELECT 1 FROM hosts WHERE agent_id = $1`, [agentId]);
    return rows.length > 0;
  }

  /** Agent ids of the hosts carrying every one of `labels`. */
  async idsWithLabels(labels: Record<string, string>): Promise<string[]> {
    const rows: { agent_id: string }[] = await this.ds.query(
      `SELECT agent_id FROM hosts WHERE labels @> $1::jsonb`,
      [JSON.stringify(labels)],
    );
    return rows.map((r) => r.agent_id);
  }

  /** The hosts of `agentIds` (null: every host), by hostname. */
  inScope(agentIds: string[] | null): Promise<HostRow[]> {
    return this.ds.query(
      `SELECT *, ${this.statusSql()} AS status FROM hosts
        ${agentIds ? 'WHERE agent_id = ANY($1::uuid[])' : ''} ORDER BY hostname, agent_id`,
      agentIds ? [agentIds] : [],
    );
  }

  /** How many hosts `filter` selects. */
  async count(filter: HostFilter, tx: Transaction = this.ds.manager): Promise<number> {
    const w = where(filter);
    const [{ n }]: { n: string }[] = await tx.query(
      `SELECT count(*) AS n FROM hosts ${w.sql}`,
      w.params,
    );
    return Number(n);
  }

  /** One host's labels; null: no such host. */
  async labels(agentId: string): Promise<Record<string, string> | null> {
    const rows: { labels: Record<string, string> | null }[] = await this.ds.query(
      `SELECT labels FROM hosts WHERE agent_id = $1`,
      [agentId],
    );
    return rows.length ? (rows[0].labels ?? {}) : null;
  }

  /** The labels of each of `agentIds` that is a host, by agent id. */
  async labelsById(agentIds: string[]): Promise<Map<string, Record<string, string>>> {
    const rows: { agent_id: string; labels: Record<string, string> }[] = await this.ds.query(
      `SELECT agent_id, labels FROM hosts WHERE agent_id = ANY($1::uuid[])`,
      [agentIds],
    );
    return new Map(rows.map((h) => [h.agent_id, h.labels]));
  }

  /** Batches each of `agentIds` that is a host declared lost, by agent id. */
  async lostBatchesById(agentIds: string[]): Promise<Map<string, number>> {
    const rows: { agent_id: string; lost_batches: string }[] = await this.ds.query(
      `SELECT agent_id, lost_batches FROM hosts WHERE agent_id = ANY($1::uuid[])`,
      [agentIds],
    );
    return new Map(rows.map((h) => [h.agent_id, Number(h.lost_batches)]));
  }

  /** Live (not revoked) agents last heard from more than `seconds` ago. */
  async quietFor(seconds: number): Promise<QuietHost[]> {
    const rows: {
      agent_id: string;
      labels: Record<string, string>;
      last_seen_at: Date;
      last_batch_at: Date | null;
      highest_sequence: string;
    }[] = await this.ds.query(
      `SELECT agent_id, labels, last_seen_at, last_batch_at, highest_sequence FROM hosts
        WHERE revoked_at IS NULL AND last_seen_at IS NOT NULL
          AND last_seen_at < now() - make_interval(secs => $1)`,
      [seconds],
    );
    return rows.map((h) => ({
      agentId: h.agent_id,
      labels: h.labels,
      lastSeenAt: h.last_seen_at,
      lastBatchAt: h.last_batch_at,
      highestSequence: Number(h.highest_sequence),
    }));
  }

  async configState(agentId: string): Promise<ConfigStateRow | null> {
    const rows: ConfigStateRow[] = await this.ds.query(
      `SELECT config_version, config_applied_version, config_applied_ok, config_applied_error,
              config_applied_at
         FROM hosts WHERE agent_id = $1`,
      [agentId],
    );
    return rows[0] ?? null;
  }

  /**
   * Locks the hosts of `filter` in the caller's transaction, in agent_id order, and reads them.
   * NO KEY UPDATE: lockers still take each host one after the other, but rows that only
   * reference a host (anomalies, baselines, agent_configs: their foreign keys take KEY SHARE)
   * are not blocked; FOR UPDATE deadlocked with a detection transaction holding KEY SHARE on
   * one host while waiting for another the locker held. One order for every locker (the batch
   * writer, configuration changes): two lockers of several hosts cannot deadlock.
   */
  async lock(tx: Transaction, filter: HostFilter): Promise<LockedHost[]> {
    const w = where(filter);
    const rows: {
      agent_id: string;
      labels: Record<string, string> | null;
      highest_sequence: string;
      revoked: boolean;
    }[] = await tx.query(
      `SELECT agent_id, labels, highest_sequence, revoked_at IS NOT NULL AS revoked
         FROM hosts ${w.sql} ORDER BY agent_id FOR NO KEY UPDATE`,
      w.params,
    );
    return rows.map((r) => ({
      agentId: r.agent_id,
      labels: r.labels,
      highestSequence: Number(r.highest_sequence),
      revoked: r.revoked,
    }));
  }

  /**
   * What admission needs of an agent id, its row locked until the caller's commit (the upsert
   * that follows changes the row); null: never enrolled. `retryMinutes`: how long an
   * unconfirmed credential leaves the enrolling token a retry. FOR NO KEY UPDATE, as `lock`:
   * the upsert never changes agent_id (the only key), so it takes no stronger lock either;
   * admissions and writers of one host still go one after the other (the lock conflicts with
   * itself), while rows that only reference the host (their foreign keys take KEY SHARE) are
   * not held up by an admission in flight.
   */
  async lockForAdmission(
    tx: Transaction,
    agentId: string,
    retryMinutes: number,
  ): Promise<AdmissionState | null> {
    const rows: AdmissionState[] = await tx.query(
      `SELECT revoked_at IS NOT NULL AS revoked, reenroll_allowed_at IS NOT NULL AS reset,
              credential_hash, highest_sequence, enrollment_token_id,
              COALESCE(credential_unconfirmed_since > now() - make_interval(mins => $2), false)
                AS retry_open
         FROM hosts WHERE agent_id = $1 FOR NO KEY UPDATE`,
      [agentId, retryMinutes],
    );
    return rows[0] ?? null;
  }

  /**
   * Records what a Hello says about the host, creating the row on a first enrollment; a new
   * credential (its hash) and token replace the stored ones, and a token enrollment ends a
   * reset. Answers the highest stored sequence and the database's time of the admission.
   */
  async recordHello(
    tx: Transaction,
    hello: NormalizedHello,
    credentialHash: Buffer | null,
    enrollmentTokenId: string | null,
  ): Promise<{ highestSequence: number; admittedAt: Date }> {
    const out: { highest_sequence: string; admitted_at: Date }[] = await tx.query(
      `INSERT INTO hosts (agent_id, hostname, agent_version, kernel_release, capabilities, interfaces,
                          labels, masking, config_version, started_at, credential_hash,
                          enrollment_token_id, credential_unconfirmed_since, enrolled_at,
                          last_seen_at)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12,
               CASE WHEN $11::bytea IS NULL THEN NULL ELSE now() END, now(), now())
       ON CONFLICT (agent_id) DO UPDATE SET
         hostname = EXCLUDED.hostname, agent_version = EXCLUDED.agent_version,
         kernel_release = EXCLUDED.kernel_release, capabilities = EXCLUDED.capabilities,
         interfaces = EXCLUDED.interfaces, labels = EXCLUDED.labels, masking = EXCLUDED.masking,
         config_version = EXCLUDED.config_version, started_at = EXCLUDED.started_at,
         credential_hash = COALESCE(EXCLUDED.credential_hash, hosts.credential_hash),
         enrollment_token_id = COALESCE(EXCLUDED.enrollment_token_id, hosts.enrollment_token_id),
         reenroll_allowed_at = CASE WHEN EXCLUDED.enrollment_token_id IS NULL
                                    THEN hosts.reenroll_allowed_at END,
         credential_unconfirmed_since = CASE WHEN EXCLUDED.credential_hash IS NULL
                                             THEN NULL
                                             ELSE EXCLUDED.credential_unconfirmed_since END,
         last_seen_at = now()
       RETURNING highest_sequence, now() AS admitted_at`,
      [
        hello.agentId,
        hello.hostname,
        hello.agentVersion,
        hello.kernelRelease,
        JSON.stringify(hello.capabilities),
        JSON.stringify(hello.interfaces),
        JSON.stringify(hello.labels),
        hello.masking,
        hello.configVersion,
        hello.startedAt,
        credentialHash,
        enrollmentTokenId,
      ],
    );
    return { highestSequence: Number(out[0].highest_sequence), admittedAt: out[0].admitted_at };
  }

  /**
   * Records batches first..last as lost (the agent's spool dropped them): a sequence gap, and
   * the host's stream taken up after them.
   */
  async recordLostBatches(
    tx: Transaction,
    agentId: string,
    first: number,
    last: number,
  ): Promise<void> {
    await tx.query(
      `UPDATE hosts SET highest_sequence = $2, lost_batches = lost_batches + $3
        WHERE agent_id = $1`,
      [agentId, last, last - first + 1],
    );
    await tx.query(
      `INSERT INTO sequence_gaps (agent_id, first_sequence, last_sequence) VALUES ($1, $2, $3)`,
      [agentId, first, last],
    );
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

  /**
   * After a flush stored batches: each agent's highest sequence and latest health, heard from
   * now, its credential confirmed (a stored window shows the agent holds it).
   */
  async recordStored(
    tx: Transaction,
    stored: { agentId: string; highestSequence: number; health: unknown }[],
  ): Promise<void> {
    await tx.query(
      `UPDATE hosts h SET highest_sequence = v.seq, last_seen_at = now(), last_batch_at = now(),
              health = v.health, credential_unconfirmed_since = NULL
         FROM unnest($1::uuid[], $2::bigint[], $3::jsonb[]) AS v(agent_id, seq, health)
        WHERE h.agent_id = v.agent_id`,
      [
        stored.map((s) => s.agentId),
        stored.map((s) => s.highestSequence),
        stored.map((s) => JSON.stringify(s.health ?? null)),
      ],
    );
  }

  /** The agent's ConfigApplied; a successful one is also the version it now runs. */
  async recordConfigApplied(
    tx: Transaction,
    agentId: string,
    applied: { version: number; ok: boolean; error: string },
  ): Promise<void> {
    await tx.query(
      `UPDATE hosts SET config_applied_version = $2, config_applied_ok = $3,
              config_applied_error = $4, config_applied_at = now(), last_seen_at = now(),
              config_version = CASE WHEN $3 THEN $2 ELSE config_version END
        WHERE agent_id = $1`,
      [agentId, applied.version, applied.ok, applied.error],
    );
  }

  /**
   * Erases the credential and lifts a revocation; the next token enrollment may claim the
   * agent id. False: no such agent.
   */
  async allowReenrollment(tx: Transaction, agentId: string): Promise<boolean> {
    const res: [unknown[], number] = await tx.query(
      // clock_timestamp(): after the row lock, so later than a stream admitted meanwhile.
      `UPDATE hosts SET credential_hash = NULL, revoked_at = NULL, reenroll_allowed_at = clock_timestamp()
        WHERE agent_id = $1::uuid`,
      [agentId],
    );
    return res[1] !== 0;
  }

  /** Revokes the agent and erases its credential. False: no such agent, or already revoked. */
  async revoke(tx: Transaction, agentId: string): Promise<boolean> {
    const res: [unknown[], number] = await tx.query(
      `UPDATE hosts SET revoked_at = now(), credential_hash = NULL
        WHERE agent_id = $1::uuid AND revoked_at IS NULL`,
      [agentId],
    );
    return res[1] !== 0;
  }

  /**
   * Of the given streams, the indexes of those whose agent was revoked, or reset after the
   * stream's admission (the database's clock on both sides).
   */
  async accessEnded(streams: { agentId: string; admittedAt: Date }[]): Promise<Set<number>> {
    const rows: { i: number }[] = await this.ds.query(
      `SELECT s.i FROM unnest($1::uuid[], $2::timestamptz[]) WITH ORDINALITY AS s(agent_id, admitted_at, i)
         JOIN hosts h ON h.agent_id = s.agent_id
        WHERE h.revoked_at IS NOT NULL OR h.reenroll_allowed_at > s.admitted_at`,
      [streams.map((s) => s.agentId), streams.map((s) => s.admittedAt.toISOString())],
    );
    return new Set(rows.map((r) => Number(r.i) - 1));
  }
}
