import { randomBytes } from 'node:crypto';
import { authenticator } from 'otplib';
import type { Role } from '../../src/auth/roles';
import { SessionsService } from '../../src/auth/sessions.service';
import { TotpService } from '../../src/auth/totp.service';
import { SignInPolicyService } from '../../src/auth/policy/sign-in-policy.service';
import type { RunningServer } from '../../src/server';
import { UsersService } from '../../src/users/users.service';

export const TEST_ACTOR = { name: 'test-setup', role: null, source: 'test' };

export interface TestUser {
  username: string;
  password: string;
  role: Role;
  /** The TOTP secret when the role signs in with one (enrolled by the helper). */
  totpSecret: string | null;
}

/** A TOTP code for the step after the current one (accepted once, within the ±1 step window). */
export function nextTotp(secret: string, offsetSteps = 1): string {
  const t = authenticator.clone({ epoch: Date.now() + offsetSteps * 30_000 });
  return t.generate(secret);
}

/**
 * A user with the role, through the real services: created with a password
 * (no forced change) and, for the policy's totpRoles, TOTP enrolled and confirmed.
 */
export async function createTestUser(
  server: RunningServer,
  role: Role,
  username = `t-${role}-${randomBytes(4).toString('hex')}`,
): Promise<TestUser> {
  const password = `pw-${randomBytes(12).toString('hex')}`;
  const { user } = await server.app.get(UsersService).create(TEST_ACTOR, {
    username,
    role,
    password,
  });
  let totpSecret: string | null = null;
  if (server.app.get(SignInPolicyService).current.totpRoles.includes(role)) {
    const totp = server.app.get(TotpService);
    totpSecret = (await totp.begin(user.id, username)).secret;
    if (!(await totp.confirm(user.id, authenticator.generate(totpSecret)))) {
      throw new Error('TOTP confirmation failed in test setup');
    }
  }
  return { username, password, role, totpSecret };
}

/** Signs in over HTTP (POST /api/v1/auth/login) and answers the body. */
export async function login(
  port: number,
  body: { username: string; password: string; totp?: string },
  headers: Record<string, string> = {},
): Promise<{ status: number; body: Record<string, unknown>; setCookie: string | null }> {
  const res = await fetch(`http://127.0.0.1:${port}/api/v1/auth/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify(body),
  });
  return {
    status: res.status,
    body: (await res.json()) as Record<string, unknown>,
    setCookie: res.headers.get('set-cookie'),
  };
}

const cache = new WeakMap<RunningServer, Map<Role, Promise<string>>>();

/**
 * A bearer token for a fresh user with the role, signed in through the real
 * login route (TOTP included); one per role and server, reused.
 */
export function tokenFor(server: RunningServer, role: Role): Promise<string> {
  let perRole = cache.get(server);
  if (!perRole) cache.set(server, (perRole = new Map()));
  let token = perRole.get(role);
  if (!token) {
    token = (async () => {
      const u = await createTestUser(server, role);
      const r = await login(server.httpPort, {
        username: u.username,
        password: u.password,
        ...(u.totpSecret ? { totp: nextTotp(u.totpSecret) } : {}),
      });
      if (r.status !== 200)
        throw new Error(`test sign-in failed: ${r.status} ${JSON.stringify(r.body)}`);
      return r.body.accessToken as string;
    })();
    perRole.set(role, token);
  }
  return token;
}

/** A session straight from the sessions service (no password check): for walking many routes. */
export async function sessionFor(server: RunningServer, userId: string): Promise<string> {
  return (await server.app.get(SessionsService).create(userId, 'test')).token;
}

export const bearer = (token: string) => ({ authorization: `Bearer ${token}` });
