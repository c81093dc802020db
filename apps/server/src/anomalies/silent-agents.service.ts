import { Injectable, Logger, OnModuleDestroy, OnModuleInit } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { HostsRepository } from '../hosts/hosts.repository';
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
    const hosts = await this.hosts.quietFor(min);
    const now = new Date();
    for (const h of hosts) {
      const t = resolveThresholds(scopes, h.labels ?? {});
      const silent = (now.getTime() - h.lastSeenAt.getTime()) / 1000;
      if (silent < t.silentAfterSeconds) continue;
      await this.ds.transaction((em) =>
        this.anomalies.raise(
          em,
          h.agentId,
          {
            start: h.lastSeenAt.toISOString(),
            end: now.toISOString(),
            sequence: h.highestSequence,
          },
          [
            {
              type: 'agent_silent',
              severity: 'high',
              key: `silent-since:${h.lastSeenAt.toISOString()}`,
              summary: `nothing heard from the agent for ${Math.round(silent)} s`,
              figures: {
                lastSeenAt: h.lastSeenAt.toISOString(),
                lastBatchAt: h.lastBatchAt?.toISOString() ?? '',
                silentSeconds: Math.round(silent),
                lastSequence: h.highestSequence,
              },
              threshold: { silentAfterSeconds: t.silentAfterSeconds },
            },
          ],
        ),
      );
    }
  }
}
