// LDAP / Active Directory sign-in settings (LDAP_*), validated once at boot.

import { readFileSync } from 'node:fs';
import { EnvironmentError } from '../../config/environment';
import { isRole, Role } from '../roles';
import { normalizeDn } from './ldap-filter';

export interface LdapSettings {
  /** ldaps://host:636, or ldap://host:389 with StartTLS (never plain). */
  url: string;
  startTls: boolean;
  /** PEM bundle the directory's certificate must chain to; null = the system's CAs. */
  caFile: string | null;
  /** Service account that searches for users and groups; null = anonymous search. */
  bindDn: string | null;
  bindPassword: string | null;
  userBase: string;
  /** `{username}` is replaced by the escaped name typed at sign-in. */
  userFilter: string;
  groupBase: string;
  /** `{dn}` is replaced by the escaped DN of the user. */
  groupFilter: string;
  /** Normalized group DN -> the Tidewatch role its members get. */
  groupRoles: Map<string, Role>;
  timeoutMs: number;
  /** A signed-in LDAP user's groups are read again after this long (at most the session idle time). */
  recheckSeconds: number;
}

type Source = Record<string, string | undefined>;

const DEFAULT_USER_FILTER = '(&(objectClass=inetOrgPerson)(uid={username}))';
const DEFAULT_GROUP_FILTER = '(&(objectClass=groupOfNames)(member={dn}))';

function text(src: Source, key: string): string | null {
  const v = src[key];
  return v === undefined || v.trim() === '' ? null : v.trim();
}

function integer(src: Source, key: string, def: number, min: number, max: number): number {
  const raw = text(src, key);
  if (raw === null) return def;
  if (!/^\d+$/.test(raw)) throw new EnvironmentError(`${key} must be an integer, got "${raw}"`);
  const n = Number(raw);
  if (n < min || n > max) {
    throw new EnvironmentError(`${key} must be between ${min} and ${max}, got ${n}`);
  }
  return n;
}

function readText(key: string, file: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch (err) {
    throw new EnvironmentError(`${key}: cannot read ${file}: ${(err as Error).message}`);
  }
}

function recheck(src: Source, sessionIdleSeconds: number): number {
  const n = integer(src, 'LDAP_RECHECK_SECONDS', sessionIdleSeconds, 1, 86_400);
  if (n > sessionIdleSeconds) {
    throw new EnvironmentError(
      `LDAP_RECHECK_SECONDS (${n}) must not exceed the session idle time (${sessionIdleSeconds} s, AUTH_SESSION_IDLE_MINUTES): a user out of the group must lose access within it`,
    );
  }
  return n;
}

/** `{"<group DN>": "<role>", …}` from LDAP_GROUP_ROLES or the JSON file LDAP_GROUP_ROLES_FILE. */
export function parseGroupRoles(src: Source): Map<string, Role> {
  const inline = text(src, 'LDAP_GROUP_ROLES');
  const file = text(src, 'LDAP_GROUP_ROLES_FILE');
  if (inline && file) {
    throw new EnvironmentError('set LDAP_GROUP_ROLES or LDAP_GROUP_ROLES_FILE, not both');
  }
  if (!inline && !file) {
    throw new EnvironmentError(
      'LDAP_URL needs LDAP_GROUP_ROLES or LDAP_GROUP_ROLES_FILE: which directory group gives which role',
    );
  }
  const key = inline ? 'LDAP_GROUP_ROLES' : 'LDAP_GROUP_ROLES_FILE';
  let parsed: unknown;
  try {
    parsed = JSON.parse(inline ?? readText(key, file as string));
  } catch (err) {
    if (err instanceof EnvironmentError) throw err;
    throw new EnvironmentError(`${key}: not JSON: ${(err as Error).message}`);
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw new EnvironmentError(`${key} must be a JSON object {"<group DN>": "<role>"}`);
  }
  const map = new Map<string, Role>();
  for (const [dn, role] of Object.entries(parsed as Record<string, unknown>)) {
    if (!/=/.test(dn)) throw new EnvironmentError(`${key}: "${dn}" is not a DN`);
    if (!isRole(role)) {
      throw new EnvironmentError(
        `${key}: group "${dn}" maps to unknown role ${JSON.stringify(role)} (roles: sysadmin, secadmin, auditadmin, operator, viewer)`,
      );
    }
    const norm = normalizeDn(dn);
    if (map.has(norm) && map.get(norm) !== role) {
      throw new EnvironmentError(`${key}: group "${dn}" is listed twice with different roles`);
    }
    map.set(norm, role);
  }
  if (map.size === 0) throw new EnvironmentError(`${key} maps no group to a role`);
  return map;
}

/**
 * null when LDAP_URL is unset (LDAP sign-in off). `sessionIdleSeconds` bounds
 * the re-check interval: a user out of the group must lose access within the
 * session idle time, so the groups are read again at least that often.
 */
export function parseLdapSettings(
  src: Source = process.env,
  sessionIdleSeconds = 900,
): LdapSettings | null {
  const url = text(src, 'LDAP_URL');
  if (url === null) {
    const stray = Object.keys(src).filter((k) => k.startsWith('LDAP_') && text(src, k) !== null);
    if (stray.length) throw new EnvironmentError(`${stray.join(', ')} set without LDAP_URL`);
    return null;
  }
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new EnvironmentError(`LDAP_URL is not a URL: "${url}"`);
  }
  const startTlsRaw = text(src, 'LDAP_STARTTLS');
  if (startTlsRaw !== null && !/^(true|false)$/i.test(startTlsRaw)) {
    throw new EnvironmentError(`LDAP_STARTTLS must be true or false, got "${startTlsRaw}"`);
  }
  const startTls = /^true$/i.test(startTlsRaw ?? '');
  if (parsed.protocol === 'ldaps:') {
    if (startTls)
      throw new EnvironmentError('LDAP_STARTTLS is for ldap:// URLs; ldaps:// is TLS already');
  } else if (parsed.protocol === 'ldap:') {
    if (!startTls) {
      throw new EnvironmentError(
        'LDAP_URL is ldap:// without LDAP_STARTTLS=true: passwords would cross the network in clear; use ldaps:// or StartTLS',
      );
    }
  } else {
    throw new EnvironmentError(
      `LDAP_URL must be ldaps:// or ldap:// (with StartTLS), got "${parsed.protocol}"`,
    );
  }
  if (parsed.pathname && parsed.pathname !== '/') {
    throw new EnvironmentError(
      'LDAP_URL is the server only (ldaps://host:port); set LDAP_USER_BASE for the base DN',
    );
  }
  const caFile = text(src, 'LDAP_TLS_CA_FILE');
  if (caFile !== null && !readText('LDAP_TLS_CA_FILE', caFile).includes('-----BEGIN ')) {
    throw new EnvironmentError(`LDAP_TLS_CA_FILE: ${caFile} is not PEM`);
  }
  const bindDn = text(src, 'LDAP_BIND_DN');
  const passwordFile = text(src, 'LDAP_BIND_PASSWORD_FILE');
  if (!bindDn !== !passwordFile) {
    throw new EnvironmentError('LDAP_BIND_DN and LDAP_BIND_PASSWORD_FILE must be set together');
  }
  // One trailing newline is the file's, not the password's.
  const bindPassword = passwordFile
    ? readText('LDAP_BIND_PASSWORD_FILE', passwordFile).replace(/\r?\n$/, '')
    : null;
  if (bindPassword === '') throw new EnvironmentError('LDAP_BIND_PASSWORD_FILE is empty');
  const userBase = text(src, 'LDAP_USER_BASE');
  if (userBase === null)
    throw new EnvironmentError('LDAP_URL needs LDAP_USER_BASE (where users are searched)');
  const userFilter = text(src, 'LDAP_USER_FILTER') ?? DEFAULT_USER_FILTER;
  if (!userFilter.includes('{username}')) {
    throw new EnvironmentError('LDAP_USER_FILTER must contain {username}');
  }
  const groupFilter = text(src, 'LDAP_GROUP_FILTER') ?? DEFAULT_GROUP_FILTER;
  if (!groupFilter.includes('{dn}'))
    throw new EnvironmentError('LDAP_GROUP_FILTER must contain {dn}');
  for (const [key, f] of [
    ['LDAP_USER_FILTER', userFilter],
    ['LDAP_GROUP_FILTER', groupFilter],
  ]) {
    if (!f.startsWith('(') || !f.endsWith(')')) {
      throw new EnvironmentError(`${key} must be a parenthesized LDAP filter, got "${f}"`);
    }
  }
  return {
    url: `${parsed.protocol}//${parsed.host}`,
    startTls,
    caFile,
    bindDn,
    bindPassword,
    userBase,
    userFilter,
    groupBase: text(src, 'LDAP_GROUP_BASE') ?? userBase,
    groupFilter,
    groupRoles: parseGroupRoles(src),
    timeoutMs: integer(src, 'LDAP_TIMEOUT_MS', 5_000, 100, 60_000),
    recheckSeconds: recheck(src, sessionIdleSeconds),
  };
}
