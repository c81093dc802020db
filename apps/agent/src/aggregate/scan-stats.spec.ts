import { TCP_FLAG, type FlowRecord } from '../collector/port';
import { createMasker } from '../masking/masker';
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
      },
    ]);
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
});
