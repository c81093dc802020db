import { Injectable, Logger, OnModuleDestroy, OnModuleInit } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { AnomaliesService } from './anomalies.service';
import { resolveThresholds } from './thresholds';
import { ThresholdsService } from './thresholds.service';

const CHECK_EVERY_MS = 5_000;

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
    const hosts = (await this.ds.query(
      `SELECT agent_id, labels, last_seen_at, last_batch_at, highest_sequence FROM hosts
        WHERE revoked_at IS NULL AND last_seen_at IS NOT NULL
          AND last_seen_at < now() - make_interval(secs => $1)`,
      [min],
    )) as {
      agent_id: string;
      labels: Record<string, string>;
      last_seen_at: Date;
      last_batch_at: Date | null;
      highest_sequence: string;
    }[];
    const now = new Date();
    for (const h of hosts) {
      const t = resolveThresholds(scopes, h.labels ?? {});
      const silent = (now.getTime() - h.last_seen_at.getTime()) / 1000;
      if (silent < t.silentAfterSeconds) continue;
      await this.ds.transaction((em) =>
        this.anomalies.raise(
          em,
          h.agent_id,
          {
            start: h.last_seen_at.toISOString(),
            end: now.toISOString(),
            sequence: Number(h.highest_sequence),
          },
          [
            {
              type: 'agent_silent',
              severity: 'high',
              key: `silent-since:${h.last_seen_at.toISOString()}`,
              summary: `nothing heard from the agent for ${Math.round(silent)} s`,
              figures: {
                lastSeenAt: h.last_seen_at.toISOString(),
                lastBatchAt: h.last_batch_at?.toISOString() ?? '',
                silentSeconds: Math.round(silent),
                lastSequence: Number(h.highest_sequence),
              },
              threshold: { silentAfterSeconds: t.silentAfterSeconds },
            },
          ],
        ),
      );
    }
  }
}
