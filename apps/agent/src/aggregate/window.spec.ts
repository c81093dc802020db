import type { FlowRecord, TcpTotals, TrafficTotal } from '../collector/port';
import { TCP_FLAG } from '../collector/port';
import { parseAddress } from '../masking/address';
import { createMasker } from '../masking/masker';
import { WindowAggregator, type Sample } from './window';

const none = createMasker({ mode: 'none', ipv4PrefixBits: 24, ipv6PrefixBits: 48 });
const HEALTH = { cpuPercent: 1, rssBytes: 1, spoolDepth: 0, spoolBytes: 0, dropped: {} };
const TCP0: TcpTotals = { openedClient: 0, openedServer: 0, failed: 0, closed: 0, retransmits: 0 };

function sample(atMs: number, over: Partial<Sample> = {}): Sample {
  return {
    atMs,
    traffic: [],
    tcp: TCP0,
    flows: [],
    events: [],
    drops: {},
    errors: { flowTableFull: 0, other: {} },
    program: { runTimeNs: 0, runCount: 0 },
    ...over,
  };
}

function tr(
  iface: string,
  packets: number,
  bytes: number,
  over: Partial<TrafficTotal> = {},
): TrafficTotal {
  return { iface, direction: 'ingress', family: 'ipv4', protocol: 'tcp', packets, bytes, ...over };
}

function flow(
  src: string,
  sport: number,
  dst: string,
  dport: number,
  over: Partial<FlowRecord> = {},
): FlowRecord {
  return {
    iface: 'veth0',
    direction: 'ingress',
    family: src.includes(':') ? 'ipv6' : 'ipv4',
    ipProto: 6,
    saddr: parseAddress(src)!,
    daddr: parseAddress(dst)!,
    sport,
    dport,
    packets: 10,
    bytes: 1000,
    firstSeenNs: 1n,
    lastSeenNs: 2n,
    syn: 0,
    tcpFlags: TCP_FLAG.ACK,
    ...over,
  };
}

function agg(over: Partial<ConstructorParameters<typeof WindowAggregator>[0]> = {}) {
  return new WindowAggregator(
    {
      topN: 5,
      portAllowlist: [],
      maxFlowsPerWindow: 1000,
      cpuBudgetPercent: 50,
      masker: none,
      ...over,
    },
    0,
  );
}

describe('WindowAggregator', () => {
  it('sums counter deltas exactly and computes avg and peak rates from the per-second samples', () => {
    const a = agg();
    a.addSample(sample(1000, { traffic: [tr('veth0', 10, 1000)] }));
    a.addSample(sample(2000, { traffic: [tr('veth0', 40, 5000)] }));
    a.addSample(
      sample(3000, { traffic: [tr('veth0', 40, 5000), tr('veth0', 3, 300, { protocol: 'udp' })] }),
    );
    a.addSample(
      sample(4000, { traffic: [tr('veth0', 41, 5100), tr('veth0', 3, 300, { protocol: 'udp' })] }),
    );
    const b = a.close(4000, HEALTH);
    expect(b.traffic).toEqual([
      {
        iface: 'veth0',
        direction: 'DIRECTION_INGRESS',
        family: 'FAMILY_IPV4',
        protocol: 'PROTOCOL_TCP',
        packets: 41,
        bytes: 5100,
      },
      {
        iface: 'veth0',
        direction: 'DIRECTION_INGRESS',
        family: 'FAMILY_IPV4',
        protocol: 'PROTOCOL_UDP',
        packets: 3,
        bytes: 300,
      },
    ]);
    const host = b.rates.find((r) => r.iface === '')!;
    expect(host.avgPacketsPerSecond).toBe(44 / 4);
    expect(host.peakPacketsPerSecond).toBe(30);
    expect(host.peakBitsPerSecond).toBe(4000 * 8);
    // The next window starts from where this one ended.
    a.addSample(
      sample(5000, { traffic: [tr('veth0', 45, 5500), tr('veth0', 3, 300, { protocol: 'udp' })] }),
    );
    const next = a.close(5000, HEALTH);
    expect(next.windowStartMs).toBe(4000);
    expect(next.traffic).toHaveLength(1);
    expect(next.traffic[0]).toMatchObject({ packets: 4, bytes: 400 });
  });

  it('treats a total that went down as a reattached interface', () => {
    const a = agg();
    a.addSample(sample(1000, { traffic: [tr('veth0', 10, 1000)] }));
    a.addSample(sample(2000, { traffic: [tr('veth0', 2, 200)] }));
    expect(a.close(2000, HEALTH).traffic[0]).toMatchObject({ packets: 12, bytes: 1200 });
  });

  it('credits the listening port using SYN flags, not the ephemeral client port', () => {
    const a = agg({ portAllowlist: [22] });
    // Client 198.18.0.1:40000 -> server 198.18.0.2:8443; server port deliberately high.
    a.addSample(
      sample(1000, {
        flows: [
          flow('198.18.0.1', 40000, '198.18.0.2', 8443, {
            syn: 1,
            tcpFlags: TCP_FLAG.SYN | TCP_FLAG.ACK,
            firstSeenNs: 100n,
            bytes: 700,
          }),
          flow('198.18.0.2', 8443, '198.18.0.1', 40000, {
            syn: 1,
            tcpFlags: TCP_FLAG.SYN | TCP_FLAG.ACK,
            firstSeenNs: 150n,
            bytes: 300,
            direction: 'egress',
          }),
          // Pure SYN that got no answer: client is the sender.
          flow('198.18.0.1', 40001, '198.18.0.2', 9000, {
            syn: 2,
            tcpFlags: TCP_FLAG.SYN,
            bytes: 120,
            packets: 2,
          }),
        ],
      }),
    );
    const b = a.close(1000, HEALTH);
    expect(b.ports).toEqual([
      {
        port: 8443,
        protocol: 'PROTOCOL_TCP',
        packets: 20,
        bytes: 1000,
        connections: 1,
        abnormal: true,
      },
      {
        port: 9000,
        protocol: 'PROTOCOL_TCP',
        packets: 2,
        bytes: 120,
        connections: 1,
        abnormal: true,
      },
    ]);
    expect(b.abnormal).toEqual([
      {
        peer: '198.18.0.1',
        port: 8443,
        protocol: 'PROTOCOL_TCP',
        connections: 1,
        direction: 'DIRECTION_INGRESS',
      },
      {
        peer: '198.18.0.1',
        port: 9000,
        protocol: 'PROTOCOL_TCP',
        connections: 1,
        direction: 'DIRECTION_INGRESS',
      },
    ]);
    // A later window of the same connection, without SYNs, still credits 8443.
    a.addSample(
      sample(2000, {
        flows: [flow('198.18.0.2', 8443, '198.18.0.1', 40000, { direction: 'egress' })],
      }),
    );
    expect(a.close(2000, HEALTH).ports.map((p) => [p.port, p.connections])).toEqual([[8443, 0]]);
  });

  it('falls back to port ranges without a SYN (agent started mid-connection, UDP)', () => {
    const a = agg();
    a.addSample(
      sample(1000, {
        flows: [
          flow('198.18.0.1', 53, '198.18.0.2', 41000, { ipProto: 17 }),
          flow('198.18.0.1', 45000, '198.18.0.2', 5201),
        ],
      }),
    );
    const ports = a.close(1000, HEALTH).ports.map((p) => `${p.protocol}/${p.port}`);
    expect(ports.sort()).toEqual(['PROTOCOL_TCP/5201', 'PROTOCOL_UDP/53']);
  });

  it('counts one packet seen on both ends of a veth once in ports and talkers', () => {
    const a = agg();
    const f = flow('198.18.0.1', 40000, '198.18.0.2', 80, { syn: 1, tcpFlags: TCP_FLAG.SYN });
    a.addSample(sample(1000, { flows: [f, { ...f, iface: 'veth1', direction: 'egress' }] }));
    const b = a.close(1000, HEALTH);
    expect(b.ports[0]).toMatchObject({ port: 80, bytes: 1000, connections: 1 });
    expect(b.talkers).toEqual([
      { src: '198.18.0.1', dst: '198.18.0.2', protocol: 'PROTOCOL_TCP', packets: 10, bytes: 1000 },
    ]);
  });

  it('masks talkers and abnormal peers', () => {
    const masker = createMasker({ mode: 'truncate', ipv4PrefixBits: 24, ipv6PrefixBits: 48 });
    const a = agg({ masker, portAllowlist: [80] });
    a.addSample(
      sample(1000, {
        flows: [flow('fd00::1', 40000, 'fd00::2', 23, { syn: 1, tcpFlags: TCP_FLAG.SYN })],
      }),
    );
    const text = JSON.stringify(a.close(1000, HEALTH));
    expect(text).not.toMatch(/fd00::1|fd00::2/);
    expect(text).toContain('fd00::/48');
  });

  it('reports connections: opened, failed, closed, peak per second, active, durations, drops', () => {
    const a = agg({ initialActive: 5 });
    a.addSample(sample(1000, { tcp: { ...TCP0, openedClient: 2, openedServer: 1 } }));
    a.addSample(
      sample(2000, {
        tcp: { openedClient: 3, openedServer: 6, failed: 1, closed: 2, retransmits: 4 },
        events: [
          {
            kind: 'closed',
            family: 'ipv4',
            role: 'client',
            durationNs: 5_000_000n,
            saddr: Buffer.alloc(4),
            daddr: Buffer.alloc(4),
            sport: 1,
            dport: 2,
          },
          {
            kind: 'closed',
            family: 'ipv4',
            role: 'server',
            durationNs: 2_000_000_000n,
            saddr: Buffer.alloc(4),
            daddr: Buffer.alloc(4),
            sport: 1,
            dport: 2,
          },
        ],
        drops: { NO_SOCKET: 3 },
      }),
    );
    const c = a.close(2000, HEALTH);
    expect(c.connections).toMatchObject({
      openedClient: 3,
      openedServer: 6,
      failed: 1,
      closed: 2,
      retransmits: 4,
      active: 5 + 9 - 2,
      peakOpenedPerSecond: 6,
    });
    expect(c.connections!.durationCounts).toEqual([0, 1, 1, 1, 2, 2, 2, 2, 2]);
    expect(c.connections!.durationSumMs).toBe(2005);
    expect(c.drops).toEqual([{ reason: 'NO_SOCKET', count: 3 }]);
  });

  it('reports flow-table-full and flows left out by the guard, never silently', () => {
    const a = agg({ maxFlowsPerWindow: 2 });
    a.addSample(
      sample(1000, {
        errors: { flowTableFull: 7, other: {} },
        flows: [1, 2, 3, 4].map((i) => flow('198.18.0.1', 40000 + i, '198.18.0.2', 80)),
      }),
    );
    const b = a.close(1000, { ...HEALTH, dropped: { spool_full: 2 } });
    expect(b.flowsSampled).toBe(true);
    expect(b.health!.flowTableFull).toBe(7);
    expect(b.health!.recordsDropped).toEqual([
      { reason: 'flow_limit', count: 2 },
      { reason: 'flow_table_full', count: 7 },
      { reason: 'spool_full', count: 2 },
    ]);
  });

  it('samples flows by connection when over the CPU budget and says so', () => {
    const a = agg({ cpuBudgetPercent: 5 });
    a.close(0, { ...HEALTH, cpuPercent: 50 });
    const unsampled = a.close(0, HEALTH);
    expect(unsampled.flowsSampled).toBe(false); // one busy window alone changes nothing
    a.close(0, { ...HEALTH, cpuPercent: 50 });
    a.close(0, { ...HEALTH, cpuPercent: 50 });
    const flows = Array.from({ length: 200 }, (_, i) =>
      flow('198.18.0.1', 30000 + i, '198.18.0.2', 80),
    );
    a.addSample(sample(1000, { flows }));
    const b = a.close(1000, HEALTH);
    const dropped = b.health!.recordsDropped.find((d) => d.reason === 'cpu_budget_sampling')!;
    expect(b.flowsSampled).toBe(true);
    expect(dropped.count).toBeGreaterThan(50);
    expect(dropped.count).toBeLessThan(150);
  });
});
