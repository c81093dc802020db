import { Injectable, Logger, OnModuleDestroy, OnModuleInit } from '@nestjs/common';
import { DataSource, EntityManager } from 'typeorm';
import { HostsRepository, type QuietHost } from '../hosts/hosts.repository';
import { AnomaliesService, suppressionExpired } from './anomalies.service';
import { resolveThresholds } from './thresholds';
import { ThresholdsService } from './thresholds.service';

const CHECK_EVERY_MS = 5_000;
/**
 * How often a live agent_silent incident is rewritten (last_seen, silentSeconds, summary) while
 * the host stays silent: every check (5 s) would cost one write per silent host, 2,000 a second
 * for 10,000 hosts cut off by a partition. A new incident is still raised at the first check.
 */
export const SILENT_REFRESH_SECONDS = 60;
/** Hosts written per transaction (each behind its own savepoint). */
const CHUNK = 500;
const SILENT_CHECK_LOCK = 0x7477_7361; // "twsa"

type Silent = QuietHost & { seconds: number; silentAfterSeconds: number };

/** One incident per silence: a host that speaks and falls silent again is a new one. */
const keyOf = (h: QuietHost) => `silent-since:${h.lastSeenAt.toISOString()}`;

/**
 * An agent gone silent: nothing heard (no batch, no stream) for
 * silentAfterSeconds. Zero traffic is not silence (empty windows still
 * arrive), nor is a declared data gap (the agent said so, hence is talking).
 */
@Injectable()
export class SilentAgentsService implements OnModuleInit, OnModuleDestroy {
  private readonly logger = new Logger('anomalies');
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;

  constructor(
    private readonly ds: DataSource,
    private readonly hosts: HostsRepository,
    private readonly anomalies: AnomaliesService,
    private readonly thresholds: ThresholdsService,
  ) {}

  onModuleInit(): void {
    this.timer = setInterval(() => {
      this.running ??= this.check()
        .catch((err: Error) => this.logger.warn(`silent-agent check failed: ${err.message}`))
        .finally(() => (this.running = undefined));
    }, CHECK_EVERY_MS);
    this.timer.unref();
  }

  async onModuleDestroy(): Promise<void> {
    clearInterval(this.timer);
    await this.running;
  }

  async check(): Promise<void> {
    const scopes = await this.thresholds.scopes();
    const min = Math.min(
      resolveThresholds(scopes, {}).silentAfterSeconds,
      ...[...scopes.values()].map((s) => s.silentAfterSeconds ?? Infinity),
    );
    const now = new Date();
    const silent: Silent[] = [];
    for (const h of await this.hosts.quietFor(min)) {
      const t = resolveThresholds(scopes, h.labels ?? {});
      const seconds = (now.getTime() - h.lastSeenAt.getTime()) / 1000;
      if (seconds >= t.silentAfterSeconds)
        silent.push({ ...h, seconds, silentAfterSeconds: t.silentAfterSeconds });
    }
    if (silent.length === 0) return;
    // Agent order: replicas cut the same chunks, so one that waited on the lock finds its chunk done.
    silent.sort((a, b) => (a.agentId < b.agentId ? -1 : a.agentId > b.agentId ? 1 : 0));
    const due = await this.due(this.ds, silent, now);
    for (let i = 0; i < due.length; i += CHUNK) {
      await this.ds.transaction(async (em) => {
        // One replica writes at a time, and reads again after waiting: what another replica
        // raised or refreshed meanwhile is not written twice (nor raised twice: anomalies_live).
        await em.query('SELECT pg_advisory_xact_lock($1)', [SILENT_CHECK_LOCK]);
        for (const h of await this.due(em, due.slice(i, i + CHUNK), now)) {
          await em.query('SAVEPOINT silent_host');
          try {
            await this.raise(em, h, now);
            await em.query('RELEASE SAVEPOINT silent_host');
          } catch (err) {
            await em.query('ROLLBACK TO SAVEPOINT silent_host');
            this.logger.error(`agent_silent failed for ${h.agentId}: ${(err as Error).message}`);
          }
        }
      });
    }
  }

  /**
   * The silent hosts whose incident needs writing: none live yet (raised at once), a suppression
   * expired (reopened at once), or last written SILENT_REFRESH_SECONDS ago or more.
   */
  private async due(em: EntityManager | DataSource, silent: Silent[], now: Date) {
    const live = new Map(
      (
        await this.anomalies.liveOfType(
          em,
          'agent_silent',
          silent.map((h) => h.agentId),
        )
      ).map((a) => [`${a.agentId} ${a.key}`, a]),
    );
    return silent.filter((h) => {
      const a = live.get(`${h.agentId} ${keyOf(h)}`);
      if (!a) return true;
      if (suppressionExpired(a.status, a.suppressedUntil, now)) return true;
      return now.getTime() - a.lastSeen.getTime() >= SILENT_REFRESH_SECONDS * 1000;
    });
  }

  private raise(em: EntityManager, h: Silent, now: Date) {
    return this.anomalies.raise(
      em,
      h.agentId,
      { start: h.lastSeenAt.toISOString(), end: now.toISOString(), sequence: h.highestSequence },
      [
        {
          type: 'agent_silent',
          severity: 'high',
          key: keyOf(h),
          summary: `nothing heard from the agent for ${Math.round(h.seconds)} s`,
          figures: {
            lastSeenAt: h.lastSeenAt.toISOString(),
            lastBatchAt: h.lastBatchAt?.toISOString() ?? '',
            silentSeconds: Math.round(h.seconds),
            lastSequence: h.highestSequence,
          },
          threshold: { silentAfterSeconds: h.silentAfterSeconds },
        },
      ],
    );
  }
}
