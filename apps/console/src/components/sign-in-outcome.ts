// What the sign-in form does with the server's answer to POST /api/v1/auth/login
// (DESIGN.md, "Stable interfaces": 200 with a session cookie, 401 bad credentials, 423 locked).

export type SignInOutcome =
  | { kind: 'signedIn'; mustChangePassword: boolean }
  | { kind: 'needTotp' }
  | { kind: 'badCredentials' }
  | { kind: 'badTotp' }
  | { kind: 'locked' }
  | { kind: 'throttled' }
  | { kind: 'unavailable' };

function mentionsTotp(body: unknown): boolean {
  if (!body || typeof body !== 'object') return false;
  const b = body as Record<string, unknown>;
  return [b.code, b.error, b.message, b.reason].some(
    (v) => typeof v === 'string' && /totp|one-time|otp|second factor|mfa/i.test(v),
  );
}

export function signInOutcome(status: number, body: unknown, sentTotp: boolean): SignInOutcome {
  if (status >= 200 && status < 300) {
    const b = (body ?? {}) as { mustChangePassword?: unknown };
    return { kind: 'signedIn', mustChangePassword: b.mustChangePassword === true };
  }
  if (status === 401) {
    // A role that must use TOTP: the password step is answered "TOTP required", then the code.
    if (mentionsTotp(body)) return sentTotp ? { kind: 'badTotp' } : { kind: 'needTotp' };
    return { kind: 'badCredentials' };
  }
  if (status === 423) return { kind: 'locked' };
  if (status === 429) return { kind: 'throttled' };
  return { kind: 'unavailable' };
}
