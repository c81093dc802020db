import { headers } from 'next/headers';
import { redirect } from 'next/navigation';
import { signInPath } from '../view-state/return-path';
import { ApiStatusError, ApiUnreachableError, serverSideClient } from './client';
import { apiUrl } from './config';

type Result<T> = { data?: T; error?: unknown; response: Response };

/**
 * The API client for server components: the signed-in user's cookie (or bearer token) goes
 * along; a 401 (no session, or it expired) sends the user to sign in and back to `returnTo`.
 */
export async function serverApi(locale: string, returnTo: string) {
  const h = await headers();
  const forward: Record<string, string> = {};
  const cookie = h.get('cookie');
  const auth = h.get('authorization');
  if (cookie) forward.cookie = cookie;
  if (auth) forward.authorization = auth;
  const client = serverSideClient(apiUrl(), forward);

  async function call<T>(path: string, run: () => Promise<Result<T>>): Promise<T> {
    let r: Result<T>;
    try {
      r = await run();
    } catch (err) {
      throw new ApiUnreachableError(apiUrl(), err);
    }
    if (r.response.status === 401) redirect(signInPath(locale, returnTo));
    if (r.data === undefined) throw new ApiStatusError(r.response.status, path, r.error);
    return r.data;
  }
  return { client, call };
}

/**
 * Who is signed in (GET /api/v1/auth/me with the request's cookie), or null: not signed in, or
 * a server without sign-in. Never redirects: the header shows it, pages decide.
 */
export async function currentUser(): Promise<{
  username: string;
  role: string;
  /** The role signs in with TOTP, not enrolled yet: the server admits only the sign-in routes. */
  totpDue?: boolean;
} | null> {
  const h = await headers();
  const cookie = h.get('cookie');
  if (!cookie) return null;
  try {
    const res = await fetch(`${apiUrl()}/api/v1/auth/me`, {
      headers: { cookie },
      cache: 'no-store',
    });
    if (!res.ok) return null;
    const me = (await res.json()) as {
      username?: unknown;
      role?: unknown;
      totpRequired?: unknown;
      totpEnrolled?: unknown;
      mustChangePassword?: unknown;
    };
    return typeof me.username === 'string' && typeof me.role === 'string'
      ? {
          username: me.username,
          role: me.role,
          // The password change comes first (the enrolment is refused until it is done).
          totpDue:
            me.totpRequired === true && me.totpEnrolled === false && me.mustChangePassword !== true,
        }
      : null;
  } catch {
    return null;
  }
}
