import type { EntityManager } from 'typeorm';
import type { NormalizedScan } from '../storage/normalized-batch';
import { API_PROTOCOLS, apiName } from '../storage/codes';
import type { Finding } from './anomaly-types';
import type { Thresholds } from './thresholds';

/** One (protocol, source, port) a host saw fail: what a fleet-wide sweep is counted by. */
interface SweepKey {
  protocol: string;
  source: string;
  port: number;
}

const keyOf = (k: SweepKey) => `${k.protocol}|${k.source}|${k.port}`;

/** The window's failed (source, port) pairs, one per key. */
function sweepKeys(scan: NormalizedScan | null): SweepKey[] {
  const out = new Map<string, SweepKey>();
  for (const s of scan?.sources ?? []) {
    if (s.topPortFailed === 0 || s.topPort === 0) continue;
    const k = { protocol: apiName(API_PROTOCOLS, s.protocol), source: s.src, port: s.topPort };
    out.set(keyOf(k), k);
  }
  return [...out.values()];
}

const columns = (keys: SweepKey[]) => [
  keys.map((k) => k.protocol),
  keys.map((k) => k.source),
  keys.map((k) => k.port),
];

/**
 * Fleet-wide sweeps: one source trying one port on many hosts, each of which
 * sees a single failed attempt (below any per-host threshold). Every host's
 * failed (source, port) is kept in PostgreSQL (fleet_sweep_hosts) with the
 * end of the window it came from (the latest); when as many hosts as
 * hostSweepFailedDestinations saw it within regroupSeconds of a window, one host_sweep is
 * raised, filed under the host that crossed the threshold and extended by
 * the others, whichever replica serves them. All of it in the caller's
 * detection transaction, under the key's fleet_sweeps row lock, so that two
 * replicas count one after the other and never both raise.
 */
export class FleetSweeps {
  /**
   * Locks the key of every failure in the run before any is counted, in one
   * order on every replica, so that two runs never wait on each other in a
   * cycle. Answers whether there is anything to observe.
   */
  async lock(
    em: EntityManager,
    windows: { windowEnd: Date; scan: NormalizedScan | null }[],
  ): Promise<boolean> {
    const latest = new Map<string, { key: SweepKey; at: Date }>();
    for (const w of windows) {
      for (const key of sweepKeys(w.scan)) {
        const seen = latest.get(keyOf(key));
        if (!seen || seen.at < w.windowEnd) latest.set(keyOf(key), { key, at: w.windowEnd });
      }
    }
    if (latest.size === 0) return false;
    const sorted = [...latest.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    const keys = sorted.map(([, v]) => v.key);
    // Rows are inserted (and their locks taken) in the order unnest gives them.
    await em.query(
      `INSERT INTO fleet_sweeps (protocol, source, port, last_seen)
       SELECT * FROM unnest($1::text[], $2::text[], $3::int[], $4::timestamptz[])
       ON CONFLICT (protocol, source, port) DO UPDATE
         SET last_seen = GREATEST(fleet_sweeps.last_seen, EXCLUDED.last_seen)`,
      [...columns(keys), sorted.map(([, v]) => v.at)],
    );
    return true;
  }

  /** Records one window's failures (their keys locked by `lock`); answers the fleet-wide findings. */
  async observe(
    em: EntityManager,
    agentId: string,
    windowEnd: Date,
    scan: NormalizedScan | null,
    t: Thresholds,
  ): Promise<{ agentId: string; finding: Finding }[]> {
    const keys = sweepKeys(scan);
    if (keys.length === 0) return [];
    await em.query(
      `INSERT INTO fleet_sweep_hosts (protocol, source, port, agent_id, last_seen)
       SELECT p, s, n, $4, $5 FROM unnest($1::text[], $2::text[], $3::int[]) AS u(p, s, n)
       ON CONFLICT (protocol, source, port, agent_id) DO UPDATE
         SET last_seen = GREATEST(fleet_sweep_hosts.last_seen, EXCLUDED.last_seen)`,
      [...columns(keys), agentId, windowEnd],
    );
    // Hosts within regroupSeconds of this window, before or after it (a window replayed late is
    // not counted with today's).
    const regroup = t.regroupSeconds * 1000;
    const horizon = [
      new Date(windowEnd.getTime() - regroup),
      new Date(windowEnd.getTime() + regroup),
    ];
    const counted = (await em.query(
      `SELECT h.protocol, h.source, h.port, count(*)::int AS hosts
         FROM fleet_sweep_hosts h
         JOIN unnest($1::text[], $2::text[], $3::int[]) AS u(p, s, n)
           ON h.protocol = u.p AND h.source = u.s AND h.port = u.n
        WHERE h.last_seen BETWEEN $4 AND $5
        GROUP BY h.protocol, h.source, h.port
       HAVING count(*) >= $6`,
      [...columns(keys), ...horizon, t.hostSweepFailedDestinations],
    )) as (SweepKey & { hosts: number })[];
    const out: { agentId: string; finding: Finding }[] = [];
    for (const c of counted.sort((a, b) => (keyOf(a) < keyOf(b) ? -1 : 1))) {
      const key = `fleet|${keyOf(c)}`;
      // A live incident is extended under the host it was filed under, whichever that was.
      const [live] = (await em.query(
        `SELECT agent_id FROM anomalies
          WHERE type = 'host_sweep' AND group_key = $1 AND group_key LIKE 'fleet|%'
            AND status IN ('open', 'acknowledged', 'suppressed')`,
        [key],
      )) as { agent_id: string }[];
      out.push({
        agentId: live?.agent_id ?? agentId,
        finding: {
          type: 'host_sweep',
          severity: 'high',
          key,
          summary: `${c.source} tried ${c.protocol} port ${c.port} on ${c.hosts} hosts of the fleet and failed`,
          figures: {
            fleetWide: true,
            source: c.source,
            port: c.port,
            protocol: c.protocol,
            hosts: c.hosts,
            latestHost: agentId,
          },
          threshold: { hostSweepFailedDestinations: t.hostSweepFailedDestinations },
        },
      });
    }
    return out;
  }

  /** Forgets what no window can count any more: older than `seconds` by the database's clock. */
  async expire(
    ds: { query(sql: string, params?: unknown[]): Promise<unknown> },
    seconds: number,
  ): Promise<void> {
    await ds.query(
      `DELETE FROM fleet_sweep_hosts WHERE last_seen < now() - make_interval(secs => $1)`,
      [seconds],
    );
    await ds.query(`DELETE FROM fleet_sweeps WHERE last_seen < now() - make_interval(secs => $1)`, [
      seconds,
    ]);
  }
}
