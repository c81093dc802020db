// A share of a large simulated fleet in its own process (forked by fleet-phases.ts), so the
// simulator is not the bottleneck: each agent has its own gRPC connection, sends its windows on
// its own 10-second clock (live) or as fast as its acks allow (replay), and records each batch's
// ack latency. Commands and answers are IPC messages.
import { makeWindow } from './windows';
import { SimAgent } from './sim-agent';

export interface WorkerAgent {
  agentId: string;
  hostname: string;
  /** The host number the generated windows vary by. */
  host: number;
}

export type WorkerCommand =
  | {
      cmd: 'connect';
      address: string;
      enrollmentToken: string;
      agents: WorkerAgent[];
      labels: Record<string, string>;
    }
  /** Every agent sends `rounds` windows, one each `periodMs`, the agents' clocks spread over it. */
  | { cmd: 'live'; periodMs: number; rounds: number; firstWindowMs: number }
  /** Every agent sends `windows` windows back to back, at most `inFlight` unacknowledged. */
  | { cmd: 'replay'; windows: number; firstWindowMs: number }
  | { cmd: 'close' };

export interface LiveResult {
  type: 'live';
  sent: number;
  /** Every batch's ack latency, ms. */
  latenciesMs: number[];
  /** Per agent, its slowest ack, ms. */
  worstPerAgentMs: number[];
  /** Agents with at least one window never acknowledged when the phase ended. */
  unacked: number;
  cpuSeconds: number;
}

export type WorkerAnswer =
  | { type: 'connected'; connected: number; ms: number; cpuSeconds: number }
  | LiveResult
  | { type: 'replayed'; sent: number; ms: number; cpuSeconds: number }
  | { type: 'error'; message: string };

const agents: SimAgent[] = [];
let hosts: WorkerAgent[] = [];
/** Each agent's next sequence number. */
let next: number[] = [];

const answer = (m: WorkerAnswer) => process.send?.(m);
const cpu = () => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1e6;
};
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Connects like a real agent: UNAVAILABLE (the server busy, retry later) retried with backoff. */
async function join(a: SimAgent): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    try {
      await a.connect();
      return;
    } catch (err) {
      if ((err as { code?: number }).code !== 14 || attempt >= 30) throw err;
      a.error = null;
      await sleep(Math.min(10_000, 250 * 2 ** Math.min(attempt, 5)) * (0.5 + Math.random()));
    }
  }
}

async function connect(c: Extract<WorkerCommand, { cmd: 'connect' }>): Promise<void> {
  const t = performance.now();
  const cpu0 = cpu();
  hosts = c.agents;
  next = c.agents.map(() => 1);
  for (const h of c.agents) {
    agents.push(
      new SimAgent({
        address: c.address,
        agentId: h.agentId,
        hostname: h.hostname,
        labels: c.labels,
        enrollmentToken: c.enrollmentToken,
        window: 8,
        ownConnection: true,
      }),
    );
  }
  // A few dozen handshakes at a time, as a fleet coming up after a restart would.
  for (let i = 0; i < agents.length; i += 50) {
    await Promise.all(agents.slice(i, i + 50).map((a) => join(a)));
  }
  answer({
    type: 'connected',
    connected: agents.length,
    ms: performance.now() - t,
    cpuSeconds: cpu() - cpu0,
  });
}

async function live(c: Extract<WorkerCommand, { cmd: 'live' }>): Promise<void> {
  const cpu0 = cpu();
  const began = performance.now();
  const first = next.slice();
  let sent = 0;
  const one = async (i: number) => {
    // This agent's own clock: its offset in the period, then one window a period.
    await sleep((i / agents.length) * c.periodMs);
    for (let k = 0; k < c.rounds; k++) {
      const due = began + ((i / agents.length) * c.periodMs + k * c.periodMs);
      await sleep(Math.max(0, due - performance.now()));
      const s = next[i]++;
      sent++;
      // A real agent spools rather than blocking its clock: send() waits only past its limit (8, or
      // the server's credit if lower).
      void agents[i]
        .send(makeWindow(hosts[i].host, s, c.firstWindowMs + (s - 1) * 10_000))
        .catch(() => undefined);
    }
  };
  await Promise.all(agents.map((_, i) => one(i)));
  // Every window acknowledged, or the phase says which agents were left waiting.
  const deadline = performance.now() + 60_000;
  let unacked = 0;
  for (let i = 0; i < agents.length; i++) {
    const last = next[i] - 1;
    while (agents[i].acked < last && !agents[i].error && performance.now() < deadline) {
      await Promise.race([agents[i].drain(last), sleep(500)]).catch(() => undefined);
    }
    if (agents[i].acked < last || last < first[i]) unacked++;
  }
  const latenciesMs: number[] = [];
  const worstPerAgentMs: number[] = [];
  for (const a of agents) {
    const l = a.latenciesMs.splice(0);
    let worst = 0;
    for (const x of l) {
      latenciesMs.push(x);
      if (x > worst) worst = x;
    }
    worstPerAgentMs.push(worst);
  }
  answer({
    type: 'live',
    sent,
    latenciesMs,
    worstPerAgentMs,
    unacked,
    cpuSeconds: cpu() - cpu0,
  });
}

async function replay(c: Extract<WorkerCommand, { cmd: 'replay' }>): Promise<void> {
  const cpu0 = cpu();
  const t = performance.now();
  let sent = 0;
  await Promise.all(
    agents.map(async (a, i) => {
      let last = 0;
      for (let k = 0; k < c.windows; k++) {
        const s = next[i]++;
        await a.send(makeWindow(hosts[i].host, s, c.firstWindowMs + (s - 1) * 10_000));
        last = s;
        sent++;
      }
      if (last) await a.drain(last);
    }),
  );
  for (const a of agents) a.latenciesMs.splice(0);
  answer({ type: 'replayed', sent, ms: performance.now() - t, cpuSeconds: cpu() - cpu0 });
}

process.on('message', (m: WorkerCommand) => {
  const run =
    m.cmd === 'connect'
      ? connect(m)
      : m.cmd === 'live'
        ? live(m)
        : m.cmd === 'replay'
          ? replay(m)
          : Promise.resolve().then(() => {
              agents.forEach((a) => a.close());
              process.disconnect?.();
            });
  run.catch((err: Error) => answer({ type: 'error', message: err.stack ?? err.message }));
});
