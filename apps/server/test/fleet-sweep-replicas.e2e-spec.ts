import type { Batch } from '@tidewatch/proto';
import { randomUUID } from 'node:crypto';
import { FleetSweeps } from '../src/anomalies/fleet-sweep';
import { AgentStream, ingestClient } from './support/agent-client';
import { ChildServer, killed, serverCli, spawnServer } from './support/child-server';
import { createTestDatabase, TestDatabase } from './support/database';

// Two built server replicas (own processes, own ports) on one PostgreSQL
// database, as behind a load balancer; 30 agents over real gRPC streams,
// alternately on one and the other. Ground truth: each agent sends one window
// in which one source failed once on port 445 of that host (below every
// per-host threshold). The fleet-wide threshold is 25 hosts: 24 raise
// nothing, the 25th raises one host_sweep filed under it, and the last five,
// sent at once to both replicas, extend that one incident to 30 hosts.

jest.setTimeout(120_000);

const SOURCE = '203.0.113.0/24';
const PORT = 445;
const AGENTS = 30;

let db: TestDatabase;
const replicas: ChildServer[] = [];
const agents: { id: string; replica: number; stream: AgentStream }[] = [];

beforeAll(async () => {
  db = await createTestDatabase();
  serverCli(db.url)('migrate', 'run');
  replicas.push(...(await Promise.all([spawnServer(db.url), spawnServer(db.url)])));
});

afterAll(async () => {
  for (const a of agents) {
    await a.stream.close();
    a.stream.client.close();
  }
  for (const r of replicas) {
    r.proc.kill('SIGTERM');
    await killed(r.proc);
  }
  await db?.drop();
});

const base = Math.floor(Date.now() / 10_000) * 10_000 - 60_000;

function probe(sequence = 1, start = base, src = SOURCE, port = PORT): Batch {
  return {
    sequence,
    windowStartMs: start,
    windowEndMs: start + 10_000,
    scan: {
      sources: [
        {
          src,
          protocol: 'PROTOCOL_TCP',
          pairs: 1,
          destinations: 1,
          ports: 1,
          unanswered: 1,
          topDestination: '198.18.0.0/24',
          topDestinationPorts: 1,
          topDestinationRefused: 0,
          topPort: port,
          topPortDestinations: 1,
          topPortFailed: 1,
        },
      ],
      sourcesTotal: 1,
    },
  };
}

async function until(cond: () => Promise<boolean>, ms: number, what: string): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await cond())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** Hosts the shared tracker holds for the source and port: every detection of a probe adds one. */
const tracked = async (src = SOURCE, port = PORT) =>
  Number(
    (
      await db.query<{ n: string }>(
        `SELECT count(*) AS n FROM fleet_sweep_hosts WHERE source = $1 AND port = $2 AND protocol = 'tcp'`,
        [src, port],
      )
    )[0].n,
  );

interface Row {
  agent_id: string;
  windows: number;
  group_key: string;
  evidence: {
    figures: Record<string, unknown>;
    first: Record<string, unknown>;
    peak: Record<string, number>;
    threshold: Record<string, number>;
    windows: { sequence: number }[];
  };
}
const sweeps = () =>
  db.query<Row>(
    `SELECT agent_id, windows, group_key, evidence FROM anomalies WHERE type = 'host_sweep' ORDER BY id`,
  );

const send = (from: number, to: number) =>
  Promise.all(agents.slice(from, to).map((a) => a.stream.sendAndAwaitAck([probe()])));

it('a sweep whose windows land on two replicas is counted across both and raised once', async () => {
  const token = serverCli(db.url)(
    'enroll',
    'create',
    '--name',
    'fleet-sweep',
    '--expires',
    '1h',
    '--uses',
    String(AGENTS),
  );
  for (let i = 0; i < AGENTS; i++) {
    const id = randomUUID();
    const replica = i % 2;
    const stream = new AgentStream(ingestClient(replicas[replica].grpcPort));
    await stream.hello({ agentId: id, hostname: `sweep-${i}`, enrollmentToken: token });
    agents.push({ id, replica, stream });
  }

  // 24 hosts, 12 on each replica, at once: below the threshold.
  await send(0, 24);
  await until(async () => (await tracked()) === 24, 30_000, '24 hosts tracked');
  expect(await sweeps()).toEqual([]);

  // The 25th host to send, on the second replica (which serves 13 of the 25), raises it.
  expect(agents[24].replica).toBe(0);
  const crossing = agents[25];
  expect(crossing.replica).toBe(1);
  await crossing.stream.sendAndAwaitAck([probe()]);
  await until(async () => (await sweeps()).length === 1, 30_000, 'the fleet-wide sweep');
  const [raised] = await sweeps();
  expect(raised.agent_id).toBe(crossing.id);
  expect(raised.group_key).toBe(`fleet|tcp|${SOURCE}|${PORT}`);
  expect(raised.windows).toBe(1);
  expect(raised.evidence.figures).toEqual({
    fleetWide: true,
    source: SOURCE,
    port: PORT,
    protocol: 'tcp',
    hosts: 25,
    latestHost: crossing.id,
  });
  expect(raised.evidence.threshold).toEqual({ hostSweepFailedDestinations: 25 });

  // The other five (agents 24 and 26–29), at once, on both replicas: the same incident, extended.
  await Promise.all([24, 26, 27, 28, 29].map((i) => agents[i].stream.sendAndAwaitAck([probe()])));
  await until(async () => (await tracked()) === AGENTS, 30_000, `${AGENTS} hosts tracked`);
  await until(async () => (await sweeps())[0]?.windows === 6, 30_000, 'five extensions');
  const all = await sweeps();
  expect(all).toHaveLength(1);
  const [sweep] = all;
  expect(sweep.agent_id).toBe(crossing.id);
  expect(sweep.evidence.first).toMatchObject({ hosts: 25, latestHost: crossing.id });
  // Counted one after the other: the last of the five saw all 30, the peak says so.
  expect(sweep.evidence.figures.hosts).toBe(AGENTS);
  expect(sweep.evidence.peak.hosts).toBe(AGENTS);
  expect(sweep.evidence.windows).toHaveLength(6);
  expect([24, 26, 27, 28, 29].map((i) => agents[i].id)).toContain(
    sweep.evidence.figures.latestHost,
  );
  // Nothing was raised per host: one failure each is far below every per-host threshold.
  expect(await db.query(`SELECT type, agent_id FROM anomalies WHERE type <> 'host_sweep'`)).toEqual(
    [],
  );
});

it('counts only hosts within regroupSeconds of one another, and expiry forgets the rest', async () => {
  const src = '192.0.2.0/24';
  // Ten hosts saw it fail 10 minutes before the other twenty: 30 hosts, never 25 within 5 minutes.
  await Promise.all(
    agents.slice(0, 10).map((a) => a.stream.sendAndAwaitAck([probe(2, base - 600_000, src, 3389)])),
  );
  await until(async () => (await tracked(src, 3389)) === 10, 30_000, '10 early hosts tracked');
  await Promise.all(
    agents.slice(10).map((a) => a.stream.sendAndAwaitAck([probe(2, base, src, 3389)])),
  );
  await until(async () => (await tracked(src, 3389)) === AGENTS, 30_000, 'all hosts tracked');
  expect((await sweeps()).map((r) => r.group_key)).toEqual([`fleet|tcp|${SOURCE}|${PORT}`]);

  // Past 10 minutes (by the database's clock) the early ten go, the keys stay.
  const fleet = new FleetSweeps();
  await fleet.expire(db, 600);
  expect(await tracked(src, 3389)).toBe(20);
  expect(await tracked()).toBe(AGENTS);
  const keys = () => db.query(`SELECT source, port FROM fleet_sweeps ORDER BY source`);
  expect(await keys()).toEqual([
    { source: src, port: 3389 },
    { source: SOURCE, port: PORT },
  ]);
  // Past the newest window of each: every key goes, with its hosts.
  await fleet.expire(db, (Date.now() - base) / 1000 - 15);
  expect(await keys()).toEqual([]);
  expect(await db.query(`SELECT * FROM fleet_sweep_hosts`)).toEqual([]);
});
