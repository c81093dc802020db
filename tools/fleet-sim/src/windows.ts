import {
  DIRECTION_WIRE,
  FAMILY_WIRE,
  PROTOCOL_WIRE,
  type Batch,
  type Protocol,
} from '@tidewatch/proto';

// Realistic windows for one simulated host: two interfaces, both directions,
// IPv4 and IPv6, TCP/UDP/ICMP/other, a diurnal traffic curve, a handful of
// server ports, top talkers, connection churn and the odd drop.

export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const IFACES = ['eth0', 'bond0'];
// Wire values through the shared name mapping (@tidewatch/proto names.ts).
const DIRS = [DIRECTION_WIRE.ingress, DIRECTION_WIRE.egress] as const;
const FAMS = [FAMILY_WIRE.ipv4, FAMILY_WIRE.ipv6] as const;
const { tcp: TCP, udp: UDP } = PROTOCOL_WIRE;
const PROTOS: [Protocol, number][] = [
  [TCP, 0.82],
  [UDP, 0.15],
  [PROTOCOL_WIRE.icmp, 0.02],
  [PROTOCOL_WIRE.other, 0.01],
];
const PORTS: [number, Protocol][] = [
  [443, TCP],
  [1521, TCP],
  [5432, TCP],
  [8080, TCP],
  [22, TCP],
  [53, UDP],
  [123, UDP],
];

/** Traffic intensity 0.2..1 over the day (a trading day peaks mid-morning). */
export function diurnal(t: number): number {
  const h = (t / 3_600_000) % 24;
  return 0.2 + 0.8 * Math.exp(-((h - 10) ** 2) / 18);
}

/** Rows this batch adds across the server's raw tables. */
export function recordsOf(b: Batch): number {
  return (
    (b.traffic?.length ?? 0) +
    (b.rates?.length ?? 0) +
    (b.ports?.length ?? 0) +
    (b.talkers?.length ?? 0) +
    (b.drops?.length ?? 0) +
    (b.abnormal?.length ?? 0) +
    1
  );
}

export function makeWindow(
  host: number,
  sequence: number,
  startMs: number,
  windowMs = 10_000,
): Batch {
  const r = prng(host * 7_919 + sequence * 104_729);
  const seconds = windowMs / 1000;
  const load = diurnal(startMs) * (0.5 + (host % 10) / 10);
  const traffic: NonNullable<Batch['traffic']> = [];
  const byDir = { DIRECTION_INGRESS: [0, 0], DIRECTION_EGRESS: [0, 0] };
  for (const iface of IFACES) {
    for (const direction of DIRS) {
      for (const family of FAMS) {
        for (const [protocol, share] of PROTOS) {
          const pps =
            20_000 * load * share * (family === 'FAMILY_IPV6' ? 0.2 : 0.8) * (0.9 + 0.2 * r());
          const packets = Math.round(pps * seconds);
          const bytes = packets * Math.round(protocol === TCP ? 900 : 180 + 200 * r());
          byDir[direction][0] += packets;
          byDir[direction][1] += bytes;
          traffic.push({ iface, direction, family, protocol, packets, bytes });
        }
      }
    }
  }
  const rates = DIRS.map((direction) => ({
    iface: '',
    direction,
    avgPacketsPerSecond: byDir[direction][0] / seconds,
    peakPacketsPerSecond: (byDir[direction][0] / seconds) * (1.1 + r()),
    avgBitsPerSecond: (byDir[direction][1] * 8) / seconds,
    peakBitsPerSecond: ((byDir[direction][1] * 8) / seconds) * (1.1 + r()),
  }));
  const ports = PORTS.map(([port, protocol]) => {
    const packets = Math.round(5_000 * load * r());
    return {
      port,
      protocol,
      packets,
      bytes: packets * 700,
      connections: Math.round(40 * load * r()),
      abnormal: false,
    };
  });
  const talkers = Array.from({ length: 10 }, (_, i) => {
    const packets = Math.round(10_000 * load * r());
    return {
      src: `198.18.${host % 250}.${i + 1}`,
      dst: `198.19.${Math.floor(r() * 8)}.${1 + Math.floor(r() * 250)}`,
      protocol: i % 4 === 3 ? UDP : TCP,
      packets,
      bytes: packets * 850,
    };
  });
  const opened = Math.round(300 * load * r());
  return {
    sequence,
    windowStartMs: startMs,
    windowEndMs: startMs + windowMs,
    traffic,
    rates,
    ports,
    talkers,
    connections: {
      openedClient: Math.round(opened * 0.3),
      openedServer: opened - Math.round(opened * 0.3),
      failed: r() < 0.1 ? 1 : 0,
      closed: opened,
      active: 200 + Math.round(800 * load),
      peakOpenedPerSecond: (opened / seconds) * 2,
      retransmits: Math.round(5 * r()),
      durationBoundsMs: [10, 100, 1000, 10000],
      durationCounts: [opened >> 2, opened >> 2, opened >> 2, opened >> 3, opened >> 3],
      durationSumMs: opened * 420,
    },
    drops:
      r() < 0.3 ? [{ reason: 'SKB_DROP_REASON_NO_SOCKET', count: 1 + Math.floor(r() * 5) }] : [],
    health: {
      cpuPercent: 1 + r(),
      rssBytes: 35_000_000,
      bpfRunTimeNs: 4_000_000,
      bpfRunCount: 200_000,
      spoolDepth: 0,
      spoolBytes: 0,
      recordsDropped: [],
      flowTableFull: 0,
    },
    abnormal: [],
    flowsSampled: false,
  };
}
