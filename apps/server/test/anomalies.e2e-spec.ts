import { randomUUID } from 'node:crypto';
import type { Batch } from '@tidewatch/proto';
import { EnrollmentService } from '../src/enrollment/enrollment.service';
import type { RunningServer } from '../src/server';
import { AgentStream, ingestClient } from './support/agent-client';
import { bearer, tokenFor } from './support/auth';
import { createTestDatabase, TestDatabase } from './support/database';
import { startTestServer } from './support/server';

// The detectors that need history or silence, through the real ingest stream
// and REST: thresholds set per fleet and per label, a retransmit surge
// against a learned baseline (one incident over several windows), and an
// agent gone silent told apart from one that keeps sending empty windows.

jest.setTimeout(90_000);

let db: TestDatabase;
let server: RunningServer;

beforeAll(async () => {
  db = await createTestDatabase();
  server = await startTestServer(db.url);
});

afterAll(async () => {
  await server?.close();
  await db?.drop();
});

interface Anomaly {
  id: string;
  agentId: string;
  type: string;
  windows: number;
  evidence: { figures: Record<string, unknown>; threshold: Record<string, number> };
}

async function call(method: string, path: string, token: string, body?: unknown) {
  const res = await fetch(`http://127.0.0.1:${server.httpPort}/api/v1/${path}`, {
    method,
    headers: { ...bearer(token), 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

async function anomaliesOf(agentId: string, type: string): Promise<Anomaly[]> {
  const r = await call(
    'GET',
    `anomalies?agentId=${agentId}&type=${type}`,
    await tokenFor(server, 'viewer'),
  );
  expect(r.status).toBe(200);
  return r.body.items as Anomaly[];
}

async function until(cond: () => Promise<boolean>, ms: number, what: string): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await cond())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** An empty window (zero traffic) with the given retransmits. */
function window(sequence: number, startMs: number, retransmits = 0): Batch {
  return {
    sequence,
    windowStartMs: startMs,
    windowEndMs: startMs + 10_000,
    connections: { retransmits },
  };
}

async function agent(
  labels: Record<string, string> = {},
): Promise<{ id: string; stream: AgentStream }> {
  const { token } = await server.app.get(EnrollmentService).create('anomalies', 60_000, null);
  const id = randomUUID();
  const stream = new AgentStream(ingestClient(server.grpcPort));
  await stream.hello({
    agentId: id,
    hostname: `an-${id.slice(0, 8)}`,
    enrollmentToken: token,
    labels,
  });
  return { id, stream };
}

it('thresholds: secadmin sets them per fleet and per label (audited); an operator may not', async () => {
  const sec = await tokenFor(server, 'secadmin');
  const op = await tokenFor(server, 'operator');
  expect(
    (await call('PUT', 'anomalies/thresholds/fleet', op, { silentAfterSeconds: 3 })).status,
  ).toBe(403);
  expect(
    (await call('PUT', 'anomalies/thresholds/fleet', sec, { silentAfterSecs: 3 })).status,
  ).toBe(400);
  expect(
    (await call('PUT', 'anomalies/thresholds/fleet', sec, { silentAfterSeconds: 3 })).status,
  ).toBe(200);
  const r = await call('PUT', 'anomalies/thresholds/label:role=quiet', sec, {
    silentAfterSeconds: 3600,
  });
  expect(r.body).toMatchObject({
    defaults: { silentAfterSeconds: 90, portScanFailedPorts: 15 },
    scopes: { fleet: { silentAfterSeconds: 3 }, 'label:role=quiet': { silentAfterSeconds: 3600 } },
  });
  const audit = await call('GET', 'audit?limit=50', await tokenFor(server, 'auditadmin'));
  const actions = (audit.body.items as { action: string; target: string }[]).map(
    (e) => `${e.action} ${e.target}`,
  );
  expect(actions).toEqual(
    expect.arrayContaining([
      'anomaly.thresholds_changed thresholds:fleet',
      'anomaly.thresholds_changed thresholds:label:role=quiet',
    ]),
  );
});

it('a retransmit surge over a learned baseline is raised once and extended while it lasts', async () => {
  const { id, stream } = await agent();
  const base = Math.floor(Date.now() / 10_000) * 10_000 - 3_600_000;
  // 30 windows of warm-up at 2 retransmits, then 3 windows at 600.
  const quiet = Array.from({ length: 30 }, (_, i) => window(i + 1, base + i * 10_000, 2));
  await stream.sendAndAwaitAck(quiet);
  expect(await anomaliesOf(id, 'retransmit_surge')).toEqual([]);
  const surge = [31, 32, 33].map((q) => window(q, base + (q - 1) * 10_000, 600));
  await stream.sendAndAwaitAck(surge);
  await until(
    async () => (await anomaliesOf(id, 'retransmit_surge'))[0]?.windows === 3,
    10_000,
    'the surge, 3 windows',
  );
  const [a] = await anomaliesOf(id, 'retransmit_surge');
  expect(a.evidence.figures).toMatchObject({ total: 600, perSecond: 60 });
  expect(a.evidence.threshold).toEqual({ surgeFactor: 5, retransmitMin: 100 });
  await stream.close();
});

it("forty agents at once: their windows detected together, each agent's surge its own, once", async () => {
  // Sent side by side, the agents' windows share flushes and so detection transactions (runs of
  // several agents, each behind its own savepoint); each agent's baseline stays its own chain.
  const agents = await Promise.all(Array.from({ length: 40 }, () => agent()));
  const base = Math.floor(Date.now() / 10_000) * 10_000 - 1_800_000;
  await Promise.all(
    agents.map(async ({ stream }, k) => {
      const quiet = Array.from({ length: 30 }, (_, i) => window(i + 1, base + i * 10_000, 2));
      await stream.sendAndAwaitAck(quiet);
      // Every other agent surges; the rest stay quiet and must raise nothing.
      const r = k % 2 === 0 ? 600 : 2;
      await stream.sendAndAwaitAck([31, 32, 33].map((q) => window(q, base + (q - 1) * 10_000, r)));
    }),
  );
  const surging = agents.filter((_, k) => k % 2 === 0);
  await until(
    async () =>
      (await Promise.all(surging.map(({ id }) => anomaliesOf(id, 'retransmit_surge')))).every(
        (l) => l.length === 1 && l[0].windows === 3,
      ),
    30_000,
    'one 3-window surge on each of the 20 surging agents',
  );
  for (const { id } of surging) {
    const l = await anomaliesOf(id, 'retransmit_surge');
    expect({ id, n: l.length, agent: l[0].agentId, total: l[0].evidence.figures.total }).toEqual({
      id,
      n: 1,
      agent: id,
      total: 600,
    });
  }
  for (const { id } of agents.filter((_, k) => k % 2 === 1))
    expect({ id, found: await anomaliesOf(id, 'retransmit_surge') }).toEqual({ id, found: [] });
  for (const { stream } of agents) await stream.close();
});

it('an agent gone silent is raised; one that keeps sending empty windows is not, nor one whose label allows longer', async () => {
  const silent = await agent();
  const quiet = await agent({ role: 'quiet' });
  const talking = await agent();
  const base = Math.floor(Date.now() / 10_000) * 10_000 - 1_800_000;
  await silent.stream.sendAndAwaitAck([window(1, base)]);
  await quiet.stream.sendAndAwaitAck([window(1, base)]);
  await silent.stream.close();
  await quiet.stream.close();
  let seq = 1;
  const keepTalking = setInterval(
    () => talking.stream.send(window(++seq, base + seq * 10_000)),
    500,
  );
  try {
    await talking.stream.sendAndAwaitAck([window(1, base)]);
    await until(
      async () => (await anomaliesOf(silent.id, 'agent_silent')).length === 1,
      20_000,
      'agent_silent',
    );
    const [a] = await anomaliesOf(silent.id, 'agent_silent');
    expect(Number(a.evidence.figures.silentSeconds)).toBeGreaterThanOrEqual(3);
    expect(a.evidence.threshold).toEqual({ silentAfterSeconds: 3 });
    // The check that raised it looked at the other two as well.
    expect(await anomaliesOf(quiet.id, 'agent_silent')).toEqual([]);
    expect(await anomaliesOf(talking.id, 'agent_silent')).toEqual([]);
  } finally {
    clearInterval(keepTalking);
    await talking.stream.close();
  }
});

it('a source failing on one port across 25 hosts, once each, is one fleet-wide host_sweep', async () => {
  const base = Math.floor(Date.now() / 10_000) * 10_000 - 600_000;
  const probe = (q: number): Batch => ({
    ...window(q, base),
    scan: {
      sources: [
        {
          src: '203.0.113.0/24',
          protocol: 'PROTOCOL_TCP',
          pairs: 1,
          destinations: 1,
          ports: 1,
          unanswered: 1,
          topDestination: '198.18.0.0/24',
          topDestinationPorts: 1,
          topDestinationRefused: 1,
          topPort: 445,
          topPortDestinations: 1,
          topPortFailed: 1,
        },
      ],
      sourcesTotal: 1,
    },
  });
  const hosts: { id: string; stream: AgentStream }[] = [];
  for (let i = 0; i < 25; i++) hosts.push(await agent());
  for (const h of hosts.slice(0, 24)) await h.stream.sendAndAwaitAck([probe(1)]);
  // 24 hosts: below the threshold, fleet-wide as well as on each host.
  const all = async () => {
    const r = await call(
      'GET',
      'anomalies?type=host_sweep&limit=500',
      await tokenFor(server, 'viewer'),
    );
    return r.body.items as Anomaly[];
  };
  await hosts[23].stream.sendAndAwaitAck([window(2, base + 10_000)]);
  expect(await all()).toEqual([]);
  await hosts[24].stream.sendAndAwaitAck([probe(1)]);
  await until(async () => (await all()).length === 1, 10_000, 'the fleet-wide sweep');
  const [a] = await all();
  expect(a.agentId).toBe(hosts[24].id);
  expect(a.evidence.figures).toMatchObject({
    fleetWide: true,
    source: '203.0.113.0/24',
    port: 445,
    hosts: 25,
  });
  for (const h of hosts) await h.stream.close();
});
