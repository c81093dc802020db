import { EventEmitter } from 'node:events';
import { hostname, release } from 'node:os';
import type { Server } from 'node:http';
import type { AgentConfig__Output, Batch__Output, Capability, Hello } from '@tidewatch/proto';
import type { CollectorPort } from '../collector/port';
import type { AgentConfig } from '../config/schema';
import { WindowAggregator, type Sample, type SampleDelta } from '../aggregate/window';
import type { FlowRow } from '../aggregate/flow-summary';
import { MASKING_ENUM } from '../aggregate/proto-enums';
import { ProcessStats } from '../health/process-stats';
import { listInterfaces as listSysInterfaces, type NetInterface } from '../interfaces/discovery';
import type { Logger } from '../logging/logger';
import type { Masker } from '../masking/masker';
import { AgentMetrics } from '../metrics/registry';
import { serveMetrics } from '../metrics/server';
import { Spool } from '../spool/spool';
import { CredentialStore } from '../delivery/credentials';
import { readEnrollmentToken } from '../delivery/enrollment-token';
import { StreamClient, type ConfigResult } from '../delivery/stream-client';
import { applyServerConfig } from './server-config';
import { InterfaceFollower } from './interface-follower';
import { countEstablished } from './established';

export interface AgentDeps {
  config: AgentConfig;
  collector: CollectorPort;
  logger: Logger;
  masker: Masker;
  agentId: string;
  version: string;
  capabilities?: Capability[];
  listInterfaces?: () => NetInterface[];
  /** Overrides for export/top: no delivery, no metrics server. */
  deliver?: boolean;
  serveMetrics?: boolean;
  /** How long stop() waits for the server to acknowledge the last windows. */
  drainTimeoutMs?: number;
  now?: () => number;
}

export interface WindowEvent {
  batch: Batch__Output;
  flows: FlowRow[];
}

/**
 * The running agent: samples the collector each second, closes a window every
 * windowSeconds (aligned to the wall clock), and hands each window to the
 * spool and the server stream; /metrics follows each sample.
 */
export class Agent extends EventEmitter<{
  sample: [Sample, SampleDelta];
  window: [WindowEvent];
}> {
  readonly metrics: AgentMetrics;
  private config: AgentConfig;
  private masker: Masker;
  private readonly aggregator: WindowAggregator;
  private readonly processStats = new ProcessStats();
  private readonly now: () => number;
  private readonly startedAtMs: number;
  private spool: Spool | undefined;
  private client: StreamClient | undefined;
  private metricsServer: Server | undefined;
  private timer: NodeJS.Timeout | undefined;
  private windowEndMs: number;
  private configVersion = 0;
  private readonly follower: InterfaceFollower;
  private lastFollowMs = 0;
  private stopped = false;
  private ticking: Promise<void> = Promise.resolve();

  constructor(private readonly deps: AgentDeps) {
    super();
    this.metrics = new AgentMetrics(deps.collector.knownLabels?.());
    this.follower = new InterfaceFollower(deps.collector, deps.logger, {
      watched: (iface) => this.metrics.watchInterface(iface),
      unwatched: (iface) => {
        this.aggregator.forgetInterface(iface);
        this.metrics.unwatchInterface(iface);
      },
    });
    this.config = deps.config;
    this.masker = deps.masker;
    this.now = deps.now ?? Date.now;
    this.startedAtMs = this.now();
    this.aggregator = new WindowAggregator(
      {
        topN: this.config.topN,
        portAllowlist: this.config.portAllowlist,
        maxFlowsPerWindow: this.config.guard.maxFlowsPerWindow,
        cpuBudgetPercent: this.config.guard.cpuBudgetPercent,
        masker: this.masker,
        initialActive: countEstablished(),
      },
      this.startedAtMs,
    );
    this.windowEndMs = this.nextBoundary(this.startedAtMs);
  }

  get currentMasker(): Masker {
    return this.masker;
  }

  get watchedInterfaces(): string[] {
    return [...this.follower.watched].sort();
  }

  private nextBoundary(t: number): number {
    const w = this.config.windowSeconds * 1000;
    return Math.floor(t / w) * w + w;
  }

  private interfaces(): NetInterface[] {
    return (this.deps.listInterfaces ?? listSysInterfaces)();
  }

  async start(): Promise<void> {
    const { config, logger } = this.deps;
    // State and listen address first: a bad one must fail before anything is attached.
    let token = config.server?.enrollmentToken;
    if (this.deps.deliver !== false && config.server) {
      if (!token && config.server.enrollmentTokenFile)
        token = readEnrollmentToken(config.server.enrollmentTokenFile);
      this.spool = Spool.open(config.stateDir, config.spool.maxBytes);
    }
    if (this.deps.serveMetrics !== false && config.metricsListen) {
      this.metricsServer = await serveMetrics(this.metrics.registry, config.metricsListen);
      logger.info({ listen: config.metricsListen }, 'serving Prometheus metrics on /metrics');
    }
    const loaded = this.deps.collector.describe?.();
    if (loaded) {
      this.metrics.setTracepoints(loaded.tracepoints.length);
      logger.info(
        { object: loaded.object, tracepoints: loaded.tracepoints },
        'eBPF programs loaded',
      );
      if (loaded.tracepointError) {
        logger.warn(
          `TCP lifecycle, retransmit and drop tracepoints not attached (${loaded.tracepointError}): connection figures will read 0; see "tidewatch-agent doctor"`,
        );
      }
    }
    await this.followInterfaces(true);
    if (this.spool && config.server) {
      this.client = new StreamClient({
        address: config.server.address,
        tls: config.server.tls,
        enrollmentToken: token,
        credentials: new CredentialStore(config.stateDir),
        hello: () => this.hello(),
        spool: this.spool,
        maxInFlight: config.server.maxInFlight,
        backoff: {
          initialMs: config.server.backoff.initialSeconds * 1000,
          maxMs: config.server.backoff.maxSeconds * 1000,
        },
        onConfig: (c) => this.onServerConfig(c),
        logger,
      });
      this.client.start();
      logger.info(
        { server: config.server.address, spooled: this.spool.depth },
        'streaming windows to the server',
      );
    } else {
      logger.info('standalone: no server configured, metrics and exports only');
    }
    this.processStats.reset();
    this.schedule();
  }

  private hello(): Hello {
    const all = this.interfaces();
    return {
      agentId: this.deps.agentId,
      hostname: hostname(),
      agentVersion: this.deps.version,
      kernelRelease: release(),
      capabilities: this.deps.capabilities ?? [],
      interfaces: all.map((i) => ({
        name: i.name,
        ifindex: i.ifindex,
        mtu: i.mtu,
        up: i.up,
        watched: this.follower.watched.has(i.name),
      })),
      labels: this.config.labels,
      masking: MASKING_ENUM[this.masker.mode],
      startedAtMs: this.startedAtMs,
      configVersion: this.configVersion,
    };
  }

  private onServerConfig(c: AgentConfig__Output): ConfigResult {
    const result = applyServerConfig(this.config, this.masker, c);
    if (!result.ok) {
      this.deps.logger.warn({ version: c.version, error: result.error }, 'server config refused');
      return result;
    }
    this.config = result.config;
    this.masker = result.masker;
    this.configVersion = c.version;
    this.aggregator.reconfigure({
      topN: this.config.topN,
      portAllowlist: this.config.portAllowlist,
      maxFlowsPerWindow: this.config.guard.maxFlowsPerWindow,
      cpuBudgetPercent: this.config.guard.cpuBudgetPercent,
      masker: this.masker,
    });
    this.deps.logger.info(
      { version: c.version, masking: this.masker.mode },
      'server config applied',
    );
    return { ok: true };
  }

  /** Attaches to interfaces that appeared and detaches from those that vanished. */
  private async followInterfaces(initial = false): Promise<void> {
    await this.follower.follow(this.interfaces(), this.config, initial);
    this.metrics.setInterfaces(this.follower.watched.size);
  }

  private schedule(): void {
    if (this.stopped) return;
    const delay = 1000 - (this.now() % 1000) + 5;
    this.timer = setTimeout(() => {
      this.ticking = this.tick()
        .catch((err: Error) => this.deps.logger.error({ err: err.message }, 'sampling failed'))
        .finally(() => this.schedule());
    }, delay);
  }

  private async takeSample(): Promise<Sample> {
    const c = this.deps.collector;
    const atMs = this.now();
    const [traffic, tcp, flows, drops, errors] = await Promise.all([
      c.readTraffic(),
      c.readTcp(),
      c.drainFlows(),
      c.readDrops(),
      c.readErrors(),
    ]);
    return {
      atMs,
      traffic,
      tcp,
      flows,
      drops,
      errors,
      events: c.takeEvents(),
      program: c.programStats(),
    };
  }

  /** One second: sample; at a window boundary, close the window. */
  async tick(): Promise<void> {
    const t = this.now();
    if (t - this.lastFollowMs >= 2000) {
      this.lastFollowMs = t;
      await this.followInterfaces();
    }
    const sample = await this.takeSample();
    const delta = this.aggregator.addSample(sample);
    this.metrics.onSample(delta);
    this.emit('sample', sample, delta);
    if (sample.atMs >= this.windowEndMs) {
      this.closeWindow(this.windowEndMs);
      this.windowEndMs = this.nextBoundary(sample.atMs);
    }
    this.metrics.setConnected(this.client?.connectionState === 'ready');
  }

  private closeWindow(endMs: number): void {
    const proc = this.processStats.sample();
    const dropped = this.spool?.takeDropped() ?? {};
    const batch = this.aggregator.close(endMs, {
      ...proc,
      spoolDepth: this.spool?.depth ?? 0,
      spoolBytes: this.spool?.bytes ?? 0,
      dropped,
    });
    let stored = batch;
    if (this.spool) {
      try {
        stored = this.spool.append(batch);
        this.client?.notify();
      } catch (err) {
        // Counted (spool_write_failed) and reported with the next window that fits.
        this.deps.logger.error(
          { sequence: this.spool.lastSequence },
          `window lost: ${(err as Error).message}`,
        );
      }
    }
    this.metrics.onWindow(stored);
    this.emit('window', { batch: stored, flows: this.aggregator.lastTopFlows });
  }

  /** Flushes the current (partial) window, waits briefly for acks, detaches everything. */
  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    clearTimeout(this.timer);
    await this.ticking;
    const { logger } = this.deps;
    try {
      const sample = await this.takeSample();
      const delta = this.aggregator.addSample(sample);
      this.metrics.onSample(delta);
      this.emit('sample', sample, delta);
      this.closeWindow(Math.max(sample.atMs, this.aggregator.windowStartMs + 1));
    } catch (err) {
      logger.error({ err: (err as Error).message }, 'last window lost');
    }
    if (this.client) {
      const drained = await this.client.waitForDrain(this.deps.drainTimeoutMs ?? 5000);
      if (!drained) {
        logger.warn(
          { spooled: this.spool?.depth },
          'server did not acknowledge everything; kept in the spool for the next start',
        );
      }
      this.client.stop();
    }
    await this.follower.detachAll();
    await this.deps.collector.close();
    await new Promise<void>((resolve) =>
      this.metricsServer ? this.metricsServer.close(() => resolve()) : resolve(),
    );
    logger.info('stopped: last window flushed, programs detached');
  }
}
