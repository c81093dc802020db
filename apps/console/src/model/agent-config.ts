import type { Schemas } from '../api/client';

// Agent configuration layers as the console shows and edits them (shapes from the server's
// OpenAPI document; precedence is the server's: defaults ← fleet ← labels by priority ← host).

export type Layer = Schemas['LayerView'];
export type DriftItem = Schemas['DriftItemView'];
export type Masking = Schemas['UpdateMaskingDto']['masking'];
export const MASKINGS: readonly Masking[] = ['unspecified', 'none', 'truncate', 'pseudonymize'];

/** The numeric fields of a configuration, in the order the forms and tables show them. */
export const NUMBER_FIELDS = [
  'windowSeconds',
  'topN',
  'maxFlowsPerWindow',
  'cpuBudgetPercent',
] as const;
export type NumberField = (typeof NUMBER_FIELDS)[number];
/** Fields where the value 0 means "the agent's own default" (server schema: "0 = the agent default"). */
export const ZERO_IS_AGENT_DEFAULT: ReadonlySet<Field> = new Set<Field>([
  'maxFlowsPerWindow',
  'cpuBudgetPercent',
]);
export const FIELDS = [...NUMBER_FIELDS, 'portAllowlist', 'masking'] as const;
export type Field = (typeof FIELDS)[number];

export interface LayerFields {
  windowSeconds: number | null;
  topN: number | null;
  portAllowlist: number[] | null;
  maxFlowsPerWindow: number | null;
  cpuBudgetPercent: number | null;
}

/** "22, 443 5432" → [22, 443, 5432]; empty → null (inherited); anything else → undefined. */
export function parsePorts(text: string): number[] | null | undefined {
  const parts = text.split(/[\s,]+/).filter(Boolean);
  if (!parts.length) return null;
  const ports = parts.map((p) => (/^\d{1,5}$/.test(p) ? Number(p) : NaN));
  return ports.every((p) => p >= 1 && p <= 65535) ? ports : undefined;
}

/**
 * The layer fields of a form: an empty input is inherited (null). Answers the first field that
 * is not a number (or not ports) instead, for the form to name it; the server checks ranges.
 */
export function layerFieldsOf(
  get: (name: string) => string,
): { ok: true; fields: LayerFields } | { ok: false; field: Field } {
  const fields: Partial<LayerFields> = {};
  for (const f of NUMBER_FIELDS) {
    const v = get(f).trim();
    if (v === '') fields[f] = null;
    else if (Number.isFinite(Number(v))) fields[f] = Number(v);
    else return { ok: false, field: f };
  }
  const ports = parsePorts(get('portAllowlist'));
  if (ports === undefined) return { ok: false, field: 'portAllowlist' };
  fields.portAllowlist = ports;
  return { ok: true, fields: fields as LayerFields };
}

/** `label:zone=a` → { kind: 'label', label: 'zone=a' }; `fleet`, `host`, `default` as they are. */
export function originOf(o: string): {
  kind: 'default' | 'fleet' | 'host' | 'label';
  label: string;
} {
  if (o.startsWith('label:')) return { kind: 'label', label: o.slice(6) };
  return { kind: o === 'fleet' || o === 'host' ? o : 'default', label: '' };
}

/** `edit=zone=a` in the URL: the layer being edited (the first `=` splits key and value). */
export function parseLayerRef(v: string | undefined): { key: string; value: string } | null {
  const i = v ? v.indexOf('=') : -1;
  return v && i > 0 && i < v.length - 1 ? { key: v.slice(0, i), value: v.slice(i + 1) } : null;
}
