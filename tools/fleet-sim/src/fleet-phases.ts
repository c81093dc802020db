// bench:server's fleet-scale phases (issue 12): many agents held at once, each on its own
// 10-second clock, and a catch-up after an outage with live windows and dashboard queries going
// on beside it. The simulated agents run in worker processes (sim-worker.ts), a share each.
import { ChildProcess, fork } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import type { LiveResult, WorkerAgent, WorkerAnswer, WorkerCommand } from './sim-worker';

/** The p-th percentile (floor rank) of `xs`; NaN when empty. */
export const pct = (xs: number[], p: number) => {
  const s = Float64Array.from(xs).sort();
  return s.length ? s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))] : NaN;
};

/** The server's resident memory now (VmRSS), bytes. */
export function rssBytes(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) * 1024 : NaN;
}

/** The highest VmRSS of `pid` sampled every 250 ms until stop() (VmHWM would include earlier phases). */
export function rssPeak(pid: number): { stop(): number } {
  let peak = rssBytes(pid);
  const t = setInterval(() => (peak = Math.max(peak, rssBytes(pid))), 250);
  return {
    stop() {
      clearInterval(t);
      return Math.max(peak, rssBytes(pid));
    },
  };
}

/** A fleet share per worker process; answers are awaited from every worker at once. */
export class SimFleet {
  private readonly workers: ChildProcess[] = [];
  private readonly pending = new Map<ChildProcess, (m: WorkerAnswer) => void>();

  constructor(workers: number) {
    for (let i = 0; i < workers; i++) {
      const w = fork(path.join(__dirname, 'sim-worker.js'), [], { stdio: 'inherit' });
      w.on('message', (m: WorkerAnswer) => {
        const done = this.pending.get(w);
        this.pending.delete(w);
        done?.(m);
      });
      this.workers.push(w);
    }
  }

  /** Sends each worker its command and resolves with every answer (rejects on a worker's error). */
  private async all(cmd: (worker: number) => WorkerCommand): Promise<WorkerAnswer[]> {
    const answers = await Promise.all(
      this.workers.map(
        (w, i) =>
          new Promise<WorkerAnswer>((resolve, reject) => {
            this.pending.set(w, resolve);
            w.once('exit', (code) => reject(new Error(`simulator worker exited (${code})`)));
            w.send(cmd(i));
          }),
      ),
    );
    const failed = answers.find((a) => a.type === 'error');
    if (failed && failed.type === 'error') throw new Error(`simulator worker: ${failed.message}`);
    return answers;
  }

  async connect(
    address: string,
    enrollmentToken: string,
    agents: WorkerAgent[],
    labels: Record<string, string>,
  ): Promise<{ connected: number; ms: number; simulatorCpuSeconds: number }> {
    const n = this.workers.length;
    const answers = await this.all((i) => ({
      cmd: 'connect',
      address,
      enrollmentToken,
      agents: agents.filter((_, k) => k % n === i),
      labels,
    }));
    let connected = 0;
    let ms = 0;
    let cpu = 0;
    for (const a of answers) {
      if (a.type !== 'connected') continue;
      connected += a.connected;
      ms = Math.max(ms, a.ms);
      cpu += a.cpuSeconds;
    }
    return { connected, ms, simulatorCpuSeconds: cpu };
  }

  async live(periodMs: number, rounds: number, firstWindowMs: number): Promise<LiveSummary> {
    const answers = (
      await this.all(() => ({ cmd: 'live', periodMs, rounds, firstWindowMs }))
    ).filter((a): a is LiveResult => a.type === 'live');
    const latencies = answers.flatMap((a) => a.latenciesMs);
    const worst = answers.flatMap((a) => a.worstPerAgentMs);
    return {
      sent: answers.reduce((s, a) => s + a.sent, 0),
      acked: latencies.length,
      agentsWithUnackedWindows: answers.reduce((s, a) => s + a.unacked, 0),
      ackMs: { p50: pct(latencies, 50), p99: pct(latencies, 99), max: pct(latencies, 100) },
      worstAgentMaxAckMs: pct(worst, 100),
      simulatorCpuSeconds: answers.reduce((s, a) => s + a.cpuSeconds, 0),
    };
  }

  async replay(
    windows: number,
    firstWindowMs: number,
  ): Promise<{ sent: number; ms: number; simulatorCpuSeconds: number }> {
    const answers = await this.all(() => ({ cmd: 'replay', windows, firstWindowMs }));
    let sent = 0;
    let ms = 0;
    let cpu = 0;
    for (const a of answers) {
      if (a.type !== 'replayed') continue;
      sent += a.sent;
      ms = Math.max(ms, a.ms);
      cpu += a.cpuSeconds;
    }
    return { sent, ms, simulatorCpuSeconds: cpu };
  }

  async close(): Promise<void> {
    await Promise.all(
      this.workers.map(
        (w) =>
          new Promise<void>((resolve) => {
            if (w.exitCode !== null) return resolve();
            const kill = setTimeout(() => w.kill('SIGKILL'), 10_000);
            w.once('exit', () => {
              clearTimeout(kill);
              resolve();
            });
            if (w.connected) w.send({ cmd: 'close' } satisfies WorkerCommand);
            else w.kill('SIGTERM');
          }),
      ),
    );
  }
}

export interface LiveSummary {
  sent: number;
  acked: number;
  agentsWithUnackedWindows: number;
  ackMs: { p50: number; p99: number; max: number };
  worstAgentMaxAckMs: number;
  simulatorCpuSeconds: number;
}

/** `count` new simulated hosts, numbered from `firstHost` (their windows vary by it). */
export function newAgents(prefix: string, count: number, firstHost: number): WorkerAgent[] {
  return Array.from({ length: count }, (_, i) => ({
    agentId: randomUUID(),
    hostname: `${prefix}-${String(i).padStart(5, '0')}`,
    host: firstHost + i,
  }));
}

export interface FleetPhaseOptions {
  address: string;
  enrollmentToken: string;
  serverPid: number;
  /** Host numbers from here on are free (the windows of each differ). */
  firstHost: number;
  /** Windows stored in windows_raw so far (the phases' own windows add to it). */
  countStored: () => Promise<number>;
  /** One dashboard request, its time in ms. */
  query: (pathAndQuery: string) => Promise<number>;
  cpuSeconds: (pid: number) => number;
  log: (m: string) => void;
}

const env = (name: string, def: number) => Number(process.env[name] ?? def);

/**
 * Phase 5, connections: BENCH_FLEET_AGENTS (10,000) agents connected at once, each sending a
 * window every 10 s for BENCH_FLEET_ROUNDS (6) rounds. Phase 6, catch-up: BENCH_CATCHUP_AGENTS
 * (1,000) agents replay BENCH_CATCHUP_MINUTES (60) of spooled windows as fast as their acks
 * allow, while BENCH_CATCHUP_LIVE_AGENTS (1,000) others keep their 10-s clock and fleet
 * dashboard queries run beside them. Every window of both phases must be stored exactly once.
 */
export async function fleetPhases(o: FleetPhaseOptions) {
  const fleetAgents = env('BENCH_FLEET_AGENTS', 10_000);
  const rounds = env('BENCH_FLEET_ROUNDS', 6);
  const workers = env('BENCH_SIM_WORKERS', 4);
  const catchupAgents = env('BENCH_CATCHUP_AGENTS', 1_000);
  const catchupMinutes = env('BENCH_CATCHUP_MINUTES', 60);
  const liveAgents = env('BENCH_CATCHUP_LIVE_AGENTS', 1_000);
  const storedBefore = await o.countStored();
  let sent = 0;
  let host = o.firstHost;

  // Phase 5: the whole fleet held at once.
  const rssBefore = rssBytes(o.serverPid);
  const fleet = new SimFleet(workers);
  let connections;
  try {
    o.log(`${fleetAgents} agents connecting (${workers} simulator processes) …`);
    const agents = newAgents('fleet', fleetAgents, host);
    host += fleetAgents;
    const joined = await fleet.connect(o.address, o.enrollmentToken, agents, { env: 'prod' });
    const rssConnected = rssBytes(o.serverPid);
    o.log(
      `${joined.connected} connected in ${(joined.ms / 1000).toFixed(1)} s; ${rounds} rounds …`,
    );
    const now = Date.now();
    const cpu0 = o.cpuSeconds(o.serverPid);
    const t0 = performance.now();
    const peak = rssPeak(o.serverPid);
    const storedAtStart = await o.countStored();
    const live = await fleet.live(
      10_000,
      rounds,
      Math.floor(now / 10_000) * 10_000 - rounds * 10_000,
    );
    const span = (performance.now() - t0) / 1000;
    const rssPeakWindows = peak.stop();
    const storedInPhase = (await o.countStored()) - storedAtStart;
    sent += live.sent;
    connections = {
      agents: fleetAgents,
      connected: joined.connected,
      connectSeconds: joined.ms / 1000,
      serverRssMiB: {
        before: rssBefore / 2 ** 20,
        connected: rssConnected / 2 ** 20,
        afterWindows: rssBytes(o.serverPid) / 2 ** 20,
        peakWhileSending: rssPeakWindows / 2 ** 20,
      },
      serverKiBPerStream: (rssConnected - rssBefore) / 1024 / fleetAgents,
      /** Under load: the peak above what the server held before the fleet connected. */
      serverKiBPerStreamAtPeak: (rssPeakWindows - rssBefore) / 1024 / fleetAgents,
      windowsPerSecondOffered: fleetAgents / 10,
      /** Windows stored from the first round until every agent's last window was acked (or 60 s). */
      storedPerSecondWhileSending: storedInPhase / span,
      live,
      serverCores: (o.cpuSeconds(o.serverPid) - cpu0) / span,
      simulatorCoresDuringWindows: live.simulatorCpuSeconds / span,
      /** Seconds the server went on storing the fleet's windows after it stopped sending. */
      settleSeconds: NaN,
    };
    o.log(`connections: ${JSON.stringify(connections)}`);
  } finally {
    await fleet.close();
  }
  // What the server still had in hand when the fleet stopped: stored before phase 6 starts.
  const settle = performance.now();
  for (let last = -1, same = 0; same < 5 && performance.now() - settle < 600_000;) {
    const n = await o.countStored();
    same = n === last ? same + 1 : 0;
    last = n;
    await new Promise((r) => setTimeout(r, 1000));
  }
  connections.settleSeconds = (performance.now() - settle) / 1000 - 5;
  o.log(`the server settled ${connections.settleSeconds.toFixed(0)} s after the fleet stopped`);

  // Phase 6: a catch-up beside live agents and dashboard queries.
  const replaying = new SimFleet(Math.max(1, workers / 2));
  const living = new SimFleet(Math.max(1, workers / 2));
  let catchup;
  try {
    const backlog = newAgents('catchup', catchupAgents, host);
    host += catchupAgents;
    const steady = newAgents('live', liveAgents, host);
    host += liveAgents;
    await replaying.connect(o.address, o.enrollmentToken, backlog, { env: 'prod' });
    await living.connect(o.address, o.enrollmentToken, steady, { env: 'prod' });
    const windows = Math.round((catchupMinutes * 60) / 10);
    const now = Math.floor(Date.now() / 10_000) * 10_000;
    o.log(`catch-up: ${catchupAgents} agents x ${windows} windows, ${liveAgents} live beside …`);
    let done = false;
    const cpu0 = o.cpuSeconds(o.serverPid);
    const t0 = performance.now();
    const replay = replaying.replay(windows, now - catchupMinutes * 60_000).finally(() => {
      done = true;
    });
    const liveRounds: LiveSummary[] = [];
    const liveLoop = (async () => {
      // The live agents' windows follow the backlog's hour (sequence n at now + (n - 1) x 10 s).
      while (!done) liveRounds.push(await living.live(10_000, 1, now));
    })();
    const queries: Record<string, number[]> = { fleetSummary1h: [], hostSeries1h: [] };
    const queryLoop = (async () => {
      while (!done) {
        const to = new Date();
        const q = `from=${new Date(to.getTime() - 3_600_000).toISOString()}&to=${to.toISOString()}`;
        queries.fleetSummary1h.push(await o.query(`/api/v1/traffic/summary?${q}`));
        queries.hostSeries1h.push(
          await o.query(
            `/api/v1/traffic/series?${q}&agentId=${steady[0].agentId}&groupBy=direction`,
          ),
        );
      }
    })();
    const replayed = await replay;
    const drainSeconds = (performance.now() - t0) / 1000;
    const serverCores = (o.cpuSeconds(o.serverPid) - cpu0) / drainSeconds;
    await Promise.all([liveLoop, queryLoop]);
    sent += replayed.sent + liveRounds.reduce((s, r) => s + r.sent, 0);
    const lat = liveRounds.map((r) => r.ackMs);
    catchup = {
      agents: catchupAgents,
      windowsEach: windows,
      windows: replayed.sent,
      drainSeconds,
      windowsPerSecond: replayed.sent / drainSeconds,
      serverCores,
      live: {
        agents: liveAgents,
        rounds: liveRounds.length,
        sent: liveRounds.reduce((s, r) => s + r.sent, 0),
        agentsWithUnackedWindows: Math.max(0, ...liveRounds.map((r) => r.agentsWithUnackedWindows)),
        // Per round p99s: the worst round's, and the slowest single ack.
        ackP99MsWorstRound: Math.max(0, ...lat.map((l) => l.p99)),
        ackP50MsMedianRound: pct(
          lat.map((l) => l.p50),
          50,
        ),
        ackMaxMs: Math.max(0, ...lat.map((l) => l.max)),
      },
      queriesMs: Object.fromEntries(
        Object.entries(queries).map(([k, v]) => [
          k,
          { n: v.length, p50: pct(v, 50), p95: pct(v, 95) },
        ]),
      ),
    };
    o.log(`catch-up: ${JSON.stringify(catchup)}`);
  } finally {
    await Promise.all([replaying.close(), living.close()]);
  }
  const stored = (await o.countStored()) - storedBefore;
  if (stored !== sent) throw new Error(`fleet phases: ${sent} windows sent, ${stored} stored`);
  const f = (n: number) => n.toFixed(1);
  const lines = [
    `| ${connections.agents} agents connected at once (each its own connection): time to connect | ${f(connections.connectSeconds)} s (${connections.connected} welcomed) |`,
    `| server memory per stream (RSS before → connected → after ${rounds} rounds) | ${f(connections.serverKiBPerStream)} KiB (${f(connections.serverRssMiB.before)} → ${f(connections.serverRssMiB.connected)} → ${f(connections.serverRssMiB.afterWindows)} MiB) |`,
    `| server memory while the fleet sends: peak RSS, per stream above the RSS before | ${f(connections.serverRssMiB.peakWhileSending)} MiB, ${f(connections.serverKiBPerStreamAtPeak)} KiB |`,
    `| stored / offered while the fleet sends | ${connections.storedPerSecondWhileSending.toFixed(0)} / ${connections.windowsPerSecondOffered} windows/s |`,
    `| ${connections.windowsPerSecondOffered} windows/s offered (every agent every 10 s): ack p50 / p99 / max | ${f(connections.live.ackMs.p50)} / ${f(connections.live.ackMs.p99)} / ${f(connections.live.ackMs.max)} ms |`,
    `| agents starved (a window never acked in the phase) / slowest agent's worst ack | ${connections.live.agentsWithUnackedWindows} / ${f(connections.live.worstAgentMaxAckMs)} ms |`,
    `| the fleet stopped: the server stored what it held within | ${f(connections.settleSeconds)} s |`,
    `| CPU cores while the fleet sends: server / simulator (${workers} processes) | ${connections.serverCores.toFixed(2)} / ${connections.simulatorCoresDuringWindows.toFixed(2)} |`,
    `| catch-up: ${catchup.agents} agents x ${catchup.windowsEach} windows (${catchupMinutes} min of windows each): time to drain | ${f(catchup.drainSeconds)} s (${Math.round(catchup.windowsPerSecond)} windows/s) |`,
    `| live windows during the catch-up (${catchup.live.agents} agents, ${catchup.live.rounds} rounds): ack p50 / worst round p99 / max | ${f(catchup.live.ackP50MsMedianRound)} / ${f(catchup.live.ackP99MsWorstRound)} / ${f(catchup.live.ackMaxMs)} ms; starved ${catchup.live.agentsWithUnackedWindows} |`,
    ...Object.entries(catchup.queriesMs).map(
      ([k, v]) =>
        `| during the catch-up, ${k} (p50 / p95, n=${v.n}) | ${f(v.p50)} / ${f(v.p95)} ms |`,
    ),
    `| every window of the fleet phases stored exactly once | ${stored === sent} (${stored} of ${sent}) |`,
  ];
  return { connections, catchup, lines };
}
