import { EnrollmentService } from '../src/enrollment/enrollment.service';
import type { RunningServer } from '../src/server';
import { makeBatch } from './fixtures/windows';
import { AgentStream, ingestClient } from './support/agent-client';
import { tokenFor } from './support/auth';
import { createTestDatabase, TestDatabase } from './support/database';
import { getJson, startTestServer } from './support/server';

// The fleet's "worst N": hosts ranked by bytes, packets, failed connections and retransmits
// (GET /traffic/hosts) and by anomalies (GET /anomalies/hosts). Ground truth: the windows this
// file sends, summed per host with BigInt; the anomaly list's own total per host.

jest.setTimeout(120_000);

const WINDOW_MS = 10_000;
const T0 = Math.floor(Date.now() / 60_000) * 60_000 - 20 * 60_000;
const HOSTS = [
  { agentId: 'a1111111-1111-4111-8111-111111111111', hostname: 'rank-a', seed: 41, windows: 6 },
  { agentId: 'b2222222-2222-4222-8222-222222222222', hostname: 'rank-b', seed: 42, windows: 3 },
  { agentId: 'c3333333-3333-4333-8333-333333333333', hostname: 'rank-c', seed: 43, windows: 1 },
];
const FROM = new Date(T0).toISOString();
const TO = new Date(T0 + 10 * WINDOW_MS).toISOString();

let db: TestDatabase;
let server: RunningServer;
/** Per host: bytes, packets, failed, retransmits it sent. */
const sent = new Map<string, Record<'bytes' | 'packets' | 'failed' | 'retransmits', bigint>>();

const api = async <T>(path: string) =>
  getJson<T>(server.httpPort, `/api/v1${path}`, await tokenFor(server, 'viewer'));

beforeAll(async () => {
  db = await createTestDatabase();
  server = await startTestServer(db.url);
  for (const h of HOSTS) {
    const { token } = await server.app.get(EnrollmentService).create(h.hostname, 60_000, 1);
    const stream = new AgentStream(ingestClient(server.grpcPort));
    await stream.hello({ agentId: h.agentId, hostname: h.hostname, enrollmentToken: token });
    const batches = Array.from({ length: h.windows }, (_, i) =>
      makeBatch(h.seed, i + 1, T0 + i * WINDOW_MS),
    );
    await stream.sendAndAwaitAck(batches);
    await stream.close();
    const sum = { bytes: 0n, packets: 0n, failed: 0n, retransmits: 0n };
    for (const b of batches) {
      for (const t of b.traffic ?? []) {
        sum.bytes += BigInt(String(t.bytes ?? 0));
        sum.packets += BigInt(String(t.packets ?? 0));
      }
      sum.failed += BigInt(String(b.connections?.failed ?? 0));
      sum.retransmits += BigInt(String(b.connections?.retransmits ?? 0));
    }
    sent.set(h.agentId, sum);
  }
});

afterAll(async () => {
  await server?.close();
  await db?.drop();
});

type Ranks = { by: string; items: { agentId: string; value: string }[] };

it.each(['bytes', 'packets', 'failed', 'retransmits'] as const)(
  'ranks the hosts by %s, highest first, with the exact sums sent',
  async (by) => {
    const expected = HOSTS.map((h) => ({ agentId: h.agentId, value: sent.get(h.agentId)![by] }))
      .filter((x) => x.value > 0n)
      .sort((a, b) =>
        a.value === b.value ? (a.agentId < b.agentId ? -1 : 1) : a.value > b.value ? -1 : 1,
      )
      .map((x) => ({ agentId: x.agentId, value: x.value.toString() }));
    const r = await api<Ranks>(`/traffic/hosts?by=${by}&from=${FROM}&to=${TO}`);
    expect(r.status).toBe(200);
    expect([r.body.by, r.body.items]).toEqual([by, expected]);
    // The top 2 only; and one host by its label-free scope (agentId) alone.
    const two = await api<Ranks>(`/traffic/hosts?by=${by}&limit=2&from=${FROM}&to=${TO}`);
    expect(two.body.items).toEqual(expected.slice(0, 2));
    const one = await api<Ranks>(
      `/traffic/hosts?by=${by}&agentId=${HOSTS[2].agentId}&from=${FROM}&to=${TO}`,
    );
    expect(one.body.items).toEqual(expected.filter((x) => x.agentId === HOSTS[2].agentId));
  },
);

it('ranks the hosts by anomalies, as many as the anomaly list holds for each', async () => {
  type Counts = { items: { agentId: string; hostname: string | null; anomalies: number }[] };
  // Detection runs behind ingest: every window carries an abnormal connection, so every host
  // gets an abnormal_port anomaly; compare once the list has one for each.
  const deadline = Date.now() + 60_000;
  let totals: number[] = [];
  for (;;) {
    totals = await Promise.all(
      HOSTS.map(
        async (h) =>
          (await api<{ total: number }>(`/anomalies?agentId=${h.agentId}&limit=1`)).body.total,
      ),
    );
    if (totals.every((n) => n > 0) || Date.now() > deadline) break;
    await new Promise((r) => setTimeout(r, 250));
  }
  const expected = HOSTS.map((h, i) => ({
    agentId: h.agentId,
    hostname: h.hostname,
    anomalies: totals[i],
  })).sort((a, b) => b.anomalies - a.anomalies || (a.agentId < b.agentId ? -1 : 1));
  const r = await api<Counts>('/anomalies/hosts');
  expect(r.status).toBe(200);
  expect(r.body.items).toEqual(expected);
  expect((await api<Counts>('/anomalies/hosts?limit=1')).body.items).toEqual(expected.slice(0, 1));
  expect((await api<Counts>('/anomalies/hosts?type=port_scan')).body.items).toEqual([]);
});

it('validates its parameters', async () => {
  expect((await api(`/traffic/hosts?by=drops`)).status).toBe(400);
  expect((await api(`/traffic/hosts?limit=0`)).status).toBe(400);
  expect((await api(`/anomalies/hosts?limit=101`)).status).toBe(400);
  expect((await api(`/anomalies/hosts?agentId=${HOSTS[0].agentId}`)).status).toBe(400);
});
