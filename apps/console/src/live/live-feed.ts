// The live feed's messages (the server's apps/server/src/live/live.gateway.ts) and the rules the
// console applies to them. Kept free of React so that the rules are tested on their own.

export interface LiveBatch {
  agentId: string;
  sequence: number;
  windowStart: string;
  windowEnd: string;
  ingressBytes: number;
  egressBytes: number;
  ingressPackets: number;
  egressPackets: number;
}

export interface LiveAnomaly {
  id: string;
  agentId: string;
  type: string;
  severity: string;
  status: string;
  /** raised | acknowledged | resolved | suppressed */
  event: string;
}

export type LiveEvent =
  { event: 'batch'; data: LiveBatch } | { event: 'anomaly'; data: LiveAnomaly };

export type ServerMessage =
  | LiveEvent
  | { event: 'subscribed' | 'unsubscribed'; data: { room: string } }
  | { event: 'error'; data: { message: string } };

export function parseMessage(text: string): ServerMessage | null {
  try {
    const m = JSON.parse(text) as { event?: unknown; data?: unknown };
    if (typeof m?.event !== 'string' || typeof m.data !== 'object' || m.data === null) return null;
    return m as ServerMessage;
  } catch {
    return null;
  }
}

/** The room an event belongs to, for a subscriber of `room` ("fleet" gets every host). */
export function inRoom(room: string, e: LiveEvent): boolean {
  return room === 'fleet' || room === `host:${e.data.agentId.toLowerCase()}`;
}

/**
 * Whether a stored window changes a view of [from, to): a live view (a preset, its end moving
 * with the clock) takes every window from `from` on; a fixed range only the windows inside it.
 */
export function windowInView(
  b: Pick<LiveBatch, 'windowStart' | 'windowEnd'>,
  view: { from: number; to: number; live: boolean },
): boolean {
  if (Date.parse(b.windowEnd) <= view.from) return false;
  return view.live || Date.parse(b.windowStart) < view.to;
}

/** Reconnect delay after `attempt` failures: 1 s doubling to 30 s. */
export function reconnectDelay(attempt: number): number {
  return Math.min(30_000, 1000 * 2 ** Math.max(0, attempt));
}

/** ws: or wss: URL of the live feed on the page's own origin (the console forwards it). */
export function liveUrl(location: Pick<Location, 'protocol' | 'host'>): string {
  return `${location.protocol === 'https:' ? 'wss:' : 'ws:'}//${location.host}/api/v1/live`;
}
