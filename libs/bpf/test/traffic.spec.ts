// Exact counters: for every protocol class over IPv4 and IPv6, ARP as
// "other", and a VLAN-tagged case, the per-direction × protocol counters of
// the TC programs equal exactly (1) the interface's own counters in
// /sys/class/net/IF/statistics and (2) what the test itself sent.
import {
  buildUdpFrame,
  ping,
  readInterfaceStats,
  sendArp,
  sendFrames,
  sendUdp,
  statsDelta,
  tcpBulk,
  tcpConnections,
  useTestNetwork,
  waitQuiet,
  type Endpoint,
  type VlanTag,
} from '@tidewatch/testhosts';
import { Collector, type TrafficRow } from '../src';
import { describeKernel, OBJECTS } from './support/describe-kernel';

jest.setTimeout(60_000);

const ETH = 14;
const VLAN_TAG = 4;
const IPV4 = 20;
const IPV6 = 40;
const UDP = 8;
const ICMP = 8;
const ARP = 28;

type Key = `${TrafficRow['direction']}/${TrafficRow['family']}/${TrafficRow['protocol']}`;
type Counts = Partial<Record<Key, { packets: bigint; bytes: bigint }>>;

function index(rows: TrafficRow[], iface: string): Map<Key, { packets: bigint; bytes: bigint }> {
  const m = new Map<Key, { packets: bigint; bytes: bigint }>();
  for (const r of rows) {
    if (r.iface !== iface) continue;
    m.set(`${r.direction}/${r.family}/${r.protocol}`, { packets: r.packets, bytes: r.bytes });
  }
  return m;
}

/** Counter rows that changed between two reads. */
function delta(before: TrafficRow[], after: TrafficRow[], iface: string): Counts {
  const b = index(before, iface);
  const out: Counts = {};
  for (const [k, v] of index(after, iface)) {
    const prev = b.get(k) ?? { packets: 0n, bytes: 0n };
    const d = { packets: v.packets - prev.packets, bytes: v.bytes - prev.bytes };
    if (d.packets !== 0n || d.bytes !== 0n) out[k] = d;
  }
  return out;
}

function total(c: Counts, direction: 'ingress' | 'egress') {
  let packets = 0n;
  let bytes = 0n;
  for (const [k, v] of Object.entries(c)) {
    if (!k.startsWith(direction) || !v) continue;
    packets += v.packets;
    bytes += v.bytes;
  }
  return { packets, bytes };
}

describeKernel('exact traffic counters', () => {
  const net = useTestNetwork();
  let host: Endpoint;
  let peer: Endpoint;

  beforeAll(async () => {
    const ns = await net.namespace('traffic');
    const link = await net.link(net.host, ns);
    host = link.a;
    peer = link.b;
  });

  describe.each(OBJECTS)('%s object', (object) => {
    let collector: Collector;

    beforeAll(async () => {
      collector = await Collector.open({ object });
      await collector.attachInterface(host.ifname);
    });

    afterAll(async () => {
      await collector?.close();
    });

    /**
     * Runs `traffic`, then checks that the counters of the host-side
     * interface changed exactly as its own statistics did and returns the
     * per-class change for the test's own expectations.
     */
    async function measure(traffic: () => Promise<void>): Promise<Counts> {
      await waitQuiet([host, peer]);
      const rows0 = await collector.readTraffic();
      const if0 = await readInterfaceStats(host);
      await traffic();
      await waitQuiet([host, peer], 200);
      const rows1 = await collector.readTraffic();
      const if1 = await readInterfaceStats(host);
      const d = delta(rows0, rows1, host.ifname);
      const ifd = statsDelta(if0, if1);
      // Ground truth 1: the interface's own counters (offloads off).
      expect(total(d, 'ingress')).toEqual({ packets: ifd.rxPackets, bytes: ifd.rxBytes });
      expect(total(d, 'egress')).toEqual({ packets: ifd.txPackets, bytes: ifd.txBytes });
      return d;
    }

    it.each([4, 6] as const)('UDP over IPv%i: counters equal what was sent', async (family) => {
      const count = 40;
      const size = 200;
      const fam = family === 4 ? 'ipv4' : 'ipv6';
      const wire = ETH + (family === 4 ? IPV4 : IPV6) + UDP + size;
      let received = 0;
      const d = await measure(async () => {
        received = await sendUdp(host, peer, { family, count, size });
      });
      expect(received).toBe(count);
      // Ground truth 2: exactly the datagrams sent, nothing else.
      expect(d).toEqual({
        [`egress/${fam}/udp`]: { packets: BigInt(count), bytes: BigInt(count * wire) },
      });
    });

    it.each([4, 6] as const)('ICMP echo over IPv%i: requests out, replies in', async (family) => {
      const count = 20;
      const size = 56;
      const fam = family === 4 ? 'ipv4' : 'ipv6';
      const proto = family === 4 ? 'icmp' : 'icmpv6';
      const wire = BigInt(count * (ETH + (family === 4 ? IPV4 : IPV6) + ICMP + size));
      let replies = 0;
      const d = await measure(async () => {
        replies = await ping(host, peer, { family, count, size });
      });
      expect(replies).toBe(count);
      expect(d).toEqual({
        [`egress/${fam}/${proto}`]: { packets: BigInt(count), bytes: wire },
        [`ingress/${fam}/${proto}`]: { packets: BigInt(count), bytes: wire },
      });
    });

    it.each([4, 6] as const)('TCP over IPv%i: every packet is tcp', async (family) => {
      const fam = family === 4 ? 'ipv4' : 'ipv6';
      let ok = 0;
      const d = await measure(async () => {
        ({ ok } = await tcpConnections(host, peer, { family, count: 5, send: 1000, reply: 3000 }));
      });
      expect(ok).toBe(5);
      expect(Object.keys(d).sort()).toEqual([`egress/${fam}/tcp`, `ingress/${fam}/tcp`]);
      // Payload alone bounds the bytes from below: 5 × 1000 out, 5 × 3000 in.
      expect(d[`egress/${fam}/tcp`]!.bytes).toBeGreaterThan(5000n);
      expect(d[`ingress/${fam}/tcp`]!.bytes).toBeGreaterThan(15000n);
    });

    it('bulk TCP: segments of GSO skbs are counted as wire packets', async () => {
      // TCP hands TC egress GSO skbs even with offloads off (GSO is always on
      // for TCP since 4.17); only gso_segs gives wire packets. The modern
      // object reads it; the legacy one counts one packet per skb, so there
      // only ingress (GRO off: one skb per wire packet) is exact.
      const if0 = await readInterfaceStats(host);
      await waitQuiet([host, peer]);
      const rows0 = await collector.readTraffic();
      const s0 = await readInterfaceStats(host);
      await tcpBulk(host, peer, { family: 4, bytes: 1_000_000 });
      await waitQuiet([host, peer], 200);
      const d = delta(rows0, await collector.readTraffic(), host.ifname);
      const ifd = statsDelta(s0, await readInterfaceStats(host));
      expect(if0.txPackets).toBeLessThanOrEqual(s0.txPackets);
      expect(total(d, 'ingress')).toEqual({ packets: ifd.rxPackets, bytes: ifd.rxBytes });
      if (object === 'modern') {
        expect(total(d, 'egress')).toEqual({ packets: ifd.txPackets, bytes: ifd.txBytes });
      } else {
        expect(total(d, 'egress').packets).toBeLessThanOrEqual(ifd.txPackets);
      }
    });

    it('ARP counts as other', async () => {
      const count = 10;
      const d = await measure(async () => {
        await sendArp(host, peer, count);
      });
      // Each request is answered; both are 42-byte frames on a veth (no padding).
      const wire = BigInt(count * (ETH + ARP));
      expect(d).toEqual({
        'egress/other/other': { packets: BigInt(count), bytes: wire },
        'ingress/other/other': { packets: BigInt(count), bytes: wire },
      });
    });

    // Tagged frames are built by hand: this kernel has no 8021q module, and a
    // frame written to an AF_PACKET socket reaches TC egress as it is.
    const TAGGINGS: [string, VlanTag[]][] = [
      ['802.1Q', [{ tpid: 0x8100, id: 100 }]],
      [
        '802.1ad + 802.1Q',
        [
          { tpid: 0x88a8, id: 200 },
          { tpid: 0x8100, id: 100 },
        ],
      ],
    ];
    describe.each(TAGGINGS)('%s-tagged UDP', (_name, tags) => {
      it.each([4, 6] as const)('over IPv%i is parsed through the tags', async (family) => {
        const count = 25;
        const size = 300;
        const fam = family === 4 ? 'ipv4' : 'ipv6';
        const frame = buildUdpFrame({
          srcMac: host.mac,
          dstMac: peer.mac,
          tags,
          src: family === 4 ? host.ipv4 : host.ipv6,
          dst: family === 4 ? peer.ipv4 : peer.ipv6,
          sport: 40000,
          dport: 40001,
          size,
        });
        expect(frame.length).toBe(
          ETH + VLAN_TAG * tags.length + (family === 4 ? IPV4 : IPV6) + UDP + size,
        );
        const d = await measure(() => sendFrames(host, frame, count));
        expect(d).toEqual({
          [`egress/${fam}/udp`]: { packets: BigInt(count), bytes: BigInt(count * frame.length) },
        });
      });
    });
  });
});
