import * as grpc from '@grpc/grpc-js';
import type { Batch, Hello } from '@tidewatch/proto';
import { randomUUID } from 'node:crypto';
import { makeBatch } from './fixtures/windows';
import { AgentStream, ingestClient } from './support/agent-client';
import { ChildServer, killed, serverCli, spawnServer } from './support/child-server';
import { createTestDatabase, TestDatabase } from './support/database';

// Ground truth: the N windows the simulated agent holds in its spool. After
// the server is SIGKILLed mid-stream and restarted, and the agent replays
// everything after its last ack, the database holds each exactly once.

const N = 400;
let db: TestDatabase;
let running: ChildServer | null = null;

beforeAll(async () => {
  db = await createTestDatabase();
});

afterAll(async () => {
  if (running) {
    running.proc.kill('SIGKILL');
    await killed(running.proc);
  }
  await db?.drop();
});

it('loses nothing and doubles nothing when the server is killed mid-stream', async () => {
  const cli = serverCli(db.url);
  cli('migrate', 'run');
  const token = cli('enroll', 'create', '--name', 'restart', '--expires', '1h');
  expect(token).toMatch(/^twe_/);

  const agentId = randomUUID();
  const base = Math.floor(Date.now() / 10_000) * 10_000 - 2 * 3_600_000;
  const spool: Batch[] = Array.from({ length: N }, (_, i) =>
    makeBatch(77, i + 1, base + i * 10_000),
  );
  const hello: Hello = {
    agentId,
    hostname: 'restart-1',
    agentVersion: '0.1.0',
    kernelRelease: '4.19.90',
  };

  let server = await spawnServer(db.url, {
    INGEST_MAX_IN_FLIGHT_PER_STREAM: '4',
    INGEST_MAX_BATCHES_PER_WRITE: '4',
  });
  running = server;
  const first = new AgentStream(ingestClient(server.grpcPort));
  const welcome = await first.hello({ ...hello, enrollmentToken: token });
  const credential = welcome.agentCredential;
  for (const b of spool) first.send(b);
  await first.until(
    () => first.acks.length > 0 && first.acks[first.acks.length - 1] >= 40,
    30_000,
    'ack 40',
  );
  server.proc.kill('SIGKILL');
  await killed(server.proc);
  const end = await first.ended;
  expect(end.code).toBe(grpc.status.UNAVAILABLE);
  const lastAck = first.acks[first.acks.length - 1];
  expect(lastAck).toBeLessThan(N);
  first.client.close();

  server = await spawnServer(db.url);
  running = server;
  try {
    const second = new AgentStream(ingestClient(server.grpcPort));
    const w = await second.hello({ ...hello, agentCredential: credential });
    // Everything acknowledged was durable; maybe more (committed, ack lost in the kill).
    expect(w.highestSequence).toBeGreaterThanOrEqual(lastAck);
    // The agent replays from its last ack: some of these are already stored.
    await second.sendAndAwaitAck(spool.slice(lastAck), 60_000);
    expect(second.acks[second.acks.length - 1]).toBe(N);
    await second.close();
  } finally {
    server.proc.kill('SIGTERM');
    await killed(server.proc);
    running = null;
  }

  let want = 0n;
  for (const b of spool) for (const t of b.traffic ?? []) want += BigInt(Number(t.bytes));
  const [raw] = await db.query<{ windows: string; distinct: string; max: string }>(
    `SELECT count(*) AS windows, count(DISTINCT sequence) AS distinct, max(sequence) AS max FROM windows_raw WHERE agent_id = $1`,
    [agentId],
  );
  expect(raw).toEqual({ windows: String(N), distinct: String(N), max: String(N) });
  for (const table of ['traffic_raw', 'traffic_1m', 'traffic_1h']) {
    const [s] = await db.query<{ bytes: string }>(
      `SELECT sum(bytes)::text AS bytes FROM ${table} WHERE agent_id = $1`,
      [agentId],
    );
    expect({ table, bytes: s.bytes }).toEqual({ table, bytes: want.toString() });
  }
}, 120_000);
