import {
  BeforeApplicationShutdown,
  Injectable,
  Logger,
  OnApplicationBootstrap,
} from '@nestjs/common';
import { DataSource } from 'typeorm';
import { AuditService } from '../audit/audit.service';
import type { AuditActor } from '../audit/request-actor';
import { NotFoundError } from '../common/domain-errors';
import { DAY_MS, HOUR_MS, MINUTE_MS } from '../traffic/time-range';
import type { ReportFormat, ReportLang } from './report-document';
import { ReportsService, StoredReportView } from './reports.service';

export interface ReportSchedule {
  name: string;
  agentId: string | null;
  labels: string | null;
  formats: ReportFormat[];
  lang: ReportLang;
  /** The previous day's report is made once the day (in utcOffsetMinutes) is this many hours old. */
  hour: number;
  /** The day's boundaries in this offset from UTC (480 = China Standard Time). */
  utcOffsetMinutes: number;
  enabled: boolean;
  updatedBy: string | null;
  updatedAt: string;
}

interface Row {
  name: string;
  agent_id: string | null;
  labels: string | null;
  formats: ReportFormat[];
  lang: ReportLang;
  hour: number;
  utc_offset_minutes: number;
  enabled: boolean;
  updated_by: string | null;
  updated_at: Date;
}

const view = (r: Row): ReportSchedule => ({
  name: r.name,
  agentId: r.agent_id,
  labels: r.labels,
  formats: r.formats,
  lang: r.lang,
  hour: r.hour,
  utcOffsetMinutes: r.utc_offset_minutes,
  enabled: r.enabled,
  updatedBy: r.updated_by,
  updatedAt: r.updated_at.toISOString(),
});

/** The day a schedule reports on at `now`, or null before its hour. */
export function duePeriod(s: ReportSchedule, now: Date): { from: Date; to: Date } | null {
  const offset = s.utcOffsetMinutes * MINUTE_MS;
  const local = now.getTime() + offset;
  const dayStart = Math.floor(local / DAY_MS) * DAY_MS;
  if (local - dayStart < s.hour * HOUR_MS) return null;
  return { from: new Date(dayStart - DAY_MS - offset), to: new Date(dayStart - offset) };
}

const SERVER: AuditActor = { actor: null, source: 'server' };

/**
 * Daily reports: every minute the schedules are checked against the clock and
 * the previous day's report is made once per schedule, format and language
 * (the unique index keeps several servers from making it twice). `tick(now)`
 * is the whole scheduler, so a test drives it with any clock it likes.
 */
@Injectable()
export class ReportSchedulerService implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly logger = new Logger('reports');
  private timer: NodeJS.Timeout | null = null;
  private running: Promise<StoredReportView[]> = Promise.resolve([]);

  constructor(
    private readonly ds: DataSource,
    private readonly reports: ReportsService,
    private readonly audit: AuditService,
  ) {}

  onApplicationBootstrap(): void {
    this.timer = setInterval(() => {
      void this.tick(new Date()).catch((err: Error) =>
        this.logger.error(`scheduled reports failed: ${err.message}`),
      );
    }, MINUTE_MS);
    this.timer.unref();
  }

  async beforeApplicationShutdown(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    await this.running.catch(() => undefined);
  }

  /** Makes every report due at `now` that does not exist yet; answers the ones made. */
  tick(now: Date): Promise<StoredReportView[]> {
    const run = async () => {
      const made: StoredReportView[] = [];
      for (const s of await this.list()) {
        if (!s.enabled) continue;
        const period = duePeriod(s, now);
        if (!period) continue;
        for (const format of s.formats) {
          const exists: unknown[] = await this.ds.query(
            `SELECT 1 FROM reports WHERE schedule_name = $1 AND period_from = $2 AND format = $3 AND lang = $4`,
            [s.name, period.from, format, s.lang],
          );
          if (exists.length) continue;
          try {
            const r = await this.reports.generateStored(
              {
                ...period,
                agentId: s.agentId ?? undefined,
                labels: s.labels ?? undefined,
                lang: s.lang,
              },
              format,
              s.name,
              { ...SERVER, actor: `schedule:${s.name}` },
            );
            if (r) made.push(r);
          } catch (err) {
            this.logger.error(
              `report ${s.name} (${format}) for ${period.from.toISOString()} failed: ${(err as Error).message}`,
            );
          }
        }
      }
      return made;
    };
    const next = this.running.catch(() => []).then(run);
    this.running = next;
    return next;
  }

  async list(): Promise<ReportSchedule[]> {
    const rows: Row[] = await this.ds.query(`SELECT * FROM report_schedules ORDER BY name`);
    return rows.map(view);
  }

  async put(
    name: string,
    s: Omit<ReportSchedule, 'name' | 'updatedBy' | 'updatedAt'>,
    actor: AuditActor,
  ): Promise<ReportSchedule> {
    return this.ds.transaction(async (em) => {
      const rows: Row[] = await em.query(
        `INSERT INTO report_schedules (name, agent_id, labels, formats, lang, hour, utc_offset_minutes, enabled, updated_by, updated_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, now())
         ON CONFLICT (name) DO UPDATE SET agent_id = EXCLUDED.agent_id, labels = EXCLUDED.labels,
           formats = EXCLUDED.formats, lang = EXCLUDED.lang, hour = EXCLUDED.hour,
           utc_offset_minutes = EXCLUDED.utc_offset_minutes, enabled = EXCLUDED.enabled,
           updated_by = EXCLUDED.updated_by, updated_at = now()
         RETURNING *`,
        [
          name,
          s.agentId,
          s.labels,
          s.formats,
          s.lang,
          s.hour,
          s.utcOffsetMinutes,
          s.enabled,
          actor.actor ?? null,
        ],
      );
      const v = view(rows[0]);
      await this.audit.recordIn(em, {
        ...actor,
        action: 'report.schedule_changed',
        target: `report-schedule:${name}`,
        outcome: 'success',
        details: { ...v, updatedAt: undefined, updatedBy: undefined },
      });
      return v;
    });
  }

  async remove(name: string, actor: AuditActor): Promise<void> {
    await this.ds.transaction(async (em) => {
      const [, n]: [unknown, number] = await em.query(
        `DELETE FROM report_schedules WHERE name = $1`,
        [name],
      );
      if (!n) throw new NotFoundError(`no report schedule ${name}`);
      await this.audit.recordIn(em, {
        ...actor,
        action: 'report.schedule_deleted',
        target: `report-schedule:${name}`,
        outcome: 'success',
      });
    });
  }
}
