import * as grpc from '@grpc/grpc-js';
import type { Hello } from '@tidewatch/proto';
import { Command, CommanderError } from 'commander';
import { randomUUID } from 'node:crypto';
import { userInfo } from 'node:os';
import { Client } from 'pg';
import { buildProgram } from '../src/cli/program';
import { defaultContext } from '../src/cli/context';
import { parseEnvironment } from '../src/config/environment';
import { EnrollmentService } from '../src/enrollment/enrollment.service';
import { AgentRegistryService } from '../src/hosts/agent-registry.service';
import type { RunningServer } from '../src/server';
import { makeBatch } from './fixtures/windows';
import { AgentStream, ingestClient } from './support/agent-client';
import { createTestDatabase, TestDatabase } from './support/database';
import { startTestServer } from './support/server';

// An enrolled agent id belongs to the host holding its credential: a valid enrollment
// token plus that id no longer takes the identity over. Only `agents reset <id>` (an
// administrator, on the CLI) opens the id to one more token enrollment — the reinstalled
// host whose state directory is gone. Real gRPC streams against the real server and
// PostgreSQL; the ground truth is what each stream was told and what the hosts row holds.

// A loaded CI machine starts a server (migrations, scrypt) slower than jest's 5 s default.
jest.setTimeout(60_000);

let db: TestDatabase;
let server: RunningServer;
let token: string;
let tokenId: string;

const start = (seq: number) => Math.floor(Date.now() / 10_000) * 10_000 - 3_600_000 + seq * 10_000;

const hello = (agentId: string, creds: Partial<Hello>, hostname = 'db-01'): Hello => ({
  agentId,
  hostname,
  agentVersion: '0.1.0',
  kernelRelease: '4.19.90-kylin',
  ...creds,
});

/** The stream ends before any Welcome; resolves with its status. */
async function refused(h: Hello): Promise<{ code: grpc.status; details: string }> {
  const s = new AgentStream(ingestClient(server.grpcPort));
  s.call.write({ hello: h });
  const end = await s.ended;
  expect(s.welcome).toBeNull();
  return end;
}

async function hostRow(agentId: string) {
  const [h] = await db.query<{
    hostname: string;
    credential_hash: Buffer | null;
    highest_sequence: string;
    revoked: boolean;
  }>(
    `SELECT hostname, credential_hash, highest_sequence, revoked_at IS NOT NULL AS revoked
       FROM hosts WHERE agent_id = $1`,
    [agentId],
  );
  return h;
}

/** The audit trail's entries about one agent, oldest first. */
async function auditOf(agentId: string) {
  return db.query<{
    actor: string;
    source: string;
    action: string;
    outcome: string;
    reason: string | null;
  }>(
    `SELECT actor, source, action, outcome, reason FROM audit_entries WHERE target = $1 ORDER BY sequence`,
    [agentId],
  );
}

async function tokenUses(): Promise<number> {
  const [t] = await db.query<{ uses: number }>(`SELECT uses FROM enrollment_tokens WHERE id = $1`, [
    tokenId,
  ]);
  return t.uses;
}

/** The real CLI program, in this process, against the test database. */
async function cli(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const out: string[] = [];
  const err: string[] = [];
  const ctx = defaultContext({
    env: () => parseEnvironment({ DATABASE_URL: db.url }),
    out: (l) => out.push(l),
    err: (l) => err.push(l),
  });
  const program = buildProgram(ctx, (root: Command) =>
    root
      .exitOverride()
      .configureOutput({ writeOut: (s) => out.push(s), writeErr: (s) => err.push(s) }),
  );
  let code = 0;
  try {
    await program.parseAsync(['node', 'tidewatch-server', ...args]);
  } catch (e) {
    code = e instanceof CommanderError ? e.exitCode : 1;
    if (!(e instanceof CommanderError)) err.push((e as Error).message);
  }
  return { code, stdout: out.join('\n').trim(), stderr: err.join('\n').trim() };
}

/** Enrolls a new agent id with the shared token and stores batches 1..n. */
async function enrolledWith(n: number) {
  const agentId = randomUUID();
  const stream = new AgentStream(ingestClient(server.grpcPort));
  const w = await stream.hello(hello(agentId, { enrollmentToken: token }));
  expect(w.agentCredential).toMatch(/^twa_/);
  const batches = Array.from({ length: n }, (_, i) => makeBatch(3, i + 1, start(i + 1)));
  await stream.sendAndAwaitAck(batches);
  expect((await stream.close()).code).toBe(grpc.status.OK);
  return { agentId, credential: w.agentCredential };
}

beforeAll(async () => {
  db = await createTestDatabase();
  server = await startTestServer(db.url);
  const t = await server.app.get(EnrollmentService).create('fleet', 3_600_000, null);
  token = t.token;
  tokenId = t.id;
});

afterAll(async () => {
  await server?.close();
  await db?.drop();
});

it('a valid token plus an enrolled agent id is refused (PERMISSION_DENIED), costs the token nothing, changes nothing', async () => {
  const { agentId, credential } = await enrolledWith(3);
  const before = await hostRow(agentId);
  const uses = await tokenUses();

  const end = await refused(hello(agentId, { enrollmentToken: token }, 'intruder'));
  expect(end.code).toBe(grpc.status.PERMISSION_DENIED);
  expect(end.details).toBe(
    `agent ${agentId} is already enrolled: connect with its credential, or have an administrator run \`tidewatch-server agents reset ${agentId}\` before enrolling it again`,
  );
  // A wrong credential with the token beside it does not fall back to the token either.
  const wrong = await refused(
    hello(agentId, { agentCredential: 'twa_not-the-credential', enrollmentToken: token }),
  );
  expect(wrong.code).toBe(grpc.status.UNAUTHENTICATED);

  expect(await tokenUses()).toBe(uses);
  // The attempt is on the record, with the address it came from.
  const denied = (await auditOf(agentId)).filter((e) => e.action === 'agent.enroll');
  expect(denied).toEqual([
    {
      actor: `agent:${agentId}`,
      source: expect.stringMatching(/127\.0\.0\.1:\d+$/),
      action: 'agent.enroll',
      outcome: 'denied',
      reason: 'agent id already enrolled; enrollment token refused',
    },
  ]);
  const after = await hostRow(agentId);
  expect(after.hostname).toBe('db-01');
  expect(after.credential_hash?.equals(before.credential_hash as Buffer)).toBe(true);
  expect(after.highest_sequence).toBe('3');

  // The real host still gets in with its credential, where it left off.
  const own = new AgentStream(ingestClient(server.grpcPort));
  const w = await own.hello(hello(agentId, { agentCredential: credential }));
  expect(w.highestSequence).toBe(3);
  expect(w.agentCredential).toBe('');
  await own.close();
});

it('an agent whose Welcome was lost enrolls again with the same token, no use spent, until it shows its credential', async () => {
  const once = await server.app.get(EnrollmentService).create('one-host', 3_600_000, 1);
  const agentId = randomUUID();
  // The server issues a credential; the answer never reaches the agent (a loaded
  // server past the agent's wait): it hangs up and tries again.
  const lost = new AgentStream(ingestClient(server.grpcPort));
  const first = await lost.hello(hello(agentId, { enrollmentToken: once.token }));
  lost.cancel();
  await lost.ended;

  // Another token, however valid, still cannot claim the id.
  expect((await refused(hello(agentId, { enrollmentToken: token }, 'intruder'))).code).toBe(
    grpc.status.PERMISSION_DENIED,
  );
  // The token that enrolled it can, once more: a new credential, the single use not spent again.
  const retry = new AgentStream(ingestClient(server.grpcPort));
  const second = await retry.hello(hello(agentId, { enrollmentToken: once.token }));
  expect(second.agentCredential).toMatch(/^twa_/);
  expect(second.agentCredential).not.toBe(first.agentCredential);
  await retry.close();
  const [t] = await db.query<{ uses: number }>(`SELECT uses FROM enrollment_tokens WHERE id = $1`, [
    once.id,
  ]);
  expect(t.uses).toBe(1);
  // The credential that never arrived is dead; the new one gets in, which confirms it.
  expect((await refused(hello(agentId, { agentCredential: first.agentCredential }))).code).toBe(
    grpc.status.UNAUTHENTICATED,
  );
  const own = new AgentStream(ingestClient(server.grpcPort));
  await own.hello(hello(agentId, { agentCredential: second.agentCredential }));
  await own.close();
  // From then on the token is refused for that id, as any other.
  expect((await refused(hello(agentId, { enrollmentToken: once.token }))).code).toBe(
    grpc.status.PERMISSION_DENIED,
  );
  const enrolled = await db.query<{ details: string }>(
    `SELECT details FROM audit_entries WHERE target = $1 AND action = 'agent.enrolled' ORDER BY sequence`,
    [agentId],
  );
  const flags = enrolled.map((e) => JSON.parse(e.details) as Record<string, unknown>);
  expect(flags.map((d) => [d.retried, d.reenrolled])).toEqual([
    [false, false],
    [true, false],
  ]);
});

it('the retry is open for 10 minutes after the enrollment only, and closed by a stored window', async () => {
  const once = await server.app.get(EnrollmentService).create('late', 3_600_000, 1);
  const late = randomUUID();
  const lost = new AgentStream(ingestClient(server.grpcPort));
  await lost.hello(hello(late, { enrollmentToken: once.token }));
  lost.cancel();
  await lost.ended;
  await db.query(
    `UPDATE hosts SET credential_unconfirmed_since = now() - interval '11 minutes' WHERE agent_id = $1`,
    [late],
  );
  expect((await refused(hello(late, { enrollmentToken: once.token }))).code).toBe(
    grpc.status.PERMISSION_DENIED,
  );
  // An agent that stored a window on its enrollment stream has its credential.
  const { agentId } = await enrolledWith(1);
  const [h] = await db.query<{ unconfirmed: Date | null }>(
    `SELECT credential_unconfirmed_since AS unconfirmed FROM hosts WHERE agent_id = $1`,
    [agentId],
  );
  expect(h.unconfirmed).toBeNull();
});

it('after `agents reset`, one token enrollment claims the id again, keeping its data and numbering', async () => {
  const { agentId, credential } = await enrolledWith(4);

  const r = await cli(['agents', 'reset', agentId]);
  expect(r).toEqual({
    code: 0,
    stdout: `reset agent ${agentId}: its next enrollment token enrolls it again`,
    stderr: '',
  });
  expect((await auditOf(agentId)).filter((e) => e.action === 'agent.reset')).toEqual([
    {
      actor: `cli:${userInfo().username}`,
      source: 'cli',
      action: 'agent.reset',
      outcome: 'success',
      reason: null,
    },
  ]);
  // The old credential is gone with the reset.
  expect((await refused(hello(agentId, { agentCredential: credential }))).code).toBe(
    grpc.status.UNAUTHENTICATED,
  );

  const uses = await tokenUses();
  const again = new AgentStream(ingestClient(server.grpcPort));
  const w = await again.hello(hello(agentId, { enrollmentToken: token }, 'db-01-reinstalled'));
  expect(w.agentCredential).toMatch(/^twa_/);
  expect(w.agentCredential).not.toBe(credential);
  // The server still holds 1..4: the reinstalled agent numbers its windows after them.
  expect(w.highestSequence).toBe(4);
  expect(await tokenUses()).toBe(uses + 1);
  await again.sendAndAwaitAck([makeBatch(3, 5, start(5))]);
  expect(again.acks[again.acks.length - 1]).toBe(5);
  await again.close();
  expect((await hostRow(agentId)).hostname).toBe('db-01-reinstalled');

  // The reset was good for one enrollment: the id is closed to tokens again.
  const second = await refused(hello(agentId, { enrollmentToken: token }, 'intruder'));
  expect(second.code).toBe(grpc.status.PERMISSION_DENIED);
  const own = new AgentStream(ingestClient(server.grpcPort));
  expect(
    (await own.hello(hello(agentId, { agentCredential: w.agentCredential }))).highestSequence,
  ).toBe(5);
  await own.close();
});

it('`agents reset` ends the stream open on the erased credential at once, not at its next batch or reconnect', async () => {
  const { agentId, credential } = await enrolledWith(2);
  const open = new AgentStream(ingestClient(server.grpcPort));
  expect((await open.hello(hello(agentId, { agentCredential: credential }))).highestSequence).toBe(
    2,
  );
  // An unrelated agent's stream is left alone.
  const other = await enrolledWith(1);
  const bystander = new AgentStream(ingestClient(server.grpcPort));
  await bystander.hello(hello(other.agentId, { agentCredential: other.credential }));

  // The CLI is another database session: the server hears of it through NOTIFY.
  expect((await cli(['agents', 'reset', agentId])).code).toBe(0);
  // No batch sent: the stream is ended by the server itself.
  expect(await open.ended).toMatchObject({
    code: grpc.status.PERMISSION_DENIED,
    details: expect.stringMatching(/credential was reset or revoked/),
  });
  expect(open.acks).toEqual([]);

  // The re-enrolled stream, admitted after the reset, is not ended by it.
  const again = new AgentStream(ingestClient(server.grpcPort));
  const w = await again.hello(hello(agentId, { enrollmentToken: token }, 'db-01-reinstalled'));
  await again.sendAndAwaitAck([makeBatch(3, 3, start(3))]);
  expect(again.acks[again.acks.length - 1]).toBe(3);
  expect(w.agentCredential).toMatch(/^twa_/);
  await bystander.sendAndAwaitAck([makeBatch(3, 2, start(2))]);
  expect(bystander.acks[bystander.acks.length - 1]).toBe(2);
  expect((await again.close()).code).toBe(grpc.status.OK);
  expect((await bystander.close()).code).toBe(grpc.status.OK);
});

it('a revoked agent stays out until it is reset; the reset lifts the revocation', async () => {
  const { agentId } = await enrolledWith(1);
  await server.app.get(AgentRegistryService).revoke(agentId);
  expect((await refused(hello(agentId, { enrollmentToken: token }))).code).toBe(
    grpc.status.PERMISSION_DENIED,
  );
  expect((await cli(['agents', 'reset', agentId])).code).toBe(0);
  expect((await hostRow(agentId)).revoked).toBe(false);
  const s = new AgentStream(ingestClient(server.grpcPort));
  const w = await s.hello(hello(agentId, { enrollmentToken: token }));
  expect(w.agentCredential).toMatch(/^twa_/);
  expect(w.highestSequence).toBe(1);
  await s.close();
});

it('`agents reset` names an unknown agent and a malformed id', async () => {
  const unknown = randomUUID();
  const r = await cli(['agents', 'reset', unknown]);
  expect(r.code).toBe(1);
  expect(r.stderr).toBe(`no agent with id ${unknown}`);
  const bad = await cli(['agents', 'reset', 'db-01']);
  expect(bad.code).not.toBe(0);
  expect(bad.stderr).toMatch(/agent id must be a UUID/);
});

it('admission locks the host row FOR NO KEY UPDATE: references to the host go on, a writer of the row waits, every window is stored once', async () => {
  const { agentId, credential } = await enrolledWith(3);
  const other = new Client({ connectionString: db.url });
  await other.connect();
  try {
    // What a foreign key check takes (an anomaly or a sweep row referencing the host): FOR
    // UPDATE would keep the Hello waiting until this commits; NO KEY UPDATE does not.
    await other.query('BEGIN');
    await other.query(`SELECT 1 FROM hosts WHERE agent_id = $1 FOR KEY SHARE`, [agentId]);
    const first = new AgentStream(ingestClient(server.grpcPort));
    const w1 = await first.hello(hello(agentId, { agentCredential: credential }));
    expect(Number(w1.highestSequence)).toBe(3);
    await other.query('COMMIT');
    // Batch 3 again (a replay) and 4, 5.
    await first.sendAndAwaitAck([3, 4, 5].map((q) => makeBatch(3, q, start(q))));
    expect((await first.close()).code).toBe(grpc.status.OK);

    // The batch writer's lock (and another admission's): the next Hello waits for it.
    await other.query('BEGIN');
    await other.query(`SELECT 1 FROM hosts WHERE agent_id = $1 FOR NO KEY UPDATE`, [agentId]);
    const second = new AgentStream(ingestClient(server.grpcPort));
    const w2 = second.hello(hello(agentId, { agentCredential: credential }));
    for (;;) {
      const [{ n }] = await db.query<{ n: number }>(
        `SELECT count(*)::int AS n FROM pg_stat_activity
          WHERE datname = current_database() AND cardinality(pg_blocking_pids(pid)) > 0`,
      );
      if (n > 0) break;
      await new Promise((r) => setTimeout(r, 10));
    }
    expect(second.welcome).toBeNull();
    await other.query(`UPDATE hosts SET last_seen_at = now() WHERE agent_id = $1`, [agentId]);
    await other.query('COMMIT');
    expect(Number((await w2).highestSequence)).toBe(5);
    await second.sendAndAwaitAck([5, 6].map((q) => makeBatch(3, q, start(q))));
    expect((await second.close()).code).toBe(grpc.status.OK);
  } finally {
    await other.end();
  }
  const stored = await db.query<{ sequence: string; n: number }>(
    `SELECT sequence, count(*)::int AS n FROM windows_raw WHERE agent_id = $1 GROUP BY 1 ORDER BY 1`,
    [agentId],
  );
  expect(stored.map((r) => [Number(r.sequence), r.n])).toEqual(
    [1, 2, 3, 4, 5, 6].map((q) => [q, 1]),
  );
  expect((await hostRow(agentId)).highest_sequence).toBe('6');
});
