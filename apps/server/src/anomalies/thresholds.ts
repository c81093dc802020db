import { InvalidInputError } from '../common/domain-errors';

/**
 * Every knob of the detectors, with its default and where the default comes
 * from. Configurable fleet-wide and per label (anomaly_thresholds; later
 * scopes override earlier ones key by key: defaults, fleet, then each
 * matching label in key order).
 */
export interface Thresholds {
  /** Failed (refused or unanswered) ports one source tried on one destination in a window. */
  portScanFailedPorts: number;
  /** Failed destinations one source tried on one port in a window. */
  hostSweepFailedDestinations: number;
  /** SYNs per second toward one server port, averaged over the window. */
  synFloodSynsPerSecond: number;
  /** Share of those attempts that never completed (half-open or refused). */
  synFloodUnfinishedRatio: number;
  /** Failed outgoing connects in a window, and their share of all connects. */
  connectionFailures: number;
  connectionFailureRatio: number;
  /** Baselines: EWMA smoothing, warm-up windows, spike/drop factors and deviation band. */
  baselineAlpha: number;
  baselineWarmupWindows: number;
  spikeFactor: number;
  dropFactor: number;
  deviationBand: number;
  /** Per hour of the day: smoothing, and the windows of history before it decides. */
  seasonalAlpha: number;
  seasonalMinWindows: number;
  /** Below this rate (bytes/s) a series is too small to alarm on. */
  baselineMinBytesPerSecond: number;
  /** Retransmits / drops per window: at least this many, and surgeFactor × the baseline. */
  retransmitMin: number;
  dropMin: number;
  surgeFactor: number;
  /** Abnormal-port connections in a window before one is raised. */
  abnormalPortConnections: number;
  /** An agent is silent after this long without a batch. */
  silentAfterSeconds: number;
  /** A repeat within this gap extends the incident instead of raising a new one. */
  regroupSeconds: number;
}

export const DEFAULT_THRESHOLDS: Thresholds = {
  portScanFailedPorts: 15, // Zeek scan.zeek: 15 failed ports per victim (port_scan_threshold)
  hostSweepFailedDestinations: 25, // Zeek scan.zeek: 25 hosts on one port (addr_scan_threshold)
  synFloodSynsPerSecond: 256, // ntopng syn_flood: 256 SYN/s
  synFloodUnfinishedRatio: 0.5, // Tidewatch: a busy server completes its handshakes
  connectionFailures: 50, // Tidewatch's own (no published reference)
  connectionFailureRatio: 0.5,
  baselineAlpha: 0.05, // ~20-window memory (ntopng's Holt-Winters uses alpha ≈ 0.1 per minute)
  baselineWarmupWindows: 30,
  spikeFactor: 3, // the test: a 3× spike
  dropFactor: 3, // a collapse to a third or less
  deviationBand: 4, // outside mean ± 4·mean-absolute-deviation (≈ 3σ, ntopng's 95 % band is ≈ 2σ)
  seasonalAlpha: 0.01, // ~100 windows of that hour: a day of history at 10 s windows
  seasonalMinWindows: 360, // one hour of history at 10 s windows
  baselineMinBytesPerSecond: 1024,
  retransmitMin: 100,
  dropMin: 100,
  surgeFactor: 5,
  abnormalPortConnections: 1,
  silentAfterSeconds: 90, // the hosts view's OFFLINE_AFTER_SECONDS default
  regroupSeconds: 300, // Zeek and ntopng both count over 5 minutes
};

export const THRESHOLD_KEYS = Object.keys(DEFAULT_THRESHOLDS) as (keyof Thresholds)[];

/** A partial thresholds document from the API, checked key by key. */
export function validateThresholds(input: unknown): Partial<Thresholds> {
  if (!input || typeof input !== 'object' || Array.isArray(input)) {
    throw new InvalidInputError('thresholds must be an object');
  }
  const out: Partial<Thresholds> = {};
  for (const [k, v] of Object.entries(input as Record<string, unknown>)) {
    if (!(THRESHOLD_KEYS as string[]).includes(k)) {
      throw new InvalidInputError(
        `unknown threshold "${k.slice(0, 64)}"; known: ${THRESHOLD_KEYS.join(', ')}`,
      );
    }
    if (typeof v !== 'number' || !Number.isFinite(v) || v < 0 || v > 1e12) {
      throw new InvalidInputError(`threshold ${k} must be a finite number >= 0`);
    }
    if ((k.endsWith('Alpha') || k.endsWith('Ratio')) && v > 1) {
      throw new InvalidInputError(`threshold ${k} must be between 0 and 1`);
    }
    out[k as keyof Thresholds] = v;
  }
  return out;
}

/** Effective thresholds for a host: defaults, then fleet, then matching labels (sorted). */
export function resolveThresholds(
  scopes: Map<string, Partial<Thresholds>>,
  labels: Record<string, string>,
): Thresholds {
  let t: Thresholds = { ...DEFAULT_THRESHOLDS, ...(scopes.get('fleet') ?? {}) };
  for (const k of Object.keys(labels).sort()) {
    const s = scopes.get(`label:${k}=${labels[k]}`);
    if (s) t = { ...t, ...s };
  }
  return t;
}
