// Fleet rollups: traffic, ports and talkers summed over every host per window start, minute,
// hour and day (series.ts: FLEET_SERIES, fleetTable). They are derived, never written by
// ingest: every writer adding to the same fleet row in its own transaction would serialize
// all flushes on those rows. Instead, per source resolution (raw, 1 min, 1 h):
// - sealed_to: buckets before it are closed. A flush that writes into a closed bucket (a late
//   window: spool replay, catch-up) inserts a marker row in fleet_rollup_dirty in its own
//   transaction (markLateWindows); live windows, into open buckets, write nothing extra.
// - summed_to: buckets before it are summed into the fleet tables, except the marked ones.
// FleetRollupService advances both on a timer: (A) raises sealed_to under an exclusive
// advisory lock that every flush holds shared while it checks sealed_to, so every flush
// either committed before A (its rows are seen by B) or sees the new sealed_to (and marks);
// (B) in one REPEATABLE READ snapshot sums [summed_to, sealed_to), recomputes the marked
// buckets from the per-agent tables, deletes exactly the markers that snapshot saw, and
// moves summed_to up. Queries (series-query.ts) read the summed, unmarked buckets from the
// fleet tables and sum the rest (open and marked buckets) from the per-agent tables, in one
// snapshot with the state they planned from: the answers equal the per-agent tables' own.
import { Injectable, Logger, OnApplicationBootstrap, OnModuleDestroy } from '@nestjs/common';
import { DataSource, EntityManager } from 'typeorm';
import { ConfigurationService } from '../config/configuration.service';
import { PartitionMaintenanceService } from './partition-maintenance.service';
import {
  FLEET_TIERS,
  FleetResolution,
  fleetTable,
  hasFleetRollups,
  Resolution,
  RESOLUTIONS,
  Series,
  SERIES,
  tableFor,
} from './series';

/** Held shared by each flush while it checks sealed_to; exclusive while sealed_to moves. */
export const FLEET_SEAL_LOCK = 0x7477_666c;
/** One derivation at a time across replicas. */
const FLEET_DERIVE_LOCK = 0x7477_6664;

/** Something that runs SQL inside the caller's transaction. */
export interface SqlRunner {
  query(sql: string, params?: unknown[]): Promise<unknown>;
}

const MINUTE_MS = 60_000;
const HOUR_MS = 3_600_000;
const DAY_MS = 86_400_000;
/** Granularity of sealed_to per source resolution. */
export const FLEET_STEP_MS: Record<Resolution, number> = {
  raw: 1_000,
  '1m': MINUTE_MS,
  '1h': HOUR_MS,
};
/** How much source time one derivation transaction sums at most. */
const CHUNK_MS: Record<Resolution, number> = {
  raw: 15 * MINUTE_MS,
  '1m': 6 * HOUR_MS,
  '1h': 7 * DAY_MS,
};

const floorTo = (t: number, step: number) => Math.floor(t / step) * step;
const timeCol = (r: Resolution) => (r === 'raw' ? 'window_start' : 'bucket');

/**
 * In a flush's transaction, after its rows are written: a marker for each (resolution,
 * bucket) it wrote into that is already sealed. Two statements: the shared lock must be
 * held before the statement that reads sealed_to takes its snapshot.
 */
export async function markLateWindows(runner: SqlRunner, windowStarts: Date[]): Promise<void> {
  if (windowStarts.length === 0) return;
  await runner.query('SELECT pg_advisory_xact_lock_shared($1)', [FLEET_SEAL_LOCK]);
  await runner.query(
    `INSERT INTO fleet_rollup_dirty (resolution, bucket)
     SELECT DISTINCT s.resolution, b.bucket
       FROM fleet_rollup_state s,
            LATERAL (SELECT CASE s.resolution WHEN 'raw' THEN w
                              WHEN '1m' THEN date_trunc('minute', w, 'UTC')
                              ELSE date_trunc('hour', w, 'UTC') END AS bucket
                       FROM unnest($1::timestamptz[]) w) b
      WHERE b.bucket < s.sealed_to`,
    [windowStarts],
  );
}

/** The aggregate that adds rows of `source` (raw: the series' own; rollups: their merge). */
function mergeAgg(s: Series, sourceIsRaw: boolean): string[] {
  return s.rollup.map((c) => {
    if (sourceIsRaw) return c.agg;
    if (c.merge === 'sum') return `sum(${c.name})`;
    if (c.merge === 'max') return `max(${c.name})`;
    if (c.merge === 'or') return `bool_or(${c.name})`;
    return `tw_sum_array(${c.name})`;
  });
}

/** INSERT … SELECT of the fleet rows of `target` from `source` rows matching `where`. */
function deriveSql(
  s: Series,
  target: FleetResolution,
  source: string,
  where: string,
  block?: string,
): string {
  const raw = target === 'raw';
  const time = raw ? 'window_start' : (block ?? 'bucket');
  const cols = ['bucket', ...s.dims, ...s.rollup.map((c) => c.name)];
  const group = Array.from({ length: 1 + s.dims.length }, (_, i) => i + 1).join(', ');
  return `INSERT INTO ${fleetTable(s, target)} (${cols.join(', ')})
    SELECT ${time}, ${s.dims.join(', ')}, ${mergeAgg(s, raw).join(', ')}
      FROM ${source} WHERE ${where} GROUP BY ${group}`;
}

export interface DeriveReport {
  /** summed_to per source resolution after the pass. */
  summedTo: Record<Resolution, Date | null>;
  /** Marked buckets recomputed. */
  recomputed: number;
  chunks: number;
}

/** Derives the fleet rollups on its own timer (FLEET_ROLLUP_INTERVAL_SECONDS). */
@Injectable()
export class FleetRollupService implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly logger = new Logger('fleet-rollups');
  private timer: NodeJS.Timeout | null = null;
  private running: Promise<DeriveReport> | null = null;
  private readonly series = SERIES.filter(hasFleetRollups);

  constructor(
    private readonly ds: DataSource,
    private readonly config: ConfigurationService,
    private readonly partitions: PartitionMaintenanceService,
  ) {}

  onApplicationBootstrap(): void {
    const tick = () => {
      this.run().catch((err: Error) =>
        this.logger.error(`fleet rollup derivation failed: ${err.message}`),
      );
    };
    // Not awaited: a first pass over a long history must not hold the server's start.
    tick();
    this.timer = setInterval(tick, this.config.get('fleetRollupIntervalSeconds') * 1000);
    this.timer.unref();
  }

  onModuleDestroy(): void {
    if (this.timer) clearInterval(this.timer);
  }

  /** One pass as of `now` (a pass already running is awaited instead). */
  run(now = new Date()): Promise<DeriveReport> {
    if (!this.running) {
      this.running = this.pass(now).finally(() => {
        this.running = null;
      });
    }
    return this.running;
  }

  private async pass(now: Date): Promise<DeriveReport> {
    const report: DeriveReport = {
      summedTo: { raw: null, '1m': null, '1h': null },
      recomputed: 0,
      chunks: 0,
    };
    const grace = this.config.get('fleetRollupGraceSeconds') * 1000;
    const closedTo = new Map(
      RESOLUTIONS.map((r) => [r, floorTo(now.getTime() - grace, FLEET_STEP_MS[r])]),
    );
    // Rounds: one seal for every resolution still behind (a seal waits for the flushes in
    // flight), then each one's sum. A catch-up over a long history takes several rounds.
    while (closedTo.size > 0) {
      const chunks: { r: Resolution; start: number; target: number }[] = [];
      for (const [r, to] of closedTo) chunks.push({ r, ...(await this.nextTarget(r, to)) });
      const sealed = await this.seal(chunks);
      for (const { r } of chunks) {
        const { sealed_to: sealedTo, summed_to: summedTo } = sealed.get(r)!;
        const tables = this.series.flatMap((s) =>
          [r, ...FLEET_TIERS[r].map((x) => x.tier)].map((x) => fleetTable(s, x)),
        );
        if (sealedTo.getTime() > summedTo.getTime())
          await this.partitions.ensureRange(summedTo, new Date(sealedTo.getTime() - 1), tables);
        const done = await this.sum(r, report);
        if (done === null) return report; // another replica is deriving
        report.summedTo[r] = done;
        report.chunks++;
        if (done.getTime() >= closedTo.get(r)!) closedTo.delete(r);
      }
    }
    return report;
  }

  /**
   * The next chunk of `r`: from summed_to (the first row's bucket on the first pass) to at
   * most CHUNK_MS of source time past the next row, and never past closedTo.
   */
  private async nextTarget(
    r: Resolution,
    closedTo: number,
  ): Promise<{ start: number; target: number }> {
    const [st]: { summed_to: Date | null }[] = await this.ds.query(
      `SELECT summed_to FROM fleet_rollup_state WHERE resolution = $1`,
      [r],
    );
    const from = st.summed_to ? st.summed_to.getTime() : -Infinity;
    // The first row at or after summed_to: empty stretches are skipped in one step.
    const next: { t: Date | null }[] = await this.ds.query(
      `SELECT min(t) AS t FROM (${this.series
        .map(
          (s) =>
            `(SELECT ${timeCol(r)} AS t FROM ${tableFor(s, r)}${
              st.summed_to ? ` WHERE ${timeCol(r)} >= $1` : ''
            } ORDER BY 1 LIMIT 1)`,
        )
        .join(' UNION ALL ')}) x`,
      st.summed_to ? [st.summed_to] : [],
    );
    if (!next[0].t) return { start: Number.isFinite(from) ? from : closedTo, target: closedTo };
    const start = Math.max(from, floorTo(next[0].t.getTime(), FLEET_STEP_MS[r]));
    const target = Math.min(closedTo, start + CHUNK_MS[r]);
    return { start: Math.min(Number.isFinite(from) ? from : start, target), target };
  }

  /** (A) Seals each chunk's resolution up to its target: waits for the flushes that checked the old sealed_to. */
  private async seal(
    chunks: { r: Resolution; start: number; target: number }[],
  ): Promise<Map<Resolution, { sealed_to: Date; summed_to: Date }>> {
    return this.ds.transaction(async (em) => {
      await em.query('SELECT pg_advisory_xact_lock($1)', [FLEET_SEAL_LOCK]);
      const out = new Map<Resolution, { sealed_to: Date; summed_to: Date }>();
      for (const { r, start, target } of chunks) {
        const [rows]: [{ sealed_to: Date; summed_to: Date }[], number] = await em.query(
          `UPDATE fleet_rollup_state
              SET sealed_to = greatest(coalesce(sealed_to, $2), $2),
                  summed_to = coalesce(summed_to, $3)
            WHERE resolution = $1 RETURNING sealed_to, summed_to`,
          [r, new Date(target), new Date(start)],
        );
        out.set(r, rows[0]);
      }
      return out;
    });
  }

  /** (B) Sums [summed_to, sealed_to) and recomputes the marked buckets, in one snapshot. */
  private async sum(r: Resolution, report: DeriveReport): Promise<Date | null> {
    return this.ds.transaction('REPEATABLE READ', async (em) => {
      const [lock]: { ok: boolean }[] = await em.query(
        'SELECT pg_try_advisory_xact_lock($1) AS ok',
        [FLEET_DERIVE_LOCK],
      );
      if (!lock.ok) return null;
      const [st]: { sealed_to: Date; summed_to: Date }[] = await em.query(
        `SELECT sealed_to, summed_to FROM fleet_rollup_state WHERE resolution = $1`,
        [r],
      );
      const [dirtyRows]: [{ bucket: Date }[], number] = await em.query(
        `DELETE FROM fleet_rollup_dirty WHERE resolution = $1 AND bucket < $2 RETURNING bucket`,
        [r, st.sealed_to],
      );
      // Marked buckets not summed yet are summed below with the rest of the range.
      const dirty = [
        ...new Set(
          dirtyRows
            .map((d) => new Date(d.bucket).getTime())
            .filter((t) => t < st.summed_to.getTime()),
        ),
      ].map((t) => new Date(t));
      await this.derive(em, r, st.summed_to, st.sealed_to, dirty);
      await em.query(`UPDATE fleet_rollup_state SET summed_to = sealed_to WHERE resolution = $1`, [
        r,
      ]);
      report.recomputed += dirty.length;
      return st.sealed_to;
    });
  }

  private async derive(
    em: EntityManager,
    r: Resolution,
    from: Date,
    to: Date,
    dirty: Date[],
  ): Promise<void> {
    const t = timeCol(r);
    for (const s of this.series) {
      const target = fleetTable(s, r);
      const source = tableFor(s, r);
      if (to.getTime() > from.getTime()) {
        await em.query(`DELETE FROM ${target} WHERE bucket >= $1 AND bucket < $2`, [from, to]);
        await em.query(deriveSql(s, r, source, `${t} >= $1 AND ${t} < $2`), [from, to]);
      }
      if (dirty.length) {
        await em.query(`DELETE FROM ${target} WHERE bucket = ANY($1::timestamptz[])`, [dirty]);
        await em.query(deriveSql(s, r, source, `${t} = ANY($1::timestamptz[])`), [dirty]);
      }
      // Tiers: each block that is now wholly summed, from the fleet's rows just written.
      for (const { tier, start, end, sql } of FLEET_TIERS[r]) {
        const blocks = new Set<number>();
        for (let d = start(from.getTime()); end(d) <= to.getTime(); d = end(d))
          if (end(d) > from.getTime()) blocks.add(d);
        for (const b of dirty) {
          const d = start(b.getTime());
          if (end(d) <= to.getTime()) blocks.add(d);
        }
        if (blocks.size === 0) continue;
        const list = [...blocks].sort((a, b) => a - b).map((d) => new Date(d));
        const lo = list[0];
        const hi = new Date(end(list[list.length - 1].getTime()));
        await em.query(`DELETE FROM ${fleetTable(s, tier)} WHERE bucket = ANY($1::timestamptz[])`, [
          list,
        ]);
        await em.query(
          deriveSql(
            s,
            tier,
            target,
            `bucket >= $1 AND bucket < $2 AND ${sql} = ANY($3::timestamptz[])`,
            sql,
          ),
          [lo, hi, list],
        );
      }
    }
  }
}
