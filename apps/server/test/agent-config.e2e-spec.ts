import { randomUUID } from 'node:crypto';
import type { Hello } from '@tidewatch/proto';
import { EnrollmentService } from '../src/enrollment/enrollment.service';
import type { RunningServer } from '../src/server';
import { AgentStream, ingestClient } from './support/agent-client';
import { createTestDatabase, TestDatabase } from './support/database';
import { tokenFor } from './support/auth';
import { getJson, startTestServer } from './support/server';

// Two replicas on one database. The agent streams to replica A; the operator's
// PUT goes to replica B. Ground truth: the config that was PUT must arrive, as
// sent, on the agent's stream within a second; what the agent answers in
// ConfigApplied must be what host details show.

let db: TestDatabase;
let a: RunningServer;
let b: RunningServer;
let token: string;
/** A system administrator's session (TOTP included): agent configuration is theirs. */
let sysadmin: string;

const CONFIG = {
  windowSeconds: 5,
  topN: 50,
  portAllowlist: [5432, 22, 443],
  // The current masking: changing it is the security administrator's (see below).
  masking: 'unspecified',
  maxFlowsPerWindow: 20_000,
  cpuBudgetPercent: 1.5,
};

async function put(port: number, agentId: string, body: unknown) {
  const res = await fetch(`http://127.0.0.1:${port}/api/v1/hosts/${agentId}/config`, {
    method: 'PUT',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${sysadmin}` },
    body: JSON.stringify(body),
  });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

function hello(agentId: string, creds: Partial<Hello>): Hello {
  return { agentId, hostname: `cfg-${agentId.slice(0, 8)}`, agentVersion: '0.1.0', ...creds };
}

beforeAll(async () => {
  db = await createTestDatabase();
  a = await startTestServer(db.url, { AGENT_WINDOW_SECONDS: '10', AGENT_TOP_N: '20' });
  b = await startTestServer(db.url, { AGENT_WINDOW_SECONDS: '10', AGENT_TOP_N: '20' });
  // Signed in on A, used on both: sessions live in the shared database.
  sysadmin = await tokenFor(a, 'sysadmin');
  token = (await a.app.get(EnrollmentService).create('cfg', 3_600_000, null)).token;
}, 60_000);

afterAll(async () => {
  await a?.close();
  await b?.close();
  await db?.drop();
});

it('pushes a config PUT on replica B to the agent streaming to replica A within a second', async () => {
  const agentId = randomUUID();
  const stream = new AgentStream(ingestClient(a.grpcPort));
  const welcome = await stream.hello(hello(agentId, { enrollmentToken: token }));
  expect(welcome.config).toMatchObject({ version: 1, windowSeconds: 10, topN: 20 });

  const sentAt = Date.now();
  const res = await put(b.httpPort, agentId, CONFIG);
  expect(res.status).toBe(200);
  expect(res.body).toMatchObject({ ...CONFIG, portAllowlist: [22, 443, 5432], version: 2 });
  await stream.until(() => stream.messages.some((m) => m.configUpdate), 1_000, 'ConfigUpdate');
  const receivedAt = Date.now();
  expect(receivedAt - sentAt).toBeLessThan(1_000);
  const update = stream.messages.find((m) => m.configUpdate)?.configUpdate?.config;
  expect(update).toEqual({
    version: 2,
    windowSeconds: 5,
    topN: 50,
    portAllowlist: [22, 443, 5432],
    masking: 'MASKING_UNSPECIFIED',
    maxFlowsPerWindow: 20_000,
    cpuBudgetPercent: 1.5,
  });

  // The agent applies it: stored, and shown in host details on either replica.
  stream.call.write({ configApplied: { version: 2, ok: true, error: '' } });
  let details = await getJson<Record<string, unknown>>(
    b.httpPort,
    `/api/v1/hosts/${agentId}`,
    sysadmin,
  );
  const deadline = Date.now() + 5_000;
  while (!details.body.configApplied && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 25));
    details = await getJson(b.httpPort, `/api/v1/hosts/${agentId}`, sysadmin);
  }
  expect(details.body).toMatchObject({
    config: { ...CONFIG, portAllowlist: [22, 443, 5432], version: 2, source: 'operator' },
    configApplied: { version: 2, ok: true, error: '' },
    configVersion: 2,
  });

  // A second change bumps the version again; the agent refuses this one.
  const second = await put(a.httpPort, agentId, { ...CONFIG, topN: 7 });
  expect(second.body.version).toBe(3);
  await stream.until(
    () => stream.messages.filter((m) => m.configUpdate).length === 2,
    1_000,
    'second ConfigUpdate',
  );
  stream.call.write({ configApplied: { version: 3, ok: false, error: 'top_n 7: too small' } });
  const deadline2 = Date.now() + 5_000;
  let state = await getJson<Record<string, unknown>>(
    a.httpPort,
    `/api/v1/hosts/${agentId}/config`,
    sysadmin,
  );
  while ((state.body.applied as { version: number }).version !== 3 && Date.now() < deadline2) {
    await new Promise((r) => setTimeout(r, 25));
    state = await getJson(a.httpPort, `/api/v1/hosts/${agentId}/config`, sysadmin);
  }
  expect(state.body).toMatchObject({
    desired: { version: 3, topN: 7 },
    applied: { version: 3, ok: false, error: 'top_n 7: too small' },
    runningVersion: 2,
  });
  const [row] = await db.query<{ config_applied_error: string; version: string }>(
    `SELECT h.config_applied_error, c.version FROM hosts h JOIN agent_configs c USING (agent_id)
      WHERE agent_id = $1`,
    [agentId],
  );
  expect(row).toEqual({ config_applied_error: 'top_n 7: too small', version: '3' });

  // Reconnecting: Welcome carries the current config.
  const credential = welcome.agentCredential;
  await stream.close();
  const again = new AgentStream(ingestClient(b.grpcPort));
  const w2 = await again.hello(hello(agentId, { agentCredential: credential, configVersion: 2 }));
  expect(w2.config).toMatchObject({ version: 3, topN: 7, masking: 'MASKING_UNSPECIFIED' });
  await again.close();
}, 30_000);

it("masking is the security administrator's: pushed, audited old/new, and refused to the system administrator", async () => {
  const secadmin = await tokenFor(a, 'secadmin');
  const agentId = randomUUID();
  const stream = new AgentStream(ingestClient(a.grpcPort));
  await stream.hello(hello(agentId, { enrollmentToken: token }));
  const putMasking = async (bearer: string, masking: string) => {
    const res = await fetch(`http://127.0.0.1:${b.httpPort}/api/v1/hosts/${agentId}/masking`, {
      method: 'PUT',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${bearer}` },
      body: JSON.stringify({ masking }),
    });
    return { status: res.status, body: (await res.json()) as Record<string, unknown> };
  };
  // The system administrator may not set it, on either route.
  expect((await putMasking(sysadmin, 'none')).status).toBe(403);
  const refused = await put(b.httpPort, agentId, { ...CONFIG, masking: 'none' });
  expect(refused.status).toBe(403);
  expect(String(refused.body.message)).toMatch(/security administrator/);
  // The security administrator does (replica B), and the agent on A gets it at once.
  const set = await putMasking(secadmin, 'pseudonymize');
  expect(set.status).toBe(200);
  expect(set.body).toMatchObject({
    version: 2,
    masking: 'pseudonymize',
    windowSeconds: 10,
    topN: 20,
  });
  await stream.until(() => stream.messages.some((m) => m.configUpdate), 5_000, 'ConfigUpdate');
  expect(stream.messages.find((m) => m.configUpdate)?.configUpdate?.config).toMatchObject({
    version: 2,
    masking: 'MASKING_PSEUDONYMIZE',
  });
  // The same mode again changes nothing; the system administrator keeps it with the rest.
  expect((await putMasking(secadmin, 'pseudonymize')).body).toMatchObject({ version: 2 });
  const kept = await put(b.httpPort, agentId, { ...CONFIG, masking: 'pseudonymize' });
  expect(kept.body).toMatchObject({ version: 3, masking: 'pseudonymize', topN: 50 });
  const trail = await db.query<{
    action: string;
    outcome: string;
    actor_role: string;
    details: string | null;
  }>(
    `SELECT action, outcome, actor_role, details FROM audit_entries
      WHERE target = $1 AND action IN ('agent.masking_changed', 'agent.config_changed') ORDER BY sequence`,
    [agentId],
  );
  expect(trail.map((r) => [r.action, r.outcome, r.actor_role])).toEqual([
    ['agent.masking_changed', 'denied', 'sysadmin'],
    ['agent.masking_changed', 'success', 'secadmin'],
    ['agent.config_changed', 'success', 'sysadmin'],
  ]);
  expect(JSON.parse(trail[1].details ?? '{}')).toEqual({
    version: 2,
    from: 'unspecified',
    to: 'pseudonymize',
  });
  await stream.close();
});

describe('a bad config gets a 400 naming the field', () => {
  let agentId: string;
  beforeAll(async () => {
    agentId = randomUUID();
    const s = new AgentStream(ingestClient(a.grpcPort));
    await s.hello(hello(agentId, { enrollmentToken: token }));
    await s.close();
  });

  it.each([
    [{ windowSeconds: 0 }, /windowSeconds/],
    [{ windowSeconds: 2.5 }, /windowSeconds/],
    [{ topN: '50' }, /topN/],
    [{ portAllowlist: [22, 70000] }, /portAllowlist/],
    [{ portAllowlist: [22, 22] }, /portAllowlist/],
    [{ masking: 'scramble' }, /masking/],
    [{ maxFlowsPerWindow: -1 }, /maxFlowsPerWindow/],
    [{ cpuBudgetPercent: 101 }, /cpuBudgetPercent/],
    [{ bogus: 1 }, /bogus/],
  ])('%j', async (change, message) => {
    const res = await put(b.httpPort, agentId, { ...CONFIG, ...change });
    expect(res.status).toBe(400);
    expect([res.body.message].flat().join('; ')).toMatch(message);
  });

  it('refuses a config missing a field', async () => {
    const { cpuBudgetPercent: _omit, ...partial } = CONFIG;
    void _omit;
    const res = await put(b.httpPort, agentId, partial);
    expect(res.status).toBe(400);
    expect([res.body.message].flat().join('; ')).toMatch(/cpuBudgetPercent/);
  });

  it('stores nothing for a refused config, and 404s an unknown agent', async () => {
    expect(await db.query(`SELECT 1 FROM agent_configs WHERE agent_id = $1`, [agentId])).toEqual(
      [],
    );
    expect((await put(b.httpPort, randomUUID(), CONFIG)).status).toBe(404);
    expect((await put(b.httpPort, 'not-a-uuid', CONFIG)).status).toBe(400);
  });
});
