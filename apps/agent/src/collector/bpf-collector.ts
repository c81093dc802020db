// This adapter is itself the lazily loaded module (open.ts requires it on demand).
// eslint-disable-next-line @nx/enforce-module-boundaries
import {
  Collector as BpfLibCollector,
  ERROR_KEYS,
  ERROR_NAMES,
  TRACEFS_ROOTS,
  probeKernel,
  type ConnectionEvent as BpfEvent,
  type KernelProbe,
} from '@tidewatch/bpf';
import { AddressInterner } from './address-interner';
import { ensureTracefs } from './tracefs-mount';
import type {
  CollectorPort,
  CollectorErrors,
  ConnectionEvent,
  FlowRecord,
  ProgramStats,
  TcpTotals,
  TrafficTotal,
} from './port';

/** The kernel feature probe of @tidewatch/bpf (for `doctor`). */
export function probe(): KernelProbe {
  return probeKernel();
}

/** The agent's collector port over @tidewatch/bpf: conversions only, no policy. */
export class BpfCollector implements CollectorPort {
  private events: ConnectionEvent[] = [];
  private eventsLost = 0;
  /** Shared address Buffers across drains (a window holds one per distinct address). */
  private readonly addresses = new AddressInterner();
  /** Events waiting beyond this are dropped and counted (a stalled event loop must not grow memory). */
  private static readonly MAX_PENDING_EVENTS = 100_000;

  private constructor(
    private readonly core: BpfLibCollector,
    readonly tracepoints: string[],
    /** Why the TCP lifecycle, retransmit and drop tracepoints are not attached, if not. */
    readonly tracepointError: string | undefined,
    /** Only the holder of the state directory's lock may remove filters left by a crash. */
    private readonly cleanupStale: boolean,
  ) {
    core.onEvent(
      (ev) => this.onEvent(ev),
      (lost) => (this.eventsLost += lost),
    );
  }

  static async open(opts: {
    object: 'auto' | 'legacy' | 'modern';
    flowTableSize: number;
    cleanupStale: boolean;
    /** Called when the agent mounted tracefs itself (see ensureTracefs). */
    onTracefsMounted?: (root: string) => void;
  }): Promise<BpfCollector> {
    // Before the load: the object's tracepoint offsets are read from tracefs too.
    const tracefs = ensureTracefs({ roots: TRACEFS_ROOTS });
    if (tracefs.state === 'mounted') opts.onTracefsMounted?.(tracefs.root);
    const tracefsMissing = tracefs.state === 'missing' ? tracefs.reason : undefined;
    const core = await BpfLibCollector.open({
      object: opts.object,
      flowTableSize: opts.flowTableSize,
    });
    let tracepoints: string[] = [];
    let tracepointError: string | undefined;
    try {
      tracepoints = await core.attachTracepoints();
    } catch (err) {
      // Counters and flows still work; the agent reports what is missing.
      tracepointError = tracefsMissing
        ? `${tracefsMissing} (${(err as Error).message})`
        : (err as Error).message;
    }
    return new BpfCollector(core, tracepoints, tracepointError, opts.cleanupStale);
  }

  describe(): { object: string; tracepoints: string[]; tracepointError?: string } {
    return {
      object: this.core.objectKind,
      tracepoints: this.tracepoints,
      tracepointError: this.tracepointError,
    };
  }

  knownLabels(): { kernelErrors: string[]; dropReasons: string[] } {
    return {
      kernelErrors: ERROR_KEYS.map((k) => ERROR_NAMES[k]),
      dropReasons: this.core.dropReasonNames(),
    };
  }

  get objectKind(): string {
    return this.core.objectKind;
  }

  private onEvent(ev: BpfEvent): void {
    if (this.events.length >= BpfCollector.MAX_PENDING_EVENTS) {
      this.eventsLost++;
      return;
    }
    this.events.push({
      kind: ev.kind,
      family: ev.family,
      role: ev.role,
      durationNs: ev.durationNs,
      saddr: ev.saddrBytes,
      daddr: ev.daddrBytes,
      sport: ev.sport,
      dport: ev.dport,
    });
  }

  async attachInterface(name: string): Promise<void> {
    if (this.cleanupStale) await BpfLibCollector.cleanupStale(name).catch(() => 0);
    await this.core.attachInterface(name);
  }

  async detachInterface(name: string): Promise<void> {
    await this.core.detachInterface(name);
  }

  attachedInterfaces(): string[] {
    return this.core.interfaces().map((i) => i.name);
  }

  async readTraffic(): Promise<TrafficTotal[]> {
    return (await this.core.readTraffic()).map((r) => ({
      iface: r.iface,
      direction: r.direction,
      family: r.family,
      protocol: r.protocol,
      packets: Number(r.packets),
      bytes: Number(r.bytes),
    }));
  }

  async readTcp(): Promise<TcpTotals> {
    const t = await this.core.readTcpStats();
    return {
      openedClient: Number(t.openedClient),
      openedServer: Number(t.openedServer),
      failed: Number(t.failed),
      closed: Number(t.closed),
      retransmits: Number(t.retransmits),
    };
  }

  async drainFlows(): Promise<FlowRecord[]> {
    // Addresses stay bytes from the addon to the masker: no text per flow.
    return (await this.core.drainFlowBytes()).map((f) => ({
      iface: f.iface,
      direction: f.direction,
      family: f.family,
      ipProto: f.ipProto,
      saddr: this.addresses.intern(f.saddr),
      daddr: this.addresses.intern(f.daddr),
      sport: f.sport,
      dport: f.dport,
      packets: Number(f.packets),
      bytes: Number(f.bytes),
      firstSeenNs: f.firstSeenNs,
      lastSeenNs: f.lastSeenNs,
      syn: f.syn,
      tcpFlags: f.tcpFlags,
    }));
  }

  async readDrops(): Promise<Record<string, number>> {
    const out: Record<string, number> = {};
    // Names from @tidewatch/bpf (this kernel's enum skb_drop_reason), not re-parsed here.
    for (const d of await this.core.readDrops()) {
      const name = d.reason === 0 ? 'unknown' : d.name || `reason_${d.reason}`;
      out[name] = (out[name] ?? 0) + Number(d.count);
    }
    return out;
  }

  async readErrors(): Promise<CollectorErrors> {
    const e = await this.core.readErrors();
    const other: Record<string, number> = {};
    // Every counter of enum tw_error_key, by the header's name (tp_layout included).
    for (const key of ERROR_KEYS) {
      if (key !== 'flowTableFull') other[ERROR_NAMES[key]] = Number(e[key]);
    }
    // Events the agent itself could not queue count as lost too.
    other[ERROR_NAMES.eventLost] += this.eventsLost;
    return { flowTableFull: Number(e.flowTableFull), other };
  }

  programStats(): ProgramStats {
    let runTimeNs = 0;
    let runCount = 0;
    for (const p of this.core.programStats()) {
      runTimeNs += Number(p.runTimeNs);
      runCount += Number(p.runCount);
    }
    return { runTimeNs, runCount };
  }

  takeEvents(): ConnectionEvent[] {
    const out = this.events;
    this.events = [];
    return out;
  }

  setFlowsEnabled(enabled: boolean): void {
    this.core.setFlowsEnabled(enabled);
  }

  async close(): Promise<void> {
    await this.core.close();
  }
}
