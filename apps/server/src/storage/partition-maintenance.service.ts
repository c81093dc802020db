import { Injectable, Logger, OnApplicationBootstrap, OnModuleDestroy } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { ConfigurationService } from '../config/configuration.service';
import {
  nextPeriod,
  parsePartitionName,
  partitionDdl,
  partitionName,
  periodsBetween,
  periodStart,
} from './partitions';
import { partitionedTables, partitionUnit, Resolution } from './series';

const DAY_MS = 86_400_000;
/** Serializes partition DDL across replicas. */
const PARTITION_LOCK = 0x7469_6465;

export interface MaintenanceReport {
  created: string[];
  dropped: string[];
}

/**
 * Creates partitions ahead of time (at start, then on a timer, and on demand
 * for late or replayed data) and drops whole partitions past retention.
 */
@Injectable()
export class PartitionMaintenanceService implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly logger = new Logger('partitions');
  private readonly known = new Set<string>();
  private timer: NodeJS.Timeout | null = null;

  constructor(
    private readonly ds: DataSource,
    private readonly config: ConfigurationService,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    await this.run();
    const every = this.config.get('maintenanceIntervalSeconds') * 1000;
    this.timer = setInterval(() => {
      this.run().catch((err: Error) => this.logger.error(`maintenance failed: ${err.message}`));
    }, every);
    this.timer.unref();
  }

  onModuleDestroy(): void {
    if (this.timer) clearInterval(this.timer);
  }

  retentionDays(resolution: Resolution): number {
    const key = (
      { raw: 'retentionRawDays', '1m': 'retention1mDays', '1h': 'retention1hDays' } as const
    )[resolution];
    return this.config.get(key);
  }

  /** One maintenance pass as of `now`: partitions for yesterday..now+ahead, then retention. */
  async run(now = new Date()): Promise<MaintenanceReport> {
    const from = new Date(now.getTime() - DAY_MS);
    const to = new Date(now.getTime() + this.config.get('partitionsAheadDays') * DAY_MS);
    const created = await this.ensureRange(from, to);
    const dropped = await this.applyRetention(now);
    if (created.length || dropped.length) {
      this.logger.log(`partitions created ${created.length}, dropped ${dropped.length}`);
    }
    return { created, dropped };
  }

  /** Makes sure every partitioned table (or those of `only`) has partitions covering [from, to]. */
  async ensureRange(from: Date, to: Date, only?: string[]): Promise<string[]> {
    const wanted: { name: string; ddl: string }[] = [];
    for (const { table, resolution, updatedInPlace } of partitionedTables()) {
      if (only && !only.includes(table)) continue;
      const unit = partitionUnit(resolution);
      for (const start of periodsBetween(from, to, unit)) {
        const name = partitionName(table, start, unit);
        if (!this.known.has(name))
          wanted.push({ name, ddl: partitionDdl(table, start, unit, updatedInPlace) });
      }
    }
    if (wanted.length === 0) return [];
    const created: string[] = [];
    await this.ds.transaction(async (em) => {
      await em.query('SELECT pg_advisory_xact_lock($1)', [PARTITION_LOCK]);
      const existing: { relname: string }[] = await em.query(
        `SELECT relname FROM pg_class WHERE relname = ANY($1::text[]) AND relkind = 'r'`,
        [wanted.map((w) => w.name)],
      );
      const have = new Set(existing.map((r) => r.relname));
      for (const w of wanted) {
        if (!have.has(w.name)) {
          await em.query(w.ddl);
          created.push(w.name);
        }
      }
    });
    for (const w of wanted) this.known.add(w.name);
    return created;
  }

  /** On-demand partitions for the window starts a write is about to store. */
  async ensureFor(times: Date[]): Promise<void> {
    const days = new Map<number, Date>();
    for (const t of times) {
      const d = periodStart(t, 'day');
      days.set(d.getTime(), d);
    }
    for (const d of days.values()) {
      if (!this.known.has(partitionName('traffic_raw', d, 'day'))) {
        await this.ensureRange(d, d);
      }
    }
  }

  /** Drops whole partitions that end at or before now - retention, per resolution. */
  async applyRetention(now = new Date()): Promise<string[]> {
    const dropped: string[] = [];
    const rows: { parent: string; child: string }[] = await this.ds.query(
      `SELECT p.relname AS parent, c.relname AS child
         FROM pg_inherits i
         JOIN pg_class c ON c.oid = i.inhrelid
         JOIN pg_class p ON p.oid = i.inhparent
        WHERE p.relname = ANY($1::text[])`,
      [partitionedTables().map((t) => t.table)],
    );
    const resolutionOf = new Map(partitionedTables().map((t) => [t.table, t.resolution]));
    for (const { parent, child } of rows) {
      const parsed = parsePartitionName(parent, child);
      const resolution = resolutionOf.get(parent);
      if (!parsed || !resolution) continue;
      const cutoff = now.getTime() - this.retentionDays(resolution) * DAY_MS;
      if (nextPeriod(parsed.start, parsed.unit).getTime() <= cutoff) {
        await this.ds.transaction(async (em) => {
          await em.query('SELECT pg_advisory_xact_lock($1)', [PARTITION_LOCK]);
          await em.query(`DROP TABLE IF EXISTS ${child}`);
        });
        this.known.delete(child);
        dropped.push(child);
      }
    }
    return dropped;
  }
}
