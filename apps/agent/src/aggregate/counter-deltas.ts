import type { TrafficTotal } from '../collector/port';

export function trafficKey(
  t: Pick<TrafficTotal, 'iface' | 'direction' | 'family' | 'protocol'>,
): string {
  return `${t.iface}|${t.direction}|${t.family}|${t.protocol}`;
}

/**
 * Turns running totals into deltas. A key seen for the first time counts from
 * zero (the kernel counters start at zero when an interface is attached), and
 * a total that went down means the slot was reattached: the new total is the delta.
 */
export class CounterDeltas {
  private previous = new Map<string, { packets: number; bytes: number }>();

  update(totals: TrafficTotal[]): TrafficTotal[] {
    const next = new Map<string, { packets: number; bytes: number }>();
    const out: TrafficTotal[] = [];
    for (const t of totals) {
      const key = trafficKey(t);
      const prev = this.previous.get(key) ?? { packets: 0, bytes: 0 };
      const reset = t.packets < prev.packets || t.bytes < prev.bytes;
      const packets = reset ? t.packets : t.packets - prev.packets;
      const bytes = reset ? t.bytes : t.bytes - prev.bytes;
      next.set(key, { packets: t.packets, bytes: t.bytes });
      if (packets !== 0 || bytes !== 0) out.push({ ...t, packets, bytes });
    }
    this.previous = next;
    return out;
  }

  /** Forgets an interface (detached): its next appearance counts from zero. */
  forget(iface: string): void {
    for (const key of [...this.previous.keys()]) {
      if (key.startsWith(`${iface}|`)) this.previous.delete(key);
    }
  }
}

/** Deltas of a record of running totals (TCP counters, drops by reason). */
export class ScalarDeltas {
  private previous = new Map<string, number>();

  update(totals: Record<string, number | undefined>): Record<string, number> {
    const out: Record<string, number> = {};
    for (const [k, v] of Object.entries(totals)) {
      if (v === undefined) continue;
      const prev = this.previous.get(k) ?? 0;
      out[k] = v < prev ? v : v - prev;
      this.previous.set(k, v);
    }
    return out;
  }
}
