import type { IncomingMessage } from 'node:http';
import type { Role } from '../auth/roles';
import type { Actor } from './anomalies.service';

/** What this module reads of the guard's principal (auth/principal.ts): who, and in which role. */
type WithPrincipal = IncomingMessage & { principal?: { name: string; role: Role } };

/** The audit trail's actor of a request; the guard has authenticated it before a handler runs. */
export function actorOf(req: IncomingMessage): Actor {
  const p = (req as WithPrincipal).principal;
  const id = req.headers['x-request-id'];
  return {
    name: p?.name ?? 'unauthenticated',
    role: p?.role ?? 'viewer',
    source: req.socket?.remoteAddress ?? null,
    requestId: typeof id === 'string' ? id.slice(0, 128) : null,
  };
}
