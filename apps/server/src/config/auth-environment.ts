// Sign-in settings (AUTH_*), parsed with the rest of the environment (environment.ts).

import { readFileSync } from 'node:fs';
import { POLICY_BOUNDS } from '../auth/policy/sign-in-policy';
import { isRole, Role } from '../auth/roles';
import { EnvironmentError } from './environment';

export interface AuthSettings {
  /** Roles that must sign in with a TOTP code (AUTH_TOTP_ROLES). */
  totpRoles: Role[];
  /** 32-byte key that encrypts TOTP secrets at rest; null = TOTP enrolment is refused. */
  totpKey: Buffer | null;
  passwordMinLength: number;
  /** How many previous passwords a new one may not repeat. */
  passwordHistory: number;
  /** A password older than this must be changed at sign-in; 0 = never expires. */
  passwordMaxAgeDays: number;
  /** log2 of scrypt's N; 17 = 128 MiB per hash. */
  scryptLogN: number;
  lockoutThreshold: number;
  lockoutWindowMinutes: number;
  lockoutMinutes: number;
  /** Sign-in attempts per source address per minute. */
  loginRatePerMinute: number;
  sessionIdleMinutes: number;
  sessionAbsoluteHours: number;
  apiTokenDays: number;
  /** How often open live-feed sockets are checked against their session (ended: closed 1008). */
  liveRecheckSeconds: number;
}

type Source = Record<string, string | undefined>;
type IntReader = (src: Source, key: string, def: number, min: number, max: number) => number;

function totpRoles(src: Source): Role[] {
  const raw = src.AUTH_TOTP_ROLES;
  if (raw === undefined) return ['sysadmin', 'secadmin', 'auditadmin'];
  const names = raw
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '');
  for (const n of names) {
    if (!isRole(n)) {
      throw new EnvironmentError(
        `AUTH_TOTP_ROLES: unknown role "${n}" (roles: sysadmin, secadmin, auditadmin, operator, viewer)`,
      );
    }
  }
  return [...new Set(names)] as Role[];
}

/** The key file holds 32 bytes: raw, 64 hex digits or base64 (a trailing newline is fine). */
export function readKeyFile(key: string, file: string): Buffer {
  let raw: Buffer;
  try {
    raw = readFileSync(file);
  } catch (err) {
    throw new EnvironmentError(`${key}: cannot read ${file}: ${(err as Error).message}`);
  }
  if (raw.length === 32) return raw;
  const text = raw.toString('utf8').trim();
  if (/^[0-9a-f]{64}$/i.test(text)) return Buffer.from(text, 'hex');
  const b = Buffer.from(text, 'base64');
  if (b.length === 32 && /^[A-Za-z0-9+/_-]+=*$/.test(text)) return b;
  throw new EnvironmentError(
    `${key}: ${file} must hold a 32-byte key (raw, 64 hex digits or base64), e.g. \`openssl rand -hex 32 > ${file}\``,
  );
}

/** A sign-in policy number from the environment, within the bounds the REST policy has too. */
function policyInt(
  src: Source,
  int: IntReader,
  key: keyof typeof POLICY_BOUNDS,
  def: number,
): number {
  const b = POLICY_BOUNDS[key];
  return int(src, b.env, def, b.min, b.max);
}

export function parseAuthSettings(src: Source, int: IntReader): AuthSettings {
  const keyFile = src.AUTH_TOTP_KEY_FILE;
  return {
    totpRoles: totpRoles(src),
    totpKey: keyFile ? readKeyFile('AUTH_TOTP_KEY_FILE', keyFile) : null,
    passwordMinLength: policyInt(src, int, 'passwordMinLength', 12),
    passwordHistory: policyInt(src, int, 'passwordHistory', 5),
    passwordMaxAgeDays: policyInt(src, int, 'passwordMaxAgeDays', 90),
    scryptLogN: int(src, 'AUTH_SCRYPT_LOG_N', 17, 14, 20),
    lockoutThreshold: policyInt(src, int, 'lockoutThreshold', 5),
    lockoutWindowMinutes: policyInt(src, int, 'lockoutWindowMinutes', 15),
    lockoutMinutes: policyInt(src, int, 'lockoutMinutes', 30),
    loginRatePerMinute: int(src, 'AUTH_LOGIN_RATE_PER_MINUTE', 20, 1, 10_000),
    sessionIdleMinutes: int(src, 'AUTH_SESSION_IDLE_MINUTES', 15, 1, 1_440),
    sessionAbsoluteHours: int(src, 'AUTH_SESSION_ABSOLUTE_HOURS', 8, 1, 168),
    apiTokenDays: int(src, 'AUTH_API_TOKEN_DAYS', 90, 1, 730),
    liveRecheckSeconds: int(src, 'AUTH_LIVE_RECHECK_SECONDS', 30, 1, 3_600),
  };
}
