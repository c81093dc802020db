import type { IncomingMessage } from 'node:http';
import type { AuditEntryInput } from './audit-entry';

/** Who did it, for the trail: everything of an entry but what was done. */
export type AuditActor = Omit<AuditEntryInput, 'action' | 'outcome'>;

/** The request as far as the trail needs it: the access guard puts the principal on it. */
export type AuditedRequest = IncomingMessage & { principal?: { name: string; role: string } };

/** Actor, role, source address and request id of an HTTP request. */
export function actorOfRequest(req: AuditedRequest): AuditActor {
  const addr = req.socket?.remoteAddress ?? null;
  const id = req.headers['x-request-id'];
  return {
    actor: req.principal?.name ?? null,
    actorRole: (req.principal?.role as AuditEntryInput['actorRole']) ?? null,
    source: addr?.startsWith('::ffff:') ? addr.slice(7) : addr,
    requestId: typeof id === 'string' && /^[\w.:-]{1,128}$/.test(id) ? id : null,
  };
}
