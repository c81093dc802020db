import { Logger } from '@nestjs/common';
import type { DataSource } from 'typeorm';
import { DomainError, InvalidInputError } from '../../common/domain-errors';
import type { AuthSettings } from '../../config/auth-environment';
import type { AuthAudit } from '../audit-port';
import { ADMIN_ROLES, isRole, ROLES } from '../roles';
import type { Actor } from '../../users/users.service';
import { SecuritySettingsStore } from './security-settings-store';
import {
  NumericPolicyKey,
  POLICY_BOUNDS,
  policyChanges,
  policyFromSettings,
  SignInPolicy,
} from './sign-in-policy';

export class PolicyRefusedError extends DomainError {
  override name = 'PolicyRefusedError';
  readonly kind = 'invalid';
}

export interface SignInPolicyState {
  policy: SignInPolicy;
  /** `environment` until the security administrator first changes it. */
  source: 'environment' | 'stored';
  updatedAt: Date | null;
  updatedBy: string | null;
}

const TARGET = 'sign-in policy';

/**
 * The sign-in policy in force: the stored one (security_settings) or, until
 * the first change, the AUTH_* environment. Read synchronously by sign-in and
 * every request (`current`); reloaded when any replica changes it (NOTIFY).
 */
export class SignInPolicyService {
  private readonly logger = new Logger('sign-in-policy');
  private state: SignInPolicyState;
  private readonly store: SecuritySettingsStore;

  constructor(
    private readonly ds: DataSource,
    private readonly env: AuthSettings,
    private readonly audit: AuthAudit,
  ) {
    this.store = new SecuritySettingsStore(ds);
    this.state = {
      policy: policyFromSettings(env),
      source: 'environment',
      updatedAt: null,
      updatedBy: null,
    };
  }

  get current(): SignInPolicy {
    return this.state.policy;
  }

  describe(): SignInPolicyState {
    return { ...this.state, policy: { ...this.state.policy } };
  }

  /** Reads the stored policy (at boot and on every change NOTIFY). */
  async load(): Promise<SignInPolicyState> {
    const row = await this.store.read('sign_in_policy');
    this.state = row
      ? {
          policy: this.parseStored(row.value),
          source: 'stored',
          updatedAt: row.updatedAt,
          updatedBy: row.updatedBy,
        }
      : {
          policy: policyFromSettings(this.env),
          source: 'environment',
          updatedAt: null,
          updatedBy: null,
        };
    return this.describe();
  }

  /** load() for the NOTIFY handler: a failure is logged, the policy in force stays. */
  reload(): void {
    this.load().catch((err: Error) =>
      this.logger.error(`sign-in policy not reloaded: ${err.message}`),
    );
  }

  /**
   * Replaces the policy (every field given), audited with the old and new
   * value of each changed field in the same transaction. The administrator
   * roles keep TOTP: the REST policy cannot take the second factor from them.
   */
  async update(actor: Actor, next: SignInPolicy): Promise<SignInPolicyState> {
    const normalized = normalize(next);
    const entry = {
      actor: actor.name,
      actorRole: actor.role,
      source: actor.source ?? null,
      requestId: actor.requestId ?? null,
      action: 'auth.policy_changed',
      target: TARGET,
    };
    const dropped = ADMIN_ROLES.filter((r) => !normalized.totpRoles.includes(r));
    if (dropped.length) {
      await this.audit.record({
        ...entry,
        outcome: 'denied',
        reason: `TOTP cannot be lifted from administrator roles (${dropped.join(', ')})`,
        details: { to: { totpRoles: normalized.totpRoles } },
      });
      throw new PolicyRefusedError(
        `totpRoles must include the administrator roles sysadmin, secadmin and auditadmin (missing: ${dropped.join(', ')})`,
      );
    }
    await this.ds.transaction(async (m) => {
      await this.store.lock(m, 'sign_in_policy');
      const row = await this.store.read('sign_in_policy', m);
      const before = row ? this.parseStored(row.value) : policyFromSettings(this.env);
      const changes = policyChanges(before, normalized);
      await this.store.write(m, 'sign_in_policy', normalized, actor.name);
      await this.audit.recordIn(m, {
        ...entry,
        outcome: 'success',
        details: { ...changes, firstChange: row === null },
      });
    });
    return this.load();
  }

  /** A stored value that this build cannot read is refused loudly, not half-applied. */
  private parseStored(value: unknown): SignInPolicy {
    const base = policyFromSettings(this.env);
    try {
      return normalize({ ...base, ...(value as Partial<SignInPolicy>) });
    } catch (err) {
      throw new Error(`stored sign-in policy is invalid: ${(err as Error).message}`);
    }
  }
}

/** Checks every bound (also for a stored value) and orders the roles. */
export function normalize(p: SignInPolicy): SignInPolicy {
  const out = {} as SignInPolicy;
  for (const [k, b] of Object.entries(POLICY_BOUNDS) as [
    NumericPolicyKey,
    { min: number; max: number },
  ][]) {
    const v = p[k];
    if (!Number.isInteger(v) || v < b.min || v > b.max) {
      throw new InvalidInputError(`${k} must be an integer from ${b.min} to ${b.max}`);
    }
    out[k] = v;
  }
  if (!Array.isArray(p.totpRoles) || !p.totpRoles.every(isRole)) {
    throw new InvalidInputError(`totpRoles must be a list of roles (${ROLES.join(', ')})`);
  }
  out.totpRoles = ROLES.filter((r) => p.totpRoles.includes(r));
  return out;
}
