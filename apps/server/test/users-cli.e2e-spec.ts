import { Command, CommanderError } from 'commander';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { verifyPassword } from '../src/auth/password-hash';
import { CliContext, defaultContext } from '../src/cli/context';
import { buildProgram } from '../src/cli/program';
import { parseEnvironment } from '../src/config/environment';
import { testAuditEnv } from './support/audit';
import { createTestDatabase, TestDatabase } from './support/database';

// `tidewatch-server users …` against real PostgreSQL: the first administrators
// come from here (DESIGN.md), and every change is on the audit trail.

jest.setTimeout(120_000);

let db: TestDatabase;
let dir: string;

async function cli(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const out: string[] = [];
  const err: string[] = [];
  const ctx: CliContext = defaultContext({
    env: () => parseEnvironment({ DATABASE_URL: db.url, ...testAuditEnv(db.url) }),
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
    if (e instanceof CommanderError) code = e.exitCode;
    else {
      code = 1;
      err.push((e as Error).message);
    }
  }
  return { code, stdout: out.join('\n').trim(), stderr: err.join('\n').trim() };
}

const stored = async (username: string) =>
  (
    await db.query<{
      password_hash: string;
      must_change_password: boolean;
      role: string;
      disabled: boolean;
    }>(
      `SELECT password_hash, must_change_password, role, disabled_at IS NOT NULL AS disabled
         FROM users WHERE username = $1`,
      [username],
    )
  )[0];

beforeAll(async () => {
  db = await createTestDatabase();
  dir = mkdtempSync(path.join(tmpdir(), 'tw-users-cli-'));
  expect((await cli(['migrate', 'run'])).code).toBe(0);
});

afterAll(async () => {
  await db?.drop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

it('creates the first administrator with a generated password, printed once, to be changed', async () => {
  const r = await cli(['users', 'create', '--username', 'alice', '--role', 'secadmin']);
  expect(r.code).toBe(0);
  expect(r.stdout).toMatch(/^[A-Za-z0-9_-]{20}$/);
  expect(r.stderr).toMatch(/created secadmin "alice".*shown once.*changed at first sign-in/);
  const row = await stored('alice');
  expect(row.role).toBe('secadmin');
  expect(row.must_change_password).toBe(true);
  expect(row.password_hash).toMatch(/^\$scrypt\$ln=17,r=8,p=1\$/);
  expect(await verifyPassword(r.stdout, row.password_hash)).toBe(true);
  // Printed once: the password itself is nowhere in the database.
  const dump = await db.query<{ t: string }>(`SELECT row_to_json(u)::text AS t FROM users u`);
  expect(dump.some((d) => d.t.includes(r.stdout))).toBe(false);
  const trail = await db.query<{ actor: string; outcome: string }>(
    `SELECT actor, outcome FROM audit_entries WHERE action = 'user.created' AND target = 'alice'`,
  );
  expect(trail).toHaveLength(1);
  expect(trail[0].actor).toMatch(/^cli:/);
  expect(trail[0].outcome).toBe('success');
});

it('takes a password from a file as given (no forced change), and checks the policy', async () => {
  const file = path.join(dir, 'pw');
  writeFileSync(file, 'a-good-long-passphrase\n', { mode: 0o600 });
  const r = await cli([
    'users',
    'create',
    '--username',
    'bob',
    '--role',
    'sysadmin',
    '--password-file',
    file,
  ]);
  expect(r).toMatchObject({ code: 0, stdout: 'created sysadmin "bob"' });
  const row = await stored('bob');
  expect(row.must_change_password).toBe(false);
  expect(await verifyPassword('a-good-long-passphrase', row.password_hash)).toBe(true);

  writeFileSync(file, 'short\n');
  const weak = await cli([
    'users',
    'create',
    '--username',
    'carol',
    '--role',
    'viewer',
    '--password-file',
    file,
  ]);
  expect(weak.code).toBe(1);
  expect(weak.stderr).toMatch(/at least 12 characters/);
  expect(await stored('carol')).toBeUndefined();
});

it('refuses an unknown role, a taken username and a second administrator role', async () => {
  expect((await cli(['users', 'create', '--username', 'x', '--role', 'root'])).code).not.toBe(0);
  const again = await cli(['users', 'create', '--username', 'ALICE', '--role', 'viewer']);
  expect(again.code).toBe(1);
  expect(again.stderr).toMatch(/already exists/);
  const second = await cli(['users', 'set-role', 'bob', 'auditadmin']);
  expect(second.code).toBe(1);
  expect(second.stderr).toMatch(/held by different users/);
  expect((await stored('bob')).role).toBe('sysadmin');
});

it('lists, disables, enables, unlocks and resets', async () => {
  const list = await cli(['users', 'list']);
  expect(list.stdout.split('\n').map((l) => l.split(/\s+/).slice(0, 3).join(' '))).toEqual([
    'alice secadmin active',
    'bob sysadmin active',
  ]);
  expect((await cli(['users', 'disable', 'bob'])).stdout).toBe('disabled "bob"');
  expect((await stored('bob')).disabled).toBe(true);
  expect((await cli(['users', 'list'])).stdout).toMatch(/bob\s+sysadmin\s+disabled/);
  expect((await cli(['users', 'enable', 'bob'])).stdout).toBe('enabled "bob"');
  await db.query(
    `UPDATE users SET locked_until = now() + interval '1 hour' WHERE username = 'bob'`,
  );
  expect((await cli(['users', 'list'])).stdout).toMatch(/bob\s+sysadmin\s+locked/);
  expect((await cli(['users', 'unlock', 'bob'])).stdout).toBe('unlocked "bob"');
  const reset = await cli(['users', 'reset', 'bob', '--totp']);
  expect(reset.code).toBe(0);
  const row = await stored('bob');
  expect(row.must_change_password).toBe(true);
  expect(await verifyPassword(reset.stdout, row.password_hash)).toBe(true);
  expect((await cli(['users', 'reset', 'nobody'])).stderr).toMatch(/no user "nobody"/);
});
