import type { Batch__Output } from '@tidewatch/proto';
import type { FlowRow } from '../aggregate/flow-summary';
import type { WindowEvent } from '../agent/agent';

/** One row per traffic counter ("traffic") and per top flow ("flow") of each window. */
export const CSV_COLUMNS = [
  'kind',
  'window_start',
  'window_end',
  'iface',
  'direction',
  'family',
  'protocol',
  'src',
  'sport',
  'dst',
  'dport',
  'packets',
  'bytes',
] as const;

function csvField(v: string | number): string {
  const s = String(v);
  return /[",\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

const iso = (ms: number) => new Date(ms).toISOString();
const lower = (e: string) => e.replace(/^(DIRECTION|FAMILY|PROTOCOL)_/, '').toLowerCase();

export function toCsv(windows: WindowEvent[]): string {
  const rows: Array<Array<string | number>> = [[...CSV_COLUMNS]];
  for (const { batch, flows } of windows) {
    const s = iso(batch.windowStartMs);
    const e = iso(batch.windowEndMs);
    for (const t of batch.traffic) {
      rows.push([
        'traffic',
        s,
        e,
        t.iface,
        lower(t.direction),
        lower(t.family),
        lower(t.protocol),
        '',
        '',
        '',
        '',
        t.packets,
        t.bytes,
      ]);
    }
    for (const f of flows) {
      rows.push([
        'flow',
        s,
        e,
        f.iface,
        f.direction,
        f.family,
        f.protocol,
        f.src,
        f.sport,
        f.dst,
        f.dport,
        f.packets,
        f.bytes,
      ]);
    }
  }
  return rows.map((r) => r.map(csvField).join(',')).join('\n') + '\n';
}

export interface JsonExport {
  format: 'tidewatch-export/v1';
  masking: string;
  windows: Array<{ window: Batch__Output; topFlows: FlowRow[] }>;
}

export function toJson(windows: WindowEvent[], masking: string): string {
  const doc: JsonExport = {
    format: 'tidewatch-export/v1',
    masking,
    windows: windows.map((w) => ({ window: w.batch, topFlows: w.flows })),
  };
  return JSON.stringify(doc, null, 2) + '\n';
}
