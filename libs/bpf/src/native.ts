/**
 * The shape of the compiled addon (native/src/addon.cc registers these).
 * Arguments reach it already validated by the TypeScript layer.
 */

/** Opaque handle to one loaded object; closed by `close()` or garbage collection. */
export type NativeHandle = { readonly __brand: 'tidewatch-collector' };

export interface NativeOpenOptions {
  flowTableSize?: number;
  connTableSize?: number;
  retransTableSize?: number;
  dropTableSize?: number;
  ringBufferBytes?: number;
  batchOps?: boolean;
}

export interface NativeFlow {
  ifindex: number;
  direction: number;
  family: number;
  ipProto: number;
  saddr: Buffer;
  daddr: Buffer;
  sport: number;
  dport: number;
  packets: bigint;
  bytes: bigint;
  firstSeenNs: bigint;
  lastSeenNs: bigint;
  syn: number;
  fin: number;
  rst: number;
  tcpFlags: number;
}

export interface NativeRetransmit {
  family: number;
  saddr: Buffer;
  daddr: Buffer;
  sport: number;
  dport: number;
  count: bigint;
}

export interface NativeDrop {
  reason: number;
  count: bigint;
}

export interface NativeConnEvent {
  kind: number;
  family: number;
  role: number;
  timestampNs: bigint;
  durationNs: bigint;
  saddr: Buffer;
  daddr: Buffer;
  sport: number;
  dport: number;
}

export interface NativeProgramStats {
  name: string;
  id: number;
  runCount: bigint;
  runTimeNs: bigint;
  recursionMisses: bigint;
}

export interface NativeKernelProbe {
  /** 0 when bpf() works for this process, else the errno of a tiny map create. */
  bpfSyscall: number;
  schedCls: boolean;
  tracepoint: boolean;
  perfEventArray: boolean;
  ringbuf: boolean;
  batchOps: boolean;
  gsoSegs: boolean;
}

export interface NativeAddon {
  open(path: string, options: NativeOpenOptions): Promise<NativeHandle>;
  close(h: NativeHandle): Promise<void>;
  ifIndex(name: string): number;
  attachTc(h: NativeHandle, ifname: string): Promise<{ ifindex: number; createdQdisc: boolean }>;
  detachTc(h: NativeHandle, ifname: string): Promise<void>;
  cleanupStale(ifname: string): Promise<number>;
  attachTracepoints(h: NativeHandle): Promise<string[]>;
  detachTracepoints(h: NativeHandle): Promise<void>;
  writeConfig(h: NativeHandle, key: number, value: bigint): void;
  readConfig(h: NativeHandle, key: number): bigint;
  /** Sets or clears TW_FLOWS_ON in tw_config[TW_CFG_FLOWS], leaving the table bit. */
  setFlowsEnabled(h: NativeHandle, enabled: boolean): void;
  setIfSlot(h: NativeHandle, ifindex: number, slot: number): void;
  deleteIfSlot(h: NativeHandle, ifindex: number): void;
  readTraffic(h: NativeHandle, slots: number[]): Promise<BigUint64Array>;
  readCounters(h: NativeHandle, which: 'errors' | 'tcp'): BigUint64Array;
  readRetransmits(h: NativeHandle): Promise<NativeRetransmit[]>;
  readDrops(h: NativeHandle): Promise<NativeDrop[]>;
  drainFlows(h: NativeHandle): Promise<NativeFlow[]>;
  startEvents(
    h: NativeHandle,
    cb: (events: NativeConnEvent[], lost: number, error?: Error) => void,
    perfPages: number,
  ): void;
  stopEvents(h: NativeHandle): Promise<void>;
  programStats(h: NativeHandle): NativeProgramStats[];
  probeKernel(): NativeKernelProbe;
}
