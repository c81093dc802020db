// The audit trail's settings, parsed with the rest of the environment (config/environment.ts).

import * as path from 'node:path';
// A cycle with environment.ts, harmless: the class is only used when parsing, after both load.
import { EnvironmentError } from '../config/environment';

export const HASH_ALGORITHMS = ['sm3', 'sha256'] as const;
export type HashAlgorithm = (typeof HASH_ALGORITHMS)[number];

/** The Cybersecurity Law's six months for network logs; MLPS 2.0 level 3 asks the same. */
export const MIN_RETENTION_DAYS = 180;

/** `local`: the host's syslog socket (/dev/log); udp/tcp: a remote collector. */
export type SyslogTarget =
  { kind: 'off' } | { kind: 'local' } | { kind: 'udp' | 'tcp'; host: string; port: number };

export interface AuditSettings {
  /** Hash of new entries (each entry names its own, so a switch keeps old entries verifiable). */
  hashAlgorithm: HashAlgorithm;
  /** Ed25519 private key (PEM, PKCS#8) that signs checkpoints; null only with checkpoints off. */
  signingKeyFile: string | null;
  /**
   * Public keys (PEM files) of signing keys rotated out: their checkpoints,
   * written before the current key took over, still verify (AUDIT_RETIRED_PUBLIC_KEYS).
   */
  retiredPublicKeyFiles: string[];
  /** Append-only file of signed checkpoints (JSON lines), outside the database. */
  checkpointFile: string | null;
  /** false only when an operator wrote AUDIT_CHECKPOINTS=off: no signed checkpoints (loudly). */
  checkpointsEnabled: boolean;
  /** Where checkpoints also go (logger(1)); an unreachable syslog is reported, not fatal. */
  syslog: SyslogTarget;
  checkpointIntervalSeconds: number;
  checkpointEveryEntries: number;
  heartbeatSeconds: number;
  retentionDays: number;
}

type Source = Record<string, string | undefined>;

function int(src: Source, key: string, def: number, min: number, max: number): number {
  const raw = src[key];
  if (raw === undefined || raw === '') return def;
  if (!/^\d+$/.test(raw.trim()))
    throw new EnvironmentError(`${key} must be an integer, got "${raw}"`);
  const n = Number(raw);
  if (n < min || n > max) {
    throw new EnvironmentError(`${key} must be between ${min} and ${max}, got ${n}`);
  }
  return n;
}

export function parseAuditSettings(src: Source): AuditSettings {
  const alg = (src.AUDIT_HASH_ALGORITHM || 'sm3').toLowerCase();
  if (!(HASH_ALGORITHMS as readonly string[]).includes(alg)) {
    throw new EnvironmentError(`AUDIT_HASH_ALGORITHM must be sm3 or sha256, got "${alg}"`);
  }
  const checkpoints = (src.AUDIT_CHECKPOINTS || 'on').toLowerCase();
  if (checkpoints !== 'on' && checkpoints !== 'off') {
    throw new EnvironmentError(`AUDIT_CHECKPOINTS must be on or off, got "${checkpoints}"`);
  }
  const retentionRaw = src.AUDIT_RETENTION_DAYS;
  const retentionDays = int(src, 'AUDIT_RETENTION_DAYS', MIN_RETENTION_DAYS, 0, 36_500);
  if (retentionDays < MIN_RETENTION_DAYS) {
    throw new EnvironmentError(
      `AUDIT_RETENTION_DAYS must be at least ${MIN_RETENTION_DAYS} (six months, Cybersecurity Law / MLPS 2.0), got ${retentionRaw}`,
    );
  }
  const keyFile = src.AUDIT_SIGNING_KEY_FILE || null;
  return {
    hashAlgorithm: alg as HashAlgorithm,
    signingKeyFile: keyFile,
    retiredPublicKeyFiles: (src.AUDIT_RETIRED_PUBLIC_KEYS ?? '')
      .split(',')
      .map((f) => f.trim())
      .filter((f) => f !== ''),
    checkpointFile:
      src.AUDIT_CHECKPOINT_FILE ||
      (keyFile ? path.join(path.dirname(keyFile), 'audit-checkpoints.jsonl') : null),
    checkpointsEnabled: checkpoints === 'on',
    syslog: parseSyslog(src.AUDIT_SYSLOG),
    checkpointIntervalSeconds: int(src, 'AUDIT_CHECKPOINT_INTERVAL_SECONDS', 60, 1, 60),
    checkpointEveryEntries: int(src, 'AUDIT_CHECKPOINT_EVERY', 1_000, 1, 1_000),
    heartbeatSeconds: int(src, 'AUDIT_HEARTBEAT_SECONDS', 300, 1, 300),
    retentionDays,
  };
}

function parseSyslog(raw: string | undefined): SyslogTarget {
  const v = (raw || 'on').trim();
  if (/^(on|local)$/i.test(v)) return { kind: 'local' };
  if (/^off$/i.test(v)) return { kind: 'off' };
  const m = /^(udp|tcp):\/\/(\[[0-9a-fA-F:.]+\]|[A-Za-z0-9.-]+):(\d{1,5})$/.exec(v);
  if (m && Number(m[3]) > 0 && Number(m[3]) < 65536) {
    return { kind: m[1] as 'udp' | 'tcp', host: m[2].replace(/^\[|\]$/g, ''), port: Number(m[3]) };
  }
  throw new EnvironmentError(
    `AUDIT_SYSLOG must be on, off, udp://HOST:PORT or tcp://HOST:PORT, got "${v}"`,
  );
}
