import type {
  Batch__Output,
  DropStat__Output,
  RateStat__Output,
  TrafficCounter__Output,
} from '@tidewatch/proto';
import type {
  CollectorErrors,
  ConnectionEvent,
  DirectionName,
  FlowRecord,
  ProgramStats,
  TcpTotals,
  TrafficTotal,
} from '../collector/port';
import type { Masker } from '../masking/masker';
import { CounterDeltas, ScalarDeltas, trafficKey } from './counter-deltas';
import { summarizeFlows, topFlows, type FlowRow } from './flow-summary';
import { DurationHistogram } from './histogram';
import { readListening } from './listening-ports';
import { OverheadGuard } from './overhead-guard';
import { DIRECTION_ENUM, FAMILY_ENUM, PROTOCOL_ENUM } from './proto-enums';
import { ScanMemory } from './scan-memory';
import { DEFAULT_SCAN_BOUNDS, scanStats } from './scan-stats';
import { ServerPortResolver } from './server-port';

/** What the collector said at one sampling instant (running totals + drained records). */
export interface Sample {
  atMs: number;
  traffic: TrafficTotal[];
  tcp: TcpTotals;
  flows: FlowRecord[];
  events: ConnectionEvent[];
  drops: Record<string, number>;
  errors: CollectorErrors;
  program: ProgramStats;
}

export interface AggregatorOptions {
  topN: number;
  portAllowlist: number[];
  maxFlowsPerWindow: number;
  cpuBudgetPercent: number;
  masker: Masker;
  /** The host's listening sockets (default: this namespace's /proc/net tables). */
  listening?: () => Batch__Output['listening'];
  /** Established TCP connections when the agent started (estimate base). */
  initialActive?: number;
}

/** What one sample added, for the live views (/metrics, top). */
export interface SampleDelta {
  traffic: TrafficTotal[];
  tcp: Record<keyof Omit<TcpTotals, 'active'>, number>;
  active: number;
  flowTableFull: number;
  elapsedSeconds: number;
}

/** Agent-side figures only the caller knows. */
export interface HealthInput {
  cpuPercent: number;
  rssBytes: number;
  spoolDepth: number;
  spoolBytes: number;
  /** Records the agent lost since the last window, by reason (e.g. spool_full). */
  dropped: Record<string, number>;
}

type TcpKey = 'openedClient' | 'openedServer' | 'failed' | 'closed' | 'retransmits';
const TCP_KEYS: TcpKey[] = ['openedClient', 'openedServer', 'failed', 'closed', 'retransmits'];

interface RateAcc {
  iface: string;
  direction: DirectionName;
  packets: number;
  bytes: number;
  peakPps: number;
  peakBps: number;
}

/**
 * Builds one window (a Batch without its sequence) from per-second samples.
 * Counters come from deltas of running totals, so nothing is counted twice or
 * lost between samples; flows and events are drained, so each arrives once.
 */
export class WindowAggregator {
  private readonly trafficDeltas = new CounterDeltas();
  private readonly tcpDeltas = new ScalarDeltas();
  private readonly dropDeltas = new ScalarDeltas();
  private readonly errorDeltas = new ScalarDeltas();
  private readonly programDeltas = new ScalarDeltas();
  private readonly resolver = new ServerPortResolver();
  private readonly scanMemory = new ScanMemory();
  private readonly guard: OverheadGuard;
  private opts: AggregatorOptions;
  private active: number;
  private lastSampleMs: number | undefined;
  /** Top flows of the last closed window (masked), for exports. */
  lastTopFlows: FlowRow[] = [];
  private w!: {
    startMs: number;
    traffic: Map<string, TrafficTotal>;
    rates: Map<string, RateAcc>;
    tcp: Record<TcpKey, number>;
    peakOpenedPerSecond: number;
    flows: FlowRecord[];
    histogram: DurationHistogram;
    drops: Map<string, number>;
    recordsDropped: Map<string, number>;
    flowTableFull: number;
    bpfRunTimeNs: number;
    bpfRunCount: number;
    sampled: boolean;
    /** Time the samples of this window cover (they are taken just after each second). */
    sampledSeconds: number;
  };

  constructor(opts: AggregatorOptions, startMs: number) {
    this.opts = opts;
    this.active = opts.initialActive ?? 0;
    this.guard = new OverheadGuard(opts);
    this.reset(startMs);
  }

  get masker(): Masker {
    return this.opts.masker;
  }

  get windowStartMs(): number {
    return this.w.startMs;
  }

  /** Applies a configuration change from the server (takes effect at once). */
  reconfigure(patch: Partial<Omit<AggregatorOptions, 'initialActive'>>): void {
    this.opts = { ...this.opts, ...patch };
    this.guard.setLimits(this.opts);
  }

  /** Forgets an interface's running totals (it was detached). */
  forgetInterface(iface: string): void {
    this.trafficDeltas.forget(iface);
  }

  private reset(startMs: number): void {
    this.w = {
      startMs,
      traffic: new Map(),
      rates: new Map(),
      tcp: { openedClient: 0, openedServer: 0, failed: 0, closed: 0, retransmits: 0 },
      peakOpenedPerSecond: 0,
      flows: [],
      histogram: new DurationHistogram(),
      drops: new Map(),
      recordsDropped: new Map(),
      flowTableFull: 0,
      bpfRunTimeNs: 0,
      bpfRunCount: 0,
      sampled: false,
      sampledSeconds: 0,
    };
  }

  private bump(map: Map<string, number>, key: string, n: number): void {
    if (n > 0) map.set(key, (map.get(key) ?? 0) + n);
  }

  addSample(s: Sample): SampleDelta {
    const elapsed = Math.max(
      0.001,
      (s.atMs - (this.lastSampleMs ?? Math.min(s.atMs - 1000, this.w.startMs))) / 1000,
    );
    this.lastSampleMs = s.atMs;
    this.w.sampledSeconds += elapsed;

    const traffic = this.trafficDeltas.update(s.traffic);
    const perSecond = new Map<string, RateAcc>();
    for (const d of traffic) {
      const key = trafficKey(d);
      const acc = this.w.traffic.get(key);
      if (acc) {
        acc.packets += d.packets;
        acc.bytes += d.bytes;
      } else {
        this.w.traffic.set(key, { ...d });
      }
      for (const iface of [d.iface, '']) {
        const rk = `${iface}|${d.direction}`;
        const r = perSecond.get(rk) ?? {
          iface,
          direction: d.direction,
          packets: 0,
          bytes: 0,
          peakPps: 0,
          peakBps: 0,
        };
        r.packets += d.packets;
        r.bytes += d.bytes;
        perSecond.set(rk, r);
      }
    }
    for (const [rk, r] of perSecond) {
      const acc = this.w.rates.get(rk) ?? { ...r, packets: 0, bytes: 0 };
      acc.packets += r.packets;
      acc.bytes += r.bytes;
      acc.peakPps = Math.max(acc.peakPps, r.packets / elapsed);
      acc.peakBps = Math.max(acc.peakBps, (r.bytes * 8) / elapsed);
      this.w.rates.set(rk, acc);
    }

    const tcp = this.tcpDeltas.update({ ...s.tcp, active: undefined });
    const tcpDelta = {} as Record<TcpKey, number>;
    for (const k of TCP_KEYS) {
      tcpDelta[k] = tcp[k] ?? 0;
      this.w.tcp[k] += tcpDelta[k];
    }
    const opened = tcpDelta.openedClient + tcpDelta.openedServer;
    this.w.peakOpenedPerSecond = Math.max(this.w.peakOpenedPerSecond, opened / elapsed);
    this.active = s.tcp.active ?? Math.max(0, this.active + opened - tcpDelta.closed);

    for (const ev of s.events) {
      if (ev.kind === 'closed') this.w.histogram.observe(Number(ev.durationNs) / 1e6);
    }
    for (const [reason, n] of Object.entries(this.dropDeltas.update(s.drops))) {
      this.bump(this.w.drops, reason, n);
    }
    const errors = this.errorDeltas.update({
      flow_table_full: s.errors.flowTableFull,
      ...s.errors.other,
    });
    for (const [reason, n] of Object.entries(errors)) {
      if (reason === 'flow_table_full') this.w.flowTableFull += n;
      this.bump(this.w.recordsDropped, reason, n);
    }
    const prog = this.programDeltas.update({ t: s.program.runTimeNs, c: s.program.runCount });
    this.w.bpfRunTimeNs += prog.t ?? 0;
    this.w.bpfRunCount += prog.c ?? 0;

    const admitted = this.guard.admit(s.flows);
    this.w.flows.push(...admitted.kept);
    this.bump(this.w.recordsDropped, 'flow_limit', admitted.droppedOverLimit);
    this.bump(this.w.recordsDropped, 'cpu_budget_sampling', admitted.droppedSampling);
    if (admitted.droppedOverLimit + admitted.droppedSampling > 0) this.w.sampled = true;

    return {
      traffic,
      tcp: tcpDelta,
      active: this.active,
      flowTableFull: errors.flow_table_full ?? 0,
      elapsedSeconds: elapsed,
    };
  }

  /** Ends the window at endMs and starts the next one there. */
  close(endMs: number, health: HealthInput): Batch__Output {
    const w = this.w;
    // Averages over the time the samples cover, so that they weigh the same
    // seconds as the peaks do; the window's nominal length when nothing was sampled.
    const seconds =
      w.sampledSeconds > 0 ? w.sampledSeconds : Math.max(0.001, (endMs - w.startMs) / 1000);
    const servers = this.resolver.resolve(w.flows);
    const summary = summarizeFlows(w.flows, servers, {
      topN: this.opts.topN,
      portAllowlist: new Set(this.opts.portAllowlist),
      masker: this.opts.masker,
    });
    this.lastTopFlows = topFlows(w.flows, this.opts.topN, this.opts.masker);
    for (const [reason, n] of Object.entries(health.dropped)) {
      this.bump(w.recordsDropped, reason, n);
    }
    const hist = w.histogram.snapshot();
    const traffic: TrafficCounter__Output[] = [...w.traffic.values()]
      .sort((a, b) => trafficKey(a).localeCompare(trafficKey(b)))
      .map((t) => ({
        iface: t.iface,
        direction: DIRECTION_ENUM[t.direction],
        family: FAMILY_ENUM[t.family],
        protocol: PROTOCOL_ENUM[t.protocol],
        packets: t.packets,
        bytes: t.bytes,
      }));
    const rates: RateStat__Output[] = [...w.rates.values()]
      .sort((a, b) => a.iface.localeCompare(b.iface) || a.direction.localeCompare(b.direction))
      .map((r) => ({
        iface: r.iface,
        direction: DIRECTION_ENUM[r.direction],
        avgPacketsPerSecond: r.packets / seconds,
        peakPacketsPerSecond: r.peakPps,
        avgBitsPerSecond: (r.bytes * 8) / seconds,
        peakBitsPerSecond: r.peakBps,
      }));
    const toDropStats = (m: Map<string, number>): DropStat__Output[] =>
      [...m.entries()].sort().map(([reason, count]) => ({ reason, count }));
    const batch: Batch__Output = {
      sequence: 0,
      windowStartMs: w.startMs,
      windowEndMs: endMs,
      traffic,
      rates,
      ports: summary.ports,
      talkers: summary.talkers,
      connections: {
        openedClient: w.tcp.openedClient,
        openedServer: w.tcp.openedServer,
        failed: w.tcp.failed,
        closed: w.tcp.closed,
        active: this.active,
        peakOpenedPerSecond: w.peakOpenedPerSecond,
        retransmits: w.tcp.retransmits,
        durationBoundsMs: hist.bounds,
        durationCounts: hist.counts,
        durationSumMs: hist.sum,
      },
      drops: toDropStats(w.drops),
      health: {
        cpuPercent: health.cpuPercent,
        rssBytes: health.rssBytes,
        bpfRunTimeNs: w.bpfRunTimeNs,
        bpfRunCount: w.bpfRunCount,
        spoolDepth: health.spoolDepth,
        spoolBytes: health.spoolBytes,
        recordsDropped: toDropStats(w.recordsDropped),
        flowTableFull: w.flowTableFull,
      },
      abnormal: summary.abnormal,
      flowsSampled: w.sampled,
      scan: scanStats(w.flows, servers, this.opts.masker, DEFAULT_SCAN_BOUNDS, {
        store: this.scanMemory,
        nowMs: endMs,
      }),
      listening: (this.opts.listening ?? readListening)(),
    };
    this.guard.endWindow(health.cpuPercent);
    this.reset(endMs);
    return batch;
  }
}
