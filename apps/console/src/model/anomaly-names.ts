import type { SearchParams } from '../view-state/range';
import { first } from '../view-state/range';

// The stable anomaly names (../shared/DESIGN.md); anomaly-names.spec.ts checks them against the
// built server's own lists, so they cannot drift. Each has a translated name in both catalogs.
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
export const SEVERITIES = ['low', 'medium', 'high', 'critical'] as const;
export const ANOMALY_STATUSES = ['open', 'acknowledged', 'resolved', 'suppressed'] as const;

export type AnomalyType = (typeof ANOMALY_TYPES)[number];
export type Severity = (typeof SEVERITIES)[number];
export type AnomalyStatus = (typeof ANOMALY_STATUSES)[number];

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
export const PAGE_SIZE = 50;

export interface AnomalyFilters {
  agentId?: string;
  type?: AnomalyType;
  severity?: Severity;
  status?: AnomalyStatus;
  offset: number;
}

function oneOf<T extends string>(names: readonly T[], v: string | undefined): T | undefined {
  return v && (names as readonly string[]).includes(v) ? (v as T) : undefined;
}

/** The list's filters from the URL; anything invalid is dropped (the page shows what it used). */
export function parseAnomalyFilters(sp: SearchParams): AnomalyFilters {
  const agentId = first(sp, 'agentId');
  const offset = Number(first(sp, 'offset') ?? 0);
  return {
    agentId: agentId && UUID.test(agentId) ? agentId.toLowerCase() : undefined,
    type: oneOf(ANOMALY_TYPES, first(sp, 'type')),
    severity: oneOf(SEVERITIES, first(sp, 'severity')),
    status: oneOf(ANOMALY_STATUSES, first(sp, 'status')),
    offset:
      Number.isInteger(offset) && offset >= 0 && offset <= 100_000
        ? offset - (offset % PAGE_SIZE)
        : 0,
  };
}

/** Which handling steps the server allows from a status (anomalies.service.ts's transitions). */
export function allowedSteps(status: string): ('acknowledge' | 'resolve' | 'suppress')[] {
  if (status === 'open') return ['acknowledge', 'resolve', 'suppress'];
  if (status === 'acknowledged') return ['resolve', 'suppress'];
  if (status === 'suppressed') return ['resolve'];
  return [];
}
