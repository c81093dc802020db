import { randomUUID } from 'node:crypto';
import WebSocket from 'ws';
import { AccessGuard } from '../src/auth/access.guard';
import { EnrollmentService } from '../src/enrollment/enrollment.service';
import type { RunningServer } from '../src/server';
import { makeBatch } from './fixtures/windows';
import { AgentStream, ingestClient } from './support/agent-client';
import { bearer, createTestUser, sessionFor, tokenFor } from './support/auth';
import { UsersService } from '../src/users/users.service';
import { createTestDatabase, TestDatabase } from './support/database';
import { startTestServer } from './support/server';

// Two replicas on one database: an agent streams to replica A, WebSocket
// subscribers on replica B (and A) get each stored batch through LISTEN/NOTIFY
// within a second, with the counters that were sent.

// Two servers and scrypt sign-ins on a shared 2-core machine.
jest.setTimeout(60_000);

let db: TestDatabase;
let a: RunningServer;
let b: RunningServer;

interface LiveMessage {
  event: string;
  data: Record<string, unknown>;
}

/** Signed in as a viewer on A (sessions are shared through the database). */
async function viewer(): Promise<Record<string, string>> {
  return bearer(await tokenFor(a, 'viewer'));
}

async function subscriber(
  port: number,
  room: string,
): Promise<{ ws: WebSocket; got: LiveMessage[]; at: number[] }> {
  const ws = new WebSocket(`ws://127.0.0.1:${port}/api/v1/live`, { headers: await viewer() });
  const got: LiveMessage[] = [];
  const at: number[] = [];
  ws.on('message', (raw) => {
    got.push(JSON.parse(raw.toString()) as LiveMessage);
    at.push(Date.now());
  });
  await new Promise((resolve, reject) => ws.once('open', resolve).once('error', reject));
  ws.send(JSON.stringify({ event: 'subscribe', data: { room } }));
  const deadline = Date.now() + 5_000;
  while (!got.some((m) => m.event === 'subscribed')) {
    if (Date.now() > deadline) throw new Error(`no subscribe confirmation: ${JSON.stringify(got)}`);
    await new Promise((r) => setTimeout(r, 20));
  }
  return { ws, got, at };
}

beforeAll(async () => {
  db = await createTestDatabase();
  // Open sockets are checked against their session every second here (30 s by default).
  a = await startTestServer(db.url, { AUTH_LIVE_RECHECK_SECONDS: '1' });
  b = await startTestServer(db.url);
});

afterAll(async () => {
  await a?.close();
  await b?.close();
  await db?.drop();
});

it('delivers each stored batch to subscribers on every replica within a second', async () => {
  const agentId = randomUUID();
  const other = randomUUID();
  const hostRoomOnB = await subscriber(b.httpPort, `host:${agentId}`);
  const fleetOnA = await subscriber(a.httpPort, 'fleet');
  const otherHostOnB = await subscriber(b.httpPort, `host:${other}`);

  const { token } = await a.app.get(EnrollmentService).create('live', 60_000, null);
  const stream = new AgentStream(ingestClient(a.grpcPort));
  await stream.hello({ agentId, hostname: 'live-1', enrollmentToken: token });
  const base = Math.floor(Date.now() / 10_000) * 10_000 - 600_000;
  const batches = [1, 2, 3].map((q) => makeBatch(5, q, base + q * 10_000));
  const ackedAt: number[] = [];
  for (const batch of batches) {
    await stream.sendAndAwaitAck([batch]);
    ackedAt.push(Date.now());
  }
  await stream.close();

  const deadline = Date.now() + 3_000;
  const batchesOf = (s: { got: LiveMessage[] }) => s.got.filter((m) => m.event === 'batch');
  while (
    (batchesOf(hostRoomOnB).length < 3 || batchesOf(fleetOnA).length < 3) &&
    Date.now() < deadline
  ) {
    await new Promise((r) => setTimeout(r, 20));
  }
  const onB = batchesOf(hostRoomOnB);
  expect(onB.map((m) => m.data.sequence)).toEqual([1, 2, 3]);
  expect(batchesOf(fleetOnA).map((m) => m.data.sequence)).toEqual([1, 2, 3]);
  expect(batchesOf(otherHostOnB)).toEqual([]);
  let ingress = 0;
  for (const t of batches[0].traffic ?? [])
    if (t.direction === 'DIRECTION_INGRESS') ingress += Number(t.bytes);
  expect(onB[0].data).toMatchObject({ agentId, sequence: 1, ingressBytes: ingress });
  // Delivered within a second of the ack (the ack follows the commit).
  // (Anomaly events may arrive in the same room between the batches.)
  const times = hostRoomOnB.at.filter((_, i) => hostRoomOnB.got[i].event === 'batch');
  times.forEach((t, i) => expect(t - ackedAt[i]).toBeLessThan(1_000));

  for (const s of [hostRoomOnB, fleetOnA, otherHostOnB]) s.ws.close();
}, 30_000);

it('refuses an unknown room', async () => {
  const ws = new WebSocket(`ws://127.0.0.1:${a.httpPort}/api/v1/live`, { headers: await viewer() });
  await new Promise((resolve) => ws.once('open', resolve));
  const reply = new Promise<LiveMessage>((resolve) =>
    ws.once('message', (raw) => resolve(JSON.parse(raw.toString()))),
  );
  ws.send(JSON.stringify({ event: 'subscribe', data: { room: 'everything' } }));
  expect(await reply).toMatchObject({ event: 'error' });
  ws.close();
});

describe('the live feed passes the same AccessGuard as REST', () => {
  afterEach(() => jest.restoreAllMocks());

  it('consults the guard for every message, and a refusal answers an error', async () => {
    const seen: string[] = [];
    jest.spyOn(AccessGuard.prototype, 'canActivate').mockImplementation(async (ctx) => {
      seen.push(ctx.getType());
      return ctx.getType() !== 'ws';
    });
    const ws = new WebSocket(`ws://127.0.0.1:${b.httpPort}/api/v1/live`, {
      headers: await viewer(),
    });
    await new Promise((resolve, reject) => ws.once('open', resolve).once('error', reject));
    const reply = new Promise<LiveMessage>((resolve) =>
      ws.once('message', (raw) => resolve(JSON.parse(raw.toString()))),
    );
    ws.send(JSON.stringify({ event: 'subscribe', data: { room: 'fleet' } }));
    expect(await reply).toEqual({ event: 'error', data: { message: 'Forbidden resource' } });
    expect(seen).toContain('ws');
    // REST goes through the same guard (and /healthz stays @Public).
    expect((await fetch(`http://127.0.0.1:${b.httpPort}/api/v1/hosts`)).status).toBe(200);
    expect(seen).toContain('http');
    ws.close();
  });

  it('checks the handshake: a refused connection is closed with 1008', async () => {
    const spy = jest.spyOn(AccessGuard.prototype, 'allowConnection').mockResolvedValue(false);
    const ws = new WebSocket(`ws://127.0.0.1:${a.httpPort}/api/v1/live`, {
      headers: { authorization: 'Bearer nope' },
    });
    const code = await new Promise<number>((resolve) => ws.once('close', (c) => resolve(c)));
    expect(code).toBe(1008);
    expect(spy.mock.calls[0][0]?.headers.authorization).toBe('Bearer nope');
  });

  it('a REST refusal by the guard is a 403', async () => {
    jest.spyOn(AccessGuard.prototype, 'canActivate').mockResolvedValue(false);
    expect((await fetch(`http://127.0.0.1:${a.httpPort}/api/v1/hosts`)).status).toBe(403);
  });
});

describe('the live feed admits by role', () => {
  const closeCode = (ws: WebSocket) =>
    new Promise<number>((resolve) => ws.once('close', (c) => resolve(c)));

  it('closes the handshake with 1008 without credentials, or for a role that may not read traffic', async () => {
    const none = new WebSocket(`ws://127.0.0.1:${a.httpPort}/api/v1/live`);
    expect(await closeCode(none)).toBe(1008);
    const auditor = new WebSocket(`ws://127.0.0.1:${a.httpPort}/api/v1/live`, {
      headers: bearer(await tokenFor(a, 'auditadmin')),
    });
    expect(await closeCode(auditor)).toBe(1008);
    const rows = await db.query<{ action: string; actor: string | null; reason: string }>(
      `SELECT action, actor, reason FROM audit_entries WHERE target = 'live:connect' ORDER BY sequence`,
    );
    expect(rows.map((r) => r.action)).toEqual(['auth.unauthenticated', 'auth.forbidden']);
  });

  it('admits the cookie (the console) and checks the session again on every message', async () => {
    const token = await tokenFor(a, 'operator');
    const ws = new WebSocket(`ws://127.0.0.1:${a.httpPort}/api/v1/live`, {
      headers: { cookie: `tidewatch_session=${token}` },
    });
    await new Promise((resolve, reject) => ws.once('open', resolve).once('error', reject));
    const next = () =>
      new Promise<LiveMessage>((resolve) =>
        ws.once('message', (raw) => resolve(JSON.parse(raw.toString()))),
      );
    const reply = next();
    ws.send(JSON.stringify({ event: 'subscribe', data: { room: 'fleet' } }));
    expect(await reply).toEqual({ event: 'subscribed', data: { room: 'fleet' } });
    // Signed out elsewhere: the next subscription on this socket is refused —
    // answered Unauthorized, or the socket already closed (1008) by the
    // session's end reaching the server first (the next test): a race either
    // side of which is a refusal. Listening before the logout, not to miss the close.
    const refused = new Promise<unknown>((resolve) => {
      ws.on('message', (raw) => {
        const m = JSON.parse(raw.toString()) as LiveMessage;
        if (m.event === 'error') resolve(m); // not a window pushed to the room meanwhile
      });
      ws.once('close', (code) => resolve({ closed: code }));
    });
    await fetch(`http://127.0.0.1:${a.httpPort}/api/v1/auth/logout`, {
      method: 'POST',
      headers: bearer(token),
    });
    ws.send(
      JSON.stringify({ event: 'subscribe', data: { room: `host:${randomUUID()}` } }),
      () => undefined, // already closed: the close event tells
    );
    expect([
      { event: 'error', data: { message: 'Unauthorized' } },
      { closed: 1008 },
    ]).toContainEqual(await refused);
    ws.close();
  });
});

it('closes an open socket once its session ends (logout, idle timeout)', async () => {
  for (const end of ['logout', 'idle'] as const) {
    const token = await (async () => {
      const viewerUser = await createTestUser(a, 'viewer');
      return sessionFor(a, (await a.app.get(UsersService).get(viewerUser.username)).id);
    })();
    const ws = new WebSocket(`ws://127.0.0.1:${a.httpPort}/api/v1/live`, {
      headers: bearer(token),
    });
    const closed = new Promise<number>((resolve) => ws.once('close', (c) => resolve(c)));
    await new Promise((resolve, reject) => ws.once('open', resolve).once('error', reject));
    const reply = new Promise<LiveMessage>((resolve) =>
      ws.once('message', (raw) => resolve(JSON.parse(raw.toString()))),
    );
    ws.send(JSON.stringify({ event: 'subscribe', data: { room: 'fleet' } }));
    expect(await reply).toMatchObject({ event: 'subscribed' });
    if (end === 'logout') {
      await fetch(`http://127.0.0.1:${a.httpPort}/api/v1/auth/logout`, {
        method: 'POST',
        headers: bearer(token),
      });
    } else {
      await db.query(
        `UPDATE sessions SET last_seen_at = now() - interval '16 minutes'
                       WHERE revoked_at IS NULL AND token_hash = sha256($1::bytea)`,
        [Buffer.from(token)],
      );
    }
    expect({ end, code: await closed }).toEqual({ end, code: 1008 });
  }
});
