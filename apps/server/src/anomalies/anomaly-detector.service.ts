import { Injectable, Logger, OnModuleDestroy, OnModuleInit } from '@nestjs/common';
import { DataSource, EntityManager } from 'typeorm';
import { HostsRepository } from '../hosts/hosts.repository';
import { BatchWriterService } from '../ingest/batch-writer.service';
import type { StoredBatch } from '../storage/batch-store';
import type { NormalizedBatch, NormalizedListening } from '../storage/normalized-batch';
import { AnomaliesService } from './anomalies.service';
import type { BaselineState } from './baseline';
import {
  detectWindow,
  LISTENING_REFRESH_MINUTES,
  type DetectorState,
  type DetectorWindow,
} from './detectors';
import { FleetSweeps } from './fleet-sweep';
import { resolveThresholds, type Thresholds } from './thresholds';
import { ThresholdsService } from './thresholds.service';

/**
 * Runs the per-window detectors on every batch the writer committed: per
 * agent in sequence order (baselines are a chain). The detector state
 * (baselines, known listeners, the fleet-wide sweep tracker) lives in
 * PostgreSQL and changes in the same transaction as the anomalies it raises,
 * so replicas on one database share it. Windows that queued up meanwhile go
 * through together: an agent's run of windows (a burst, a spool replayed after
 * an outage) with its state carried from window to window in memory, and the
 * runs of many agents in one transaction, each behind its own savepoint — with
 * thousands of agents sending a window each, a transaction per agent was more
 * commits than the database could take beside ingest.
 */
const MAX_PENDING = 20_000;
/** Most windows detected in one transaction (one agent's run, or several agents' together). */
const MAX_RUN = 200;
/**
 * Detection transactions open at once. The rest of the pool stays for the batch writer,
 * sign-in, the audit trail and the API: with an unbounded number (one per agent) they all
 * timed out waiting for a connection with 10,000 agents in bench:server.
 */
const MAX_CONCURRENT_RUNS = 2;
/** How often the fleet-wide sweep tracker forgets what no window can count any more. */
const EXPIRE_EVERY_MS = 60_000;
/** Kept past the longest regroupSeconds, for windows that arrive late or from a skewed clock. */
const EXPIRE_MARGIN_SECONDS = 600;

/** What detection keeps of a stored window while it waits: only what the detectors read. */
type QueuedWindow = DetectorWindow & Pick<NormalizedBatch, 'sequence' | 'scan' | 'listening'>;

const queuedWindow = (b: NormalizedBatch): QueuedWindow => ({
  sequence: b.sequence,
  windowStart: b.windowStart,
  windowEnd: b.windowEnd,
  traffic: b.traffic,
  connections: b.connections,
  drops: b.drops,
  abnormal: b.abnormal,
  scan: b.scan,
  listening: b.listening,
});

@Injectable()
export class AnomalyDetectorService implements OnModuleInit, OnModuleDestroy {
  private readonly logger = new Logger('anomalies');
  /** The detection loops running (at most MAX_CONCURRENT_RUNS). */
  private readonly loops = new Set<Promise<void>>();
  private readonly fleet = new FleetSweeps();
  private readonly onStored = (items: StoredBatch[]) => this.enqueue(items);
  private expiry: NodeJS.Timeout | undefined;
  private expiring: Promise<void> | undefined;

  constructor(
    private readonly ds: DataSource,
    private readonly hosts: HostsRepository,
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
    await Promise.all([...this.loops, this.expiring]);
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

  /** Each agent's windows waiting, in sequence order. */
  private readonly queued = new Map<string, QueuedWindow[]>();
  /** Agents with windows waiting and none in a run, first come first served. */
  private readonly ready = new Set<string>();
  /** Agents whose run is in a transaction now (their next windows wait for it). */
  private readonly inRun = new Set<string>();

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
      if (queue) queue.push(queuedWindow(item.batch));
      else this.queued.set(item.agentId, [queuedWindow(item.batch)]);
      if (!this.inRun.has(item.agentId)) this.ready.add(item.agentId);
    }
    while (this.loops.size < MAX_CONCURRENT_RUNS && this.ready.size > 0) {
      const loop: Promise<void> = this.loop().finally(() => this.loops.delete(loop));
      this.loops.add(loop);
    }
  }

  /** Takes ready agents' runs, up to MAX_RUN windows a transaction, until none is ready. */
  private async loop(): Promise<void> {
    // Let the rest of this flush's windows join the first run.
    await Promise.resolve();
    while (this.ready.size > 0) {
      const runs: { agentId: string; windows: QueuedWindow[] }[] = [];
      let size = 0;
      for (const agentId of this.ready) {
        if (size >= MAX_RUN) break;
        const queue = this.queued.get(agentId) ?? [];
        const windows = queue.splice(0, MAX_RUN - size);
        if (queue.length === 0) this.queued.delete(agentId);
        this.ready.delete(agentId);
        this.inRun.add(agentId);
        runs.push({ agentId, windows });
        size += windows.length;
      }
      try {
        await this.detect(runs);
      } catch (err) {
        const agents = runs.map((r) => r.agentId).join(', ');
        this.logger.error(`detection failed for ${agents}: ${(err as Error).message}`);
      } finally {
        this.pending -= size;
        for (const { agentId } of runs) {
          this.inRun.delete(agentId);
          if (this.queued.has(agentId)) this.ready.add(agentId);
        }
      }
    }
  }

  /** The runs in one transaction, each agent's behind a savepoint: one agent's failure is its own. */
  private async detect(runs: { agentId: string; windows: QueuedWindow[] }[]): Promise<void> {
    const labels = await this.hosts.labelsById(runs.map((r) => r.agentId));
    const thresholds = await Promise.all(
      runs.map((r) => this.thresholds.forHost(labels.get(r.agentId) ?? {})),
    );
    await this.ds.transaction(async (em) => {
      // Every key of the transaction locked first, in one order on every replica.
      const fleetWide = await this.fleet.lock(
        em,
        runs.flatMap((r) => r.windows),
      );
      for (const [i, { agentId, windows }] of runs.entries()) {
        await em.query('SAVEPOINT agent_run');
        try {
          await this.detectRun(em, agentId, windows, thresholds[i], fleetWide);
          await em.query('RELEASE SAVEPOINT agent_run');
        } catch (err) {
          await em.query('ROLLBACK TO SAVEPOINT agent_run');
          this.logger.error(`detection failed for ${agentId}: ${(err as Error).message}`);
        }
      }
    });
  }

  private async detectRun(
    em: EntityManager,
    agentId: string,
    run: QueuedWindow[],
    t: Thresholds,
    fleetWide: boolean,
  ): Promise<void> {
    const first = await this.loadState(em, agentId);
    let state = first;
    for (const batch of run) {
      const { findings, state: next } = detectWindow(batch, state, t);
      state = next;
      if (batch.listening) await this.saveListening(em, agentId, batch.listening, batch.windowEnd);
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
