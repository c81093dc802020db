import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { INGEST_PROTO, type Hello } from '@tidewatch/proto';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { Client } from 'pg';
import { EnrollmentService } from '../src/enrollment/enrollment.service';
import { MetricsService } from '../src/health/metrics.service';
import { IngestGrpcServer } from '../src/ingest/ingest-grpc.server';
import type { RunningServer } from '../src/server';
import { makeBatch } from './fixtures/windows';
import { AgentStream, ingestClient } from './support/agent-client';
import { createTestDatabase, TestDatabase } from './support/database';
import { startTestServer } from './support/server';

// Credit and the server-wide budget (issue #12), over real gRPC and PostgreSQL. The writer is
// held back by a transaction of this test that locks the agents' `hosts` rows (the writer takes
// them FOR NO KEY UPDATE), so what the server has read stays put until the test lets go.
// Ground truth: the batches sent; the database must hold each (agent, sequence) exactly once.

const PER_STREAM = 10;
const BUDGET = 10;
let db: TestDatabase;
let server: RunningServer;
let token: string;
const streams: AgentStream[] = [];

const NOW = Date.now();
const start = (seq: number) => Math.floor(NOW / 10_000) * 10_000 - 3_600_000 + seq * 10_000;
const batches = (seed: number, n: number) =>
  Array.from({ length: n }, (_, i) => makeBatch(seed, i + 1, start(i + 1)));

const hello = (agentId: string, creds: Partial<Hello>): Hello => ({
  agentId,
  hostname: `credit-${agentId.slice(0, 8)}`,
  agentVersion: '0.1.0',
  kernelRelease: '4.19.90-kylin',
  startedAtMs: NOW,
  ...creds,
});

const budget = () => server.app.get(IngestGrpcServer).budget;

async function waitFor(cond: () => boolean, what: string, ms = 20_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

async function enrolled(): Promise<{ agentId: string; credential: string; stream: AgentStream }> {
  const agentId = randomUUID();
  const stream = new AgentStream(ingestClient(server.grpcPort));
  streams.push(stream);
  const w = await stream.hello(hello(agentId, { enrollmentToken: token }));
  return { agentId, credential: w.agentCredential, stream };
}

/** A transaction holding the agents' hosts rows: the writer waits on it until release(). */
async function holdWriter(agentIds: string[]): Promise<{ release(): Promise<void> }> {
  const c = new Client({ connectionString: db.url });
  await c.connect();
  await c.query('BEGIN');
  await c.query(`SELECT 1 FROM hosts WHERE agent_id = ANY($1::uuid[]) FOR NO KEY UPDATE`, [
    agentIds,
  ]);
  return {
    async release() {
      await c.query('COMMIT');
      await c.end();
    },
  };
}

async function stored(agentId: string): Promise<{ windows: number; distinct: number }> {
  const [r] = await db.query<{ windows: string; distinct: string }>(
    `SELECT count(*) AS windows, count(DISTINCT sequence) AS distinct FROM windows_raw WHERE agent_id = $1`,
    [agentId],
  );
  return { windows: Number(r.windows), distinct: Number(r.distinct) };
}

beforeAll(async () => {
  db = await createTestDatabase();
  server = await startTestServer(db.url, {
    INGEST_MAX_IN_FLIGHT_PER_STREAM: String(PER_STREAM),
    INGEST_QUEUE_LIMIT: String(BUDGET),
    GRPC_MAX_MESSAGE_BYTES: '262144',
  });
  token = (await server.app.get(EnrollmentService).create('e2e', 3_600_000, null)).token;
}, 60_000);

// Each test starts with no stream open (credits are shares of the streams open).
afterEach(async () => {
  for (const s of streams.splice(0)) s.cancel();
  const open = async () => (await server.app.get(MetricsService).streams.get()).values[0]?.value;
  const deadline = Date.now() + 20_000;
  while ((await open()) !== 0) {
    if (Date.now() > deadline) throw new Error('streams still open on the server');
    await new Promise((r) => setTimeout(r, 20));
  }
});

afterAll(async () => {
  await server?.close();
  await db?.drop();
});

describe('ingest credit and the server-wide budget over real gRPC', () => {
  it('a client that ignores its credit is read no further than the credit until acks free room; nothing is refused', async () => {
    // Refusing an over-sender (RESOURCE_EXHAUSTED) would end the stream of every agent older
    // than the credit (it knows only its own limit) and have it reconnect and resend; not reading
    // is what HTTP/2 flow control is for: what it sent beyond waits in the transport (at most the
    // stream's window) and is stored in order once acks free room.
    const { agentId, credential, stream } = await enrolled();
    expect(stream.welcome?.maxInFlight).toBe(PER_STREAM); // alone: min(10, budget 10 / 1 stream)
    const held = await holdWriter([agentId]);
    const sent = batches(11, PER_STREAM + 3);
    for (const b of sent) stream.send(b);
    // Last, a message the server refuses the moment it reads it (larger than
    // GRPC_MAX_MESSAGE_BYTES): while it has not read that far, the stream stays open.
    stream.call.write({ configApplied: { version: 1, ok: false, error: 'x'.repeat(300_000) } });
    await waitFor(() => budget().held === PER_STREAM, `${PER_STREAM} batches held`);
    expect(stream.acks).toEqual([]);
    expect(stream.messages.filter((m) => !m.welcome)).toEqual([]);
    let ended = false;
    void stream.ended.then(() => (ended = true));
    await new Promise((r) => setImmediate(r));
    expect(ended).toBe(false); // the oversized message is still unread
    await held.release();
    const end = await stream.ended;
    // Read only after the first batches were acknowledged (reading batch 11 needed batch 1's ack).
    expect(end.code).toBe(grpc.status.RESOURCE_EXHAUSTED);
    expect(stream.acks.length).toBeGreaterThan(0);
    // The agent resends what was not acknowledged; every window stored exactly once.
    const again = new AgentStream(ingestClient(server.grpcPort));
    streams.push(again);
    await again.hello(hello(agentId, { agentCredential: credential }));
    const from = again.welcome!.highestSequence;
    if (from < sent.length) await again.sendAndAwaitAck(sent.slice(from));
    expect(await stored(agentId)).toEqual({ windows: sent.length, distinct: sent.length });
    await waitFor(() => budget().held === 0, 'budget back to 0');
  });

  it('the credit follows the streams sharing the budget: Welcome gives a share, an Ack the new one', async () => {
    const a = await enrolled();
    expect(a.stream.welcome?.maxInFlight).toBe(PER_STREAM);
    const b = await enrolled();
    expect(b.stream.welcome?.maxInFlight).toBe(BUDGET / 2);
    await a.stream.sendAndAwaitAck(batches(12, 1));
    // Two streams share 10: A's credit went from 10 to 5, and its ack says so.
    expect(a.stream.messages.find((m) => m.ack)?.ack?.maxInFlight).toBe(BUDGET / 2);
    await b.stream.close();
    await a.stream.sendAndAwaitAck([makeBatch(12, 2, start(2))]);
    const acks = a.stream.messages.filter((m) => m.ack).map((m) => m.ack!.maxInFlight);
    expect(acks).toEqual([BUDGET / 2, PER_STREAM]); // alone again: back to 10
    await a.stream.sendAndAwaitAck([makeBatch(12, 3, start(3))]);
    expect(a.stream.messages.filter((m) => m.ack).at(-1)?.ack?.maxInFlight).toBe(0); // unchanged
    await a.stream.close();
  });

  it('the budget bounds batches held across streams; beyond it streams wait, and every window is stored once', async () => {
    const agents = [await enrolled(), await enrolled(), await enrolled()];
    // Credits are the budget's share when each joined (10, 5, 3): A learns of its new share only
    // with its next ack, so together they may send 18 before the writer acks anything.
    expect(agents.map((a) => a.stream.welcome?.maxInFlight)).toEqual([10, 5, 3]);
    let peak = 0;
    const b = budget();
    const metrics = b.onChange;
    b.onChange = (h, q) => {
      peak = Math.max(peak, h);
      metrics(h, q);
    };
    const held = await holdWriter(agents.map((a) => a.agentId));
    agents.forEach((a, i) => batches(20 + i, 10).forEach((x) => a.stream.send(x)));
    // Once 10 are held no stream is given a read: a stream below its credit waits. Each stream
    // has at most one read outstanding, so at most 10 + 3 - 1 are held, not 18.
    await waitFor(() => b.held >= BUDGET && b.queued >= 1, 'the budget spent, a stream waiting');
    const body = await fetch(`http://127.0.0.1:${server.httpPort}/metrics`).then((r) => r.text());
    expect(body).toMatch(/^tidewatch_server_ingest_held_batches 1[0-2]$/m);
    expect(body).toMatch(/^tidewatch_server_ingest_streams_waiting [1-3]$/m);
    await held.release();
    await Promise.all(
      agents.map((a) =>
        a.stream.until(() => a.stream.acks.at(-1) === 10, 30_000, `agent ${a.agentId} ack 10`),
      ),
    );
    b.onChange = metrics;
    expect(peak).toBeGreaterThanOrEqual(BUDGET);
    expect(peak).toBeLessThanOrEqual(BUDGET + agents.length - 1);
    for (const a of agents) expect(await stored(a.agentId)).toEqual({ windows: 10, distinct: 10 });
    await waitFor(() => b.held === 0 && b.queued === 0, 'budget back to 0');
    await Promise.all(agents.map((a) => a.stream.close()));
  });

  it('an agent older than the credit (its ingest.proto without max_in_flight) is served as before', async () => {
    // The contract as it was before the field: built from today's file with both lines removed.
    const dir = mkdtempSync(path.join(tmpdir(), 'tw-old-proto-'));
    try {
      const old = readFileSync(INGEST_PROTO, 'utf8')
        .split('\n')
        .filter((l) => !/\bmax_in_flight\b/.test(l))
        .join('\n');
      expect(old).not.toMatch(/max_in_flight/);
      const file = path.join(dir, 'ingest.proto');
      writeFileSync(file, old);
      const def = protoLoader.loadSync(file, { longs: Number, enums: String, defaults: true });
      const pkg = grpc.loadPackageDefinition(def) as unknown as {
        tidewatch: { v1: { Ingest: typeof grpc.Client } };
      };
      const client = new pkg.tidewatch.v1.Ingest(
        `127.0.0.1:${server.grpcPort}`,
        grpc.credentials.createInsecure(),
      );
      const stream = new AgentStream(client as never);
      streams.push(stream);
      const agentId = randomUUID();
      const w = await stream.hello(hello(agentId, { enrollmentToken: token }));
      expect(w).not.toHaveProperty('maxInFlight');
      // Its own limit (15 ahead) is past the credit: the server reads them as acks free room.
      await stream.sendAndAwaitAck(batches(30, 15), 30_000);
      expect(stream.messages.filter((m) => m.ack).every((m) => !('maxInFlight' in m.ack!))).toBe(
        true,
      );
      expect(await stored(agentId)).toEqual({ windows: 15, distinct: 15 });
      await stream.close();
      client.close();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
