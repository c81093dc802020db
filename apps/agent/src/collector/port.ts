// The agent's port to the kernel side: what it needs from a collector, in its
// own terms (numbers, address bytes, short names). The real implementation is
// a thin adapter over @tidewatch/bpf's Collector (bpf-collector.ts); unit
// tests feed snapshots.

import {
  DIRECTION_NAMES,
  FAMILY_NAMES,
  PROTOCOL_NAMES,
  type DirectionName,
  type FamilyName,
  type ProtocolName,
} from '@tidewatch/proto';

// The short names are the contract's (@tidewatch/proto names.ts), shared with
// the server; bpf-collector.spec.ts holds @tidewatch/bpf's kernel names to them.
export type { DirectionName, FamilyName, ProtocolName };
export const DIRECTIONS = DIRECTION_NAMES;
export const FAMILIES = FAMILY_NAMES;
export const PROTOCOLS = PROTOCOL_NAMES;

/** Running totals since the interface was attached (never reset while attached). */
export interface TrafficTotal {
  iface: string;
  direction: DirectionName;
  family: FamilyName;
  protocol: ProtocolName;
  packets: number;
  bytes: number;
}

/** Running TCP lifecycle totals for the host since the collector opened. */
export interface TcpTotals {
  openedClient: number;
  openedServer: number;
  failed: number;
  closed: number;
  retransmits: number;
  /** Established connections now, when the collector can tell; undefined otherwise. */
  active?: number;
}

/** One drained per-flow record (a direction of a 5-tuple on one interface). */
export interface FlowRecord {
  iface: string;
  direction: DirectionName;
  family: FamilyName;
  /** IP protocol number (6 tcp, 17 udp, 1 icmp, 58 icmpv6), 0 for non-IP. */
  ipProto: number;
  /** Raw address bytes: 4 for IPv4, 16 for IPv6 (empty for non-IP). */
  saddr: Buffer;
  daddr: Buffer;
  sport: number;
  dport: number;
  packets: number;
  bytes: number;
  firstSeenNs: bigint;
  lastSeenNs: bigint;
  /** Packets with SYN set (SYN and SYN-ACK alike). */
  syn: number;
  /** OR of the TCP flags seen. */
  tcpFlags: number;
}

export const TCP_FLAG = { FIN: 0x01, SYN: 0x02, RST: 0x04, PSH: 0x08, ACK: 0x10 } as const;

export interface ConnectionEvent {
  kind: 'closed' | 'failed';
  family: FamilyName;
  role: 'client' | 'server' | 'unknown';
  durationNs: bigint;
  saddr: Buffer;
  daddr: Buffer;
  sport: number;
  dport: number;
}

export interface ProgramStats {
  runTimeNs: number;
  runCount: number;
}

/** Running counts of what the kernel side could not record. */
export interface CollectorErrors {
  flowTableFull: number;
  other: Record<string, number>;
}

export interface CollectorPort {
  attachInterface(name: string): Promise<void>;
  detachInterface(name: string): Promise<void>;
  attachedInterfaces(): string[];
  readTraffic(): Promise<TrafficTotal[]>;
  readTcp(): Promise<TcpTotals>;
  /** Flow records since the last drain; the kernel table is emptied. */
  drainFlows(): Promise<FlowRecord[]>;
  /** Running drop totals by reason name. */
  readDrops(): Promise<Record<string, number>>;
  readErrors(): Promise<CollectorErrors>;
  programStats(): ProgramStats;
  /** Connection events received since the last call. */
  takeEvents(): ConnectionEvent[];
  /** Turns per-flow records on or off (the overhead guard); counters stay exact. */
  setFlowsEnabled?(enabled: boolean): void;
  /** Label values known at start (kernel error names, drop reasons), exported at 0. */
  knownLabels?(): { kernelErrors: string[]; dropReasons: string[] };
  /** What was loaded, for the start-up log. */
  describe?(): { object: string; tracepoints: string[]; tracepointError?: string };
  close(): Promise<void>;
}
