import { randomUUID } from 'node:crypto';
import type { RunningServer } from '../src/server';
import { AgentStream, ingestClient } from './support/agent-client';
import { bearer, tokenFor } from './support/auth';
import { createTestDatabase, TestDatabase } from './support/database';
import { getJson, startTestServer } from './support/server';

// Enrollment tokens over HTTP (the system administrator's): what is created works for an agent,
// is listed without the token, is audited, and once revoked enrolls no one.

jest.setTimeout(120_000);

let db: TestDatabase;
let server: RunningServer;
let sysadmin: string;
let auditor: string;

beforeAll(async () => {
  db = await createTestDatabase();
  server = await startTestServer(db.url);
  sysadmin = await tokenFor(server, 'sysadmin');
  auditor = await tokenFor(server, 'auditadmin');
});

afterAll(async () => {
  await server?.close();
  await db?.drop();
});

const send = (method: string, path: string, body?: unknown) =>
  fetch(`http://127.0.0.1:${server.httpPort}/api/v1/${path}`, {
    method,
    headers: { ...bearer(sysadmin), 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });

async function enroll(token: string) {
  const stream = new AgentStream(ingestClient(server.grpcPort));
  try {
    const hello = stream.hello({
      agentId: randomUUID(),
      hostname: 'http-enrolled',
      enrollmentToken: token,
    });
    return await Promise.race([hello.then(() => 'welcomed'), stream.ended.then((e) => e.details)]);
  } finally {
    await stream.close();
  }
}

const audited = async (action: string, target: string) =>
  (
    await getJson<{ items: { actor: string; actorRole: string; outcome: string }[] }>(
      server.httpPort,
      `/api/v1/audit?action=${action}&target=${target}`,
      auditor,
    )
  ).body.items.map((e) => [e.actorRole, e.outcome]);

it('creates a token shown once that enrolls an agent; lists it without the token; revokes it', async () => {
  const before = Date.now();
  const res = await send('POST', 'enrollment-tokens', {
    name: 'rollout-dc1',
    expiresInHours: 2,
    maxUses: 3,
  });
  expect(res.status).toBe(201);
  const created = (await res.json()) as {
    id: string;
    token: string;
    expiresAt: string;
    maxUses: number;
  };
  expect(created.token).toMatch(/^twe_/);
  const expires = Date.parse(created.expiresAt);
  expect(expires).toBeGreaterThanOrEqual(before + 2 * 3_600_000);
  expect(expires).toBeLessThanOrEqual(Date.now() + 2 * 3_600_000);
  expect(await audited('enrollment.token_created', created.id)).toEqual([['sysadmin', 'success']]);

  expect(await enroll(created.token)).toBe('welcomed');
  const list = await getJson<{ items: Record<string, unknown>[] }>(
    server.httpPort,
    '/api/v1/enrollment-tokens',
    sysadmin,
  );
  const row = list.body.items.find((t) => t.id === created.id);
  expect(row).toEqual({
    id: created.id,
    name: 'rollout-dc1',
    createdAt: expect.any(String),
    expiresAt: created.expiresAt,
    maxUses: 3,
    uses: 1,
    revokedAt: null,
  });
  expect(JSON.stringify(list.body)).not.toContain(created.token);

  const revoked = await send('DELETE', `enrollment-tokens/${created.id}`);
  expect([revoked.status, await revoked.json()]).toEqual([200, { id: created.id, revoked: 1 }]);
  expect(await audited('enrollment.token_revoked', created.id)).toEqual([['sysadmin', 'success']]);
  expect(await enroll(created.token)).toMatch(/revoked/);
  // A second revoke finds no live token.
  expect((await send('DELETE', `enrollment-tokens/${created.id}`)).status).toBe(404);
});

it('validates the body and the id', async () => {
  expect((await send('POST', 'enrollment-tokens', { name: '' })).status).toBe(400);
  expect((await send('POST', 'enrollment-tokens', { name: 'x', expiresInHours: 0 })).status).toBe(
    400,
  );
  expect((await send('POST', 'enrollment-tokens', { name: 'x', token: 'mine' })).status).toBe(400);
  expect((await send('DELETE', 'enrollment-tokens/not-a-uuid')).status).toBe(400);
});
