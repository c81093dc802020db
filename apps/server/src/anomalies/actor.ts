import type { AuthenticatedRequest } from '../auth/access.guard';
import { requestIdOf, sourceOf } from '../auth/request-credentials';
import type { Actor } from './anomalies.service';

/** The audit trail's actor of a request; the guard authenticated it before any handler runs. */
export function actorOf(req: AuthenticatedRequest): Actor {
  const p = req.principal;
  if (!p)
    throw new Error('anomaly routes run behind the access guard: no principal on the request');
  return { name: p.name, role: p.role, source: sourceOf(req), requestId: requestIdOf(req) };
}
