/**
 * Failed attempts remembered across windows. Within one window a scanner that
 * tries two ports every ten seconds looks like a client with a typo; over the
 * five minutes Zeek's scan.zeek and ntopng count over, it has tried sixty.
 * Each (source, destination, port) that was refused or unanswered is kept with
 * the time it last failed, for `seconds`; one that is answered later is
 * forgotten (the service is there). Bounded: past `maxPairs` the oldest go
 * first, and `evicted` says how many did.
 */
export interface RecentFailures {
  /** Raw destination address (hex) with most failed ports, and how many. */
  topDestination: string;
  topDestinationFailed: number;
  /** The port failed on most destinations, and on how many. */
  topPort: number;
  topPortFailed: number;
}

/** One attempt of a window, as scanStats judged it. */
export interface Attempt {
  /** `protocol|source hex`: whose memory it goes in. */
  source: string;
  dst: string;
  port: number;
  failed: boolean;
}

export const DEFAULT_SCAN_MEMORY_SECONDS = 300;
export const DEFAULT_SCAN_MEMORY_PAIRS = 20_000;

export class ScanMemory {
  /** Every remembered pair, oldest failure first: `source>dst:port` -> ms. */
  private readonly all = new Map<string, number>();
  /**
   * Per source: its pair keys (destination and port are read back from the key
   * when asked: one string per pair, no object; 20,000 pairs are held at most).
   */
  private readonly bySource = new Map<string, Set<string>>();
  evicted = 0;

  constructor(
    readonly seconds = DEFAULT_SCAN_MEMORY_SECONDS,
    private readonly maxPairs = DEFAULT_SCAN_MEMORY_PAIRS,
  ) {}

  get size(): number {
    return this.all.size;
  }

  /** Adds one window's attempts, ended at `nowMs`, and forgets what is older than `seconds`. */
  record(attempts: Iterable<Attempt>, nowMs: number): void {
    for (const a of attempts) {
      const key = `${a.source}>${a.dst}:${a.port}`;
      this.all.delete(key); // re-inserted last: the map stays in failure order
      if (!a.failed) {
        this.forget(key);
        continue;
      }
      this.all.set(key, nowMs);
      let mine = this.bySource.get(a.source);
      if (!mine) this.bySource.set(a.source, (mine = new Set()));
      mine.add(key);
    }
    const cutoff = nowMs - this.seconds * 1000;
    for (const [key, at] of this.all) {
      if (at > cutoff && this.all.size <= this.maxPairs) break;
      if (at > cutoff) this.evicted++;
      this.forget(key);
    }
  }

  /** What `source` failed on over the memory; zeros when nothing is remembered. */
  recent(source: string): RecentFailures {
    const out: RecentFailures = {
      topDestination: '',
      topDestinationFailed: 0,
      topPort: 0,
      topPortFailed: 0,
    };
    const mine = this.bySource.get(source);
    if (!mine) return out;
    const perDst = new Map<string, number>();
    const perPort = new Map<number, number>();
    // key = `${source}>${dst}:${port}`
    const from = source.length + 1;
    for (const key of mine) {
      const colon = key.lastIndexOf(':');
      const dst = key.slice(from, colon);
      const port = Number(key.slice(colon + 1));
      perDst.set(dst, (perDst.get(dst) ?? 0) + 1);
      perPort.set(port, (perPort.get(port) ?? 0) + 1);
    }
    for (const [dst, n] of perDst) {
      if (n > out.topDestinationFailed) {
        out.topDestination = dst;
        out.topDestinationFailed = n;
      }
    }
    for (const [port, n] of perPort) {
      if (n > out.topPortFailed) {
        out.topPort = port;
        out.topPortFailed = n;
      }
    }
    return out;
  }

  private forget(key: string): void {
    this.all.delete(key);
    const source = key.slice(0, key.indexOf('>'));
    const mine = this.bySource.get(source);
    if (!mine) return;
    mine.delete(key);
    if (mine.size === 0) this.bySource.delete(source);
  }
}
