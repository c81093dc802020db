import type { Batch, Hello } from '@tidewatch/proto';
import { randomUUID } from 'node:crypto';
import { makeBatch } from './fixtures/windows';
import { AgentStream, ingestClient } from './support/agent-client';
import { ChildServer, killed, serverCli, spawnServer } from './support/child-server';
import { createTestDatabase, TestDatabase } from './support/database';

// The writer keeps its database sessions between flushes. Ground truth: the N
// windows the agent sent. When PostgreSQL ends every session of the server
// (an administrator's pg_terminate_backend, a failover), the server stays up,
// the next flush gets fresh sessions, and after the agent resends from the
// server's highest sequence every window is stored exactly once.

const N = 60;
let db: TestDatabase;
let server: ChildServer | null = null;

beforeAll(async () => {
  db = await createTestDatabase();
});

afterAll(async () => {
  if (server) {
    server.proc.kill('SIGKILL');
    await killed(server.proc);
  }
  await db?.drop();
});

it('survives its ingest sessions being ended and still stores every window once', async () => {
  const cli = serverCli(db.url);
  cli('migrate', 'run');
  const token = cli('enroll', 'create', '--name', 'session-loss', '--expires', '1h');
  const agentId = randomUUID();
  const base = Math.floor(Date.now() / 10_000) * 10_000 - 3_600_000;
  const spool: Batch[] = Array.from({ length: N }, (_, i) =>
    makeBatch(12, i + 1, base + i * 10_000),
  );
  const hello: Hello = {
    agentId,
    hostname: 'loss-1',
    agentVersion: '0.1.0',
    kernelRelease: '4.19.90',
  };

  server = await spawnServer(db.url, { INGEST_WRITERS: '2' });
  const first = new AgentStream(ingestClient(server.grpcPort));
  const credential = (await first.hello({ ...hello, enrollmentToken: token })).agentCredential;
  await first.sendAndAwaitAck(spool.slice(0, 20), 30_000);

  // Every session of the server's database, the writer's idle kept ones included.
  const ended = await db.query<{ n: number }>(
    `SELECT count(pg_terminate_backend(pid))::int AS n FROM pg_stat_activity
      WHERE datname = current_database() AND pid <> pg_backend_pid()`,
  );
  expect(ended[0].n).toBeGreaterThan(0);

  // The agent goes on; whatever the server could not store it refuses, never acks.
  for (const b of spool.slice(20)) first.send(b);
  await Promise.race([
    first.ended,
    first.until(() => first.acks[first.acks.length - 1] === N, 30_000, `ack ${N}`),
  ]).catch(() => undefined);
  first.client.close();
  expect(server.proc.exitCode).toBeNull();
  expect(server.proc.signalCode).toBeNull();

  const second = new AgentStream(ingestClient(server.grpcPort));
  const w = await second.hello({ ...hello, agentCredential: credential });
  const from = Number(w.highestSequence);
  expect(from).toBeGreaterThanOrEqual(20);
  if (from < N) await second.sendAndAwaitAck(spool.slice(from), 30_000);
  else await second.until(() => true);
  await second.close();
  expect(server.proc.exitCode).toBeNull();

  let want = 0n;
  for (const b of spool) for (const t of b.traffic ?? []) want += BigInt(Number(t.bytes));
  const [raw] = await db.query<{ windows: string; distinct: string; max: string }>(
    `SELECT count(*) AS windows, count(DISTINCT sequence) AS distinct, max(sequence) AS max
       FROM windows_raw WHERE agent_id = $1`,
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
