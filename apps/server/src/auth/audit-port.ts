import type { EntityManager } from 'typeorm';
import type { Role } from './roles';

/** What sign-in records in the audit trail; the same shape as the audit module's entries. */
export interface AuthAuditEntry {
  actor: string | null;
  actorRole?: Role | null;
  source?: string | null;
  action: string;
  target?: string | null;
  outcome: 'success' | 'failure' | 'denied';
  reason?: string | null;
  requestId?: string | null;
  details?: Record<string, unknown>;
}

/**
 * The audit trail as sign-in uses it (AuditService implements it). Both throw
 * when the trail cannot be written: the action they record then fails (503).
 */
export interface AuthAudit {
  record(entry: AuthAuditEntry): Promise<unknown>;
  recordIn(manager: EntityManager, entry: AuthAuditEntry): Promise<unknown>;
}

export const AUTH_AUDIT = Symbol('AUTH_AUDIT');
