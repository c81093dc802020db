import { Injectable, Logger, OnApplicationBootstrap, OnModuleDestroy } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { MIN_RETENTION_DAYS } from '../audit/audit-settings';
import { AuditService } from '../audit/audit.service';
import type { AuditActor } from '../audit/request-actor';
import { ConfigurationService } from '../config/configuration.service';
import { DAY_MS } from '../traffic/time-range';

/** Reports deleted (and audited) per transaction, so one purge never holds the trail's lock long. */
export const PURGE_BATCH = 100;

const SERVER: AuditActor = { actor: null, source: 'server' };

interface PurgedRow {
  id: string;
  schedule_name: string | null;
  period_from: Date;
  period_to: Date;
  format: string;
  lang: string;
  digest_alg: string;
  digest: string;
  created_at: Date;
}

/**
 * Retention of kept reports, on the maintenance sweep's interval: those made
 * more than REPORT_RETENTION_DAYS ago are deleted, each with a `report.purged`
 * entry (its digest, period and age) in the same transaction, so a report
 * leaves only with its record. Never one younger than the audit trail's
 * minimum: the cutoff is clamped here, and the database refuses it too.
 */
@Injectable()
export class ReportRetentionService implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly logger = new Logger('reports');
  private timer: NodeJS.Timeout | null = null;

  constructor(
    private readonly ds: DataSource,
    private readonly audit: AuditService,
    private readonly config: ConfigurationService,
  ) {}

  onApplicationBootstrap(): void {
    const sweep = () =>
      this.purge().catch((err: Error) =>
        this.logger.error(`report retention failed: ${err.message}`),
      );
    void sweep();
    this.timer = setInterval(sweep, this.config.get('maintenanceIntervalSeconds') * 1000);
    this.timer.unref();
  }

  onModuleDestroy(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }

  get retentionDays(): number {
    return Math.max(this.config.get('reportRetentionDays'), MIN_RETENTION_DAYS);
  }

  /** Deletes every kept report made before now - retention; answers the ids purged. */
  async purge(now = new Date()): Promise<string[]> {
    const days = this.retentionDays;
    const cutoff = new Date(now.getTime() - days * DAY_MS);
    const purged: string[] = [];
    for (;;) {
      const batch = await this.ds.transaction(async (em) => {
        // SKIP LOCKED: replicas sweeping at once take disjoint reports.
        const [rows]: [PurgedRow[], number] = await em.query(
          `DELETE FROM reports WHERE id IN (
             SELECT id FROM reports WHERE created_at < $1
              ORDER BY created_at, id LIMIT $2 FOR UPDATE SKIP LOCKED)
           RETURNING id::text, schedule_name, period_from, period_to, format, lang,
                     digest_alg, digest, created_at`,
          [cutoff, PURGE_BATCH],
        );
        rows.sort((a, b) => Number(BigInt(a.id) - BigInt(b.id)));
        for (const r of rows) {
          await this.audit.recordIn(em, {
            ...SERVER,
            action: 'report.purged',
            target: `report:${r.id}`,
            outcome: 'success',
            reason: `older than REPORT_RETENTION_DAYS (${days})`,
            details: {
              schedule: r.schedule_name,
              format: r.format,
              lang: r.lang,
              from: r.period_from.toISOString(),
              to: r.period_to.toISOString(),
              digestAlg: r.digest_alg,
              digest: r.digest,
              createdAt: r.created_at.toISOString(),
              retentionDays: days,
            },
          });
        }
        return rows.map((r) => r.id);
      });
      purged.push(...batch);
      if (batch.length < PURGE_BATCH) break;
    }
    if (purged.length) this.logger.log(`purged ${purged.length} kept report(s) past ${days} days`);
    return purged;
  }
}
