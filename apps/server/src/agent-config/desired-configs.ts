import type { EntityManager } from 'typeorm';
import type { HostFilter, HostsRepository } from '../hosts/hosts.repository';
import {
  applicable,
  Layer,
  LayerScope,
  LayerSettings,
  merge,
  sameSettings,
  Settings,
} from './layers';
import { toApiMasking, toWireMasking } from './masking';

/** NOTIFY channel: payload = the agent id whose configuration changed. */
export const CONFIG_CHANNEL = 'tidewatch_config';

/** Serialises the writers of fleet and label layers (the priority check needs it). */
export const LAYER_LOCK_SQL = `SELECT pg_advisory_xact_lock(hashtext('tidewatch.agent_config_layers'))`;

export interface LayerRow {
  scope: LayerScope;
  label_key: string | null;
  label_value: string | null;
  agent_id: string | null;
  priority: number;
  version: string;
  window_seconds: number | null;
  top_n: number | null;
  port_allowlist: number[] | null;
  masking: string | null;
  max_flows_per_window: number | null;
  cpu_budget_percent: number | null;
  updated_at: Date;
}

/** agent_configs: the merged configuration the server sends one agent, and its version. */
export interface DesiredRow {
  agent_id: string;
  version: string;
  window_seconds: number;
  top_n: number;
  port_allowlist: number[];
  masking: string;
  max_flows_per_window: number;
  cpu_budget_percent: number;
  updated_at: Date;
}

export function layerOf(r: LayerRow): Layer {
  return {
    scope: r.scope,
    labelKey: r.label_key,
    labelValue: r.label_value,
    agentId: r.agent_id,
    priority: r.priority,
    version: Number(r.version),
    settings: {
      windowSeconds: r.window_seconds,
      topN: r.top_n,
      portAllowlist: r.port_allowlist,
      masking: r.masking === null ? null : toApiMasking(r.masking),
      maxFlowsPerWindow: r.max_flows_per_window,
      cpuBudgetPercent: r.cpu_budget_percent,
    },
    updatedAt: r.updated_at,
  };
}

export function settingsOfRow(r: DesiredRow): Settings {
  return {
    windowSeconds: r.window_seconds,
    topN: r.top_n,
    portAllowlist: r.port_allowlist,
    masking: toApiMasking(r.masking),
    maxFlowsPerWindow: r.max_flows_per_window,
    cpuBudgetPercent: r.cpu_budget_percent,
  };
}

/** The layer's columns, in the order of LAYER_COLUMNS, for an INSERT or UPDATE. */
export function layerColumnValues(s: LayerSettings): unknown[] {
  return [
    s.windowSeconds,
    s.topN,
    s.portAllowlist === null ? null : [...s.portAllowlist].sort((a, b) => a - b),
    s.masking === null ? null : toWireMasking(s.masking),
    s.maxFlowsPerWindow,
    s.cpuBudgetPercent,
  ];
}

export const LAYER_COLUMNS =
  'window_seconds, top_n, port_allowlist, masking, max_flows_per_window, cpu_budget_percent';

export async function loadLayers(em: EntityManager): Promise<Layer[]> {
  const rows: LayerRow[] = await em.query(`SELECT * FROM agent_config_layers`);
  return rows.map(layerOf);
}

/**
 * Merges the layers again for the hosts of `filter` and, where the result differs from what
 * agent_configs holds, stores it with the next version and NOTIFYs every replica (so the one
 * holding the stream pushes it). Runs inside the caller's transaction, after its layer write.
 * Host rows are locked first (HostsRepository.lock: NO KEY UPDATE in agent_id order, as the
 * batch writer locks) and everything else read after, so that two recomputations of one host
 * never hand out one version twice. Answers the changed ids.
 */
export async function recompute(
  em: EntityManager,
  hostsRepo: HostsRepository,
  defaults: Settings,
  filter: HostFilter,
): Promise<string[]> {
  const hosts = await hostsRepo.lock(em, filter);
  if (!hosts.length) return [];
  const ids = hosts.map((h) => h.agentId);
  const current: DesiredRow[] = await em.query(
    `SELECT * FROM agent_configs WHERE agent_id = ANY($1::uuid[])`,
    [ids],
  );
  const byId = new Map(current.map((r) => [r.agent_id, r]));
  const layers = await loadLayers(em);
  const changed: { agentId: string; version: number; settings: Settings }[] = [];
  for (const h of hosts) {
    const { settings } = merge(defaults, applicable(layers, h.agentId, h.labels ?? {}));
    const row = byId.get(h.agentId);
    if (sameSettings(settings, row ? settingsOfRow(row) : defaults)) continue;
    changed.push({ agentId: h.agentId, version: (row ? Number(row.version) : 1) + 1, settings });
  }
  if (!changed.length) return [];
  await em.query(
    `INSERT INTO agent_configs AS c (agent_id, version, window_seconds, top_n, port_allowlist,
                                     masking, max_flows_per_window, cpu_budget_percent, updated_at)
     SELECT agent_id, version, window_seconds, top_n, port_allowlist, masking,
            max_flows_per_window, cpu_budget_percent, now()
       FROM jsonb_to_recordset($1::jsonb) AS x(agent_id uuid, version bigint, window_seconds integer,
            top_n integer, port_allowlist integer[], masking text, max_flows_per_window integer,
            cpu_budget_percent double precision)
     ON CONFLICT (agent_id) DO UPDATE SET
       version = EXCLUDED.version, window_seconds = EXCLUDED.window_seconds,
       top_n = EXCLUDED.top_n, port_allowlist = EXCLUDED.port_allowlist,
       masking = EXCLUDED.masking, max_flows_per_window = EXCLUDED.max_flows_per_window,
       cpu_budget_percent = EXCLUDED.cpu_budget_percent, updated_at = now()`,
    [
      JSON.stringify(
        changed.map((c) => ({
          agent_id: c.agentId,
          version: c.version,
          window_seconds: c.settings.windowSeconds,
          top_n: c.settings.topN,
          port_allowlist: c.settings.portAllowlist,
          masking: toWireMasking(c.settings.masking),
          max_flows_per_window: c.settings.maxFlowsPerWindow,
          cpu_budget_percent: c.settings.cpuBudgetPercent,
        })),
      ),
    ],
  );
  await em.query(`SELECT pg_notify($1, id::text) FROM unnest($2::uuid[]) AS id`, [
    CONFIG_CHANNEL,
    changed.map((c) => c.agentId),
  ]);
  return changed.map((c) => c.agentId);
}
