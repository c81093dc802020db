import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { Hello } from '@tidewatch/proto';
import { AgentConfigService } from '../src/agent-config/agent-config.service';
import { AuditCheckpointService } from '../src/audit/audit-checkpoint.service';
import { AuditUnavailableError } from '../src/audit/audit.errors';
import { EnrollmentService } from '../src/enrollment/enrollment.service';
import type { RunningServer } from '../src/server';
import { AgentStream, ingestClient } from './support/agent-client';
import { testAuditEnv } from './support/audit';
import { createTestDatabase, TestDatabase } from './support/database';
import { startTestServer } from './support/server';

// Real PostgreSQL on a loaded CI machine: seconds, not the default 5.
jest.setTimeout(60_000);

// The agent lifecycle on the trail, with a real server, real gRPC streams and
// real PostgreSQL. Ground truth: what this test made the agent do, in order.

let db: TestDatabase;
let server: RunningServer;

interface Row {
  action: string;
  actor: string | null;
  target: string | null;
  outcome: string;
  reason: string | null;
  details: string | null;
}

const trailFor = (agentId: string) =>
  db.query<Row>(
    `SELECT action, actor, target, outcome, reason, details FROM audit_entries
      WHERE target = $1 ORDER BY sequence`,
    [agentId],
  );

/** Waits for the trail to hold `n` entries for the agent (the entry is the event). */
async function entries(agentId: string, n: number): Promise<Row[]> {
  const deadline = Date.now() + 10_000;
  for (;;) {
    const rows = await trailFor(agentId);
    if (rows.length >= n || Date.now() > deadline) return rows;
    await new Promise((r) => setTimeout(r, 50));
  }
}

const hello = (agentId: string, h: Partial<Hello>): Hello => ({
  agentId,
  hostname: `life-${agentId.slice(0, 8)}`,
  agentVersion: '0.1.0',
  ...h,
});

beforeAll(async () => {
  db = await createTestDatabase();
  server = await startTestServer(db.url);
}, 60_000);

afterAll(async () => {
  await server?.close();
  await db?.drop();
});

it('records enrolled, connected, config changed and applied, spool overflow, disconnected, refused', async () => {
  const agentId = randomUUID();
  const token = (await server.app.get(EnrollmentService).create('life', 3_600_000, null)).token;
  const first = new AgentStream(ingestClient(server.grpcPort));
  const welcome = await first.hello(hello(agentId, { enrollmentToken: token }));
  const credential = welcome.agentCredential;

  await server.app.get(AgentConfigService).update(
    agentId,
    {
      windowSeconds: 5,
      topN: 10,
      portAllowlist: [22],
      masking: 'unspecified',
      maxFlowsPerWindow: 0,
      cpuBudgetPercent: 0,
    },
    { actor: 'ops-sys', actorRole: 'sysadmin', source: '198.18.0.20', requestId: 'req-1' },
  );
  // The masking policy is the security administrator's: its own call and entry.
  await server.app
    .get(AgentConfigService)
    .setMasking(agentId, 'none', { actor: 'sec-1', actorRole: 'secadmin', source: '198.18.0.21' });
  first.call.write({ configApplied: { version: 2, ok: false, error: 'top_n 10: refused' } });
  await entries(agentId, 5);
  await first.close();
  await entries(agentId, 6);

  // Reconnect with the credential, declaring that the spool dropped batches 1–4.
  const second = new AgentStream(ingestClient(server.grpcPort));
  await second.hello(hello(agentId, { agentCredential: credential, oldestSequence: 5 }));
  await second.close();
  await entries(agentId, 9);
  // A wrong credential is refused, and that is on the trail too.
  const bad = new AgentStream(ingestClient(server.grpcPort));
  bad.call.write({ hello: hello(agentId, { agentCredential: `${credential}x` }) });
  await bad.ended;

  const rows = await entries(agentId, 10);
  expect(rows.map((r) => [r.action, r.outcome])).toEqual([
    ['agent.enrolled', 'success'],
    ['agent.connected', 'success'],
    ['agent.config_changed', 'success'],
    ['agent.masking_changed', 'success'],
    ['agent.config_applied', 'failure'],
    ['agent.disconnected', 'success'],
    ['agent.spool_overflow', 'failure'],
    ['agent.connected', 'success'],
    ['agent.disconnected', 'success'],
    ['agent.connect', 'denied'],
  ]);
  expect(rows[2]).toMatchObject({ actor: 'ops-sys' });
  expect(JSON.parse(rows[2].details ?? '{}')).toMatchObject({
    version: 2,
    config: { windowSeconds: 5, topN: 10 },
    // What it replaced: the defaults (version 1).
    previous: { version: 1, masking: 'unspecified', portAllowlist: [] },
  });
  // The masking policy change, old and new, on its own entry.
  expect(rows[3]).toMatchObject({ actor: 'sec-1' });
  expect(JSON.parse(rows[3].details ?? '{}')).toEqual({
    version: 3,
    from: 'unspecified',
    to: 'none',
  });
  expect(rows[4]).toMatchObject({ actor: `agent:${agentId}`, reason: 'top_n 10: refused' });
  expect(JSON.parse(rows[6].details ?? '{}')).toEqual({
    firstLostSequence: 1,
    lastLostSequence: 4,
  });
  expect(JSON.parse(rows[7].details ?? '{}')).toMatchObject({ authenticatedBy: 'credential' });
  expect(await server.app.get(AuditCheckpointService).verify('full')).toMatchObject({ ok: true });
});

it('fails closed: a configuration change the trail cannot record is not made', async () => {
  const agentId = randomUUID();
  const token = (await server.app.get(EnrollmentService).create('life2', 3_600_000, null)).token;
  const s = new AgentStream(ingestClient(server.grpcPort));
  await s.hello(hello(agentId, { enrollmentToken: token }));
  await s.close();
  const configs = server.app.get(AgentConfigService);
  const before = await configs.state(agentId);
  await db.query(
    `ALTER TABLE audit_entries ADD CONSTRAINT test_unwritable CHECK (action <> 'agent.config_changed') NOT VALID`,
  );
  try {
    await expect(
      configs.update(
        agentId,
        {
          windowSeconds: 7,
          topN: 3,
          portAllowlist: [],
          masking: 'unspecified',
          maxFlowsPerWindow: 0,
          cpuBudgetPercent: 0,
        },
        { actor: 'ops-sys', actorRole: 'sysadmin' },
      ),
    ).rejects.toBeInstanceOf(AuditUnavailableError);
  } finally {
    await db.query('ALTER TABLE audit_entries DROP CONSTRAINT test_unwritable');
  }
  // The masking policy likewise.
  await db.query(
    `ALTER TABLE audit_entries ADD CONSTRAINT test_unwritable CHECK (action <> 'agent.masking_changed') NOT VALID`,
  );
  try {
    await expect(
      configs.setMasking(agentId, 'truncate', { actor: 'sec-1', actorRole: 'secadmin' }),
    ).rejects.toBeInstanceOf(AuditUnavailableError);
  } finally {
    await db.query('ALTER TABLE audit_entries DROP CONSTRAINT test_unwritable');
  }
  expect(await configs.state(agentId)).toEqual(before);
  expect((await trailFor(agentId)).map((r) => r.action)).not.toContain('agent.config_changed');
});

it('writes a heartbeat and a timed checkpoint on its own, and server.started/stopped', async () => {
  const file = testAuditEnv(db.url).AUDIT_CHECKPOINT_FILE;
  const replica = await startTestServer(db.url, {
    AUDIT_HEARTBEAT_SECONDS: '1',
    AUDIT_CHECKPOINT_INTERVAL_SECONDS: '1',
  });
  let closed = false;
  try {
    // The events themselves: a heartbeat entry, then a checkpoint that covers it.
    const deadline = Date.now() + 30_000;
    let beat: { seq: string } | undefined;
    let covered = false;
    while ((!beat || !covered) && Date.now() < deadline) {
      [beat] = await db.query<{ seq: string }>(
        `SELECT sequence::text AS seq FROM audit_entries WHERE action = 'audit.heartbeat' ORDER BY sequence LIMIT 1`,
      );
      const lines = readFileSync(file, 'utf8').trim().split('\n');
      covered =
        !!beat &&
        lines.some(
          (l) => BigInt((JSON.parse(l) as { sequence: string }).sequence) >= BigInt(beat!.seq),
        );
      if (!covered) await new Promise((r) => setTimeout(r, 100));
    }
    expect(beat).toBeDefined();
    expect(covered).toBe(true);
    await replica.close();
    closed = true;
    const [last] = await db.query<{ action: string }>(
      `SELECT action FROM audit_entries WHERE action LIKE 'server.%' ORDER BY sequence DESC LIMIT 1`,
    );
    expect(last.action).toBe('server.stopped');
  } finally {
    if (!closed) await replica.close();
  }
});
