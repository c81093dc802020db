// The stable names (../shared/DESIGN.md, "Stable interfaces"): types and statuses.

export const ANOMALY_TYPES = [
  'port_scan',
  'host_sweep',
  'syn_flood',
  'connection_failures',
  'traffic_spike',
  'traffic_drop',
  'abnormal_port',
  'new_listening_port',
  'retransmit_surge',
  'drop_surge',
  'agent_silent',
] as const;
export type AnomalyType = (typeof ANOMALY_TYPES)[number];

export const ANOMALY_STATUSES = ['open', 'acknowledged', 'resolved', 'suppressed'] as const;
export type AnomalyStatus = (typeof ANOMALY_STATUSES)[number];

export const SEVERITIES = ['low', 'medium', 'high', 'critical'] as const;
export type Severity = (typeof SEVERITIES)[number];

/** The window a figure came from. */
export interface EvidenceWindow {
  start: string;
  end: string;
  sequence: number;
}

/**
 * What one detector found in one window: the incident it belongs to
 * (`key`, grouped per host and type) and the figures that made it fire.
 */
export interface Finding {
  type: AnomalyType;
  severity: Severity;
  key: string;
  summary: string;
  figures: Record<string, number | string | boolean>;
  /** The threshold(s) it crossed, named as in the thresholds document. */
  threshold: Record<string, number>;
}
