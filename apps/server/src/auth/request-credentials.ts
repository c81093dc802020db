import type { IncomingMessage } from 'node:http';
import { SESSION_COOKIE } from './sessions.service';

/** The bearer token or the session cookie of a request (REST or WebSocket upgrade). */
export function credentialOf(req: IncomingMessage | undefined): string | null {
  if (!req) return null;
  const auth = req.headers.authorization;
  if (typeof auth === 'string') {
    const m = /^Bearer\s+(\S+)$/i.exec(auth.trim());
    return m ? m[1] : null;
  }
  const cookie = req.headers.cookie;
  if (typeof cookie !== 'string') return null;
  for (const part of cookie.split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0 && part.slice(0, eq).trim() === SESSION_COOKIE) {
      const v = part.slice(eq + 1).trim();
      return v === '' ? null : v;
    }
  }
  return null;
}

/** The peer address, for the audit trail and the per-address sign-in limit. */
export function sourceOf(req: IncomingMessage | undefined): string | null {
  const addr = req?.socket?.remoteAddress;
  if (!addr) return null;
  return addr.startsWith('::ffff:') ? addr.slice(7) : addr;
}

export function requestIdOf(req: IncomingMessage | undefined): string | null {
  const id = req?.headers['x-request-id'];
  return typeof id === 'string' && /^[\w.:-]{1,128}$/.test(id) ? id : null;
}
