import { SignInPolicyService } from '../src/auth/policy/sign-in-policy.service';
import type { RunningServer } from '../src/server';
import { bearer, createTestUser, login, tokenFor } from './support/auth';
import { createTestDatabase, TestDatabase } from './support/database';
import { startTestServer } from './support/server';

// The sign-in policy as the security administrator's setting: GET/PUT /api/v1/auth/policy
// against the real server and PostgreSQL. Ground truth: the environment's defaults before
// the first change, what was PUT after it (in the database, in every replica, after a
// restart), each change on the audit trail with old and new values, and sign-in itself
// obeying the new numbers (lockout, length, expiry, TOTP roles) at once.

jest.setTimeout(120_000);

let db: TestDatabase;
let server: RunningServer;
let replica: RunningServer | null = null;
let secadmin: string;

const ENV_POLICY = {
  passwordMinLength: 12,
  passwordHistory: 5,
  passwordMaxAgeDays: 90,
  lockoutThreshold: 5,
  lockoutWindowMinutes: 15,
  lockoutMinutes: 30,
  totpRoles: ['sysadmin', 'secadmin', 'auditadmin'],
};

async function send(method: string, path: string, token: string | null, body?: unknown) {
  const res = await fetch(`http://127.0.0.1:${server.httpPort}/api/v1/${path}`, {
    method,
    headers: {
      ...(token ? bearer(token) : {}),
      ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
    },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  return { status: res.status, body: (text ? JSON.parse(text) : null) as Record<string, unknown> };
}

const policyAudit = () =>
  db.query<{ actor: string; outcome: string; reason: string | null; details: unknown }>(
    `SELECT actor, outcome, reason, details FROM audit_entries
      WHERE action = 'auth.policy_changed' ORDER BY sequence`,
  );

beforeAll(async () => {
  db = await createTestDatabase();
  server = await startTestServer(db.url);
  secadmin = await tokenFor(server, 'secadmin');
});

afterAll(async () => {
  await replica?.close();
  await server?.close();
  await db?.drop();
});

it('answers the environment policy until the first change', async () => {
  const r = await send('GET', 'auth/policy', secadmin);
  expect(r.status).toBe(200);
  expect(r.body).toEqual({
    ...ENV_POLICY,
    source: 'environment',
    updatedAt: null,
    updatedBy: null,
  });
  expect(await db.query(`SELECT * FROM security_settings`)).toEqual([]);
});

it('refuses out-of-bounds, unknown and missing fields (400), and TOTP lifted from an administrator', async () => {
  for (const body of [
    { ...ENV_POLICY, passwordMinLength: 7 },
    { ...ENV_POLICY, lockoutThreshold: 0 },
    { ...ENV_POLICY, passwordHistory: 1.5 },
    { ...ENV_POLICY, lockoutMinutes: '30' },
    { ...ENV_POLICY, totpRoles: ['sysadmin', 'secadmin', 'auditadmin', 'root'] },
    { ...ENV_POLICY, extra: 1 },
    (({ lockoutMinutes: _omit, ...rest }) => rest)(ENV_POLICY),
  ]) {
    expect({ body, status: (await send('PUT', 'auth/policy', secadmin, body)).status }).toEqual({
      body,
      status: 400,
    });
  }
  const dropped = await send('PUT', 'auth/policy', secadmin, {
    ...ENV_POLICY,
    totpRoles: ['secadmin', 'auditadmin'],
  });
  expect(dropped.status).toBe(400);
  expect(String(dropped.body.message)).toContain('missing: sysadmin');
  // Nothing stored; the refusal of the TOTP change is on the trail (the 400s of the pipe are not changes).
  expect(await db.query(`SELECT * FROM security_settings`)).toEqual([]);
  const audit = await policyAudit();
  expect(audit.map((a) => [a.outcome, a.reason])).toEqual([
    ['denied', 'TOTP cannot be lifted from administrator roles (sysadmin)'],
  ]);
});

it('stores a change, audits old and new values of what changed, and every replica follows', async () => {
  replica = await startTestServer(db.url);
  const next = {
    ...ENV_POLICY,
    passwordMinLength: 16,
    lockoutThreshold: 2,
    passwordMaxAgeDays: 1,
    totpRoles: ['operator', 'sysadmin', 'secadmin', 'auditadmin'],
  };
  const r = await send('PUT', 'auth/policy', secadmin, next);
  expect(r.status).toBe(200);
  expect(r.body).toMatchObject({
    ...next,
    totpRoles: ['sysadmin', 'secadmin', 'auditadmin', 'operator'],
    source: 'stored',
  });
  const [row] = await db.query<{ value: unknown }>(`SELECT value FROM security_settings`);
  expect(row.value).toEqual({
    ...next,
    totpRoles: ['sysadmin', 'secadmin', 'auditadmin', 'operator'],
  });
  const audit = await policyAudit();
  expect(audit.length).toBe(2);
  expect(audit[1]).toMatchObject({ outcome: 'success', reason: null });
  const details = audit[1].details;
  expect(typeof details === 'string' ? JSON.parse(details) : details).toEqual({
    from: {
      passwordMinLength: 12,
      lockoutThreshold: 5,
      passwordMaxAgeDays: 90,
      totpRoles: ['sysadmin', 'secadmin', 'auditadmin'],
    },
    to: {
      passwordMinLength: 16,
      lockoutThreshold: 2,
      passwordMaxAgeDays: 1,
      totpRoles: ['sysadmin', 'secadmin', 'auditadmin', 'operator'],
    },
    firstChange: true,
  });
  // The other replica hears the NOTIFY and reloads (waited for, not slept on).
  const other = replica.app.get(SignInPolicyService);
  const deadline = Date.now() + 20_000;
  while (other.current.lockoutThreshold !== 2 && Date.now() < deadline) {
    await new Promise((res) => setTimeout(res, 50));
  }
  expect(other.current).toEqual({
    ...next,
    totpRoles: ['sysadmin', 'secadmin', 'auditadmin', 'operator'],
  });
});

it('sign-in obeys the new policy at once: lockout threshold, length, expiry, TOTP roles', async () => {
  // Lockout: 2 failures now lock (the environment said 5).
  const v = await createTestUser(server, 'viewer');
  for (let i = 0; i < 2; i++) {
    expect(
      (await login(server.httpPort, { username: v.username, password: 'wrong-1' })).status,
    ).toBe(401);
  }
  expect(
    (await login(server.httpPort, { username: v.username, password: v.password })).status,
  ).toBe(423);
  const [lock] = await db.query<{ reason: string }>(
    `SELECT reason FROM audit_entries WHERE action = 'auth.lockout' AND target = $1`,
    [v.username],
  );
  expect(lock.reason).toBe('2 failed sign-ins within 15 min');

  // Length: 15 characters were fine before, not now.
  const short = await send('POST', 'users', secadmin, {
    username: 'short-pw',
    role: 'viewer',
    password: 'abcdefghijklmno',
  });
  expect(short.status).toBe(400);
  expect(String(short.body.message)).toContain('at least 16 characters');

  // Expiry (1 day): a password changed two days ago must be changed before anything else.
  const w = await createTestUser(server, 'viewer');
  const signedIn = await login(server.httpPort, { username: w.username, password: w.password });
  expect(signedIn.status).toBe(200);
  const token = signedIn.body.accessToken as string;
  expect((await send('GET', 'hosts', token)).status).toBe(200);
  await db.query(
    `UPDATE users SET password_changed_at = now() - interval '2 days' WHERE username = $1`,
    [w.username],
  );
  expect((await send('GET', 'hosts', token)).status).toBe(403);
  expect((await send('GET', 'auth/me', token)).body).toMatchObject({ mustChangePassword: true });

  // TOTP for operators now: an operator without it must enrol before anything else.
  const o = await createTestUser(server, 'viewer', 'op-no-totp');
  const [id] = await db.query<{ id: string }>(`SELECT id FROM users WHERE username = 'op-no-totp'`);
  await db.query(`UPDATE users SET role = 'operator' WHERE id = $1`, [id.id]);
  const op = await login(server.httpPort, { username: o.username, password: o.password });
  expect(op.status).toBe(200);
  const opToken = op.body.accessToken as string;
  expect((await send('GET', 'traffic/summary', opToken)).status).toBe(403);
  expect((await send('GET', 'auth/me', opToken)).body).toMatchObject({
    totpRequired: true,
    totpEnrolled: false,
  });
  const [denied] = await db.query<{ reason: string }>(
    `SELECT reason FROM audit_entries WHERE action = 'auth.forbidden' AND actor = 'op-no-totp'`,
  );
  expect(denied.reason).toBe('TOTP enrolment required for this role');
});

it('is the stored policy after a restart (the environment no longer decides)', async () => {
  await replica?.close();
  replica = await startTestServer(db.url, { AUTH_LOCKOUT_THRESHOLD: '9' });
  expect(replica.app.get(SignInPolicyService).describe()).toMatchObject({
    source: 'stored',
    policy: { lockoutThreshold: 2, passwordMinLength: 16 },
  });
});

it('refuses every role but secadmin (403), and no credentials (401)', async () => {
  expect((await send('PUT', 'auth/policy', null, ENV_POLICY)).status).toBe(401);
  for (const role of ['sysadmin', 'auditadmin', 'operator', 'viewer'] as const) {
    const t = await tokenFor(server, role);
    expect({ role, status: (await send('PUT', 'auth/policy', t, ENV_POLICY)).status }).toEqual({
      role,
      status: 403,
    });
  }
});
