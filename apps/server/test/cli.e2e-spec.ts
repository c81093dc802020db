import { Command, CommanderError } from 'commander';
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { userInfo } from 'node:os';
import { buildProgram } from '../src/cli/program';
import { CliContext, defaultContext } from '../src/cli/context';
import { parseEnvironment } from '../src/config/environment';
import { MIGRATIONS } from '../src/database/migrations';
import { BIN, assertBuilt } from './support/child-server';
import { createTestDatabase, TestDatabase } from './support/database';

// The CLI against real PostgreSQL: the built bin for what only a process can
// show (exit codes, fail-fast at boot), the same program in-process for the rest.

let db: TestDatabase;

function spawnCli(args: string[], env: Record<string, string | undefined> = {}) {
  const r = spawnSync(process.execPath, [BIN, ...args], {
    env: { ...process.env, DATABASE_URL: db.url, LOG_LEVEL: 'silent', ...env },
    encoding: 'utf8',
    timeout: 30_000,
  });
  return { code: r.status, stdout: r.stdout.trim(), stderr: r.stderr.trim() };
}

/** Runs the commander program in this process, capturing stdout/stderr. */
async function cli(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const out: string[] = [];
  const err: string[] = [];
  const ctx: CliContext = defaultContext({
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
    if (e instanceof CommanderError) code = e.exitCode;
    else {
      code = 1;
      err.push((e as Error).message);
    }
  }
  return { code, stdout: out.join('\n').trim(), stderr: err.join('\n').trim() };
}

beforeAll(async () => {
  assertBuilt();
  db = await createTestDatabase();
});

afterAll(async () => {
  await db?.drop();
});

it('the installed bin prints help', () => {
  const r = spawnCli(['--help']);
  expect(r.code).toBe(0);
  expect(r.stdout).toMatch(/serve[\s\S]*migrate[\s\S]*enroll[\s\S]*agents/);
});

it.each([
  [['serve'], /--no-migrate/],
  [['migrate'], /run[\s\S]*revert[\s\S]*show/],
  [['migrate', 'run'], /apply every pending migration/],
  [['enroll'], /create[\s\S]*revoke[\s\S]*list/],
  [['enroll', 'create'], /--name <name>[\s\S]*--expires <duration>/],
  [['enroll', 'revoke'], /id-or-name/],
  [['agents'], /revoke[\s\S]*reset/],
  [['agents', 'revoke'], /agent-id/],
  [['agents', 'reset'], /agent-id[\s\S]*enroll again/],
])('%j --help', async (args, pattern) => {
  const r = await cli([...(args as string[]), '--help']);
  expect(r.code).toBe(0);
  expect(r.stdout).toMatch(pattern as RegExp);
});

it('fails fast with a clear message when the database is unreachable or unset', () => {
  const started = Date.now();
  const r = spawnCli(['serve'], { DATABASE_URL: 'postgres://postgres@127.0.0.1:9/nowhere' });
  expect(r.code).toBe(1);
  expect(r.stderr).toMatch(
    /cannot connect to PostgreSQL at postgres:\/\/postgres@127\.0\.0\.1:9\/nowhere/,
  );
  expect(Date.now() - started).toBeLessThan(15_000);
  const unset = spawnCli(['migrate', 'show'], { DATABASE_URL: '' });
  expect(unset.code).toBe(1);
  expect(unset.stderr).toMatch(/DATABASE_URL is required/);
});

it('never echoes the database password in a boot error', () => {
  const secret = 'S3cr3t-pw_x';
  const cases = [
    // userinfo password, and ?password=: redacted in the URL and in the driver's message
    [
      `postgres://tw:${secret}@127.0.0.1:9/nowhere`,
      /postgres:\/\/tw:\*\*\*@127\.0\.0\.1:9\/nowhere/,
    ],
    [`postgres://tw@127.0.0.1:9/nowhere?password=${secret}`, /password=\*\*\*/],
    // an unencoded '@' in the password (taken as part of it)
    [`postgres://tw:${secret}@x@127.0.0.1:9/nowhere`, /postgres:\/\/tw:\*\*\*@127\.0\.0\.1:9/],
    // not a URL at all (an unencoded '#', a broken host): the value is not repeated
    [`postgres://tw:${secret}#x@127.0.0.1:9/nowhere`, /DATABASE_URL is not a URL/],
    [`postgres://tw:${secret}@[::1/nowhere`, /DATABASE_URL is not a URL/],
  ] as const;
  for (const [url, shown] of cases) {
    for (const args of [['serve'], ['migrate', 'show']]) {
      const r = spawnCli(args, { DATABASE_URL: url });
      expect({ url, args, code: r.code }).toEqual({ url, args, code: 1 });
      expect(r.stderr).toMatch(shown);
      expect(r.stderr).not.toContain(secret);
      expect(r.stderr).not.toContain('S3cr3t');
      expect(r.stdout).not.toContain('S3cr3t');
    }
  }
});

it('refuses to serve a database whose schema is behind', () => {
  const r = spawnCli(['serve', '--no-migrate']);
  expect(r.code).toBe(1);
  expect(r.stderr).toMatch(/schema is behind.*migrate run/);
});

it('runs, shows and reverts migrations', async () => {
  expect((await cli(['migrate', 'show'])).stdout).toMatch(/^\[ \] Initial/);
  expect((await cli(['migrate', 'run'])).stdout).toMatch(/applied: Initial/);
  expect((await cli(['migrate', 'show'])).stdout).toMatch(/^\[X\] Initial/);
  expect((await cli(['migrate', 'run'])).stdout).toBe('schema is up to date');
  // Newest first, one per revert, down to none (every committed migration has a down).
  for (let i = MIGRATIONS.length - 1; i >= 0; i--) {
    const name = new MIGRATIONS[i]().name as string;
    expect((await cli(['migrate', 'revert'])).stdout).toBe(`reverted: ${name}`);
    const shown = (await cli(['migrate', 'show'])).stdout.split('\n');
    expect(shown[i]).toMatch(new RegExp(`^\\[ \\] ${name}`));
    if (i > 0) expect(shown[i - 1]).toMatch(/^\[X\] /);
  }
  expect((await cli(['migrate', 'show'])).stdout).toMatch(/^\[ \] Initial/);
  expect((await cli(['migrate', 'run'])).code).toBe(0);
  // Every migration down and up again, one connection per command: seconds on a loaded machine.
}, 60_000);

it('creates enrollment tokens (hash stored, token printed once), lists and revokes them', async () => {
  const r = await cli([
    'enroll',
    'create',
    '--name',
    'dc1-rollout',
    '--expires',
    '2h',
    '--uses',
    '5',
  ]);
  expect(r.code).toBe(0);
  expect(r.stdout).toMatch(/^twe_[A-Za-z0-9_-]{43}$/);
  const [row] = await db.query<{ token_hash: Buffer; max_uses: number; hours: string }>(
    `SELECT token_hash, max_uses, round(extract(epoch FROM expires_at - created_at) / 3600) AS hours FROM enrollment_tokens`,
  );
  expect(row.token_hash.equals(createHash('sha256').update(r.stdout).digest())).toBe(true);
  expect(row.max_uses).toBe(5);
  expect(Number(row.hours)).toBe(2);
  const dump = await db.query<{ t: string }>(
    `SELECT row_to_json(e)::text AS t FROM enrollment_tokens e`,
  );
  expect(dump[0].t).not.toContain(r.stdout.slice(4));
  expect((await cli(['enroll', 'list'])).stdout).toMatch(/live\s+uses 0\/5.*dc1-rollout/);
  expect((await cli(['enroll', 'revoke', 'dc1-rollout'])).stdout).toBe('revoked 1 token(s)');
  expect((await cli(['enroll', 'list'])).stdout).toMatch(/revoked/);
  const again = await cli(['enroll', 'revoke', 'dc1-rollout']);
  expect(again.code).toBe(1);
  expect(again.stderr).toMatch(/no live enrollment token/);
  // Both on the audit trail with the operator at the terminal; the refused revoke wrote nothing,
  // and no entry holds the token itself.
  const [{ id: tokenId }] = await db.query<{ id: string }>(`SELECT id FROM enrollment_tokens`);
  const entries = await db.query<{ actor: string; action: string; target: string; t: string }>(
    `SELECT actor, action, target, row_to_json(a)::text AS t FROM audit_entries a
      WHERE action LIKE 'enrollment.%' ORDER BY sequence`,
  );
  expect(entries.map(({ actor, action, target }) => ({ actor, action, target }))).toEqual([
    { actor: `cli:${userInfo().username}`, action: 'enrollment.token_created', target: tokenId },
    {
      actor: `cli:${userInfo().username}`,
      action: 'enrollment.token_revoked',
      target: 'dc1-rollout',
    },
  ]);
  for (const e of entries) expect(e.t).not.toContain(r.stdout.slice(4));
  const bad = await cli(['enroll', 'create', '--name', 'x', '--expires', '5 weeks']);
  expect(bad.code).not.toBe(0);
  expect(bad.stderr).toMatch(/duration must look like/);
});

it('revokes agents by id and explains mistakes', async () => {
  const id = '55555555-5555-4555-8555-555555555555';
  await db.query(
    `INSERT INTO hosts (agent_id, hostname, credential_hash) VALUES ($1, 'h', '\\x00')`,
    [id],
  );
  expect((await cli(['agents', 'revoke', id])).stdout).toBe(`revoked agent ${id}`);
  const [h] = await db.query<{ revoked: boolean; credential_hash: Buffer | null }>(
    `SELECT revoked_at IS NOT NULL AS revoked, credential_hash FROM hosts WHERE agent_id = $1`,
    [id],
  );
  expect(h).toEqual({ revoked: true, credential_hash: null });
  // On the audit trail, with the operator at the terminal as the actor.
  expect(
    await db.query(`SELECT actor, action, outcome FROM audit_entries WHERE target = $1`, [id]),
  ).toEqual([{ actor: `cli:${userInfo().username}`, action: 'agent.revoked', outcome: 'success' }]);
  expect((await cli(['agents', 'revoke', id])).stderr).toMatch(/no live agent/);
  expect((await cli(['agents', 'revoke', 'db-1'])).stderr).toMatch(/agent id must be a UUID/);
});
