import { authenticator } from 'otplib';
import { ApiTokensService } from '../src/auth/api-tokens.service';
import { hashPassword, parsePasswordHash } from '../src/auth/password-hash';
import type { RunningServer } from '../src/server';
import { UsersService } from '../src/users/users.service';
import { bearer, createTestUser, login, nextTotp, TEST_ACTOR, tokenFor } from './support/auth';
import { createTestDatabase, TestDatabase } from './support/database';
import { startTestServer } from './support/server';

// Sign-in against the real server and PostgreSQL: the login answer, lockout,
// TOTP (enrolment, replay), sessions (idle, absolute, logout, password change),
// the password policy, rehashing, the separated administrator roles and API
// tokens. Every outcome is also looked up in the audit trail.

// scrypt at N=2^17 costs ~0.5 s a hash on a loaded 2-core machine; these tests hash a lot.
jest.setTimeout(120_000);

let db: TestDatabase;
let server: RunningServer;
let port: number;

const call = async (
  method: string,
  path: string,
  opts: { token?: string; body?: unknown; headers?: Record<string, string> } = {},
) => {
  const res = await fetch(`http://127.0.0.1:${port}/api/v1${path}`, {
    method,
    headers: {
      ...(opts.body !== undefined ? { 'content-type': 'application/json' } : {}),
      ...(opts.token ? bearer(opts.token) : {}),
      ...opts.headers,
    },
    body: opts.body !== undefined ? JSON.stringify(opts.body) : undefined,
  });
  const text = await res.text();
  let body: Record<string, unknown> = {};
  try {
    body = JSON.parse(text) as Record<string, unknown>;
  } catch {
    // empty body
  }
  return { status: res.status, body };
};

const audit = (action: string, target: string) =>
  db.query<{ outcome: string; reason: string | null; actor: string | null }>(
    `SELECT outcome, reason, actor FROM audit_entries WHERE action = $1 AND target = $2 ORDER BY sequence`,
    [action, target],
  );

beforeAll(async () => {
  db = await createTestDatabase();
  // The per-address limit is tested on its own server below; here every test signs in from 127.0.0.1.
  server = await startTestServer(db.url, { AUTH_LOGIN_RATE_PER_MINUTE: '10000' });
  port = server.httpPort;
}, 60_000);

afterAll(async () => {
  await server?.close();
  await db?.drop();
});

describe('POST /api/v1/auth/login', () => {
  it('answers the documented shape and a HttpOnly, Secure, SameSite=Strict cookie', async () => {
    const u = await createTestUser(server, 'viewer');
    const r = await login(port, { username: u.username, password: u.password });
    expect(r.status).toBe(200);
    expect(Object.keys(r.body).sort()).toEqual(
      ['accessToken', 'expiresAt', 'mustChangePassword', 'user'].sort(),
    );
    expect(r.body.user).toEqual({ username: u.username, role: 'viewer' });
    expect(r.body.mustChangePassword).toBe(false);
    const token = r.body.accessToken as string;
    expect(token).toMatch(/^tws_[A-Za-z0-9_-]{43}$/);
    // Absolute lifetime 8 h by default.
    const life = Date.parse(r.body.expiresAt as string) - Date.now();
    expect(life).toBeGreaterThan(8 * 3_600_000 - 60_000);
    expect(life).toBeLessThanOrEqual(8 * 3_600_000);
    expect(r.setCookie).toMatch(new RegExp(`^tidewatch_session=${token};`));
    expect(r.setCookie).toMatch(/; HttpOnly/);
    expect(r.setCookie).toMatch(/; Secure/);
    expect(r.setCookie).toMatch(/; SameSite=Strict/);

    // The token as bearer, and the cookie, both work; only its hash is stored.
    expect((await call('GET', '/auth/me', { token })).body).toMatchObject({
      username: u.username,
      role: 'viewer',
      via: 'session',
    });
    const byCookie = await call('GET', '/auth/me', {
      headers: { cookie: `other=1; tidewatch_session=${token}` },
    });
    expect(byCookie.status).toBe(200);
    const stored = await db.query<{ n: string }>(
      `SELECT count(*)::text AS n FROM sessions WHERE position($1::bytea IN token_hash) > 0`,
      [Buffer.from(token)],
    );
    expect(stored[0].n).toBe('0');
    expect(await audit('auth.login', u.username)).toEqual([
      { outcome: 'success', reason: null, actor: u.username },
    ]);
  });

  it('gives unknown users and wrong passwords the same 401', async () => {
    const u = await createTestUser(server, 'operator');
    const wrong = await login(port, { username: u.username, password: 'not-the-password' });
    const unknown = await login(port, { username: 'nobody-here', password: 'not-the-password' });
    expect(wrong.status).toBe(401);
    expect(unknown.status).toBe(401);
    expect(wrong.body).toEqual(unknown.body);
    expect(wrong.setCookie).toBeNull();
    expect(await audit('auth.login', u.username)).toEqual([
      { outcome: 'failure', reason: 'wrong password', actor: u.username },
    ]);
  });

  it('locks the account after 5 failures in 15 minutes (423, even with the right password), audited', async () => {
    const u = await createTestUser(server, 'operator');
    for (let i = 1; i <= 5; i++) {
      expect((await login(port, { username: u.username, password: `wrong-${i}` })).status).toBe(
        401,
      );
    }
    const locked = await login(port, { username: u.username, password: u.password });
    expect(locked.status).toBe(423);
    expect(Date.parse(locked.body.lockedUntil as string) - Date.now()).toBeGreaterThan(29 * 60_000);
    const trail = await audit('auth.lockout', u.username);
    expect(trail).toHaveLength(1);
    expect(trail[0].outcome).toBe('denied');
    expect((await audit('auth.login', u.username)).map((e) => e.reason)).toEqual([
      'wrong password',
      'wrong password',
      'wrong password',
      'wrong password',
      'wrong password',
      'account locked',
    ]);
    // After the lock's 30 minutes (moved into the past here), the right password works.
    await db.query(
      `UPDATE users SET locked_until = now() - interval '1 second' WHERE username = $1`,
      [u.username],
    );
    expect((await login(port, { username: u.username, password: u.password })).status).toBe(200);
  }, 60_000);

  it('forgets failures older than the window', async () => {
    const u = await createTestUser(server, 'viewer');
    for (let i = 0; i < 4; i++) await login(port, { username: u.username, password: 'wrong' });
    await db.query(
      `UPDATE users SET failed_since = now() - interval '16 minutes' WHERE username = $1`,
      [u.username],
    );
    await login(port, { username: u.username, password: 'wrong' });
    const rows = await db.query<{ failed_attempts: number }>(
      `SELECT failed_attempts FROM users WHERE username = $1`,
      [u.username],
    );
    expect(rows[0].failed_attempts).toBe(1);
    expect((await login(port, { username: u.username, password: u.password })).status).toBe(200);
  }, 60_000);

  it('makes an expired password (older than 90 days) a required change', async () => {
    const u = await createTestUser(server, 'viewer');
    await db.query(
      `UPDATE users SET password_changed_at = now() - interval '91 days' WHERE username = $1`,
      [u.username],
    );
    const r = await login(port, { username: u.username, password: u.password });
    expect(r.status).toBe(200);
    expect(r.body.mustChangePassword).toBe(true);
    const token = r.body.accessToken as string;
    expect((await call('GET', '/traffic/summary', { token })).status).toBe(403);
    expect((await call('GET', '/auth/me', { token })).body).toMatchObject({
      mustChangePassword: true,
    });
  });

  it('rehashes a password made with other scrypt parameters at sign-in', async () => {
    const u = await createTestUser(server, 'viewer');
    await db.query(`UPDATE users SET password_hash = $2 WHERE username = $1`, [
      u.username,
      await hashPassword(u.password, { ln: 14, r: 8, p: 1 }),
    ]);
    expect((await login(port, { username: u.username, password: u.password })).status).toBe(200);
    const rows = await db.query<{ password_hash: string }>(
      `SELECT password_hash FROM users WHERE username = $1`,
      [u.username],
    );
    expect(parsePasswordHash(rows[0].password_hash)?.params).toEqual({ ln: 17, r: 8, p: 1 });
    expect((await login(port, { username: u.username, password: u.password })).status).toBe(200);
  });
});

describe('TOTP for the administrator roles', () => {
  it('needs a valid code, and a used code cannot be replayed', async () => {
    const u = await createTestUser(server, 'auditadmin');
    const creds = { username: u.username, password: u.password };
    expect((await login(port, creds)).status).toBe(401);
    expect((await login(port, { ...creds, totp: '000000' })).status).toBe(401);
    const code = nextTotp(u.totpSecret!);
    expect((await login(port, { ...creds, totp: code })).status).toBe(200);
    expect((await login(port, { ...creds, totp: code })).status).toBe(401);
    expect((await audit('auth.login', u.username)).map((e) => `${e.outcome}:${e.reason}`)).toEqual([
      'failure:code missing',
      'failure:wrong or reused code',
      'success:null',
      'failure:wrong or reused code',
    ]);
    // The secret is sealed at rest (AES-GCM), not stored as the base32 text.
    const rows = await db.query<{ totp_secret: Buffer }>(
      `SELECT totp_secret FROM users WHERE username = $1`,
      [u.username],
    );
    expect(rows[0].totp_secret.includes(Buffer.from(u.totpSecret!))).toBe(false);
  });

  it('walks a new administrator through first sign-in: change the generated password, enrol TOTP', async () => {
    const secadmin = await tokenFor(server, 'secadmin');
    const created = await call('POST', '/users', {
      token: secadmin,
      body: { username: 'new-sysadmin', role: 'sysadmin' },
    });
    expect(created.status).toBe(201);
    const generated = created.body.password as string;
    expect(generated).toHaveLength(20);
    let r = await login(port, { username: 'new-sysadmin', password: generated });
    expect(r.status).toBe(200);
    expect(r.body.mustChangePassword).toBe(true);
    let token = r.body.accessToken as string;
    // Until the change, only the sign-in routes answer.
    expect((await call('GET', '/hosts', { token })).status).toBe(403);
    expect((await call('GET', '/auth/me', { token })).body).toMatchObject({
      mustChangePassword: true,
      totpRequired: true,
      totpEnrolled: false,
    });
    expect(
      (
        await call('POST', '/auth/password', {
          token,
          body: { currentPassword: generated, newPassword: 'short' },
        })
      ).status,
    ).toBe(400);
    const next = 'a-longer-passphrase-42';
    expect(
      (
        await call('POST', '/auth/password', {
          token,
          body: { currentPassword: generated, newPassword: next },
        })
      ).status,
    ).toBe(200);
    // The password change ended the session.
    expect((await call('GET', '/auth/me', { token })).status).toBe(401);

    r = await login(port, { username: 'new-sysadmin', password: next });
    expect(r.status).toBe(200);
    expect(r.body.mustChangePassword).toBe(false);
    token = r.body.accessToken as string;
    // TOTP is required for sysadmin and not enrolled yet: still only sign-in routes.
    expect((await call('GET', '/hosts', { token })).status).toBe(403);
    const enrol = await call('POST', '/auth/totp/enroll', { token });
    expect(enrol.status).toBe(200);
    const uri = new URL(enrol.body.otpauthUri as string);
    expect(uri.protocol).toBe('otpauth:');
    const secret = uri.searchParams.get('secret')!;
    expect(secret).toBe(enrol.body.secret);
    expect(
      (await call('POST', '/auth/totp/confirm', { token, body: { code: '123456' } })).status,
    ).toBe(authenticator.generate(secret) === '123456' ? 200 : 400);
    const confirmCode = authenticator.generate(secret);
    expect(
      (await call('POST', '/auth/totp/confirm', { token, body: { code: confirmCode } })).status,
    ).toBe(200);
    // Enrolled: a second enrolment is refused; the session now reaches sysadmin routes.
    expect((await call('POST', '/auth/totp/enroll', { token })).status).toBe(409);
    expect((await call('GET', '/hosts', { token })).status).toBe(200);
    // Signing in again needs a code, and the one used to confirm is spent.
    expect(
      (await login(port, { username: 'new-sysadmin', password: next, totp: confirmCode })).status,
    ).toBe(401);
    expect(
      (await login(port, { username: 'new-sysadmin', password: next, totp: nextTotp(secret) }))
        .status,
    ).toBe(200);
    expect((await audit('user.totp_enrolled', 'new-sysadmin')).map((e) => e.outcome)).toEqual([
      ...(authenticator.generate(secret) === '123456' ? [] : ['failure']),
      'success',
    ]);
    expect((await audit('user.password_changed', 'new-sysadmin')).map((e) => e.outcome)).toEqual([
      'failure',
      'success',
    ]);
  }, 60_000);
});

describe('sessions', () => {
  it('end after 15 idle minutes, after 8 hours, and at logout', async () => {
    const u = await createTestUser(server, 'viewer');
    const signIn = async () =>
      (await login(port, { username: u.username, password: u.password })).body
        .accessToken as string;
    const idle = await signIn();
    expect((await call('GET', '/auth/me', { token: idle })).status).toBe(200);
    await db.query(
      `UPDATE sessions SET last_seen_at = now() - interval '15 minutes 1 second'
        WHERE user_id = (SELECT id FROM users WHERE username = $1)`,
      [u.username],
    );
    expect((await call('GET', '/auth/me', { token: idle })).status).toBe(401);

    // The idle clock moves at most every 30 s (a tenth of 15 min): a request sooner after the
    // last touch writes nothing, a later one moves it to now.
    const touched = await signIn();
    const seen = async () =>
      (
        await db.query<{ age: number }>(
          `SELECT extract(epoch FROM now() - last_seen_at)::float AS age FROM sessions
            WHERE user_id = (SELECT id FROM users WHERE username = $1) AND revoked_at IS NULL
              AND last_seen_at > now() - interval '10 minutes'`,
          [u.username],
        )
      )[0].age;
    const setAge = (seconds: number) =>
      db.query(
        `UPDATE sessions SET last_seen_at = now() - make_interval(secs => $2)
          WHERE user_id = (SELECT id FROM users WHERE username = $1) AND revoked_at IS NULL
            AND last_seen_at > now() - interval '10 minutes'`,
        [u.username, seconds],
      );
    await setAge(20);
    expect((await call('GET', '/auth/me', { token: touched })).status).toBe(200);
    expect(await seen()).toBeGreaterThanOrEqual(20);
    await setAge(31);
    expect((await call('GET', '/auth/me', { token: touched })).status).toBe(200);
    expect(await seen()).toBeLessThan(5);

    const old = await signIn();
    await db.query(
      `UPDATE sessions SET expires_at = now() - interval '1 second'
        WHERE user_id = (SELECT id FROM users WHERE username = $1) AND revoked_at IS NULL`,
      [u.username],
    );
    expect((await call('GET', '/auth/me', { token: old })).status).toBe(401);

    const live = await signIn();
    const out = await fetch(`http://127.0.0.1:${port}/api/v1/auth/logout`, {
      method: 'POST',
      headers: bearer(live),
    });
    expect(out.status).toBe(200);
    expect(out.headers.get('set-cookie')).toMatch(/^tidewatch_session=; .*Max-Age=0/);
    expect((await call('GET', '/auth/me', { token: live })).status).toBe(401);
    expect((await audit('auth.logout', u.username)).map((e) => e.outcome)).toEqual(['success']);
  });

  it('refuses a reused password (history) and ends every session on a change', async () => {
    const u = await createTestUser(server, 'operator');
    const t1 = (await login(port, { username: u.username, password: u.password })).body
      .accessToken as string;
    const t2 = (await login(port, { username: u.username, password: u.password })).body
      .accessToken as string;
    const change = (token: string, from: string, to: string) =>
      call('POST', '/auth/password', { token, body: { currentPassword: from, newPassword: to } });
    expect((await change(t1, u.password, u.password)).status).toBe(400);
    expect((await change(t1, 'wrong-current-password', 'another-passphrase-1')).status).toBe(400);
    expect((await change(t1, u.password, 'another-passphrase-1')).status).toBe(200);
    expect((await call('GET', '/auth/me', { token: t1 })).status).toBe(401);
    expect((await call('GET', '/auth/me', { token: t2 })).status).toBe(401);
    const t3 = (await login(port, { username: u.username, password: 'another-passphrase-1' })).body
      .accessToken as string;
    expect((await change(t3, 'another-passphrase-1', u.password)).status).toBe(400);
  }, 60_000);
});

describe('roles', () => {
  it('keeps the three administrator roles with different users', async () => {
    const secadmin = await tokenFor(server, 'secadmin');
    const users = server.app.get(UsersService);
    await users.create(TEST_ACTOR, {
      username: 'sys-1',
      role: 'sysadmin',
      password: 'first-admin-passphrase',
    });
    const patch = (name: string, body: unknown) =>
      call('PATCH', `/users/${name}`, { token: secadmin, body });
    expect((await patch('sys-1', { role: 'auditadmin' })).status).toBe(409);
    // Down to operator is fine; back up to a *different* administrator role is not.
    expect((await patch('sys-1', { role: 'operator' })).status).toBe(200);
    expect((await patch('sys-1', { role: 'secadmin' })).status).toBe(409);
    expect((await patch('sys-1', { role: 'sysadmin' })).body).toMatchObject({ role: 'sysadmin' });
    // Nobody changes their own role.
    const me = (await call('GET', '/auth/me', { token: secadmin })).body.username as string;
    expect((await patch(me, { role: 'viewer' })).status).toBe(409);
    expect((await audit('user.role_changed', 'sys-1')).map((e) => e.outcome)).toEqual([
      'denied',
      'success',
      'denied',
      'success',
    ]);
    // A second account for the same letters is refused too (usernames are case-insensitive).
    expect(
      (
        await call('POST', '/users', {
          token: secadmin,
          body: { username: 'SYS-1', role: 'viewer' },
        })
      ).status,
    ).toBe(409);
  }, 60_000);

  it('disabling a user ends their sessions', async () => {
    const secadmin = await tokenFor(server, 'secadmin');
    const u = await createTestUser(server, 'viewer');
    const t = (await login(port, { username: u.username, password: u.password })).body
      .accessToken as string;
    expect(
      (await call('PATCH', `/users/${u.username}`, { token: secadmin, body: { disabled: true } }))
        .status,
    ).toBe(200);
    expect((await call('GET', '/auth/me', { token: t })).status).toBe(401);
    expect((await login(port, { username: u.username, password: u.password })).status).toBe(401);
  });
});

describe('API tokens', () => {
  it('are scoped to a role, hashed, record their last use, expire and are revocable', async () => {
    const secadmin = await tokenFor(server, 'secadmin');
    expect(
      (
        await call('POST', '/api-tokens', {
          token: secadmin,
          body: { name: 'x', role: 'sysadmin' },
        })
      ).status,
    ).toBe(400);
    const viewerToken = await tokenFor(server, 'viewer');
    expect(
      (
        await call('POST', '/api-tokens', {
          token: viewerToken,
          body: { name: 'x', role: 'viewer' },
        })
      ).status,
    ).toBe(403);
    const created = await call('POST', '/api-tokens', {
      token: secadmin,
      body: { name: 'compliance', role: 'viewer' },
    });
    expect(created.status).toBe(201);
    const token = created.body.token as string;
    expect(token).toMatch(/^twt_/);
    const days = (Date.parse(created.body.expiresAt as string) - Date.now()) / 86_400_000;
    expect(Math.round(days)).toBe(90);
    expect((await call('GET', '/traffic/summary', { token })).status).toBe(200);
    expect((await call('GET', '/users', { token })).status).toBe(403);
    const listed = (await call('GET', '/api-tokens', { token: secadmin })).body.items as {
      id: string;
      lastUsedAt: string | null;
      lastUsedFrom: string | null;
      token?: string;
    }[];
    const mine = listed.find((t) => t.id === created.body.id)!;
    expect(mine.lastUsedAt).not.toBeNull();
    expect(mine.lastUsedFrom).toBe('127.0.0.1');
    expect(mine.token).toBeUndefined();
    // Expired tokens are refused.
    const service = server.app.get(ApiTokensService);
    const short = await service.create(TEST_ACTOR, {
      name: 'short',
      role: 'operator',
      expiresInDays: 1,
    });
    await db.query(`UPDATE api_tokens SET expires_at = now() - interval '1 second' WHERE id = $1`, [
      short.view.id,
    ]);
    expect((await call('GET', '/traffic/summary', { token: short.token })).status).toBe(401);
    expect(
      (await call('DELETE', `/api-tokens/${created.body.id}`, { token: secadmin })).status,
    ).toBe(200);
    expect((await call('GET', '/traffic/summary', { token })).status).toBe(401);
    expect(
      (await audit('api_token.revoked', created.body.id as string)).map((e) => e.outcome),
    ).toEqual(['success']);
  });
});

it('audits every 401 and 403 from the guard', async () => {
  const viewer = await tokenFor(server, 'viewer');
  expect((await call('GET', '/hosts')).status).toBe(401);
  expect((await call('GET', '/users', { token: viewer })).status).toBe(403);
  const denied = await db.query<{ action: string; target: string; actor: string | null }>(
    `SELECT action, target, actor FROM audit_entries
      WHERE action IN ('auth.unauthenticated', 'auth.forbidden') ORDER BY sequence DESC LIMIT 2`,
  );
  expect(denied.reverse()).toEqual([
    { action: 'auth.unauthenticated', target: 'GET /api/v1/hosts', actor: null },
    expect.objectContaining({ action: 'auth.forbidden', target: 'GET /api/v1/users' }),
  ]);
});

describe('the per-address sign-in limit', () => {
  let limited: RunningServer;
  beforeAll(async () => {
    limited = await startTestServer(db.url, { AUTH_LOGIN_RATE_PER_MINUTE: '3' });
  });
  afterAll(() => limited?.close());

  it('answers 429 past AUTH_LOGIN_RATE_PER_MINUTE from one address, audited', async () => {
    const statuses: number[] = [];
    for (let i = 0; i < 4; i++) {
      statuses.push(
        (await login(limited.httpPort, { username: 'rate-probe', password: `guess-${i}` })).status,
      );
    }
    expect(statuses).toEqual([401, 401, 401, 429]);
    const trail = await db.query<{ outcome: string; source: string }>(
      `SELECT outcome, source FROM audit_entries WHERE action = 'auth.rate_limited' AND target = 'rate-probe'`,
    );
    expect(trail).toEqual([{ outcome: 'denied', source: '127.0.0.1' }]);
  });
});

describe('fail closed: no audit trail, no sign-in', () => {
  it('answers 503 and keeps no session when the trail cannot be written, and for a refused request too', async () => {
    const u = await createTestUser(server, 'viewer');
    await db.query(`ALTER TABLE audit_entries RENAME TO audit_entries_away`);
    try {
      const r = await login(port, { username: u.username, password: u.password });
      expect(r.status).toBe(503);
      expect(r.setCookie).toBeNull();
      expect((await call('GET', '/hosts')).status).toBe(503);
    } finally {
      await db.query(`ALTER TABLE audit_entries_away RENAME TO audit_entries`);
    }
    const sessions = await db.query<{ revoked_reason: string | null }>(
      `SELECT revoked_reason FROM sessions WHERE user_id = (SELECT id FROM users WHERE username = $1)`,
      [u.username],
    );
    expect(sessions).toEqual([{ revoked_reason: 'audit trail unavailable' }]);
    expect((await login(port, { username: u.username, password: u.password })).status).toBe(200);
  });
});
