// The records and options of the typed API: what the kernel's maps and
// events become in JavaScript (layouts in tidewatch.h, names in layout.ts).
import type { TidewatchBpfError } from './errors';
import type { Direction, ErrorKey, Family, Protocol, Role, TcpStatKey } from './layout';
import type { ObjectKind } from './loader';

export interface CollectorOptions {
  /** Which object to load: 'auto' (default) takes 'modern' when the kernel has ring buffer and batch ops. */
  object?: 'auto' | ObjectKind;
  /** Entries of each of the two flow tables (default: the object's, 16384). */
  flowTableSize?: number;
  /** Entries of the connection-start table (default: the object's). */
  connTableSize?: number;
  /** Entries of the per-connection retransmit table (default: the object's). */
  retransTableSize?: number;
  /** Entries of the drop-reason table (default: the object's). */
  dropTableSize?: number;
  /** Ring buffer size in bytes, a power of two ≥ 4096 (modern object only). */
  ringBufferBytes?: number;
  /** Pages per CPU of the perf buffer (legacy object), a power of two; default 64. */
  perfBufferPages?: number;
  /** Per-flow records (default true); the exact counters run regardless. */
  flows?: boolean;
  /** Connection-close events (default true). */
  events?: boolean;
  /**
   * Drain flows with batch lookup-and-delete where the kernel has it (5.6+;
   * default true). false drains key by key, as on 4.19.
   */
  batchOps?: boolean;
}

export interface AttachedInterface {
  name: string;
  ifindex: number;
  /** 1..255: the interface's rows in the kernel counters. */
  slot: number;
}

/** One row of the exact counters; packets and bytes count since attach. */
export interface TrafficRow {
  iface: string;
  ifindex: number;
  direction: Direction;
  family: Family;
  protocol: Protocol;
  packets: bigint;
  bytes: bigint;
}

export type TcpStats = Record<TcpStatKey, bigint>;
export type KernelErrors = Record<ErrorKey, bigint>;

/** A flow record with its addresses as bytes (see drainFlowBytes); FlowRecord adds their text. */
export interface FlowRecordBytes {
  /** Interface name when it is attached to this collector, else ''. */
  iface: string;
  ifindex: number;
  direction: Direction;
  family: Family;
  /** IP protocol number (6, 17, 1, 58, ...), 0 for non-IP. */
  ipProto: number;
  /** Network-order bytes: 4 for IPv4, 16 for IPv6, none for non-IP. */
  saddr: Buffer;
  daddr: Buffer;
  sport: number;
  dport: number;
  packets: bigint;
  bytes: bigint;
  /** CLOCK_MONOTONIC nanoseconds (bpf_ktime_get_ns). */
  firstSeenNs: bigint;
  lastSeenNs: bigint;
  syn: number;
  fin: number;
  rst: number;
  tcpFlags: number;
}

export interface FlowRecord {
  /** Interface name when it is attached to this collector, else ''. */
  iface: string;
  ifindex: number;
  direction: Direction;
  family: Family;
  /** IP protocol number (6, 17, 1, 58, ...), 0 for non-IP. */
  ipProto: number;
  saddr: string;
  daddr: string;
  sport: number;
  dport: number;
  packets: bigint;
  bytes: bigint;
  /** CLOCK_MONOTONIC nanoseconds (bpf_ktime_get_ns). */
  firstSeenNs: bigint;
  lastSeenNs: bigint;
  syn: number;
  fin: number;
  rst: number;
  tcpFlags: number;
}

export interface RetransmitRecord {
  family: Family;
  saddr: string;
  daddr: string;
  sport: number;
  dport: number;
  count: bigint;
}

export interface DropRecord {
  /** enum skb_drop_reason of this kernel; 0 when the kernel gives none (before 5.17). */
  reason: number;
  /** The reason's name on this kernel ("NETFILTER_DROP", ...), '' when unknown. */
  name: string;
  count: bigint;
}

export interface ConnectionEvent {
  kind: 'closed' | 'failed';
  family: Family;
  /** 'unknown' when the connection was established before the load. */
  role: Role;
  timestampNs: bigint;
  /** ESTABLISHED → CLOSE; 0n when unknown (failed connects). */
  durationNs: bigint;
  /** Local address and port. */
  saddr: string;
  sport: number;
  /** Remote address and port. */
  daddr: string;
  dport: number;
  /** The same addresses as network-order bytes (4 or 16), for callers that mask or hash them. */
  saddrBytes: Buffer;
  daddrBytes: Buffer;
}

export interface ProgramStats {
  name: string;
  id: number;
  /** Zero unless kernel.bpf_stats_enabled=1. */
  runCount: bigint;
  runTimeNs: bigint;
  /** Runs the kernel skipped because another BPF program was running on that CPU (5.12+, else 0). */
  recursionMisses: bigint;
}

export type EventListener = (event: ConnectionEvent) => void;
export type LostListener = (lost: number) => void;
/** Polling stopped for good (the buffer could not be read); events no longer arrive. */
export type PollErrorListener = (error: TidewatchBpfError) => void;
