import { randomUUID } from 'node:crypto';
import type { Batch } from '@tidewatch/proto';
import { DataSource } from 'typeorm';
import { EnrollmentService } from '../src/enrollment/enrollment.service';
import type { RunningServer } from '../src/server';
import { makeBatch } from './fixtures/windows';
import { AgentStream, ingestClient } from './support/agent-client';
import { tokenFor } from './support/auth';
import { createTestDatabase, TestDatabase } from './support/database';
import { getJson, startTestServer } from './support/server';

// GET /traffic/sparklines: many hosts' series in one request and one statement (the fleet
// list's visible rows). Each host's points must be exactly what GET /traffic/series answers for
// it alone, and exactly the per-window sums of what this file sent (BigInt).

jest.setTimeout(120_000);

const WINDOW_MS = 10_000;
const T0 = Math.floor(Date.now() / 60_000) * 60_000 - 20 * 60_000;
const FROM = new Date(T0).toISOString();
const TO = new Date(T0 + 12 * WINDOW_MS).toISOString();
const id = (n: number) => `5a000000-0000-4000-8000-${String(n).padStart(12, '0')}`;
// Hosts with traffic in different windows, one whose windows counted nothing, one that sent
// none, and one that lost batches from its spool (lostBatches, the fleet's "gap" badge).
const HOSTS = [
  { agentId: id(1), seed: 51, slots: [0, 1, 2, 3, 4, 5] },
  { agentId: id(2), seed: 52, slots: [0, 2, 4] },
  { agentId: id(3), seed: 53, slots: [7] },
  { agentId: id(4), seed: 54, slots: [0, 1, 2], zero: true },
  { agentId: id(5), seed: 55, slots: [] },
  { agentId: id(6), seed: 56, slots: [0, 1], lost: { oldest: 5, slots: [5, 6] } },
];

let db: TestDatabase;
let server: RunningServer;
/** Per host: per window start (ISO), [packets, bytes] summed over the rows sent. */
const truth = new Map<string, Map<string, [bigint, bigint]>>();

const api = async <T>(path: string, role: 'viewer' | 'operator' | 'auditadmin' = 'viewer') =>
  getJson<T>(server.httpPort, `/api/v1${path}`, await tokenFor(server, role));

const zero = (b: Batch): Batch => ({
  ...b,
  traffic: (b.traffic ?? []).map((r) => ({ ...r, packets: 0, bytes: 0 })),
});

function record(agentId: string, batches: Batch[]) {
  const m = truth.get(agentId) ?? new Map<string, [bigint, bigint]>();
  for (const b of batches) {
    const t = new Date(Number(b.windowStartMs)).toISOString();
    const s = m.get(t) ?? [0n, 0n];
    for (const r of b.traffic ?? []) {
      s[0] += BigInt(String(r.packets ?? 0));
      s[1] += BigInt(String(r.bytes ?? 0));
    }
    m.set(t, s);
  }
  truth.set(agentId, m);
}

beforeAll(async () => {
  db = await createTestDatabase();
  server = await startTestServer(db.url);
  const enrollment = server.app.get(EnrollmentService);
  for (const h of HOSTS) {
    const { token } = await enrollment.create(`spark-${h.seed}`, 60_000, 1);
    const stream = new AgentStream(ingestClient(server.grpcPort));
    await stream.hello({ agentId: h.agentId, hostname: `spark-${h.seed}`, enrollmentToken: token });
    const batches = h.slots.map((k, i) => {
      const b = makeBatch(h.seed, i + 1, T0 + k * WINDOW_MS);
      return h.zero ? zero(b) : b;
    });
    if (batches.length) await stream.sendAndAwaitAck(batches);
    const credential = stream.welcome?.agentCredential ?? '';
    await stream.close();
    record(h.agentId, batches);
    if (h.lost) {
      // The spool overflowed: batches up to oldest - 1 never arrive.
      const next = new AgentStream(ingestClient(server.grpcPort));
      await next.hello({
        agentId: h.agentId,
        hostname: `spark-${h.seed}`,
        agentCredential: credential,
        oldestSequence: h.lost.oldest,
      });
      const later = h.lost.slots.map((k, i) =>
        makeBatch(h.seed, h.lost.oldest + i, T0 + k * WINDOW_MS),
      );
      await next.sendAndAwaitAck(later);
      await next.close();
      record(h.agentId, later);
    }
  }
});

afterAll(async () => {
  await server?.close();
  await db?.drop();
});

interface Point {
  t: string;
  key: string;
  packets: string;
  bytes: string;
}
interface Sparklines {
  from: string;
  to: string;
  resolution: string;
  stepSeconds: number | null;
  items: { agentId: string; lostBatches: number; points: Point[] }[];
}
interface Series {
  resolution: string;
  stepSeconds: number | null;
  points: Point[];
}

const query = (ids: string[], extra = '') =>
  `/traffic/sparklines?${ids.map((x) => `agentId=${x}`).join('&')}&from=${FROM}&to=${TO}${extra}`;

it("answers each host's series exactly as /traffic/series does for it alone, and as sent", async () => {
  const ids = HOSTS.map((h) => h.agentId).reverse();
  const r = await api<Sparklines>(query(ids));
  expect(r.status).toBe(200);
  expect([r.body.from, r.body.to, r.body.resolution, r.body.stepSeconds]).toEqual([
    FROM,
    TO,
    'raw',
    null,
  ]);
  // One item per host asked for, in the order asked.
  expect(r.body.items.map((i) => i.agentId)).toEqual(ids);
  for (const item of r.body.items) {
    const alone = await api<Series>(
      `/traffic/series?agentId=${item.agentId}&groupBy=none&from=${FROM}&to=${TO}`,
    );
    expect(alone.status).toBe(200);
    expect({ agentId: item.agentId, points: item.points }).toEqual({
      agentId: item.agentId,
      points: alone.body.points,
    });
    const sent = [...(truth.get(item.agentId) ?? new Map<string, [bigint, bigint]>())]
      .sort(([a], [b]) => (a < b ? -1 : 1))
      .map(([t, [packets, bytes]]) => ({
        t,
        key: 'all',
        packets: packets.toString(),
        bytes: bytes.toString(),
      }));
    expect({ agentId: item.agentId, points: item.points }).toEqual({
      agentId: item.agentId,
      points: sent,
    });
  }
  // The hosts that sent nothing, and windows that counted nothing, stay apart.
  const by = new Map(r.body.items.map((i) => [i.agentId, i]));
  expect(by.get(id(5))!.points).toEqual([]);
  expect(by.get(id(4))!.points.map((p) => [p.packets, p.bytes])).toEqual([
    ['0', '0'],
    ['0', '0'],
    ['0', '0'],
  ]);
  expect(r.body.items.map((i) => [i.agentId, i.lostBatches])).toEqual(
    ids.map((x) => [x, x === id(6) ? 2 : 0]),
  );
  const detail = await api<{ lostBatches: number }>(`/hosts/${id(6)}`);
  expect(detail.body.lostBatches).toBe(2);
});

it('matches /traffic/series at a forced resolution too', async () => {
  for (const resolution of ['raw', '1m'] as const) {
    const ids = [id(1), id(2), id(3)];
    const r = await api<Sparklines>(query(ids, `&resolution=${resolution}`));
    expect([r.status, r.body.resolution, r.body.stepSeconds]).toEqual([
      200,
      resolution,
      resolution === 'raw' ? null : 60,
    ]);
    for (const item of r.body.items) {
      const alone = await api<Series>(
        `/traffic/series?agentId=${item.agentId}&groupBy=none&resolution=${resolution}&from=${FROM}&to=${TO}`,
      );
      expect([item.agentId, item.points]).toEqual([item.agentId, alone.body.points]);
    }
  }
});

it('reads the traffic table once for the whole batch, however many hosts', async () => {
  const ds = server.app.get(DataSource);
  const spy = jest.spyOn(ds, 'query');
  try {
    for (const n of [1, HOSTS.length]) {
      spy.mockClear();
      const r = await api<Sparklines>(query(HOSTS.slice(0, n).map((h) => h.agentId)));
      expect(r.status).toBe(200);
      const reads = spy.mock.calls.filter(([sql]) => /\bFROM traffic_raw\b/.test(String(sql)));
      expect([n, reads.length]).toEqual([n, 1]);
    }
  } finally {
    spy.mockRestore();
  }
});

it('refuses a bad or unbounded request with a message naming the problem', async () => {
  type Problem = { message?: unknown };
  const msg = (b: Problem) => JSON.stringify(b);
  const none = await api<Problem>(`/traffic/sparklines?from=${FROM}&to=${TO}`);
  expect([none.status, msg(none.body)]).toEqual([400, expect.stringMatching(/agentId/)]);
  const many = Array.from({ length: 201 }, () => randomUUID());
  const tooMany = await api<Problem>(query(many));
  expect([tooMany.status, msg(tooMany.body)]).toEqual([
    400,
    expect.stringMatching(/at most 200 hosts/),
  ]);
  // 200 is allowed: these name no host, so the answer is 404 listing them, not 400.
  const unknown = await api<Problem>(query(many.slice(0, 200)));
  expect([unknown.status, msg(unknown.body)]).toEqual([404, expect.stringContaining(many[199])]);
  const twice = await api<Problem>(query([id(1), id(1)]));
  expect([twice.status, msg(twice.body)]).toEqual([400, expect.stringMatching(/each host once/)]);
  const bad = await api<Problem>(query([id(1), 'not-a-uuid']));
  expect([bad.status, msg(bad.body)]).toEqual([400, expect.stringMatching(/UUID/)]);
  const oneUnknown = randomUUID();
  const missing = await api<Problem>(query([id(1), oneUnknown]));
  expect([missing.status, msg(missing.body)]).toEqual([404, expect.stringContaining(oneUnknown)]);
  const backwards = await api<Problem>(
    `/traffic/sparklines?agentId=${id(1)}&from=${TO}&to=${FROM}`,
  );
  expect(backwards.status).toBe(400);
  const tooLong = await api<Problem>(
    `/traffic/sparklines?agentId=${id(1)}&resolution=raw&from=2026-01-01T00:00:00Z&to=2026-01-05T00:00:00Z`,
  );
  expect([tooLong.status, msg(tooLong.body)]).toEqual([
    400,
    expect.stringMatching(/at most 2 days/),
  ]);
});

it('is behind the traffic roles', async () => {
  const path = `/api/v1${query([id(1)])}`;
  expect((await getJson(server.httpPort, path)).status).toBe(401);
  expect((await api(query([id(1)]), 'auditadmin')).status).toBe(403);
  expect((await api(query([id(1)]), 'operator')).status).toBe(200);
});
