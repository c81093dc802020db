// Configuration layers and how they merge into the configuration one host should run.
//
// Precedence, lowest first: the server defaults ← the fleet-wide layer ← every label layer
// whose key=value the host carries, in ascending priority ← the host's own override. A field a
// layer leaves null is inherited from below. Two label layers on different keys may not share
// a priority (refused when written), so the order is total for every host; two layers on one
// key never match the same host (a host has one value per key).

import type { ApiMasking } from './masking';

export interface Settings {
  windowSeconds: number;
  topN: number;
  portAllowlist: number[];
  masking: ApiMasking;
  maxFlowsPerWindow: number;
  cpuBudgetPercent: number;
}

export const SETTING_FIELDS = [
  'windowSeconds',
  'topN',
  'portAllowlist',
  'masking',
  'maxFlowsPerWindow',
  'cpuBudgetPercent',
] as const satisfies readonly (keyof Settings)[];

/** A layer's fields: null = inherited. */
export type LayerSettings = { [K in keyof Settings]: Settings[K] | null };

export type LayerScope = 'fleet' | 'label' | 'host';

export interface Layer {
  scope: LayerScope;
  labelKey: string | null;
  labelValue: string | null;
  agentId: string | null;
  priority: number;
  version: number;
  settings: LayerSettings;
  updatedAt: Date;
}

/** Where a merged field came from: `default`, `fleet`, `label:KEY=VALUE` or `host`. */
export type Origin = string;

export function layerName(l: Pick<Layer, 'scope' | 'labelKey' | 'labelValue'>): Origin {
  return l.scope === 'label' ? `label:${l.labelKey}=${l.labelValue}` : l.scope;
}

/** The layers that apply to a host with `labels`, lowest precedence first. */
export function applicable(
  layers: readonly Layer[],
  agentId: string,
  labels: Readonly<Record<string, string>>,
): Layer[] {
  const fleet = layers.filter((l) => l.scope === 'fleet');
  const matching = layers
    .filter(
      (l) =>
        l.scope === 'label' &&
        Object.prototype.hasOwnProperty.call(labels, l.labelKey as string) &&
        labels[l.labelKey as string] === l.labelValue,
    )
    // The key breaks a tie only if the write-time check was bypassed: still deterministic.
    .sort((a, b) => a.priority - b.priority || (a.labelKey as string).localeCompare(b.labelKey!));
  const host = layers.filter((l) => l.scope === 'host' && l.agentId === agentId);
  return [...fleet, ...matching, ...host];
}

export function merge(
  defaults: Settings,
  layers: readonly Layer[],
): { settings: Settings; origin: Record<keyof Settings, Origin> } {
  const settings: Settings = { ...defaults, portAllowlist: [...defaults.portAllowlist] };
  const origin = Object.fromEntries(SETTING_FIELDS.map((f) => [f, 'default'])) as Record<
    keyof Settings,
    Origin
  >;
  for (const l of layers) {
    for (const f of SETTING_FIELDS) {
      const v = l.settings[f];
      if (v === null) continue;
      (settings as unknown as Record<string, unknown>)[f] = Array.isArray(v) ? [...v] : v;
      origin[f] = layerName(l);
    }
  }
  settings.portAllowlist.sort((a, b) => a - b);
  return { settings, origin };
}

export function sameSettings(a: Settings, b: Settings): boolean {
  return SETTING_FIELDS.every((f) =>
    f === 'portAllowlist'
      ? a.portAllowlist.length === b.portAllowlist.length &&
        [...a.portAllowlist]
          .sort((x, y) => x - y)
          .every((p, i) => p === [...b.portAllowlist].sort((x, y) => x - y)[i])
      : a[f] === b[f],
  );
}
