// Generated history for bench:queries: the traffic, ports and talkers
// series at every resolution the dashboard queries read, written straight into
// the server's tables with generate_series inside PostgreSQL (no rows cross the
// socket, so it is faster than COPY from Node). Per host and bucket: traffic
// 2 directions x 4 protocols on eth0, 5 server ports, 4 talker pairs (one
// source per host, the destinations shared by the fleet).
import { Client } from 'pg';
import { partitionDdl } from '@tidewatch/server/dist/storage/partitions';

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;

const floorTo = (t: number, step: number) => Math.floor(t / step) * step;

type Kind = 'traffic' | 'ports' | 'talkers';
type Res = 'raw' | '1m' | '1h';

// Each shape's columns and the rows of one (host, bucket); $4 scales counters to the step.
const SHAPES: Record<Kind, { cols: string; select: string; from: string }> = {
  traffic: {
    cols: 'iface, direction, family, protocol, packets, bytes',
    select: `'eth0', d, 1, p, ((10 + random() * 100) * $4)::bigint, ((1e3 + random() * 1e5) * $4)::bigint`,
    from: 'generate_series(1, 2) d, generate_series(1, 4) p',
  },
  ports: {
    cols: 'port, protocol, packets, bytes, connections, abnormal',
    select: `port, CASE WHEN port = 53 THEN 2 ELSE 1 END, ((random() * 100) * $4)::bigint,
             ((random() * 1e5) * $4)::bigint, ((random() * 2) * $4)::bigint, port = 31337`,
    from: 'unnest(ARRAY[22, 53, 443, 5432, 31337]) port',
  },
  talkers: {
    cols: 'src, dst, protocol, packets, bytes',
    select: `'198.18.' || (a.n / 250) || '.' || (a.n % 250 + 1), '198.19.0.' || k, 1,
             ((random() * 100) * $4)::bigint, ((random() * 1e5) * $4)::bigint`,
    from: 'generate_series(1, 4) k',
  },
};

const STEP_MS: Record<Res, number> = { raw: 10_000, '1m': MINUTE, '1h': HOUR };
const SLICE_MS: Record<Res, number> = { raw: 10 * MINUTE, '1m': HOUR, '1h': DAY };

/**
 * The rows the 1 h / 24 h / 30 d ranges ending at `t0` read (see the server's
 * exactPlan and autoResolution): 1 h rollups over the 30 days; traffic at 1 min
 * over the last 25 h (the 24 h series); raw traffic over the last 65 min (the
 * 1 h series); and around every range's ends, the 1 min and raw rows its edges
 * come from.
 */
export async function generateQueryHistory(
  db: Client,
  ids: string[],
  t0: number,
  connectionString: string,
  log: (m: string) => void,
): Promise<Record<string, number>> {
  const starts = [t0 - HOUR, t0 - DAY, t0 - 30 * DAY];
  const plan: [Kind, Res, number, number][] = [];
  for (const k of ['traffic', 'ports', 'talkers'] as const) {
    plan.push([k, '1h', floorTo(t0 - 30 * DAY, HOUR), floorTo(t0, HOUR)]);
    // The 1 min rows around each end: [hour before, hour after) of it; the 24 h series reads all.
    if (k === 'traffic') plan.push([k, '1m', floorTo(t0 - 25 * HOUR, MINUTE), t0]);
    else plan.push([k, '1m', floorTo(t0 - 2 * HOUR, MINUTE), t0]);
    for (const s of starts.slice(k === 'traffic' ? 2 : 1)) {
      plan.push([k, '1m', floorTo(s - HOUR, MINUTE), floorTo(s + HOUR, MINUTE)]);
    }
    if (k === 'traffic') plan.push([k, 'raw', floorTo(t0 - 65 * MINUTE, 10_000), t0]);
    else plan.push([k, 'raw', floorTo(t0 - 2 * MINUTE, 10_000), t0]);
    for (const s of starts.slice(k === 'traffic' ? 1 : 0)) {
      plan.push([k, 'raw', floorTo(s - 2 * MINUTE, 10_000), floorTo(s + 2 * MINUTE, 10_000)]);
    }
  }
  // Partitions first (one session), then the rows in time slices over two sessions.
  const slices: [string, Res, Kind, number, number][] = [];
  for (const [kind, res, from, to] of plan) {
    const table = res === 'raw' ? `${kind}_raw` : `${kind}_${res}`;
    const unit = res === '1h' ? 'month' : 'day';
    for (let d = floorTo(from, DAY); d < to; d += DAY) {
      const day = new Date(d);
      const start =
        unit === 'month' ? new Date(Date.UTC(day.getUTCFullYear(), day.getUTCMonth(), 1)) : day;
      await db.query(partitionDdl(table, start, unit, res !== 'raw'));
    }
    // Slices of a few hundred thousand rows each keep every sort in memory.
    for (let a = from; a < to; a += SLICE_MS[res]) {
      slices.push([table, res, kind, a, Math.min(to, a + SLICE_MS[res])]);
    }
  }
  const counts: Record<string, number> = {};
  const t = performance.now();
  let next = 0;
  const work = async (session: Client) => {
    while (next < slices.length) {
      const [table, res, kind, from, to] = slices[next++];
      const timeCol = res === 'raw' ? 'window_start' : 'bucket';
      const shape = SHAPES[kind];
      const r = await session.query(
        `INSERT INTO ${table} (agent_id, ${timeCol}, ${shape.cols})
         SELECT a.id, b.t, ${shape.select}
           FROM unnest($1::uuid[]) WITH ORDINALITY a(id, n),
                generate_series($2::timestamptz, $3::timestamptz, $5::interval) b(t), ${shape.from}
          ORDER BY b.t`,
        [
          ids,
          new Date(from),
          new Date(to - STEP_MS[res]),
          STEP_MS[res] / 10_000,
          `${STEP_MS[res] / 1000} seconds`,
        ],
      );
      counts[table] = (counts[table] ?? 0) + (r.rowCount ?? 0);
      if (next % 20 === 0)
        log(
          `${next} of ${slices.length} slices in ${((performance.now() - t) / 1000).toFixed(0)} s`,
        );
    }
  };
  const second = new Client({ connectionString: connectionString });
  await second.connect();
  try {
    await Promise.all([work(db), work(second)]);
  } finally {
    await second.end();
  }
  await db.query('ANALYZE');
  return counts;
}
