import type { Schemas } from '../api/client';

/**
 * What the console says about a host, from what the server knows:
 * - online: heard from within the server's OFFLINE_AFTER_SECONDS;
 * - silent: heard from before, nothing since (the agent stopped talking: no data is NOT zero);
 * - offline: never delivered anything yet, or its credential was revoked;
 * and, beside any of these, `gap` when the agent declared windows lost from its spool.
 */
export type HostState = 'online' | 'silent' | 'offline';

export function hostState(h: Pick<Schemas['HostView'], 'status' | 'lastSeenAt'>): HostState {
  if (h.status === 'online') return 'online';
  if (h.status === 'offline' && h.lastSeenAt) return 'silent';
  return 'offline';
}

export function hasDeclaredGap(
  detail: Pick<Schemas['HostDetailView'], 'lostBatches'> | null,
): boolean {
  return !!detail && detail.lostBatches > 0;
}

/** Every key=value label across the hosts, sorted: the label filter's choices. */
export function labelChoices(hosts: Pick<Schemas['HostView'], 'labels'>[]): string[] {
  const set = new Set<string>();
  for (const h of hosts) for (const [k, v] of Object.entries(h.labels)) set.add(`${k}=${v}`);
  return [...set].sort();
}

const SELECTOR = /^[A-Za-z0-9_.\-/]{1,63}=[^,=]*(,[A-Za-z0-9_.\-/]{1,63}=[^,=]*)*$/;

/** A label selector from the URL, or undefined when empty or not key=value[,key=value]. */
export function validSelector(s: string | undefined): string | undefined {
  const v = s?.trim();
  return v && v.length <= 1024 && SELECTOR.test(v) ? v : undefined;
}
