import { Counter, Gauge, Registry } from 'prom-client';
import type { Batch__Output } from '@tidewatch/proto';
import type { SampleDelta } from '../aggregate/window';
import { DIRECTIONS, PROTOCOLS } from '../collector/port';

/** Reasons the agent itself leaves records out or loses them (see window.ts, spool/). */
export const AGENT_RECORD_DROP_REASONS = [
  'flow_limit',
  'cpu_budget_sampling',
  'spool_full',
  'spool_write_failed',
] as const;

/** Every label value these counters can take, known at start (Prometheus: export them at 0). */
export interface KnownLabels {
  /** Kernel-side error names (flow_table_full has its own metric and is left out there). */
  kernelErrors?: readonly string[];
  /** Drop reasons this kernel names, plus "unknown". */
  dropReasons?: readonly string[];
}

/**
 * The agent's Prometheus metrics. Names and labels of the traffic and TCP
 * metrics are a stable interface (DESIGN.md). Labels are bounded sets only:
 * interface, direction, protocol class, role, reason — never an address or port.
 */
export class AgentMetrics {
  readonly registry = new Registry();
  private readonly packets = new Counter({
    name: 'tidewatch_packets_total',
    help: 'Packets seen at the TC hook, by interface, direction and protocol class (exact).',
    labelNames: ['iface', 'direction', 'protocol'] as const,
    registers: [this.registry],
  });
  private readonly bytes = new Counter({
    name: 'tidewatch_bytes_total',
    help: 'Bytes (skb->len) seen at the TC hook, by interface, direction and protocol class (exact).',
    labelNames: ['iface', 'direction', 'protocol'] as const,
    registers: [this.registry],
  });
  private readonly opened = new Counter({
    name: 'tidewatch_tcp_connections_opened_total',
    help: 'TCP connections established, as client (SYN_SENT->ESTABLISHED) or server (SYN_RECV->ESTABLISHED).',
    labelNames: ['role'] as const,
    registers: [this.registry],
  });
  private readonly failed = new Counter({
    name: 'tidewatch_tcp_connections_failed_total',
    help: 'TCP connects that never reached ESTABLISHED.',
    registers: [this.registry],
  });
  private readonly closed = new Counter({
    name: 'tidewatch_tcp_connections_closed_total',
    help: 'Established TCP connections that closed.',
    registers: [this.registry],
  });
  private readonly active = new Gauge({
    name: 'tidewatch_tcp_connections_active',
    help: 'Established TCP connections now.',
    registers: [this.registry],
  });
  private readonly retransmits = new Counter({
    name: 'tidewatch_tcp_retransmits_total',
    help: 'TCP segments retransmitted.',
    registers: [this.registry],
  });
  private readonly flowTableFull = new Counter({
    name: 'tidewatch_flow_table_full_total',
    help: 'Flow records the kernel could not insert because the flow table was full (counters stay exact).',
    registers: [this.registry],
  });
  private readonly drops = new Counter({
    name: 'tidewatch_packet_drops_total',
    help: 'Packets the kernel dropped, by drop reason.',
    labelNames: ['reason'] as const,
    registers: [this.registry],
  });
  private readonly windows = new Counter({
    name: 'tidewatch_agent_windows_total',
    help: 'Aggregation windows closed.',
    registers: [this.registry],
  });
  private readonly recordsDropped = new Counter({
    name: 'tidewatch_agent_records_dropped_total',
    help: 'Records the agent lost or left out, by reason (spool_full, flow_limit, cpu_budget_sampling, flow_table_full, ...).',
    labelNames: ['reason'] as const,
    registers: [this.registry],
  });
  private readonly cpu = new Gauge({
    name: 'tidewatch_agent_cpu_percent',
    help: 'Agent CPU use over the last window, percent of one core.',
    registers: [this.registry],
  });
  private readonly rss = new Gauge({
    name: 'tidewatch_agent_rss_bytes',
    help: 'Agent resident memory.',
    registers: [this.registry],
  });
  private readonly bpfTime = new Counter({
    name: 'tidewatch_agent_bpf_run_seconds_total',
    help: 'Kernel time spent in the agent BPF programs (needs kernel.bpf_stats_enabled=1).',
    registers: [this.registry],
  });
  private readonly spoolBatches = new Gauge({
    name: 'tidewatch_agent_spool_batches',
    help: 'Windows waiting in the spool for an acknowledgement.',
    registers: [this.registry],
  });
  private readonly spoolBytes = new Gauge({
    name: 'tidewatch_agent_spool_bytes',
    help: 'Bytes of windows in the spool.',
    registers: [this.registry],
  });
  private readonly connected = new Gauge({
    name: 'tidewatch_agent_server_connected',
    help: '1 while the stream to the server is up, 0 otherwise (absent in standalone mode).',
    registers: [this.registry],
  });
  private readonly tracepoints = new Gauge({
    name: 'tidewatch_tracepoints_attached',
    help: 'Tracepoint programs attached (TCP lifecycle, retransmits, drops: 3 when all are); 0 means connection, retransmit and drop figures read 0 (see the log and doctor).',
    registers: [this.registry],
  });
  private readonly interfaces = new Gauge({
    name: 'tidewatch_agent_interfaces_watched',
    help: 'Interfaces with the TC programs attached.',
    registers: [this.registry],
  });

  /**
   * Every label set known at start is exported from the start at 0, so that
   * Prometheus has a sample before the first packet (otherwise increase() over
   * a series born at its first value reads 0).
   */
  constructor(known: KnownLabels = {}) {
    for (const role of ['client', 'server']) this.opened.inc({ role }, 0);
    const reasons = new Set<string>([
      ...AGENT_RECORD_DROP_REASONS,
      ...(known.kernelErrors ?? []).filter((e) => e !== 'flow_table_full'),
    ]);
    for (const reason of reasons) this.recordsDropped.inc({ reason }, 0);
    for (const reason of new Set(['unknown', ...(known.dropReasons ?? [])]))
      this.drops.inc({ reason }, 0);
  }

  /** An interface is watched: its direction × protocol series exist from now on, at 0. */
  watchInterface(iface: string): void {
    for (const direction of DIRECTIONS) {
      for (const protocol of PROTOCOLS) {
        this.packets.inc({ iface, direction, protocol }, 0);
        this.bytes.inc({ iface, direction, protocol }, 0);
      }
    }
  }

  /** An interface is no longer watched: its series go (a counter that stops is not a 0). */
  unwatchInterface(iface: string): void {
    for (const direction of DIRECTIONS) {
      for (const protocol of PROTOCOLS) {
        this.packets.remove({ iface, direction, protocol });
        this.bytes.remove({ iface, direction, protocol });
      }
    }
  }

  /** Tracepoint programs attached (TCP lifecycle, retransmits, drops); 0: connection figures read 0. */
  setTracepoints(attached: number): void {
    this.tracepoints.set(attached);
  }

  /** Each second: the exact counter deltas. */
  onSample(d: SampleDelta): void {
    for (const t of d.traffic) {
      const labels = { iface: t.iface, direction: t.direction, protocol: t.protocol };
      if (t.packets > 0) this.packets.inc(labels, t.packets);
      if (t.bytes > 0) this.bytes.inc(labels, t.bytes);
    }
    this.opened.inc({ role: 'client' }, d.tcp.openedClient);
    this.opened.inc({ role: 'server' }, d.tcp.openedServer);
    this.failed.inc(d.tcp.failed);
    this.closed.inc(d.tcp.closed);
    this.retransmits.inc(d.tcp.retransmits);
    this.flowTableFull.inc(d.flowTableFull);
    this.active.set(d.active);
  }

  /** Each window: drops by reason and the agent's own health. */
  onWindow(b: Batch__Output): void {
    this.windows.inc();
    for (const d of b.drops) this.drops.inc({ reason: d.reason }, d.count);
    const h = b.health;
    if (!h) return;
    for (const d of h.recordsDropped) {
      // flow_table_full has its own stable metric, fed each second.
      if (d.reason !== 'flow_table_full') this.recordsDropped.inc({ reason: d.reason }, d.count);
    }
    this.cpu.set(h.cpuPercent);
    this.rss.set(h.rssBytes);
    this.bpfTime.inc(h.bpfRunTimeNs / 1e9);
    this.spoolBatches.set(h.spoolDepth);
    this.spoolBytes.set(h.spoolBytes);
  }

  setConnected(up: boolean): void {
    this.connected.set(up ? 1 : 0);
  }

  setInterfaces(n: number): void {
    this.interfaces.set(n);
  }
}
