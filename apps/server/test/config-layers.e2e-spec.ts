import { randomUUID } from 'node:crypto';
import type { AgentConfig__Output, Hello } from '@tidewatch/proto';
import { EnrollmentService } from '../src/enrollment/enrollment.service';
import type { RunningServer } from '../src/server';
import { AgentStream, ingestClient } from './support/agent-client';
import { tokenFor } from './support/auth';
import { createTestDatabase, TestDatabase } from './support/database';
import { startTestServer } from './support/server';

// Fleet-wide and per-label configuration layers, on two replicas sharing one database: the
// agents stream to replica A, every change goes to replica B. Ground truth: what each agent
// receives is the merge (defaults ← fleet ← matching labels by priority ← host) of what was
// PUT, computed here by hand; an agent a change does not concern receives nothing from it
// (its next ConfigUpdate is the next change that does concern it).

let db: TestDatabase;
let a: RunningServer;
let b: RunningServer;
let enrollment: string;
let sysadmin: string;
let secadmin: string;

/** The server defaults (AGENT_WINDOW_SECONDS=10, AGENT_TOP_N=20) as the wire carries them. */
const DEFAULTS = {
  windowSeconds: 10,
  topN: 20,
  portAllowlist: [] as number[],
  masking: 'MASKING_UNSPECIFIED',
  maxFlowsPerWindow: 0,
  cpuBudgetPercent: 0,
};

async function call(
  method: string,
  path: string,
  token: string,
  body?: unknown,
  port = b.httpPort,
): Promise<{ status: number; body: Record<string, unknown> }> {
  const res = await fetch(`http://127.0.0.1:${port}/api/v1${path}`, {
    method,
    headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

function updates(s: AgentStream): AgentConfig__Output[] {
  return s.messages.flatMap((m) => (m.configUpdate?.config ? [m.configUpdate.config] : []));
}

async function nthUpdate(s: AgentStream, n: number): Promise<AgentConfig__Output> {
  await s.until(() => updates(s).length >= n, 10_000, `ConfigUpdate #${n}`);
  return updates(s)[n - 1];
}

interface Agent {
  id: string;
  stream: AgentStream;
  credential: string;
}

async function connect(labels: Record<string, string>, port = a.grpcPort): Promise<Agent> {
  const id = randomUUID();
  const stream = new AgentStream(ingestClient(port));
  const hello: Hello = {
    agentId: id,
    hostname: `layer-${id.slice(0, 8)}`,
    agentVersion: '0.1.0',
    labels,
    enrollmentToken: enrollment,
  };
  const w = await stream.hello(hello);
  return { id, stream, credential: w.agentCredential };
}

async function eventually<T>(read: () => Promise<T>, ok: (v: T) => boolean): Promise<T> {
  const deadline = Date.now() + 10_000;
  let v = await read();
  while (!ok(v) && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 50));
    v = await read();
  }
  return v;
}

beforeAll(async () => {
  db = await createTestDatabase();
  a = await startTestServer(db.url, { AGENT_WINDOW_SECONDS: '10', AGENT_TOP_N: '20' });
  b = await startTestServer(db.url, { AGENT_WINDOW_SECONDS: '10', AGENT_TOP_N: '20' });
  sysadmin = await tokenFor(b, 'sysadmin');
  secadmin = await tokenFor(b, 'secadmin');
  enrollment = (await a.app.get(EnrollmentService).create('layers', 3_600_000, null)).token;
}, 60_000);

afterAll(async () => {
  await a?.close();
  await b?.close();
  await db?.drop();
});

describe('layers, precedence and the host override', () => {
  let dbZoneA: Agent; // zone=a, role=db
  let webZoneA: Agent; // zone=a
  let zoneB: Agent; // zone=b

  beforeAll(async () => {
    dbZoneA = await connect({ zone: 'a', role: 'db' });
    webZoneA = await connect({ zone: 'a' });
    zoneB = await connect({ zone: 'b' });
  });
  afterAll(async () => {
    for (const s of [dbZoneA, webZoneA, zoneB]) await s?.stream.close();
  });

  it('a label layer reaches exactly the agents carrying the label, merged over the defaults', async () => {
    const res = await call('PUT', '/agent-config/labels/zone/a', sysadmin, {
      priority: 10,
      topN: 40,
      maxFlowsPerWindow: 5000,
    });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({
      scope: 'label',
      key: 'zone',
      value: 'a',
      priority: 10,
      version: 1,
      topN: 40,
      windowSeconds: null,
      masking: null,
      hosts: 2,
      changedHosts: 2,
    });
    const expected = { ...DEFAULTS, version: 2, topN: 40, maxFlowsPerWindow: 5000 };
    expect(await nthUpdate(dbZoneA.stream, 1)).toEqual(expected);
    expect(await nthUpdate(webZoneA.stream, 1)).toEqual(expected);

    // The fleet layer reaches everybody; where zone=a sets a field, zone=a wins.
    const fleet = await call('PUT', '/agent-config/fleet', sysadmin, {
      windowSeconds: 30,
      topN: 99,
      portAllowlist: [443, 22],
    });
    expect(fleet.status).toBe(200);
    expect(fleet.body).toMatchObject({ scope: 'fleet', version: 1, hosts: 3, changedHosts: 3 });
    const zoneAFleet = { ...expected, version: 3, windowSeconds: 30, portAllowlist: [22, 443] };
    expect(await nthUpdate(dbZoneA.stream, 2)).toEqual(zoneAFleet);
    expect(await nthUpdate(webZoneA.stream, 2)).toEqual(zoneAFleet);
    // zone=b's first update is the fleet's: the zone=a layer never reached it.
    expect(await nthUpdate(zoneB.stream, 1)).toEqual({
      ...DEFAULTS,
      version: 2,
      windowSeconds: 30,
      topN: 99,
      portAllowlist: [22, 443],
    });
    expect(updates(zoneB.stream)).toHaveLength(1);

    const state = await call('GET', `/hosts/${webZoneA.id}/config`, secadmin);
    expect(state.body.desired).toMatchObject({
      version: 3,
      source: 'operator',
      topN: 40,
      windowSeconds: 30,
      origin: {
        windowSeconds: 'fleet',
        topN: 'label:zone=a',
        portAllowlist: 'fleet',
        masking: 'default',
        maxFlowsPerWindow: 'label:zone=a',
        cpuBudgetPercent: 'default',
      },
    });
    expect(state.body.override).toBeNull();
  });

  it('two matching labels: the higher priority wins; a tie across keys is refused', async () => {
    const role = await call('PUT', '/agent-config/labels/role/db', sysadmin, {
      priority: 20,
      topN: 60,
    });
    expect(role.body).toMatchObject({ changedHosts: 1, hosts: 1 });
    expect(await nthUpdate(dbZoneA.stream, 3)).toMatchObject({ version: 4, topN: 60 });

    const tie = await call('PUT', '/agent-config/labels/role/web', sysadmin, {
      priority: 10,
      topN: 1,
    });
    expect(tie.status).toBe(409);
    expect(String(tie.body.message)).toMatch(/priority 10 is taken by the layer zone=a/);
    // One key may share a priority: zone=a and zone=b never match one host.
    const zb = await call('PUT', '/agent-config/labels/zone/b', sysadmin, {
      priority: 10,
      cpuBudgetPercent: 2.5,
    });
    expect(zb.status).toBe(200);
    expect(await nthUpdate(zoneB.stream, 2)).toMatchObject({ version: 3, cpuBudgetPercent: 2.5 });

    // zone=a above role=db now: the db host gets topN 40 back; the web host's merge is unchanged.
    const raised = await call('PUT', '/agent-config/labels/zone/a', sysadmin, {
      priority: 30,
      topN: 40,
      maxFlowsPerWindow: 5000,
    });
    expect(raised.body).toMatchObject({ version: 2, changedHosts: 1, hosts: 2 });
    expect(await nthUpdate(dbZoneA.stream, 4)).toMatchObject({ version: 5, topN: 40 });

    const list = await call('GET', '/agent-config/labels', secadmin);
    expect(
      (list.body.items as { key: string; value: string; priority: number; hosts: number }[]).map(
        (l) => [l.key, l.value, l.priority, l.hosts],
      ),
    ).toEqual([
      ['zone', 'a', 30, 2],
      ['role', 'db', 20, 1],
      ['zone', 'b', 10, 1],
    ]);
  });

  it("the host's own override wins over every layer; deleting a layer gives what remains", async () => {
    const own = {
      windowSeconds: 5,
      topN: 7,
      portAllowlist: [8443],
      masking: 'unspecified',
      maxFlowsPerWindow: 100,
      cpuBudgetPercent: 1,
    };
    const put = await call('PUT', `/hosts/${dbZoneA.id}/config`, sysadmin, own);
    expect(put.status).toBe(200);
    expect(put.body).toMatchObject({ ...own, version: 6 });
    expect(await nthUpdate(dbZoneA.stream, 5)).toEqual({
      ...own,
      masking: 'MASKING_UNSPECIFIED',
      version: 6,
    });

    // zone=a changes: only the web host moves; the db host's override covers every field.
    const zoneA = await call('PUT', '/agent-config/labels/zone/a', sysadmin, {
      priority: 30,
      topN: 41,
      maxFlowsPerWindow: 5000,
    });
    expect(zoneA.body).toMatchObject({ changedHosts: 1, hosts: 2 });
    expect(await nthUpdate(webZoneA.stream, 3)).toMatchObject({ version: 4, topN: 41 });

    const del = await call('DELETE', '/agent-config/labels/zone/a', sysadmin);
    expect(del.status).toBe(200);
    expect(del.body).toMatchObject({ key: 'zone', value: 'a', changedHosts: 1 });
    expect(await nthUpdate(webZoneA.stream, 4)).toEqual({
      ...DEFAULTS,
      version: 5,
      windowSeconds: 30,
      topN: 99,
      portAllowlist: [22, 443],
    });
    expect(updates(dbZoneA.stream)).toHaveLength(5);
    expect((await call('DELETE', '/agent-config/labels/zone/a', sysadmin)).status).toBe(404);

    // Without its override the host follows its layers again: fleet, then role=db.
    expect((await call('DELETE', `/hosts/${dbZoneA.id}/config`, secadmin)).status).toBe(403);
    const cleared = await call('DELETE', `/hosts/${dbZoneA.id}/config`, sysadmin);
    expect(cleared.status).toBe(200);
    expect(cleared.body).toMatchObject({ version: 7, topN: 60, origin: { topN: 'label:role=db' } });
    expect(await nthUpdate(dbZoneA.stream, 6)).toEqual({
      ...DEFAULTS,
      version: 7,
      windowSeconds: 30,
      topN: 60,
      portAllowlist: [22, 443],
    });
    expect((await call('GET', `/hosts/${dbZoneA.id}/config`, sysadmin)).body.override).toBeNull();

    // Old and new values on the trail, in the change's own transaction.
    const trail = await db.query<{ action: string; target: string; details: string }>(
      `SELECT action, target, details FROM audit_entries
        WHERE action LIKE 'agent_config.%' AND target = 'label:zone=a' ORDER BY sequence`,
    );
    expect(trail.map((t) => t.action)).toEqual([
      'agent_config.layer_changed',
      'agent_config.layer_changed',
      'agent_config.layer_changed',
      'agent_config.layer_deleted',
    ]);
    expect(JSON.parse(trail[2].details)).toEqual({
      version: 3,
      changedHosts: 1,
      config: {
        priority: 30,
        windowSeconds: null,
        topN: 41,
        portAllowlist: null,
        masking: null,
        maxFlowsPerWindow: 5000,
        cpuBudgetPercent: null,
      },
      previous: {
        priority: 30,
        windowSeconds: null,
        topN: 40,
        portAllowlist: null,
        masking: null,
        maxFlowsPerWindow: 5000,
        cpuBudgetPercent: null,
      },
    });
  });

  it('a Hello with other labels gets the layers of those labels, as the next version', async () => {
    await zoneB.stream.close();
    const again = new AgentStream(ingestClient(a.grpcPort));
    const w = await again.hello({
      agentId: zoneB.id,
      hostname: 'moved',
      agentVersion: '0.1.0',
      labels: { zone: 'c', role: 'db' },
      agentCredential: zoneB.credential,
      configVersion: 3,
    });
    // zone=b (cpu 2.5) no longer applies; role=db (topN 60) now does.
    expect(w.config).toEqual({
      ...DEFAULTS,
      version: 4,
      windowSeconds: 30,
      topN: 60,
      portAllowlist: [22, 443],
    });
    zoneB.stream = again;
  });
});

describe('drift', () => {
  it('an agent that refused its configuration is out of sync until it applies one', async () => {
    const agent = await connect({ drift: 'yes' });
    const layer = await call('PUT', '/agent-config/labels/drift/yes', sysadmin, {
      priority: 500,
      topN: 3,
    });
    expect(layer.body).toMatchObject({ changedHosts: 1 });
    const pushed = await nthUpdate(agent.stream, 1);
    agent.stream.call.write({
      configApplied: { version: pushed.version, ok: false, error: 'top_n 3: too small' },
    });
    const mine = async (query: string) => {
      const r = await call('GET', `/agent-config/drift${query}`, secadmin, undefined, a.httpPort);
      expect(r.status).toBe(200);
      const items = r.body.items as { agentId: string }[];
      return { page: r.body, item: items.find((i) => i.agentId === agent.id) };
    };
    const refused = await eventually(
      () => mine(''),
      (r) => (r.item as { lastApplied: unknown } | undefined)?.lastApplied != null,
    );
    expect(refused.item).toEqual({
      agentId: agent.id,
      hostname: `layer-${agent.id.slice(0, 8)}`,
      labels: { drift: 'yes' },
      desiredVersion: pushed.version,
      runningVersion: 0,
      lastApplied: {
        version: pushed.version,
        ok: false,
        error: 'top_n 3: too small',
        at: expect.any(String),
      },
      inSync: false,
    });
    expect((await mine('?outOfSync=true')).item).toMatchObject({ inSync: false });

    agent.stream.call.write({ configApplied: { version: pushed.version, ok: true, error: '' } });
    const applied = await eventually(
      () => mine(''),
      (r) => (r.item as { inSync: boolean } | undefined)?.inSync === true,
    );
    expect(applied.item).toMatchObject({
      desiredVersion: pushed.version,
      runningVersion: pushed.version,
      lastApplied: { version: pushed.version, ok: true, error: '' },
      inSync: true,
    });
    const outOfSync = await mine('?outOfSync=true');
    expect(outOfSync.item).toBeUndefined();
    const all = (await mine('')).page;
    expect(outOfSync.page.total).toBe(all.outOfSync);
    expect((outOfSync.page.items as { inSync: boolean }[]).every((i) => !i.inSync)).toBe(true);
    await agent.stream.close();
  });
});

describe('masking in layers is the security administrator’s', () => {
  it('is refused to the system administrator, set by the security administrator, pushed', async () => {
    const agent = await connect({ mask: 'me' });
    const refused = await call('PUT', '/agent-config/fleet', sysadmin, {
      windowSeconds: 30,
      topN: 99,
      portAllowlist: [22, 443],
      masking: 'none',
    });
    expect(refused.status).toBe(403);
    expect(String(refused.body.message)).toMatch(/security administrator/);
    expect(
      (await call('PUT', '/agent-config/fleet/masking', sysadmin, { masking: 'none' })).status,
    ).toBe(403);

    const set = await call('PUT', '/agent-config/fleet/masking', secadmin, { masking: 'truncate' });
    expect(set.status).toBe(200);
    expect(set.body).toMatchObject({ masking: 'truncate', topN: 99, version: 2 });
    expect(await nthUpdate(agent.stream, 1)).toMatchObject({ masking: 'MASKING_TRUNCATE' });

    // The system administrator's next PUT keeps it (omitted, or sent as it is).
    const kept = await call('PUT', '/agent-config/fleet', sysadmin, {
      windowSeconds: 30,
      topN: 98,
      portAllowlist: [22, 443],
    });
    expect(kept.body).toMatchObject({ masking: 'truncate', topN: 98, version: 3 });
    const sent = await call('PUT', '/agent-config/fleet', sysadmin, {
      windowSeconds: 30,
      topN: 99,
      portAllowlist: [22, 443],
      masking: 'truncate',
    });
    expect(sent.body).toMatchObject({ masking: 'truncate', topN: 99, version: 4 });

    // A label layer with a masking: the sysadmin may not delete it until it is cleared.
    await call('PUT', '/agent-config/labels/mask/me', sysadmin, { priority: 600 });
    const lm = await call('PUT', '/agent-config/labels/mask/me/masking', secadmin, {
      masking: 'pseudonymize',
    });
    expect(lm.body).toMatchObject({ masking: 'pseudonymize', changedHosts: 1 });
    await agent.stream.until(
      () => updates(agent.stream).some((u) => u.masking === 'MASKING_PSEUDONYMIZE'),
      10_000,
      'pseudonymize pushed',
    );
    expect((await call('DELETE', '/agent-config/labels/mask/me', sysadmin)).status).toBe(403);
    const cleared = await call('PUT', '/agent-config/labels/mask/me/masking', secadmin, {
      masking: null,
    });
    expect(cleared.body).toMatchObject({ masking: null });
    expect((await call('DELETE', '/agent-config/labels/mask/me', sysadmin)).status).toBe(200);
    expect(
      (await call('PUT', '/agent-config/labels/nope/nope/masking', secadmin, { masking: 'none' }))
        .status,
    ).toBe(404);

    const trail = await db.query<{
      action: string;
      outcome: string;
      target: string;
      details: string | null;
    }>(
      `SELECT action, outcome, target, details FROM audit_entries
        WHERE action IN ('agent_config.layer_masking_changed', 'agent_config.layer_deleted')
          AND target IN ('fleet', 'label:mask=me') ORDER BY sequence`,
    );
    expect(trail.map((t) => [t.action, t.outcome, t.target])).toEqual([
      ['agent_config.layer_masking_changed', 'denied', 'fleet'],
      ['agent_config.layer_masking_changed', 'success', 'fleet'],
      ['agent_config.layer_masking_changed', 'success', 'label:mask=me'],
      ['agent_config.layer_deleted', 'denied', 'label:mask=me'],
      ['agent_config.layer_masking_changed', 'success', 'label:mask=me'],
      ['agent_config.layer_deleted', 'success', 'label:mask=me'],
    ]);
    expect(JSON.parse(trail[1].details ?? '{}')).toMatchObject({ from: null, to: 'truncate' });
    await agent.stream.close();
  });
});

describe('roles', () => {
  it.each([
    ['GET', '/agent-config/fleet', ['viewer', 'operator', 'auditadmin']],
    ['GET', '/agent-config/labels', ['viewer', 'operator', 'auditadmin']],
    ['GET', '/agent-config/drift', ['viewer', 'operator', 'auditadmin']],
    ['PUT', '/agent-config/fleet', ['secadmin', 'operator', 'viewer']],
    ['PUT', '/agent-config/fleet/masking', ['sysadmin', 'operator']],
    ['PUT', '/agent-config/labels/zone/q', ['secadmin', 'viewer']],
    ['PUT', '/agent-config/labels/zone/q/masking', ['sysadmin', 'viewer']],
    ['DELETE', '/agent-config/labels/zone/q', ['secadmin', 'auditadmin']],
  ] as const)('%s %s: 403 for %j', async (method, path, roles) => {
    for (const role of roles) {
      const token = await tokenFor(b, role);
      const body = method === 'PUT' ? { priority: 1, masking: 'none' } : undefined;
      expect([role, (await call(method, path, token, body)).status]).toEqual([role, 403]);
    }
  });
});

describe('bad input gets a 400 naming the field', () => {
  it.each([
    ['/agent-config/fleet', { windowSeconds: 0 }, /windowSeconds/],
    ['/agent-config/fleet', { topN: '5' }, /topN/],
    ['/agent-config/fleet', { portAllowlist: [22, 22] }, /portAllowlist/],
    ['/agent-config/fleet', { cpuBudgetPercent: 101 }, /cpuBudgetPercent/],
    ['/agent-config/fleet', { bogus: 1 }, /bogus/],
    ['/agent-config/fleet', { masking: 'scramble' }, /masking/],
    ['/agent-config/labels/zone/q', { topN: 5 }, /priority/],
    ['/agent-config/labels/zone/q', { priority: 1001 }, /priority/],
    ['/agent-config/labels/bad%20key/q', { priority: 1 }, /key must/],
    ['/agent-config/labels/zone/q/masking', {}, /masking/],
  ])('PUT %s %j', async (path, body, message) => {
    const token = path.endsWith('/masking') ? secadmin : sysadmin;
    const res = await call('PUT', path, token, body);
    expect(res.status).toBe(400);
    expect([res.body.message].flat().join('; ')).toMatch(message);
  });

  it('GET drift?outOfSync=yes', async () => {
    const res = await call('GET', '/agent-config/drift?outOfSync=yes', sysadmin);
    expect(res.status).toBe(400);
    expect([res.body.message].flat().join('; ')).toMatch(/outOfSync/);
  });
});
