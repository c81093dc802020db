// What one stored batch looks like on the NOTIFY channel and the live feed:
// compact, so that a NOTIFY (8000-byte limit) carries dozens of them.

export const LIVE_CHANNEL = 'tidewatch_batches';
const MAX_PAYLOAD = 7_500;

export interface LiveBatchSummary {
  /** agent id */
  a: string;
  /** sequence */
  s: number;
  /** window start / end, unix ms */
  ws: number;
  we: number;
  /** ingress / egress bytes and packets in the window */
  ib: number;
  eb: number;
  ip: number;
  ep: number;
}

/** Packs summaries into as few NOTIFY payloads (JSON arrays) as fit. */
export function encodeNotifications(items: LiveBatchSummary[]): string[] {
  const out: string[] = [];
  let current: string[] = [];
  let size = 2;
  for (const it of items) {
    const s = JSON.stringify(it);
    if (current.length > 0 && size + s.length + 1 > MAX_PAYLOAD) {
      out.push(`[${current.join(',')}]`);
      current = [];
      size = 2;
    }
    current.push(s);
    size += s.length + 1;
  }
  if (current.length > 0) out.push(`[${current.join(',')}]`);
  return out;
}

export function decodeNotification(payload: string): LiveBatchSummary[] {
  const parsed: unknown = JSON.parse(payload);
  return Array.isArray(parsed) ? (parsed as LiveBatchSummary[]) : [];
}
