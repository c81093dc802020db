import type {
  NormalizedBatch,
  NormalizedListening,
  NormalizedScan,
} from '../storage/normalized-batch';
import { API_DIRECTIONS, API_PROTOCOLS, apiName } from '../storage/codes';
import type { Finding, Severity } from './anomaly-types';
import { stepBaseline, type BaselineState } from './baseline';
import type { Thresholds } from './thresholds';

/** What the detectors read from one stored window. */
export interface DetectorWindow {
  windowStart: Date;
  windowEnd: Date;
  traffic: { direction: number; protocol: number; bytes: number }[];
  connections: { openedClient: number; failed: number; retransmits: number };
  drops: { count: number }[];
  abnormal: NormalizedBatch['abnormal'];
  scan: NormalizedScan | null;
  listening: NormalizedListening | null;
}

export interface DetectorState {
  baselines: Map<string, BaselineState>;
  /** `protocol/port` the host has listened on; null before its first report. */
  listening: Set<string> | null;
}

/**
 * A listening port's last_seen (listening_ports) is written when it changes or
 * is this much older than the window that shows the port again: the table
 * answers "listening during a period" to that precision without a write per
 * port per window.
 */
export const LISTENING_REFRESH_MINUTES = 5;

/** Ports whose exposure banks are assessed on (the reports' high-risk default). */
export const HIGH_RISK_PORTS = new Set([22, 135, 136, 137, 138, 139, 445, 3389]);

const proto = (code: number) => apiName(API_PROTOCOLS, code);
const dir = (code: number) => apiName(API_DIRECTIONS, code);

const span = (seconds: number) =>
  seconds >= 60 && seconds % 60 === 0 ? `${seconds / 60} min` : `${Math.round(seconds)} s`;

function scaled(value: number, threshold: number, base: Severity): Severity {
  const order: Severity[] = ['low', 'medium', 'high', 'critical'];
  const i = order.indexOf(base) + (value >= threshold * 10 ? 2 : value >= threshold * 4 ? 1 : 0);
  return order[Math.min(i, order.length - 1)];
}

/**
 * Runs every per-window detector on one window of one host. Pure: the state
 * goes in, the findings and the next state come out (the caller stores both).
 */
export function detectWindow(
  w: DetectorWindow,
  prev: DetectorState,
  t: Thresholds,
): { findings: Finding[]; state: DetectorState } {
  const findings: Finding[] = [];
  const seconds = Math.max(0.001, (w.windowEnd.getTime() - w.windowStart.getTime()) / 1000);

  const recentSeconds = w.scan?.recentSeconds ?? 0;
  for (const s of w.scan?.sources ?? []) {
    // The window's own figures, or the agent's memory of the last
    // recentSeconds when that holds more: a slow scan adds up there.
    const v =
      s.recentTopDestinationFailed > s.topDestinationRefused
        ? { dst: s.recentTopDestination, failed: s.recentTopDestinationFailed, over: recentSeconds }
        : { dst: s.topDestination, failed: s.topDestinationRefused, over: seconds };
    if (v.failed >= t.portScanFailedPorts) {
      findings.push({
        type: 'port_scan',
        severity: scaled(v.failed, t.portScanFailedPorts, 'medium'),
        key: `${proto(s.protocol)}|${s.src}>${v.dst}`,
        summary: `${s.src} had ${v.failed} ${proto(s.protocol)} ports on ${v.dst} refused or unanswered in ${span(v.over)}`,
        figures: {
          source: s.src,
          destination: v.dst,
          protocol: proto(s.protocol),
          ports: Math.max(v.dst === s.topDestination ? s.topDestinationPorts : 0, v.failed),
          failedPorts: v.failed,
          overSeconds: Math.round(v.over),
          windowFailedPorts: s.topDestinationRefused,
          pairs: s.pairs,
          refused: s.refused,
          unanswered: s.unanswered,
        },
        threshold: { portScanFailedPorts: t.portScanFailedPorts },
      });
    }
    const h =
      s.recentTopPortFailed > s.topPortFailed
        ? { port: s.recentTopPort, failed: s.recentTopPortFailed, over: recentSeconds }
        : { port: s.topPort, failed: s.topPortFailed, over: seconds };
    if (h.failed >= t.hostSweepFailedDestinations) {
      findings.push({
        type: 'host_sweep',
        severity: scaled(h.failed, t.hostSweepFailedDestinations, 'medium'),
        key: `${proto(s.protocol)}|${s.src}|${h.port}`,
        summary: `${s.src} had ${proto(s.protocol)} port ${h.port} refused or unanswered on ${h.failed} destinations in ${span(h.over)}`,
        figures: {
          source: s.src,
          port: h.port,
          protocol: proto(s.protocol),
          destinations: Math.max(h.port === s.topPort ? s.topPortDestinations : 0, h.failed),
          failedDestinations: h.failed,
          overSeconds: Math.round(h.over),
          windowFailedDestinations: h.port === s.topPort ? s.topPortFailed : 0,
          pairs: s.pairs,
        },
        threshold: { hostSweepFailedDestinations: t.hostSweepFailedDestinations },
      });
    }
  }

  for (const y of w.scan?.syns ?? []) {
    const rate = y.syns / seconds;
    const unfinished = y.attempts > 0 ? (y.halfOpen + y.refused) / y.attempts : 0;
    if (rate >= t.synFloodSynsPerSecond && unfinished >= t.synFloodUnfinishedRatio) {
      findings.push({
        type: 'syn_flood',
        severity: scaled(rate, t.synFloodSynsPerSecond, 'high'),
        key: `tcp|${y.port}`,
        summary: `${Math.round(rate)} SYN/s toward tcp port ${y.port}, ${Math.round(unfinished * 100)} % never completed`,
        figures: {
          port: y.port,
          synsPerSecond: Math.round(rate * 10) / 10,
          syns: y.syns,
          attempts: y.attempts,
          halfOpen: y.halfOpen,
          refused: y.refused,
          sources: y.sources,
        },
        threshold: {
          synFloodSynsPerSecond: t.synFloodSynsPerSecond,
          synFloodUnfinishedRatio: t.synFloodUnfinishedRatio,
        },
      });
    }
  }

  const c = w.connections;
  const tried = c.openedClient + c.failed;
  if (
    c.failed >= t.connectionFailures &&
    tried > 0 &&
    c.failed / tried >= t.connectionFailureRatio
  ) {
    findings.push({
      type: 'connection_failures',
      severity: scaled(c.failed, t.connectionFailures, 'medium'),
      key: 'host',
      summary: `${c.failed} of ${tried} outgoing connections failed`,
      figures: { failed: c.failed, attempted: tried },
      threshold: {
        connectionFailures: t.connectionFailures,
        connectionFailureRatio: t.connectionFailureRatio,
      },
    });
  }

  for (const a of w.abnormal) {
    if (a.connections < t.abnormalPortConnections) continue;
    findings.push({
      type: 'abnormal_port',
      severity: HIGH_RISK_PORTS.has(a.port) ? 'medium' : 'low',
      key: `${proto(a.protocol)}|${a.port}|${dir(a.direction)}`,
      summary: `${a.connections} ${proto(a.protocol)} connection(s) ${dir(a.direction) === 'ingress' ? 'from' : 'to'} ${a.peer} on port ${a.port}, outside the allowlist`,
      figures: {
        peer: a.peer,
        port: a.port,
        protocol: proto(a.protocol),
        direction: dir(a.direction),
        connections: a.connections,
      },
      threshold: { abnormalPortConnections: t.abnormalPortConnections },
    });
  }

  // Baselines: bytes/s per protocol × direction, retransmits/s, drops/s.
  const baselines = new Map(prev.baselines);
  const rates = new Map<string, number>();
  for (const x of w.traffic) {
    const k = `bytes|${proto(x.protocol)}|${dir(x.direction)}`;
    rates.set(k, (rates.get(k) ?? 0) + x.bytes / seconds);
  }
  // A series the host had but that is absent now is a zero, not a gap.
  for (const k of prev.baselines.keys())
    if (k.startsWith('bytes|') && !rates.has(k)) rates.set(k, 0);
  for (const [k, x] of rates) {
    const r = stepBaseline(
      baselines.get(k),
      x,
      t,
      t.baselineMinBytesPerSecond,
      w.windowStart.getUTCHours(),
    );
    baselines.set(k, r.state);
    if (!r.verdict) continue;
    const [, p, d] = k.split('|');
    findings.push({
      type: r.verdict === 'spike' ? 'traffic_spike' : 'traffic_drop',
      severity: 'medium',
      key: `${p}|${d}`,
      summary: `${p} ${d} at ${Math.round(x)} B/s against a baseline of ${Math.round(r.expected)} B/s`,
      figures: {
        protocol: p,
        direction: d,
        bytesPerSecond: Math.round(x),
        baselineBytesPerSecond: Math.round(r.expected),
        ratio: r.expected > 0 ? Math.round((x / r.expected) * 100) / 100 : 0,
      },
      threshold: {
        spikeFactor: t.spikeFactor,
        dropFactor: t.dropFactor,
        deviationBand: t.deviationBand,
      },
    });
  }
  const surge = (
    series: string,
    total: number,
    min: number,
    type: 'retransmit_surge' | 'drop_surge',
  ) => {
    const b = baselines.get(series);
    const x = total / seconds;
    const fired =
      !!b &&
      b.n >= t.baselineWarmupWindows &&
      total >= min &&
      x >= t.surgeFactor * Math.max(b.mean, min / seconds / t.surgeFactor);
    baselines.set(
      series,
      stepBaseline(b, x, { ...t, spikeFactor: Infinity, dropFactor: 0 }, Infinity).state,
    );
    if (!fired) return;
    findings.push({
      type,
      severity: 'medium',
      key: 'host',
      summary: `${total} ${type === 'retransmit_surge' ? 'retransmits' : 'drops'} in the window, ${Math.round(x)}/s against a baseline of ${Math.round((b?.mean ?? 0) * 10) / 10}/s`,
      figures: {
        total,
        perSecond: Math.round(x * 10) / 10,
        baselinePerSecond: Math.round((b?.mean ?? 0) * 10) / 10,
      },
      threshold: {
        surgeFactor: t.surgeFactor,
        [type === 'retransmit_surge' ? 'retransmitMin' : 'dropMin']: min,
      },
    });
  };
  surge('retransmits', c.retransmits, t.retransmitMin, 'retransmit_surge');
  surge(
    'drops',
    w.drops.reduce((s, d) => s + d.count, 0),
    t.dropMin,
    'drop_surge',
  );

  // Listening ports: the first report is the host's baseline; later, every new one is raised.
  let listening = prev.listening;
  if (w.listening) {
    const now = new Set(w.listening.ports.map((p) => `${proto(p.protocol)}/${p.port}`));
    if (listening) {
      for (const p of w.listening.ports) {
        const k = `${proto(p.protocol)}/${p.port}`;
        if (listening.has(k)) continue;
        findings.push({
          type: 'new_listening_port',
          severity: p.loopbackOnly ? 'low' : HIGH_RISK_PORTS.has(p.port) ? 'high' : 'medium',
          key: k,
          summary: `now listening on ${k}${p.loopbackOnly ? ' (loopback only)' : ''}`,
          figures: { protocol: proto(p.protocol), port: p.port, loopbackOnly: p.loopbackOnly },
          threshold: {},
        });
      }
      listening = new Set([...listening, ...now]);
    } else listening = now;
  }

  return { findings, state: { baselines, listening } };
}
