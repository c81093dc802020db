import type { NormalizedScan } from '../ingest/scan-validation';
import { API_PROTOCOLS, apiName } from '../storage/codes';
import type { Finding } from './anomaly-types';
import type { Thresholds } from './thresholds';

interface Track {
  /** agent -> last window end (ms) it saw the source fail on the port */
  hosts: Map<string, number>;
  /** The host the fleet-wide incident is filed under, once raised. */
  anchor: string | null;
}

const MAX_TRACKS = 100_000;

/**
 * Fleet-wide sweeps: one source trying one port on many hosts, each of which
 * sees a single failed attempt (below any per-host threshold). Every host's
 * failed (source, port) is remembered for regroupSeconds; when as many hosts
 * as hostSweepFailedDestinations saw it, one host_sweep is raised, filed under
 * the host that crossed the threshold and extended by the others. Kept in this
 * replica's memory: with several replicas each sees the agents it serves.
 */
export class FleetSweepTracker {
  private readonly tracks = new Map<string, Track>();

  observe(
    agentId: string,
    windowEnd: Date,
    scan: NormalizedScan | null,
    t: Thresholds,
  ): { agentId: string; finding: Finding }[] {
    if (!scan) return [];
    const now = windowEnd.getTime();
    const horizon = now - t.regroupSeconds * 1000;
    const out: { agentId: string; finding: Finding }[] = [];
    for (const s of scan.sources) {
      if (s.topPortFailed === 0 || s.topPort === 0) continue;
      const protocol = apiName(API_PROTOCOLS, s.protocol);
      const key = `${protocol}|${s.src}|${s.topPort}`;
      let track = this.tracks.get(key);
      if (!track) {
        if (this.tracks.size >= MAX_TRACKS) this.prune(horizon);
        track = { hosts: new Map(), anchor: null };
        this.tracks.set(key, track);
      }
      for (const [h, at] of track.hosts) if (at < horizon) track.hosts.delete(h);
      track.hosts.set(agentId, now);
      if (track.hosts.size < t.hostSweepFailedDestinations) continue;
      track.anchor ??= agentId;
      out.push({
        agentId: track.anchor,
        finding: {
          type: 'host_sweep',
          severity: 'high',
          key: `fleet|${key}`,
          summary: `${s.src} tried ${protocol} port ${s.topPort} on ${track.hosts.size} hosts of the fleet and failed`,
          figures: {
            fleetWide: true,
            source: s.src,
            port: s.topPort,
            protocol,
            hosts: track.hosts.size,
            latestHost: agentId,
          },
          threshold: { hostSweepFailedDestinations: t.hostSweepFailedDestinations },
        },
      });
    }
    return out;
  }

  private prune(horizon: number): void {
    for (const [k, track] of this.tracks) {
      for (const [h, at] of track.hosts) if (at < horizon) track.hosts.delete(h);
      if (track.hosts.size === 0) this.tracks.delete(k);
    }
  }
}
