import type { AuthSettings } from '../../config/auth-environment';
import type { Role } from '../roles';

/**
 * The part of sign-in the security administrator sets at run time
 * (PUT /api/v1/auth/policy); the AUTH_* environment gives it until then.
 */
export interface SignInPolicy {
  passwordMinLength: number;
  /** How many previous passwords a new one may not repeat. */
  passwordHistory: number;
  /** A password older than this must be changed at sign-in; 0 = never expires. */
  passwordMaxAgeDays: number;
  lockoutThreshold: number;
  lockoutWindowMinutes: number;
  lockoutMinutes: number;
  /** Roles that must sign in with a TOTP code. */
  totpRoles: Role[];
}

export type NumericPolicyKey = Exclude<keyof SignInPolicy, 'totpRoles'>;

/** Bounds of each number, shared by the environment (AUTH_*) and the REST DTO. */
export const POLICY_BOUNDS: Record<NumericPolicyKey, { env: string; min: number; max: number }> = {
  passwordMinLength: { env: 'AUTH_PASSWORD_MIN_LENGTH', min: 8, max: 256 },
  passwordHistory: { env: 'AUTH_PASSWORD_HISTORY', min: 0, max: 50 },
  passwordMaxAgeDays: { env: 'AUTH_PASSWORD_MAX_AGE_DAYS', min: 0, max: 3_650 },
  lockoutThreshold: { env: 'AUTH_LOCKOUT_THRESHOLD', min: 1, max: 100 },
  lockoutWindowMinutes: { env: 'AUTH_LOCKOUT_WINDOW_MINUTES', min: 1, max: 1_440 },
  lockoutMinutes: { env: 'AUTH_LOCKOUT_MINUTES', min: 1, max: 10_080 },
};

export const POLICY_KEYS = [
  ...(Object.keys(POLICY_BOUNDS) as NumericPolicyKey[]),
  'totpRoles',
] as (keyof SignInPolicy)[];

export function policyFromSettings(s: AuthSettings): SignInPolicy {
  return {
    passwordMinLength: s.passwordMinLength,
    passwordHistory: s.passwordHistory,
    passwordMaxAgeDays: s.passwordMaxAgeDays,
    lockoutThreshold: s.lockoutThreshold,
    lockoutWindowMinutes: s.lockoutWindowMinutes,
    lockoutMinutes: s.lockoutMinutes,
    totpRoles: [...s.totpRoles],
  };
}

/** The fields that differ, as `{ from, to }` for the audit entry. */
export function policyChanges(
  before: SignInPolicy,
  after: SignInPolicy,
): { from: Partial<SignInPolicy>; to: Partial<SignInPolicy> } {
  const from: Record<string, unknown> = {};
  const to: Record<string, unknown> = {};
  for (const k of POLICY_KEYS) {
    const a = k === 'totpRoles' ? [...before.totpRoles].sort().join(',') : before[k];
    const b = k === 'totpRoles' ? [...after.totpRoles].sort().join(',') : after[k];
    if (a !== b) {
      from[k] = before[k];
      to[k] = after[k];
    }
  }
  return { from: from as Partial<SignInPolicy>, to: to as Partial<SignInPolicy> };
}

/** Where services read the policy in force (SignInPolicyService; a fixed one in the CLI). */
export interface PolicySource {
  readonly current: SignInPolicy;
}
