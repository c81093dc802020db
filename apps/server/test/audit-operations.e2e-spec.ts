import { Command, CommanderError } from 'commander';
import { randomBytes } from 'node:crypto';
import { createSocket } from 'node:dgram';
import { existsSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import * as path from 'node:path';
import { Client } from 'pg';
import { DataSource } from 'typeorm';
import { AuditCheckpointService } from '../src/audit/audit-checkpoint.service';
import { AuditQueryService } from '../src/audit/audit-query.service';
import { AuditService } from '../src/audit/audit.service';
import { AuditKeyError } from '../src/audit/checkpoint-signing';
import { CliContext, defaultContext } from '../src/cli/context';
import { buildProgram } from '../src/cli/program';
import { ConfigurationService } from '../src/config/configuration.service';
import { EnvironmentError, parseEnvironment } from '../src/config/environment';
import { createDataSource } from '../src/database/data-source';
import { runMigrations } from '../src/database/migrate';
import { startServer } from '../src/server';
import { createLogger } from '../src/logging/logger';
import { testAuditDir, testAuditEnv } from './support/audit';
import { createTestDatabase, TestDatabase } from './support/database';
import { testEnv } from './support/server';

// Real PostgreSQL on a loaded CI machine: seconds, not the default 5.
jest.setTimeout(60_000);

// Operating the trail against real PostgreSQL: the bank's lock-down (a role
// that may only SELECT and INSERT), the CLI verify, the retention purge and
// its tombstone, syslog delivery, and the settings refused at boot.

const DAY = 86_400_000;
let db: TestDatabase;
let ds: DataSource;
let checkpointFile: string;
let config: ConfigurationService;
let audit: AuditService;
let checkpoints: AuditCheckpointService;
const roles: string[] = [];

async function cli(args: string[], env: Record<string, string> = {}) {
  const out: string[] = [];
  const err: string[] = [];
  const ctx: CliContext = defaultContext({
    env: () => testEnv(db.url, { AUDIT_CHECKPOINT_FILE: checkpointFile, ...env }),
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
  return { code, stdout: out.join('\n'), stderr: err.join('\n') };
}

beforeAll(async () => {
  db = await createTestDatabase();
  ds = await createDataSource(db.url, 3).initialize();
  await runMigrations(ds);
  checkpointFile = path.join(testAuditDir(), `${db.name}-ops.jsonl`);
  config = new ConfigurationService(testEnv(db.url, { AUDIT_CHECKPOINT_FILE: checkpointFile }));
  audit = new AuditService(ds, config);
  checkpoints = new AuditCheckpointService(ds, audit, config);
  // Ten entries from 200 days ago (written through the one path with that clock), then five now.
  await ds.transaction(async (em) => {
    for (let i = 1; i <= 10; i++) {
      await audit.append(
        em,
        { actor: 'old', action: 'test.old', outcome: 'success', details: { i } },
        Date.now() - 200 * DAY + i,
      );
    }
  });
  for (let i = 11; i <= 15; i++)
    await audit.record({ actor: 'new', action: 'test.new', outcome: 'success', details: { i } });
  await checkpoints.checkpoint();
}, 60_000);

afterAll(async () => {
  await ds?.destroy();
  await db?.drop();
  const admin = new Client({ connectionString: db.url.replace(/\/[^/]*$/, '/postgres') });
  await admin.connect();
  for (const r of roles) await admin.query(`DROP ROLE IF EXISTS ${r}`);
  await admin.end();
});

it('audit verify (CLI) prints the result as JSON', async () => {
  const ok = await cli(['audit', 'verify', '--full']);
  expect(ok.code).toBe(0);
  expect(JSON.parse(ok.stdout)).toMatchObject({ ok: true, checked: 15, checkpointsChecked: 1 });
  const inc = await cli(['audit', 'verify']);
  expect(JSON.parse(inc.stdout)).toMatchObject({
    ok: true,
    mode: 'incremental',
    from: '15',
    checked: 1,
  });
});

it('a locked-down app role cannot UPDATE, DELETE, TRUNCATE or unhook the triggers, and still writes', async () => {
  const suffix = randomBytes(4).toString('hex');
  const owner = `tw_audit_owner_${suffix}`;
  const app = `tw_audit_app_${suffix}`;
  roles.push(app, owner);
  await db.query(`CREATE ROLE ${app} LOGIN`);
  const r = await cli(['audit', 'lock-down', '--owner', owner, '--app-role', app]);
  expect(r).toMatchObject({ code: 0 });
  const url = new URL(db.url);
  url.username = app;
  const c = new Client({ connectionString: url.toString() });
  await c.connect();
  try {
    for (const sql of [
      `UPDATE audit_entries SET actor = 'mallory' WHERE sequence = 12`,
      `DELETE FROM audit_entries WHERE sequence = 12`,
      `TRUNCATE audit_entries`,
      `ALTER TABLE audit_entries DISABLE TRIGGER ALL`,
    ]) {
      await expect(c.query(sql)).rejects.toMatchObject({ code: '42501' });
    }
  } finally {
    await c.end();
  }
  // Through the one write path, as that role.
  const appDs = await createDataSource(url.toString(), 1).initialize();
  try {
    const appConfig = new ConfigurationService(
      testEnv(url.toString(), { AUDIT_CHECKPOINT_FILE: checkpointFile }),
    );
    await new AuditService(appDs, appConfig).record({
      actor: 'app',
      action: 'test.as_app',
      outcome: 'success',
    });
  } finally {
    await appDs.destroy();
  }
  const [row] = await db.query<{ actor: string }>(
    `SELECT actor FROM audit_entries ORDER BY sequence DESC LIMIT 1`,
  );
  expect(row.actor).toBe('app');
  expect(await checkpoints.verify('full')).toMatchObject({ ok: true, checked: 16 });
});

it('purges only past the retention, leaves a tombstone, and still verifies', async () => {
  // Entries younger than 180 days never leave, whoever calls audit_purge().
  await expect(db.query('SELECT * FROM audit_purge(12)')).rejects.toMatchObject({ code: '42501' });
  const res = await new AuditQueryService(ds, audit, config).purge({
    actor: 'auditor',
    actorRole: 'auditadmin',
    source: '198.18.0.5',
  });
  expect(res).toEqual({
    purged: '10',
    firstPurgedSequence: '1',
    lastPurgedSequence: '10',
    tombstoneSequence: '17',
    retentionDays: 180,
  });
  const left = await db.query<{ seq: string; action: string }>(
    'SELECT sequence::text AS seq, action FROM audit_entries ORDER BY sequence',
  );
  expect(left.map((x) => x.seq)).toEqual(['11', '12', '13', '14', '15', '16', '17']);
  expect(left[6].action).toBe('audit.purged');
  expect(await checkpoints.verify('full')).toMatchObject({ ok: true, checked: 7 });
});

it('sends checkpoints to syslog over UDP, and says when the local syslog is unreachable', async () => {
  const sock = createSocket('udp4');
  await new Promise<void>((r) => sock.bind(0, '127.0.0.1', r));
  const port = (sock.address() as AddressInfo).port;
  const got = new Promise<string>((resolve) => sock.on('message', (m) => resolve(m.toString())));
  try {
    const udpConfig = new ConfigurationService(
      testEnv(db.url, {
        AUDIT_CHECKPOINT_FILE: checkpointFile,
        AUDIT_SYSLOG: `udp://127.0.0.1:${port}`,
      }),
    );
    await audit.record({ actor: 'x', action: 'test.syslog', outcome: 'success' });
    const svc = new AuditCheckpointService(ds, audit, udpConfig);
    const c = await svc.checkpoint();
    const line = await got;
    expect(line).toContain('tidewatch-audit');
    expect(line).toContain(`"sequence":"${c?.sequence}"`);
    expect(line).toContain(`"sig":"${c?.sig}"`);
    expect(svc.syslogState).toEqual({ state: 'ok' });
  } finally {
    sock.close();
  }
  const localConfig = new ConfigurationService(
    testEnv(db.url, { AUDIT_CHECKPOINT_FILE: checkpointFile, AUDIT_SYSLOG: 'on' }),
  );
  await audit.record({ actor: 'x', action: 'test.syslog', outcome: 'success' });
  const local = new AuditCheckpointService(ds, audit, localConfig);
  await local.checkpoint();
  expect(local.syslogState.state).toBe(existsSync('/dev/log') ? 'ok' : 'unreachable');
});

it('refuses a retention under 180 days and a server without a signing key', async () => {
  expect(() => parseEnvironment({ DATABASE_URL: db.url, AUDIT_RETENTION_DAYS: '179' })).toThrow(
    new EnvironmentError(
      'AUDIT_RETENTION_DAYS must be at least 180 (six months, Cybersecurity Law / MLPS 2.0), got 179',
    ),
  );
  const env = parseEnvironment({
    ...testAuditEnv(db.url),
    DATABASE_URL: db.url,
    HTTP_PORT: '0',
    GRPC_PORT: '0',
    AUDIT_SIGNING_KEY_FILE: '',
  });
  await expect(
    startServer({ ...env, audit: { ...env.audit, checkpointFile: null } }, createLogger('silent')),
  ).rejects.toThrow(AuditKeyError);
});

it('audit verify (CLI) exits 1 and names the entry a superuser changed', async () => {
  await db.query('BEGIN');
  await db.query('ALTER TABLE audit_entries DISABLE TRIGGER audit_entries_no_update');
  await db.query(`UPDATE audit_entries SET reason = 'edited' WHERE sequence = 13`);
  await db.query('ALTER TABLE audit_entries ENABLE ALWAYS TRIGGER audit_entries_no_update');
  await db.query('COMMIT');
  const r = await cli(['audit', 'verify', '--full']);
  expect(r.code).toBe(1);
  expect(JSON.parse(r.stdout)).toMatchObject({ ok: false, brokenAt: '13' });
  expect(r.stderr).toBe(
    'audit trail broken at sequence 13: entry 13 does not match its hash: it was modified',
  );
});
