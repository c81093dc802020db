import * as grpc from '@grpc/grpc-js';
import type { Hello } from '@tidewatch/proto';
import { createHash, randomUUID } from 'node:crypto';
import { EnrollmentService } from '../src/enrollment/enrollment.service';
import { AgentRegistryService } from '../src/hosts/agent-registry.service';
import type { RunningServer } from '../src/server';
import { makeBatch } from './fixtures/windows';
import { bearer, tokenFor } from './support/auth';
import { AgentStream, ingestClient, rawStream } from './support/agent-client';
import { createTestDatabase, TestDatabase } from './support/database';
import { startTestServer } from './support/server';

// Ground truth: the batches this file sends; the database must hold each
// (agent, sequence) exactly once with exactly the counters sent.

let db: TestDatabase;
let server: RunningServer;
let token: string;

const NOW = Date.now();
const start = (seq: number) => Math.floor(NOW / 10_000) * 10_000 - 3_600_000 + seq * 10_000;

function hello(agentId: string, creds: Partial<Hello>): Hello {
  return {
    agentId,
    hostname: `host-${agentId.slice(0, 8)}`,
    agentVersion: '0.1.0',
    kernelRelease: '4.19.90-kylin',
    capabilities: [
      { name: 'btf', available: false, used: false, detail: 'no /sys/kernel/btf/vmlinux' },
    ],
    interfaces: [{ name: 'eth0', ifindex: 2, mtu: 1500, up: true, watched: true }],
    labels: { env: 'test', role: 'db' },
    startedAtMs: NOW - 60_000,
    ...creds,
  };
}

async function trafficSum(
  agentId: string,
): Promise<{ rows: number; bytes: string; windows: number }> {
  const [t] = await db.query<{ rows: string; bytes: string }>(
    `SELECT count(*) AS rows, coalesce(sum(bytes), 0)::text AS bytes FROM traffic_raw WHERE agent_id = $1`,
    [agentId],
  );
  const [w] = await db.query<{ n: string }>(
    `SELECT count(*) AS n FROM windows_raw WHERE agent_id = $1`,
    [agentId],
  );
  return { rows: Number(t.rows), bytes: t.bytes, windows: Number(w.n) };
}

function sentBytes(seqs: number[], seed: number): string {
  let s = 0n;
  for (const q of seqs)
    for (const t of makeBatch(seed, q, start(q)).traffic ?? []) s += BigInt(Number(t.bytes));
  return s.toString();
}

async function enrolled(): Promise<{ agentId: string; credential: string; stream: AgentStream }> {
  const agentId = randomUUID();
  const stream = new AgentStream(ingestClient(server.grpcPort));
  const w = await stream.hello(hello(agentId, { enrollmentToken: token }));
  expect(w.agentCredential).toMatch(/^twa_/);
  return { agentId, credential: w.agentCredential, stream };
}

beforeAll(async () => {
  db = await createTestDatabase();
  server = await startTestServer(db.url, {
    INGEST_MAX_RECORDS_PER_BATCH: '500',
    GRPC_MAX_MESSAGE_BYTES: '262144',
  });
  token = (await server.app.get(EnrollmentService).create('e2e', 3_600_000, null)).token;
  // Signed in once here (scrypt takes seconds on a loaded machine), reused by the host lookup.
  await tokenFor(server, 'viewer');
}, 60_000);

afterAll(async () => {
  await server?.close();
  await db?.drop();
});

describe('ingest over real gRPC', () => {
  it('enrolls with a token, stores batches, acks after commit, and stores only hashes', async () => {
    const { agentId, credential, stream } = await enrolled();
    expect(stream.welcome?.highestSequence).toBe(0);
    expect(stream.welcome?.config?.windowSeconds).toBe(10);
    await stream.sendAndAwaitAck([1, 2, 3, 4, 5].map((q) => makeBatch(1, q, start(q))));
    expect(stream.acks[stream.acks.length - 1]).toBe(5);
    expect(stream.acks).toEqual([...stream.acks].sort((a, b) => a - b));
    const stored = await trafficSum(agentId);
    expect(stored.windows).toBe(5);
    expect(stored.bytes).toBe(sentBytes([1, 2, 3, 4, 5], 1));
    const [h] = await db.query<{
      credential_hash: Buffer;
      highest_sequence: string;
      labels: object;
      kernel_release: string;
    }>(
      `SELECT credential_hash, highest_sequence, labels, kernel_release FROM hosts WHERE agent_id = $1`,
      [agentId],
    );
    expect(h.highest_sequence).toBe('5');
    expect(h.labels).toEqual({ env: 'test', role: 'db' });
    expect(h.kernel_release).toBe('4.19.90-kylin');
    expect(h.credential_hash.equals(createHash('sha256').update(credential).digest())).toBe(true);
    const tokens = await db.query<{ token_hash: Buffer }>(
      `SELECT token_hash FROM enrollment_tokens`,
    );
    expect(
      tokens.every(
        (t) => t.token_hash.length === 32 && !t.token_hash.toString('utf8').includes(token),
      ),
    ).toBe(true);
    expect((await stream.close()).code).toBe(grpc.status.OK);

    // Reconnect with the credential: Welcome carries the highest stored sequence, no new credential.
    const again = new AgentStream(ingestClient(server.grpcPort));
    const w = await again.hello(hello(agentId, { agentCredential: credential }));
    expect(w.highestSequence).toBe(5);
    expect(w.agentCredential).toBe('');
    await again.close();
  });

  it('stores duplicates and replays once and acks them cumulatively', async () => {
    const { agentId, credential, stream } = await enrolled();
    const batches = [1, 2, 3].map((q) => makeBatch(2, q, start(q)));
    await stream.sendAndAwaitAck(batches);
    // Same sequence again on the same stream, then a full replay on a new stream.
    await stream.sendAndAwaitAck([batches[1], batches[2]]);
    await stream.close();
    const replay = new AgentStream(ingestClient(server.grpcPort));
    await replay.hello(hello(agentId, { agentCredential: credential }));
    await replay.sendAndAwaitAck([...batches, makeBatch(2, 4, start(4))]);
    expect(replay.acks[replay.acks.length - 1]).toBe(4);
    await replay.close();
    const stored = await trafficSum(agentId);
    expect(stored.windows).toBe(4);
    expect(stored.bytes).toBe(sentBytes([1, 2, 3, 4], 2));
    const [m] = await db.query<{ bytes: string }>(
      `SELECT sum(bytes)::text AS bytes FROM traffic_1h WHERE agent_id = $1`,
      [agentId],
    );
    expect(m.bytes).toBe(sentBytes([1, 2, 3, 4], 2));
  });

  it('refuses a sequence gap with FAILED_PRECONDITION and stores nothing past it', async () => {
    const { agentId, stream } = await enrolled();
    await stream.sendAndAwaitAck([makeBatch(3, 1, start(1))]);
    stream.send(makeBatch(3, 3, start(3)));
    const end = await stream.ended;
    expect(end.code).toBe(grpc.status.FAILED_PRECONDITION);
    expect(end.details).toMatch(/sequence gap: expected 2, got 3/);
    expect((await trafficSum(agentId)).windows).toBe(1);
  });

  it('records batches the agent dropped from its spool (Hello.oldest_sequence) as lost', async () => {
    const { agentId, credential, stream } = await enrolled();
    await stream.sendAndAwaitAck([1, 2].map((q) => makeBatch(4, q, start(q))));
    await stream.close();
    // The agent's spool overflowed: 3 and 4 are gone, it still holds 5 onwards.
    const next = new AgentStream(ingestClient(server.grpcPort));
    const w = await next.hello(hello(agentId, { agentCredential: credential, oldestSequence: 5 }));
    expect(w.highestSequence).toBe(4);
    await next.sendAndAwaitAck([5, 6].map((q) => makeBatch(4, q, start(q))));
    await next.close();
    // An oldest sequence the server already has changes nothing.
    const again = new AgentStream(ingestClient(server.grpcPort));
    const w2 = await again.hello(
      hello(agentId, { agentCredential: credential, oldestSequence: 3 }),
    );
    expect(w2.highestSequence).toBe(6);
    await again.close();
    expect((await trafficSum(agentId)).bytes).toBe(sentBytes([1, 2, 5, 6], 4));
    expect(
      await db.query(
        `SELECT first_sequence::int AS first, last_sequence::int AS last FROM sequence_gaps
          WHERE agent_id = $1`,
        [agentId],
      ),
    ).toEqual([{ first: 3, last: 4 }]);
    const res = await fetch(`http://127.0.0.1:${server.httpPort}/api/v1/hosts/${agentId}`, {
      headers: bearer(await tokenFor(server, 'viewer')),
    });
    expect(await res.json()).toMatchObject({ highestSequence: 6, lostBatches: 2 });
  });

  it('refuses bad credentials, unknown agents and bad tokens with UNAUTHENTICATED', async () => {
    const cases: [Partial<Hello>, RegExp][] = [
      [{ enrollmentToken: 'twe_not-a-real-token' }, /enrollment token is not valid/],
      [{ agentCredential: 'twa_whatever' }, /not enrolled/],
    ];
    for (const [creds, msg] of cases) {
      const s = new AgentStream(ingestClient(server.grpcPort));
      s.call.write({ hello: hello(randomUUID(), creds) });
      const end = await s.ended;
      expect(end.code).toBe(grpc.status.UNAUTHENTICATED);
      expect(end.details).toMatch(msg);
    }
    const { agentId } = await enrolled();
    const s = new AgentStream(ingestClient(server.grpcPort));
    s.call.write({ hello: hello(agentId, { agentCredential: 'twa_wrong' }) });
    expect(await s.ended).toMatchObject({
      code: grpc.status.UNAUTHENTICATED,
      details: expect.stringMatching(/does not match/),
    });

    const expired = await server.app.get(EnrollmentService).create('short', 1, null);
    await new Promise((r) => setTimeout(r, 20));
    const e = new AgentStream(ingestClient(server.grpcPort));
    e.call.write({ hello: hello(randomUUID(), { enrollmentToken: expired.token }) });
    expect(await e.ended).toMatchObject({
      code: grpc.status.UNAUTHENTICATED,
      details: 'enrollment token has expired',
    });
    // Only the agents the earlier tests enrolled (one each): the refused ones left no row.
    const count = await db.query(`SELECT 1 FROM hosts`);
    expect(count.length).toBe(5);
  });

  it('ends a revoked agent at its next batch with PERMISSION_DENIED and refuses it afterwards', async () => {
    const { agentId, credential, stream } = await enrolled();
    await stream.sendAndAwaitAck([makeBatch(5, 1, start(1))]);
    await server.app.get(AgentRegistryService).revoke(agentId);
    stream.send(makeBatch(5, 2, start(2)));
    expect((await stream.ended).code).toBe(grpc.status.PERMISSION_DENIED);
    expect((await trafficSum(agentId)).windows).toBe(1);
    const s = new AgentStream(ingestClient(server.grpcPort));
    s.call.write({ hello: hello(agentId, { agentCredential: credential }) });
    expect((await s.ended).code).toBe(grpc.status.PERMISSION_DENIED);
    const t = new AgentStream(ingestClient(server.grpcPort));
    t.call.write({ hello: hello(agentId, { enrollmentToken: token }) });
    expect((await t.ended).code).toBe(grpc.status.PERMISSION_DENIED);
  });

  it('refuses protocol-order mistakes with FAILED_PRECONDITION', async () => {
    const s = new AgentStream(ingestClient(server.grpcPort));
    s.send(makeBatch(6, 1, start(1)));
    expect(await s.ended).toMatchObject({
      code: grpc.status.FAILED_PRECONDITION,
      details: expect.stringMatching(/Hello/),
    });
    const { stream } = await enrolled();
    stream.call.write({ hello: hello(randomUUID(), { enrollmentToken: token }) });
    expect((await stream.ended).code).toBe(grpc.status.FAILED_PRECONDITION);
  });

  it('answers malformed protobuf with INVALID_ARGUMENT', async () => {
    const call = rawStream(server.grpcPort);
    const status = new Promise<grpc.StatusObject>((resolve) => call.on('status', resolve));
    call.on('error', () => undefined);
    call.write(Buffer.from([0x0a, 0xff, 0xff, 0xff, 0xff, 0x0f, 0x01]));
    const st = await status;
    expect(st.code).toBe(grpc.status.INVALID_ARGUMENT);
    expect(st.details).toMatch(/malformed AgentMessage/);
  });

  it('refuses invalid fields with INVALID_ARGUMENT naming the field, without storing', async () => {
    const { agentId, stream } = await enrolled();
    const bad = makeBatch(7, 1, start(1));
    (bad.traffic as { packets: number }[])[3].packets = -1;
    stream.send({
      ...bad,
      traffic: bad.traffic?.map((t, i) =>
        i === 3 ? { ...t, direction: 7 as unknown as 'DIRECTION_INGRESS' } : t,
      ),
    });
    const end = await stream.ended;
    expect(end.code).toBe(grpc.status.INVALID_ARGUMENT);
    expect(end.details).toMatch(/traffic\[3\]\.direction/);
    const s2 = new AgentStream(ingestClient(server.grpcPort));
    s2.call.write({ hello: { ...hello('not-a-uuid', { enrollmentToken: token }) } });
    expect(await s2.ended).toMatchObject({
      code: grpc.status.INVALID_ARGUMENT,
      details: 'hello.agent_id must be a UUID',
    });
    expect((await trafficSum(agentId)).windows).toBe(0);
  });

  it('refuses oversized batches with RESOURCE_EXHAUSTED (record limit and gRPC size limit)', async () => {
    const { agentId, credential, stream } = await enrolled();
    const many = makeBatch(9, 1, start(1));
    many.talkers = Array.from({ length: 600 }, (_, i) => ({
      src: `198.18.0.${i % 250}`,
      dst: '198.19.0.1',
      protocol: 'PROTOCOL_TCP',
      packets: 1,
      bytes: 1,
    }));
    stream.send(many);
    const end = await stream.ended;
    expect(end.code).toBe(grpc.status.RESOURCE_EXHAUSTED);
    expect(end.details).toMatch(/more than the limit of 500/);

    const s = new AgentStream(ingestClient(server.grpcPort));
    await s.hello(hello(agentId, { agentCredential: credential }));
    const huge = makeBatch(9, 1, start(1));
    huge.drops = [{ reason: 'x'.repeat(300_000), count: 1 }];
    s.send(huge);
    const end2 = await s.ended;
    expect(end2.code).toBe(grpc.status.RESOURCE_EXHAUSTED);
    expect((await trafficSum(agentId)).windows).toBe(0);
  });

  it('refuses windows outside the acceptable time range', async () => {
    const { stream } = await enrolled();
    stream.send(makeBatch(10, 1, Date.now() + 2 * 86_400_000));
    expect(await stream.ended).toMatchObject({
      code: grpc.status.INVALID_ARGUMENT,
      details: expect.stringMatching(/too far ahead/),
    });
  });
});
