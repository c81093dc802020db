import { TCP_FLAG, type FlowRecord } from '../collector/port';
import { createMasker } from '../masking/masker';
import { ScanMemory } from './scan-memory';
import { scanStats } from './scan-stats';
import { ServerPortResolver } from './server-port';

// Flow records as the collector drains them, for connections whose fate the
// test decides: answered (SYN-ACK back), refused (RST back), unanswered.

const truncate = createMasker({ mode: 'truncate', ipv4PrefixBits: 24, ipv6PrefixBits: 48 });
const ip = (s: string) => Buffer.from(s.split('.').map(Number));
const { SYN, ACK, RST } = TCP_FLAG;

function rec(
  src: string,
  sport: number,
  dst: string,
  dport: number,
  flags: number,
  syn = 0,
): FlowRecord {
  return {
    iface: 'veth0',
    direction: 'ingress',
    family: 'ipv4',
    ipProto: 6,
    saddr: ip(src),
    daddr: ip(dst),
    sport,
    dport,
    packets: 1,
    bytes: 60,
    firstSeenNs: 1n,
    lastSeenNs: 2n,
    syn,
    tcpFlags: flags,
  };
}

/** A connection attempt and what came back. */
function attempt(
  src: string,
  sport: number,
  dst: string,
  dport: number,
  fate: 'answered' | 'refused' | 'unanswered',
) {
  const out = [rec(src, sport, dst, dport, fate === 'answered' ? SYN | ACK : SYN, 1)];
  if (fate === 'answered') out.push(rec(dst, dport, src, sport, SYN | ACK, 1));
  if (fate === 'refused') out.push(rec(dst, dport, src, sport, RST | ACK));
  return out;
}

function stats(records: FlowRecord[], bound = 64) {
  const servers = new ServerPortResolver().resolve(records);
  return scanStats(records, servers, truncate, { sources: bound, sweeps: bound, synPorts: bound });
}

describe('scan figures from drained flow records', () => {
  it('a vertical scan: ports tried on one destination, refused and unanswered counted apart', () => {
    const recs = [
      ...Array.from({ length: 20 }, (_, i) =>
        attempt('198.18.1.2', 40000 + i, '198.18.9.9', 1000 + i, 'refused'),
      ),
      ...Array.from({ length: 5 }, (_, i) =>
        attempt('198.18.1.2', 41000 + i, '198.18.9.9', 2000 + i, 'unanswered'),
      ),
      ...attempt('198.18.1.2', 42000, '198.18.9.9', 22, 'answered'),
    ].flat();
    const s = stats(recs);
    expect(s.sources).toEqual([
      {
        src: '198.18.1.0/24',
        protocol: 'PROTOCOL_TCP',
        pairs: 26,
        destinations: 1,
        ports: 26,
        refused: 20,
        unanswered: 5,
        topDestination: '198.18.9.0/24',
        topDestinationPorts: 26,
        topDestinationRefused: 25,
        topPort: 1000,
        topPortDestinations: 1,
        topPortFailed: 1,
        // Without a memory (an agent that keeps none): zeros, and recentSeconds 0.
        recentTopDestination: '',
        recentTopDestinationFailed: 0,
        recentTopPort: 0,
        recentTopPortFailed: 0,
      },
    ]);
    expect(s.recentSeconds).toBe(0);
    expect(s.syns.find((y) => y.port === 22)).toEqual({
      port: 22,
      syns: 1,
      attempts: 1,
      halfOpen: 0,
      refused: 0,
      sources: 1,
    });
    expect(s.syns.find((y) => y.port === 2000)).toMatchObject({ halfOpen: 1, refused: 0 });
  });

  it('a UDP scan: a port unreachable from the destination for the probed port is refused', () => {
    const udp = (src: string, sport: number, dst: string, dport: number): FlowRecord => ({
      ...rec(src, sport, dst, dport, 0),
      ipProto: 17,
    });
    /** What the kernel programs record for an ICMP port unreachable quoting a UDP datagram. */
    const unreach = (from: string, to: string, port: number, marker = 771): FlowRecord => ({
      ...rec(from, marker, to, port, 0),
      ipProto: 1,
    });
    const recs = [
      // 6 refused, 3 unanswered, 1 answered, all from one source port.
      ...Array.from({ length: 10 }, (_, i) => udp('198.18.1.2', 45000, '198.18.9.9', 100 + i)),
      ...Array.from({ length: 6 }, (_, i) => unreach('198.18.9.9', '198.18.1.2', 100 + i)),
      udp('198.18.9.9', 109, '198.18.1.2', 45000),
      // Not refusals of ports 106-108: another sender, an ordinary type-3 code-3 record, another port.
      unreach('198.18.9.8', '198.18.1.2', 106),
      unreach('198.18.9.9', '198.18.1.2', 3, 3),
      unreach('198.18.9.9', '198.18.1.2', 999),
    ];
    const [s] = stats(recs).sources;
    expect(s).toMatchObject({
      src: '198.18.1.0/24',
      protocol: 'PROTOCOL_UDP',
      pairs: 10,
      destinations: 1,
      ports: 10,
      refused: 6,
      unanswered: 3,
      topDestinationRefused: 9,
    });
  });

  it('bounded: the top sources by fan-out are kept, the rest summed in other_sources and flagged', () => {
    const recs = Array.from({ length: 70 }, (_, i) =>
      Array.from({ length: 1 + (i % 3) }, (_, p) =>
        attempt(`10.0.${i}.1`, 30000 + p, '198.18.9.9', 80 + p, 'answered'),
      ),
    ).flat(2);
    const s = stats(recs, 64);
    expect(s.sourcesTotal).toBe(70);
    expect(s.sources).toHaveLength(64);
    expect(s.sourcesTruncated).toBe(true);
    const total = Array.from({ length: 70 }, (_, i) => 1 + (i % 3)).reduce((a, b) => a + b, 0);
    const kept = s.sources.reduce((a, f) => a + f.pairs, 0);
    expect(s.otherSources?.pairs).toBe(total - kept);
    // By fan-out: 23 sources of 3 pairs and 23 of 2 are kept, 6 of the 24 single-pair ones are not.
    expect(s.otherSources).toMatchObject({ pairs: 6, destinations: 6, refused: 0, unanswered: 0 });
  });

  describe('remembered across windows (recent_*)', () => {
    const SCANNER = '198.18.7.7';
    const VICTIM = '198.18.9.9';
    const BOUNDS = { sources: 64, sweeps: 64, synPorts: 64 };
    /** One window per entry: its records, scanned with the shared memory at `atMs`. */
    function windows(store: ScanMemory, list: { atMs: number; recs: FlowRecord[] }[]) {
      const resolver = new ServerPortResolver();
      return list.map(({ atMs, recs }) =>
        scanStats(recs, resolver.resolve(recs), truncate, BOUNDS, { store, nowMs: atMs }),
      );
    }
    const slowScan = (window: number, fate: 'refused' | 'unanswered' = 'refused') =>
      [0, 1].flatMap((k) =>
        attempt(SCANNER, 40000 + window * 2 + k, VICTIM, 1000 + window * 2 + k, fate),
      );

    it('a scan of 2 failed ports a window adds up over the memory; each window alone stays at 2', () => {
      const store = new ScanMemory(300);
      const out = windows(
        store,
        Array.from({ length: 10 }, (_, i) => ({
          atMs: 10_000 * (i + 1),
          recs: slowScan(i, i % 2 ? 'refused' : 'unanswered'),
        })),
      );
      for (const [i, s] of out.entries()) {
        expect(s.recentSeconds).toBe(300);
        expect(s.sources[0]).toMatchObject({
          src: '198.18.7.0/24',
          topDestinationRefused: 2,
          recentTopDestination: '198.18.9.0/24',
          recentTopDestinationFailed: 2 * (i + 1),
        });
      }
    });

    it('forgets what is older than the memory, and a pair answered later', () => {
      const store = new ScanMemory(30);
      const [, , third] = windows(store, [
        { atMs: 10_000, recs: slowScan(0) },
        { atMs: 20_000, recs: slowScan(1) },
        // 45 s: the first window's failures (10 s) are past 30 s; one of the
        // second's ports answers now.
        {
          atMs: 45_000,
          recs: [...slowScan(2), ...attempt(SCANNER, 41000, VICTIM, 1002, 'answered')],
        },
      ]);
      expect(third.sources[0]).toMatchObject({ recentTopDestinationFailed: 3 });
      expect(store.size).toBe(3);
    });

    it('a client retrying one dead service is one failed pair, however many windows', () => {
      const store = new ScanMemory(300);
      const out = windows(
        store,
        Array.from({ length: 30 }, (_, i) => ({
          atMs: 10_000 * (i + 1),
          recs: attempt('198.18.7.8', 50000 + i, VICTIM, 5432, 'refused'),
        })),
      );
      expect(out.at(-1)!.sources[0]).toMatchObject({
        recentTopDestinationFailed: 1,
        recentTopPort: 5432,
        recentTopPortFailed: 1,
      });
    });

    it('a slow sweep: one port across destinations adds up as recent_top_port_failed', () => {
      const store = new ScanMemory(300);
      const out = windows(
        store,
        Array.from({ length: 12 }, (_, i) => ({
          atMs: 10_000 * (i + 1),
          recs: attempt(SCANNER, 42000 + i, `198.18.10.${i + 1}`, 445, 'unanswered'),
        })),
      );
      expect(out.at(-1)!.sources[0]).toMatchObject({
        topPortFailed: 1,
        recentTopPort: 445,
        recentTopPortFailed: 12,
      });
    });

    it('bounded: past maxPairs the oldest failures go first, counted', () => {
      const store = new ScanMemory(300, 5);
      windows(store, [
        { atMs: 1_000, recs: slowScan(0) },
        { atMs: 2_000, recs: slowScan(1) },
        { atMs: 3_000, recs: slowScan(2) },
      ]);
      expect(store.size).toBe(5);
      expect(store.evicted).toBe(1);
    });

    it('a slow scanner keeps its place in the bounded source list by what it has tried recently', () => {
      const store = new ScanMemory(300);
      // Each window: 70 sources with 2 answered pairs, the scanner with 1 failed one.
      const out = windows(
        store,
        Array.from({ length: 5 }, (_, w) => ({
          atMs: 10_000 * (w + 1),
          recs: [
            ...Array.from({ length: 70 }, (_, i) =>
              [0, 1].flatMap((k) =>
                attempt(`10.1.${i}.1`, 30000 + w * 2 + k, VICTIM, 80 + k, 'answered'),
              ),
            ).flat(),
            ...attempt(SCANNER, 45000 + w, VICTIM, 2000 + w, 'refused'),
          ],
        })),
      );
      const scanner = (s: (typeof out)[number]) => s.sources.find((f) => f.src === '198.18.7.0/24');
      expect(scanner(out[0])).toBeUndefined(); // 1 pair: below the bound's 64 sources of 2
      expect(scanner(out[4])).toMatchObject({ pairs: 1, recentTopDestinationFailed: 5 });
    });
  });
});
