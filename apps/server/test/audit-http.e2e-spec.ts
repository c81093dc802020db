import { randomUUID } from 'node:crypto';
import { AuditService } from '../src/audit/audit.service';
import { EnrollmentService } from '../src/enrollment/enrollment.service';
import type { RunningServer } from '../src/server';
import { AgentStream, ingestClient } from './support/agent-client';
import { bearer, tokenFor } from './support/auth';
import { createTestDatabase, TestDatabase } from './support/database';
import { startTestServer } from './support/server';

// The audit routes over real HTTP with real sign-in: only the audit
// administrator reads the trail; what it reads is what was recorded.

let db: TestDatabase;
let server: RunningServer;
let auditor: string;

interface Item {
  sequence: string;
  time: string;
  actor: string | null;
  actorRole: string | null;
  action: string;
  target: string | null;
  outcome: string;
}

async function call(path: string, token?: string, init: RequestInit = {}) {
  const res = await fetch(`http://127.0.0.1:${server.httpPort}/api/v1${path}`, {
    ...init,
    headers: { ...(token ? bearer(token) : {}), ...(init.headers ?? {}) },
  });
  // Bytes, not res.text(): the WHATWG decoder would drop the BOM this test checks.
  const bytes = Buffer.from(await res.arrayBuffer());
  const text = bytes.toString('utf8');
  let body: unknown = text;
  try {
    body = JSON.parse(text);
  } catch {
    // CSV
  }
  return { status: res.status, body, text, bytes, type: res.headers.get('content-type') };
}

beforeAll(async () => {
  db = await createTestDatabase();
  server = await startTestServer(db.url);
  auditor = await tokenFor(server, 'auditadmin');
}, 60_000);

afterAll(async () => {
  await server?.close();
  await db?.drop();
}, 30_000);

// Sign-in hashes passwords with scrypt (N=2^17): a user costs seconds on a loaded machine.
jest.setTimeout(60_000);

it('admits only auditadmin to every audit route, and records the refusals', async () => {
  const sysadmin = await tokenFor(server, 'sysadmin');
  const viewer = await tokenFor(server, 'viewer');
  for (const [path, method] of [
    ['/audit', 'GET'],
    ['/audit/verify', 'GET'],
    ['/audit/export', 'GET'],
    ['/audit/purge', 'POST'],
  ]) {
    expect((await call(path, undefined, { method })).status).toBe(401);
    expect((await call(path, sysadmin, { method })).status).toBe(403);
    expect((await call(path, viewer, { method })).status).toBe(403);
  }
  const page = await call('/audit?action=auth.forbidden&limit=1000', auditor);
  expect(page.status).toBe(200);
  const refusals = (page.body as { items: Item[] }).items;
  expect(refusals.filter((i) => i.outcome === 'denied' && i.actorRole === 'sysadmin')).toHaveLength(
    4,
  );
  expect(refusals.filter((i) => i.outcome === 'denied' && i.actorRole === 'viewer')).toHaveLength(
    4,
  );
});

it('searches with filters and pages with a cursor', async () => {
  const audit = server.app.get(AuditService);
  const target = `page-${randomUUID()}`;
  for (let i = 0; i < 5; i++) {
    await audit.record({
      actor: 'pager',
      action: 'test.paged',
      target,
      outcome: i === 2 ? 'failure' : 'success',
    });
  }
  const first = await call(`/audit?target=${target}&limit=2`, auditor);
  const b1 = first.body as { items: Item[]; nextBefore: string };
  expect(b1.items).toHaveLength(2);
  expect(Object.keys(b1.items[0])).toEqual(
    expect.arrayContaining(['sequence', 'time', 'actor', 'action', 'target', 'outcome']),
  );
  const second = (await call(`/audit?target=${target}&limit=2&before=${b1.nextBefore}`, auditor))
    .body as {
    items: Item[];
    nextBefore: string;
  };
  const third = (await call(`/audit?target=${target}&limit=2&before=${second.nextBefore}`, auditor))
    .body as {
    items: Item[];
    nextBefore: string | null;
  };
  const seqs = [...b1.items, ...second.items, ...third.items].map((i) => Number(i.sequence));
  expect(seqs).toHaveLength(5);
  expect([...seqs].sort((a, b) => b - a)).toEqual(seqs);
  expect(third.nextBefore).toBeNull();
  const failures = (await call(`/audit?target=${target}&outcome=failure`, auditor)).body as {
    items: Item[];
  };
  expect(failures.items.map((i) => i.outcome)).toEqual(['failure']);
  const prefixed = (await call(`/audit?action=test.*&actor=pager&limit=1000`, auditor)).body as {
    items: Item[];
  };
  expect(prefixed.items.filter((i) => i.target === target)).toHaveLength(5);
  expect((await call('/audit?limit=1001', auditor)).status).toBe(400);
  expect((await call('/audit?outcome=maybe', auditor)).status).toBe(400);
});

it('verifies, exports CSV safely, and purges nothing younger than the retention', async () => {
  const v = await call('/audit/verify', auditor);
  expect(v.status).toBe(200);
  expect(v.body).toMatchObject({ ok: true, mode: 'incremental' });
  const full = (await call('/audit/verify?mode=full', auditor)).body as {
    ok: boolean;
    checked: number;
  };
  expect(full.ok).toBe(true);
  const [{ n }] = await db.query<{ n: string }>('SELECT count(*)::text AS n FROM audit_entries');
  // Everything up to the request itself (its own audit.verified entry comes after the walk).
  expect(full.checked).toBe(Number(n) - 1);

  const target = `csv-${randomUUID()}`;
  await server.app.get(AuditService).record({
    actor: '=HYPERLINK("http://x")',
    action: 'test.csv',
    target,
    outcome: 'success',
    reason: '@SUM(1),+2',
  });
  const csv = await call(`/audit/export?target=${target}`, auditor);
  expect(csv.status).toBe(200);
  expect(csv.type).toBe('text/csv; charset=utf-8');
  expect([...csv.bytes.subarray(0, 3)]).toEqual([0xef, 0xbb, 0xbf]);
  const lines = csv.text.slice(1).trimEnd().split('\r\n');
  expect(lines[0]).toBe(
    'sequence,time,actor,actor_role,source,action,target,outcome,reason,request_id,details,hash_alg,prev_hash,hash',
  );
  expect(lines).toHaveLength(2);
  expect(lines[1]).toContain(`,"'=HYPERLINK(""http://x"")",,`);
  expect(lines[1]).toContain(`,test.csv,${target},success,"'@SUM(1),+2",`);

  const purge = await call('/audit/purge', auditor, { method: 'POST' });
  expect(purge.status).toBe(200);
  expect(purge.body).toMatchObject({ purged: '0', tombstoneSequence: null, retentionDays: 180 });
});

it('fails closed over HTTP: 503 and no configuration change when the trail cannot be written', async () => {
  const agentId = randomUUID();
  const token = (await server.app.get(EnrollmentService).create('http', 3_600_000, null)).token;
  const s = new AgentStream(ingestClient(server.grpcPort));
  await s.hello({ agentId, hostname: 'http-503', agentVersion: '0.1.0', enrollmentToken: token });
  await s.close();
  const sysadmin = await tokenFor(server, 'sysadmin');
  const before = await call(`/hosts/${agentId}/config`, sysadmin);
  expect(before.status).toBe(200);
  await db.query(
    `ALTER TABLE audit_entries ADD CONSTRAINT test_unwritable CHECK (action <> 'agent.config_changed') NOT VALID`,
  );
  try {
    const put = await call(`/hosts/${agentId}/config`, sysadmin, {
      method: 'PUT',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        windowSeconds: 5,
        topN: 5,
        portAllowlist: [],
        masking: 'unspecified',
        maxFlowsPerWindow: 0,
        cpuBudgetPercent: 0,
      }),
    });
    expect(put.status).toBe(503);
    expect(put.body).toMatchObject({ error: 'AuditUnavailableError' });
  } finally {
    await db.query('ALTER TABLE audit_entries DROP CONSTRAINT test_unwritable');
  }
  expect((await call(`/hosts/${agentId}/config`, sysadmin)).body).toEqual(before.body);
});
