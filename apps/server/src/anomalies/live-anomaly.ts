// Anomalies on the NOTIFY channel (raised in the detector's transaction, so a
// replica that did not raise it pushes it too) and on the live feed.

export const ANOMALY_CHANNEL = 'tidewatch_anomalies';

export interface LiveAnomaly {
  id: string;
  agentId: string;
  type: string;
  severity: string;
  status: string;
  /** raised | acknowledged | resolved | suppressed */
  event: string;
  summary: string;
  firstSeen: string;
  lastSeen: string;
}

export function encodeAnomaly(a: LiveAnomaly): string {
  // NOTIFY payloads stop at 8000 bytes; the summary is the only unbounded part.
  return JSON.stringify({ ...a, summary: a.summary.slice(0, 1000) });
}

export function decodeAnomaly(payload: string): LiveAnomaly | null {
  const v = JSON.parse(payload) as Partial<LiveAnomaly> | null;
  return v && typeof v.id === 'string' && typeof v.agentId === 'string' ? (v as LiveAnomaly) : null;
}
