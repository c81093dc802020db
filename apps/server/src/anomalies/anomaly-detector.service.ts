import { Injectable, Logger, OnModuleDestroy, OnModuleInit } from '@nestjs/common';
import { DataSource, EntityManager } from 'typeorm';
import { BatchWriterService } from '../ingest/batch-writer.service';
import type { NormalizedListening } from '../ingest/scan-validation';
import type { StoredBatch } from '../storage/batch-store';
import { AnomaliesService } from './anomalies.service';
import type { BaselineState } from './baseline';
import { detectWindow, LISTENING_REFRESH_MINUTES, type DetectorState } from './detectors';
import { FleetSweeps } from './fleet-sweep';
import { resolveThresholds } from './thresholds';
import { ThresholdsService } from './thresholds.service';

/**
 * Runs the per-window detectors on every batch the writer committed: per
 * agent in sequence order (baselines are a chain), agents concurrently. The
 * detector state (baselines, known listeners, the fleet-wide sweep tracker)
 * lives in PostgreSQL and changes in the same transaction as the anomalies it
 * raises, so replicas on one database share it. The windows of an agent
 * that queued up meanwhile (a burst, a spool replayed after an outage) go
 * through in one transaction, the state carried from window to window in
 * memory: one state read, one state write and one commit for the run, not
 * per window.
 */
const MAX_PENDING = 20_000;
/** Most windows of one agent detected in one transaction. */
const MAX_RUN = 200;
/**
 * Detection transactions open at once. Agents wait their turn in arrival order: with thousands
 * of agents each starting its own, they took the whole pool, and the batch writer, sign-in, the
 * audit trail and the API timed out waiting for a connection (10,000 agents in bench:server).
 */
const MAX_CONCURRENT_RUNS = 2;
/** How often the fleet-wide sweep tracker forgets what no window can count any more. */
const EXPIRE_EVERY_MS = 60_000;
/** Kept past the longest regroupSeconds, for windows that arrive late or from a skewed clock. */
const EXPIRE_MARGIN_SECONDS = 600;

@Injectable()
export class AnomalyDetectorService implements OnModuleInit, OnModuleDestroy {
  private readonly logger = new Logger('anomalies');
  private readonly chains = new Map<string, Promise<void>>();
  private readonly fleet = new FleetSweeps();
  private readonly onStored = (items: StoredBatch[]) => this.enqueue(items);
  private expiry: NodeJS.Timeout | undefined;
  private expiring: Promise<void> | undefined;

  constructor(
    private readonly ds: DataSource,
    private readonly writer: BatchWriterService,
    private readonly anomalies: AnomaliesService,
    private readonly thresholds: ThresholdsService,
  ) {}

  onModuleInit(): void {
    this.writer.on('stored', this.onStored);
    this.expiry = setInterval(() => {
      this.expiring ??= this.expireFleetSweeps()
        .catch((err: Error) => this.logger.warn(`fleet sweep expiry failed: ${err.message}`))
        .finally(() => (this.expiring = undefined));
    }, EXPIRE_EVERY_MS);
    this.expiry.unref();
  }

  async onModuleDestroy(): Promise<void> {
    this.writer.off('stored', this.onStored);
    clearInterval(this.expiry);
    await Promise.all([...this.chains.values(), this.expiring]);
  }

  private async expireFleetSweeps(): Promise<void> {
    const scopes = await this.thresholds.scopes();
    const longest = Math.max(
      resolveThresholds(scopes, {}).regroupSeconds,
      ...[...scopes.values()].map((s) => s.regroupSeconds ?? 0),
    );
    await this.fleet.expire(this.ds, longest + EXPIRE_MARGIN_SECONDS);
  }

  /** Windows waiting for detection; beyond MAX_PENDING new ones are skipped and counted. */
  private pending = 0;
  skipped = 0;

  private readonly queued = new Map<string, StoredBatch[]>();
  /** Runs holding a detection slot, and the agents' drains waiting for one (first come first). */
  private running = 0;
  private readonly waitingForSlot: (() => void)[] = [];

  private async slot(): Promise<void> {
    if (this.running < MAX_CONCURRENT_RUNS) {
      this.running++;
      return;
    }
    await new Promise<void>((resolve) => this.waitingForSlot.push(resolve));
  }

  /** Hands the slot to the next waiting agent, or frees it. */
  private release(): void {
    const next = this.waitingForSlot.shift();
    if (next) next();
    else this.running--;
  }

  private enqueue(items: StoredBatch[]): void {
    for (const item of items) {
      if (this.pending >= MAX_PENDING) {
        // Ingest must not wait on detection, nor memory grow without bound behind it.
        if (this.skipped++ % 1000 === 0)
          this.logger.warn(`detection is behind: ${this.skipped} window(s) skipped so far`);
        continue;
      }
      this.pending++;
      const queue = this.queued.get(item.agentId);
      if (queue) {
        queue.push(item);
        continue;
      }
      this.queued.set(item.agentId, [item]);
      if (!this.chains.has(item.agentId)) this.chains.set(item.agentId, this.drain(item.agentId));
    }
  }

  /** Detects an agent's queued windows, a run at a time, until none is left. */
  private async drain(agentId: string): Promise<void> {
    // Let the rest of this flush's windows join the first run.
    await Promise.resolve();
    for (;;) {
      const queue = this.queued.get(agentId);
      if (!queue || queue.length === 0) break;
      // The run is taken once the slot is ours: windows that arrived meanwhile join it.
      await this.slot();
      const run = queue.splice(0, MAX_RUN);
      try {
        await this.detect(agentId, run);
      } catch (err) {
        this.logger.error(`detection failed for ${agentId}: ${(err as Error).message}`);
      } finally {
        this.pending -= run.length;
        this.release();
      }
    }
    this.queued.delete(agentId);
    this.chains.delete(agentId);
  }

  private async detect(agentId: string, run: StoredBatch[]): Promise<void> {
    const [host] = (await this.ds.query(`SELECT labels FROM hosts WHERE agent_id = $1`, [
      agentId,
    ])) as {
      labels: Record<string, string>;
    }[];
    const t = await this.thresholds.forHost(host?.labels ?? {});
    await this.ds.transaction(async (em) => {
      const first = await this.loadState(em, agentId);
      let state = first;
      const fleetWide = await this.fleet.lock(
        em,
        run.map(({ batch }) => batch),
      );
      for (const { batch } of run) {
        const { findings, state: next } = detectWindow(batch, state, t);
        state = next;
        if (batch.listening)
          await this.saveListening(em, agentId, batch.listening, batch.windowEnd);
        const window = {
          start: batch.windowStart.toISOString(),
          end: batch.windowEnd.toISOString(),
          sequence: batch.sequence,
        };
        if (findings.length > 0) await this.anomalies.raise(em, agentId, window, findings);
        const fleet = fleetWide
          ? await this.fleet.observe(em, agentId, batch.windowEnd, batch.scan, t)
          : [];
        for (const f of fleet) await this.anomalies.raise(em, f.agentId, window, [f.finding]);
      }
      await this.saveState(em, agentId, first, state);
    });
  }

  private async loadState(em: EntityManager, agentId: string): Promise<DetectorState> {
    const rows = (await em.query(
      `SELECT series, state FROM anomaly_baselines WHERE agent_id = $1 FOR UPDATE`,
      [agentId],
    )) as { series: string; state: BaselineState }[];
    const ports = (await em.query(
      `SELECT protocol, port FROM listening_ports WHERE agent_id = $1`,
      [agentId],
    )) as { protocol: number; port: number }[];
    const known = rows.find((r) => r.series === 'listening:reported');
    const names = ['unspecified', 'tcp', 'udp', 'icmp', 'icmpv6', 'other'];
    return {
      baselines: new Map(
        rows.filter((r) => r.series !== 'listening:reported').map((r) => [r.series, r.state]),
      ),
      listening: known
        ? new Set(ports.map((p) => `${names[p.protocol] ?? 'other'}/${p.port}`))
        : null,
    };
  }

  /**
   * Every port the window shows listening: new ones inserted, the loopback
   * flag kept current, last_seen refreshed when LISTENING_REFRESH_MINUTES old
   * (so reports can tell what was listening during a period).
   */
  private async saveListening(
    em: EntityManager,
    agentId: string,
    listening: NormalizedListening,
    at: Date,
  ): Promise<void> {
    if (listening.ports.length === 0) return;
    await em.query(
      `INSERT INTO listening_ports (agent_id, protocol, port, loopback_only, first_seen, last_seen)
       SELECT $1, p, n, l, $5, $5 FROM unnest($2::smallint[], $3::int[], $4::boolean[]) AS u(p, n, l)
       ON CONFLICT (agent_id, protocol, port) DO UPDATE
         SET loopback_only = EXCLUDED.loopback_only,
             last_seen = GREATEST(listening_ports.last_seen, EXCLUDED.last_seen)
         WHERE listening_ports.loopback_only IS DISTINCT FROM EXCLUDED.loopback_only
            OR listening_ports.last_seen < EXCLUDED.last_seen - make_interval(mins => $6)`,
      [
        agentId,
        listening.ports.map((p) => p.protocol),
        listening.ports.map((p) => p.port),
        listening.ports.map((p) => p.loopbackOnly),
        at,
        LISTENING_REFRESH_MINUTES,
      ],
    );
  }

  private async saveState(
    em: EntityManager,
    agentId: string,
    prev: DetectorState,
    next: DetectorState,
  ): Promise<void> {
    const series = [...next.baselines.entries()];
    if (next.listening && !prev.listening)
      series.push(['listening:reported', { mean: 0, dev: 0, n: 1 }]);
    if (series.length > 0) {
      await em.query(
        `INSERT INTO anomaly_baselines (agent_id, series, state, updated_at)
         SELECT $1, s, st, now() FROM unnest($2::text[], $3::jsonb[]) AS u(s, st)
         ON CONFLICT (agent_id, series) DO UPDATE SET state = EXCLUDED.state, updated_at = now()`,
        [agentId, series.map(([k]) => k), series.map(([, v]) => JSON.stringify(v))],
      );
    }
  }
}
