import { TidewatchBpfError, fromNative, native, nativeSync } from './errors';
import { addressBytes, formatAddress } from './address';
import {
  CONFIG,
  FLOWS_BITS,
  DIRECTIONS,
  ERROR_KEYS,
  EVENT_KINDS,
  FAMILIES,
  ROLES,
  MAX_IFACES,
  PROTOCOLS,
  ROWS_PER_SLOT,
  TCP_STAT_KEYS,
} from './layout';
import type {
  AttachedInterface,
  CollectorOptions,
  ConnectionEvent,
  DropRecord,
  EventListener,
  FlowRecord,
  FlowRecordBytes,
  KernelErrors,
  LostListener,
  PollErrorListener,
  ProgramStats,
  RetransmitRecord,
  TcpStats,
  TrafficRow,
} from './records';

export type {
  AttachedInterface,
  CollectorOptions,
  ConnectionEvent,
  DropRecord,
  EventListener,
  FlowRecord,
  FlowRecordBytes,
  KernelErrors,
  LostListener,
  PollErrorListener,
  ProgramStats,
  RetransmitRecord,
  TcpStats,
  TrafficRow,
} from './records';
import { hasObject, loadAddon, objectPath, requireObject, type ObjectKind } from './loader';
import type { NativeAddon, NativeConnEvent, NativeHandle } from './native';
import { kfreeSkbReasonNames, kfreeSkbReasonOffset, tracepointOffsets } from './tracefs';
import { checkOptions } from './options';
import { checkBool, checkIfname } from './validate';

/** Picks the object for 'auto': modern only where the kernel has what it needs. */
function chooseObject(addon: NativeAddon, wanted: CollectorOptions['object']): ObjectKind {
  if (wanted === 'legacy' || wanted === 'modern') return wanted;
  const probe = addon.probeKernel();
  return probe.ringbuf && probe.batchOps && probe.gsoSegs && hasObject('modern')
    ? 'modern'
    : 'legacy';
}

function convertEvent(ev: NativeConnEvent): ConnectionEvent {
  return {
    kind: EVENT_KINDS[ev.kind] ?? 'closed',
    family: FAMILIES[ev.family] ?? 'other',
    role: ROLES[ev.role] ?? 'unknown',
    timestampNs: ev.timestampNs,
    durationNs: ev.durationNs,
    saddr: formatAddress(ev.saddr, ev.family),
    sport: ev.sport,
    daddr: formatAddress(ev.daddr, ev.family),
    dport: ev.dport,
    saddrBytes: addressBytes(ev.saddr, ev.family),
    daddrBytes: addressBytes(ev.daddr, ev.family),
  };
}

/**
 * One loaded Tidewatch object: attach it to interfaces and tracepoints, read
 * its counters, drain its flows, receive its events. No policy: the agent
 * decides what to attach and how often to read.
 */
export class Collector {
  private closed = false;
  private readonly attached = new Map<string, AttachedInterface>();
  private readonly listeners = new Set<EventListener>();
  private readonly lostListeners = new Set<LostListener>();
  private readonly errorListeners = new Set<PollErrorListener>();
  private polling = false;
  private reasonNames?: Map<number, string>;

  private constructor(
    private readonly addon: NativeAddon,
    private readonly handle: NativeHandle,
    /** The object file loaded. */
    readonly objectPath: string,
    /** Which of the two objects it is. */
    readonly objectKind: ObjectKind,
    private readonly perfBufferPages: number,
  ) {}

  /** Opens and loads the BPF object, sizes its tables and writes its knobs. */
  static async open(options: CollectorOptions = {}): Promise<Collector> {
    const { object, pages, flows, events, ...tables } = checkOptions(options);
    const addon = loadAddon();
    const kind = chooseObject(addon, object);
    const path = requireObject(kind);
    const handle = await native(addon.open(path, tables));
    const collector = new Collector(addon, handle, path, kind, pages);
    try {
      // table A, records on or off: one word (tidewatch.h, TW_CFG_FLOWS)
      collector.writeConfig(CONFIG.flows, flows ? BigInt(FLOWS_BITS.on) : 0n);
      collector.writeConfig(CONFIG.eventsEnabled, events ? 1n : 0n);
      collector.writeConfig(CONFIG.kfreeReasonOffset, BigInt(kfreeSkbReasonOffset()));
      const tp = tracepointOffsets();
      collector.writeConfig(CONFIG.sockSaddr6Offset, BigInt(tp.sockSaddr6));
      collector.writeConfig(CONFIG.retransSportOffset, BigInt(tp.retransSport));
      collector.writeConfig(CONFIG.retransSaddr6Offset, BigInt(tp.retransSaddr6));
    } catch (err) {
      await collector.close();
      throw err;
    }
    return collector;
  }

  /** Path the object kind would load from (exists or not). */
  static objectPath(kind: ObjectKind): string {
    return objectPath(kind);
  }

  /**
   * Removes Tidewatch filters a crashed earlier run left on an interface
   * (found by Tidewatch's TC handle and priority and a tw_ program name).
   * Resolves to how many were removed.
   */
  static async cleanupStale(ifname: string): Promise<number> {
    const name = checkIfname(ifname);
    return native(loadAddon().cleanupStale(name));
  }

  /** Interfaces attached now. */
  interfaces(): AttachedInterface[] {
    return [...this.attached.values()];
  }

  /** Counts traffic on an interface's ingress and egress (TC clsact). */
  async attachInterface(ifname: string): Promise<AttachedInterface> {
    const name = checkIfname(ifname);
    this.checkOpen();
    if (this.attached.has(name)) {
      throw new TidewatchBpfError(`cannot attach to ${name}: already attached`, 'EEXIST');
    }
    const slot = this.freeSlot(name);
    // Reserved before the first await, so concurrent attaches get distinct slots.
    const iface: AttachedInterface = { name, ifindex: 0, slot };
    this.attached.set(name, iface);
    try {
      try {
        iface.ifindex = this.addon.ifIndex(name);
      } catch (err) {
        if ((err as { code?: string }).code === 'ENODEV') {
          throw new TidewatchBpfError(`cannot attach to ${name}: no such interface`, 'ENODEV', 19);
        }
        throw fromNative(err);
      }
      nativeSync(() => this.addon.setIfSlot(this.handle, iface.ifindex, slot));
      try {
        const res = await native(this.addon.attachTc(this.handle, name));
        iface.ifindex = res.ifindex;
      } catch (err) {
        nativeSync(() => this.addon.deleteIfSlot(this.handle, iface.ifindex));
        throw err;
      }
    } catch (err) {
      this.attached.delete(name);
      throw err;
    }
    return iface;
  }

  /** Removes this collector's filters from an interface (and clsact if it made it and it is empty). */
  async detachInterface(ifname: string): Promise<void> {
    const name = checkIfname(ifname);
    this.checkOpen();
    const iface = this.attached.get(name);
    if (!iface) {
      throw new TidewatchBpfError(`cannot detach from ${name}: not attached`, 'ENOENT');
    }
    await native(this.addon.detachTc(this.handle, name));
    this.attached.delete(name);
    nativeSync(() => this.addon.deleteIfSlot(this.handle, iface.ifindex));
  }

  /** Attaches the TCP lifecycle, retransmit and drop tracepoints; resolves to the programs attached. */
  async attachTracepoints(): Promise<string[]> {
    this.checkOpen();
    return native(this.addon.attachTracepoints(this.handle));
  }

  async detachTracepoints(): Promise<void> {
    this.checkOpen();
    await native(this.addon.detachTracepoints(this.handle));
  }

  /** Exact counters since attach, one row per interface × direction × family × protocol seen. */
  async readTraffic(): Promise<TrafficRow[]> {
    this.checkOpen();
    const ifaces = this.interfaces();
    const values = await native(
      this.addon.readTraffic(
        this.handle,
        ifaces.map((i) => i.slot),
      ),
    );
    const rows: TrafficRow[] = [];
    ifaces.forEach((iface, s) => {
      for (let i = 0; i < ROWS_PER_SLOT; i++) {
        const packets = values[(s * ROWS_PER_SLOT + i) * 2];
        const bytes = values[(s * ROWS_PER_SLOT + i) * 2 + 1];
        if (packets === 0n && bytes === 0n) continue;
        const perDir = FAMILIES.length * PROTOCOLS.length;
        rows.push({
          iface: iface.name,
          ifindex: iface.ifindex,
          direction: DIRECTIONS[Math.floor(i / perDir)],
          family: FAMILIES[Math.floor(i / PROTOCOLS.length) % FAMILIES.length],
          protocol: PROTOCOLS[i % PROTOCOLS.length],
          packets,
          bytes,
        });
      }
    });
    return rows;
  }

  /** TCP lifecycle counters since load (opened as client/server, failed, closed, retransmits, drops). */
  async readTcpStats(): Promise<TcpStats> {
    this.checkOpen();
    const v = nativeSync(() => this.addon.readCounters(this.handle, 'tcp'));
    return Object.fromEntries(TCP_STAT_KEYS.map((k, i) => [k, v[i] ?? 0n])) as TcpStats;
  }

  /** Kernel-side failures since load (flow_table_full, ...). */
  async readErrors(): Promise<KernelErrors> {
    this.checkOpen();
    const v = nativeSync(() => this.addon.readCounters(this.handle, 'errors'));
    return Object.fromEntries(ERROR_KEYS.map((k, i) => [k, v[i] ?? 0n])) as KernelErrors;
  }

  /**
   * Flow records since the previous drain. The kernel switches to the other
   * table first, so packets arriving meanwhile land in the next drain.
   */
  async drainFlows(): Promise<FlowRecord[]> {
    return (await this.drainFlowBytes()).map((f) => {
      const family = f.family === 'ipv4' ? 0 : f.family === 'ipv6' ? 1 : 2;
      return { ...f, saddr: formatAddress(f.saddr, family), daddr: formatAddress(f.daddr, family) };
    });
  }

  /**
   * drainFlows with the addresses as bytes, never formatted: for callers that
   * mask, hash or compare them (the agent), with no text round trip per flow.
   */
  async drainFlowBytes(): Promise<FlowRecordBytes[]> {
    this.checkOpen();
    const flows = await native(this.addon.drainFlows(this.handle));
    const names = new Map([...this.attached.values()].map((i) => [i.ifindex, i.name]));
    return flows.map((f) => ({
      iface: names.get(f.ifindex) ?? '',
      ifindex: f.ifindex,
      direction: DIRECTIONS[f.direction] ?? 'ingress',
      family: FAMILIES[f.family] ?? 'other',
      ipProto: f.ipProto,
      saddr: addressBytes(f.saddr, f.family),
      daddr: addressBytes(f.daddr, f.family),
      sport: f.sport,
      dport: f.dport,
      packets: f.packets,
      bytes: f.bytes,
      firstSeenNs: f.firstSeenNs,
      lastSeenNs: f.lastSeenNs,
      syn: f.syn,
      fin: f.fin,
      rst: f.rst,
      tcpFlags: f.tcpFlags,
    }));
  }

  /** Retransmits per TCP connection since load (cumulative). */
  async readRetransmits(): Promise<RetransmitRecord[]> {
    this.checkOpen();
    const rows = await native(this.addon.readRetransmits(this.handle));
    return rows.map((r) => ({
      family: FAMILIES[r.family] ?? 'other',
      saddr: formatAddress(r.saddr, r.family),
      daddr: formatAddress(r.daddr, r.family),
      sport: r.sport,
      dport: r.dport,
      count: r.count,
    }));
  }

  /** This kernel's drop-reason names (skb/kfree_skb), empty before 5.17 or without tracefs. */
  dropReasonNames(): string[] {
    this.reasonNames ??= kfreeSkbReasonNames();
    return [...this.reasonNames.values()];
  }

  /** Dropped packets per kernel drop reason since load (cumulative). */
  async readDrops(): Promise<DropRecord[]> {
    this.checkOpen();
    const rows = await native(this.addon.readDrops(this.handle));
    this.reasonNames ??= kfreeSkbReasonNames();
    return rows.map((r) => ({
      reason: r.reason,
      name: this.reasonNames?.get(r.reason) ?? '',
      count: r.count,
    }));
  }

  /**
   * Calls `listener` for every connection event; `onLost` with the number of
   * events the kernel could not write because the buffer was full, counted
   * from the start of polling. Perf buffer (legacy): from the kernel's lost
   * records, which arrive with the next event that fits on that CPU. Ring
   * buffer (modern): from the growth of the kernel's `eventLost` counter.
   * Polling starts with the first listener. Returns a function that removes
   * the listeners.
   */
  onEvent(listener: EventListener, onLost?: LostListener, onError?: PollErrorListener): () => void {
    if (typeof listener !== 'function') {
      throw new TidewatchBpfError('invalid listener: must be a function', 'EINVAL');
    }
    this.checkOpen();
    this.listeners.add(listener);
    if (onLost) this.lostListeners.add(onLost);
    if (onError) this.errorListeners.add(onError);
    if (!this.polling) {
      nativeSync(() =>
        this.addon.startEvents(
          this.handle,
          (events, lost, error) => this.dispatch(events, lost, error),
          this.perfBufferPages,
        ),
      );
      this.polling = true;
    }
    return () => {
      this.listeners.delete(listener);
      if (onLost) this.lostListeners.delete(onLost);
      if (onError) this.errorListeners.delete(onError);
    };
  }

  /** Run count and run time per program (kernel.bpf_stats_enabled=1 fills them). */
  programStats(): ProgramStats[] {
    this.checkOpen();
    return nativeSync(() => this.addon.programStats(this.handle));
  }

  /** Turns per-flow records on or off at run time; the exact counters continue. */
  setFlowsEnabled(enabled: boolean): void {
    const on = checkBool('enabled', enabled) === true;
    this.checkOpen();
    // Native: it changes only the on bit of the word whose table bit a drain
    // flips, under the lock the drain holds.
    nativeSync(() => this.addon.setFlowsEnabled(this.handle, on));
  }

  /** Turns connection events on or off at run time. */
  setEventsEnabled(enabled: boolean): void {
    this.writeConfig(CONFIG.eventsEnabled, checkBool('enabled', enabled) ? 1n : 0n);
  }

  /** Stops polling, removes its own filters, detaches tracepoints, unloads. Idempotent. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.listeners.clear();
    this.lostListeners.clear();
    this.errorListeners.clear();
    this.attached.clear();
    await native(this.addon.close(this.handle));
  }

  get isClosed(): boolean {
    return this.closed;
  }

  private dispatch(events: NativeConnEvent[], lost: number, error?: Error): void {
    // Every listener gets every event even when another one throws; the first
    // exception is rethrown on its own tick, where process-level handlers see
    // it, never unwound into the addon's poll callback.
    let thrown: unknown;
    const call = (fn: () => void) => {
      try {
        fn();
      } catch (err) {
        thrown ??= err;
      }
    };
    for (const ev of events) {
      const converted = convertEvent(ev);
      for (const l of this.listeners) call(() => l(converted));
    }
    if (lost > 0) for (const l of this.lostListeners) call(() => l(lost));
    if (error) {
      const failure = fromNative(error);
      if (this.errorListeners.size === 0) thrown ??= failure;
      for (const l of this.errorListeners) call(() => l(failure));
    }
    if (thrown !== undefined) {
      process.nextTick(() => {
        throw thrown;
      });
    }
  }

  private writeConfig(key: number, value: bigint): void {
    this.checkOpen();
    nativeSync(() => this.addon.writeConfig(this.handle, key, value));
  }

  private freeSlot(name: string): number {
    const used = new Set([...this.attached.values()].map((i) => i.slot));
    for (let slot = 1; slot < MAX_IFACES; slot++) if (!used.has(slot)) return slot;
    throw new TidewatchBpfError(
      `cannot attach to ${name}: all ${MAX_IFACES - 1} interface slots are in use`,
      'ENOSPC',
    );
  }

  private checkOpen(): void {
    if (this.closed) throw new TidewatchBpfError('the collector is closed', 'EBADF');
  }
}
