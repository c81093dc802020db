import { Injectable, Logger, OnApplicationShutdown } from '@nestjs/common';
import { EventEmitter } from 'node:events';
import { DataSource, QueryRunner } from 'typeorm';
import {
  AgentRevokedError,
  SequenceGapError,
  StoreUnavailableError,
  UnknownAgentError,
} from '../common/domain-errors';
import { ConfigurationService } from '../config/configuration.service';
import { MetricsService } from '../health/metrics.service';
import { HostsRepository } from '../hosts/hosts.repository';
import { LIVE_CHANNEL, LiveBatchSummary, encodeNotifications } from '../live/live-payload';
import { storeBatches, StoredBatch } from '../storage/batch-store';
import { PartitionMaintenanceService } from '../storage/partition-maintenance.service';
import { storeScanWindows } from '../storage/scan-store';
import type { NormalizedBatch } from '../storage/normalized-batch';

export interface WriteOutcome {
  stored: boolean;
  /** Highest contiguous sequence stored for the agent after this write committed. */
  highestSequence: number;
}

interface Pending {
  agentId: string;
  batch: NormalizedBatch;
  resolve(o: WriteOutcome): void;
  reject(e: Error): void;
}

/**
 * Gathers batches from every stream and writes them together: one
 * transaction per flush, agents' rows locked in id order, each (agent,
 * sequence) stored once, acks released only after COMMIT. Bounded by the
 * streams: each batch queued here holds a unit of IngestBudget until it settles.
 */
@Injectable()
export class BatchWriterService extends EventEmitter implements OnApplicationShutdown {
  private readonly logger = new Logger('ingest-writer');
  private queue: Pending[] = [];
  private readonly inflight = new Set<Promise<void>>();
  /** Agents with a flush in flight. */
  private readonly busy = new Set<string>();
  private active = 0;
  private closed = false;
  /**
   * The writers' own sessions, kept between flushes: taken from the shared pool
   * per flush, they queued behind every other user of it (the anomaly
   * detectors run a transaction per stored window).
   */
  private readonly sessions: QueryRunner[] = [];

  constructor(
    private readonly ds: DataSource,
    private readonly hosts: HostsRepository,
    private readonly config: ConfigurationService,
    private readonly partitions: PartitionMaintenanceService,
    private readonly metrics: MetricsService,
  ) {
    super();
  }

  get depth(): number {
    return this.queue.length;
  }

  write(agentId: string, batch: NormalizedBatch): Promise<WriteOutcome> {
    if (this.closed) return Promise.reject(new StoreUnavailableError('server is shutting down'));
    return new Promise((resolve, reject) => {
      this.queue.push({ agentId, batch, resolve, reject });
      this.metrics.queueDepth.set(this.queue.length);
      this.pump();
    });
  }

  /** Waits for queued writes to finish; used on shutdown. */
  async drain(): Promise<void> {
    while (this.inflight.size > 0 || this.queue.length > 0) {
      if (this.inflight.size === 0) this.pump();
      await Promise.all([...this.inflight]);
    }
  }

  async onApplicationShutdown(): Promise<void> {
    this.closed = true;
    await this.drain();
    await Promise.all(this.sessions.splice(0).map((qr) => qr.release()));
  }

  private async session(): Promise<QueryRunner> {
    // TypeORM releases a session whose connection failed (an administrator's
    // pg_terminate_backend, a restart) by itself; those are left behind.
    for (let kept = this.sessions.pop(); kept; kept = this.sessions.pop()) {
      if (!kept.isReleased) return kept;
    }
    const qr = this.ds.createQueryRunner();
    await qr.connect();
    return qr;
  }

  /** Keeps a healthy session for the next flush; a failed one goes back to the pool. */
  private async giveBack(qr: QueryRunner, healthy: boolean): Promise<void> {
    if (qr.isReleased) return;
    const keep = this.sessions.length < this.config.get('ingestWriters');
    if (healthy && keep && !this.closed) this.sessions.push(qr);
    else await qr.release();
  }

  /**
   * Starts flushes while writers are free. A flush never shares an agent with
   * another in flight, and an agent's batches keep their order, so concurrent
   * transactions touch disjoint rows.
   */
  private pump(): void {
    while (this.active < this.config.get('ingestWriters') && this.queue.length > 0) {
      const max = this.config.get('ingestMaxBatchesPerWrite');
      const take: Pending[] = [];
      const rest: Pending[] = [];
      const skipped = new Set<string>();
      for (const it of this.queue) {
        if (take.length < max && !this.busy.has(it.agentId) && !skipped.has(it.agentId))
          take.push(it);
        else {
          skipped.add(it.agentId);
          rest.push(it);
        }
      }
      // A second writer only starts on a real batch of work: tiny flushes would let
      // one fast-acked agent take turns with itself while the others wait.
      if (take.length === 0 || (this.active > 0 && take.length < Math.min(max, 32))) return;
      this.queue = rest;
      this.metrics.queueDepth.set(this.queue.length);
      const agents = new Set(take.map((t) => t.agentId));
      for (const a of agents) this.busy.add(a);
      this.active++;
      const done = this.flush(take).finally(() => {
        for (const a of agents) this.busy.delete(a);
        this.active--;
        this.inflight.delete(done);
        this.pump();
      });
      this.inflight.add(done);
    }
  }

  private async flush(items: Pending[]): Promise<void> {
    const endTimer = this.metrics.writeDuration.startTimer();
    try {
      await this.partitions.ensureFor(items.map((i) => i.batch.windowStart));
      const { outcomes, records } = await this.transaction(items);
      endTimer();
      const now = Date.now();
      for (let i = 0; i < items.length; i++) {
        const o = outcomes[i];
        if (o instanceof Error) {
          this.metrics.batchesStored.inc({ outcome: 'rejected' });
          items[i].reject(o);
        } else {
          this.metrics.batchesStored.inc({ outcome: o.stored ? 'stored' : 'duplicate' });
          if (o.stored)
            this.metrics.ingestLag.observe(
              Math.max(0, now - items[i].batch.windowEnd.getTime()) / 1000,
            );
          items[i].resolve(o);
        }
      }
      this.metrics.recordsStored.inc(records);
    } catch (err) {
      endTimer();
      this.logger.error(`ingest transaction failed: ${(err as Error).message}`);
      const e = new StoreUnavailableError('could not store the batch; retry later');
      for (const it of items) it.reject(e);
    }
  }

  private async transaction(
    items: Pending[],
  ): Promise<{ outcomes: (WriteOutcome | Error)[]; records: number }> {
    const qr = await this.session();
    let healthy = false;
    try {
      await qr.startTransaction();
      const ids = [...new Set(items.map((i) => i.agentId))].sort();
      // FOR NO KEY UPDATE in agent_id order (see HostsRepository.lock): writers take each agent
      // one after the other without blocking the detectors' foreign-key KEY SHARE locks.
      const locked = await this.hosts.lock(qr, { kind: 'agents', agentIds: ids });
      const state = new Map(
        locked.map((r) => [
          r.agentId,
          { highest: r.highestSequence, revoked: r.revoked, changed: false },
        ]),
      );
      const outcomes: (WriteOutcome | Error)[] = [];
      const accepted: StoredBatch[] = [];
      for (const it of items) {
        const s = state.get(it.agentId);
        const seq = it.batch.sequence;
        if (!s) outcomes.push(new UnknownAgentError(`agent ${it.agentId} is not enrolled`));
        else if (s.revoked)
          outcomes.push(new AgentRevokedError(`agent ${it.agentId} has been revoked`));
        else if (seq <= s.highest) outcomes.push({ stored: false, highestSequence: s.highest });
        else if (seq !== s.highest + 1) {
          outcomes.push(
            new SequenceGapError(
              `sequence gap: expected ${s.highest + 1}, got ${seq}; resend from ${s.highest + 1}`,
            ),
          );
        } else {
          s.highest = seq;
          s.changed = true;
          accepted.push({ agentId: it.agentId, batch: it.batch });
          outcomes.push({ stored: true, highestSequence: seq });
        }
      }
      let records = 0;
      if (accepted.length > 0) {
        records = await storeBatches(qr, accepted);
        await storeScanWindows(qr, accepted);
        const changed = [...state.entries()].filter(([, s]) => s.changed);
        const lastHealth = new Map<string, NormalizedBatch>();
        for (const a of accepted) lastHealth.set(a.agentId, a.batch);
        await this.hosts.recordStored(
          qr,
          changed.map(([id, s]) => ({
            agentId: id,
            highestSequence: s.highest,
            health: lastHealth.get(id)?.health,
          })),
        );
        for (const payload of encodeNotifications(accepted.map((a) => summarize(a)))) {
          await qr.query('SELECT pg_notify($1, $2)', [LIVE_CHANNEL, payload]);
        }
      }
      await qr.commitTransaction();
      // After COMMIT: the anomaly detectors read what is durable.
      if (accepted.length > 0) this.emit('stored', accepted);
      // Highest after commit, so that every ack of this flush is cumulative and current.
      for (let i = 0; i < items.length; i++) {
        const o = outcomes[i];
        if (!(o instanceof Error))
          o.highestSequence = state.get(items[i].agentId)?.highest ?? o.highestSequence;
      }
      healthy = true;
      return { outcomes, records };
    } catch (err) {
      if (qr.isTransactionActive) await qr.rollbackTransaction().catch(() => undefined);
      throw err;
    } finally {
      await this.giveBack(qr, healthy);
    }
  }
}

function summarize({ agentId, batch }: StoredBatch): LiveBatchSummary {
  let ib = 0;
  let eb = 0;
  let ip = 0;
  let ep = 0;
  for (const t of batch.traffic) {
    if (t.direction === 1) {
      ib += t.bytes;
      ip += t.packets;
    } else if (t.direction === 2) {
      eb += t.bytes;
      ep += t.packets;
    }
  }
  return {
    a: agentId,
    s: batch.sequence,
    ws: batch.windowStart.getTime(),
    we: batch.windowEnd.getTime(),
    ib,
    eb,
    ip,
    ep,
  };
}
