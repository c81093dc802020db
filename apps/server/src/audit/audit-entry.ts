// What one audit entry holds, and the hash that chains it to the one before.

import { hash } from 'node:crypto';
import type { Role } from '../auth/roles';
import type { HashAlgorithm } from './audit-settings';

export const OUTCOMES = ['success', 'failure', 'denied'] as const;
export type Outcome = (typeof OUTCOMES)[number];

/** What a caller records. `action` is dotted: `auth.login`, `agent.enrolled`, `audit.purged`. */
export interface AuditEntryInput {
  actor: string | null;
  actorRole?: Role | null;
  /** Source address (client IP, agent peer address) or `server` for the server's own entries. */
  source?: string | null;
  action: string;
  target?: string | null;
  outcome: Outcome;
  reason?: string | null;
  requestId?: string | null;
  details?: Record<string, unknown>;
}

/** An entry as stored: every field the hash covers, plus the hashes. */
export interface StoredEntry {
  sequence: bigint;
  /** Milliseconds since the epoch (the column is timestamptz, written with ms precision). */
  timeMs: number;
  actor: string | null;
  actorRole: string | null;
  source: string | null;
  action: string;
  target: string | null;
  outcome: string;
  reason: string | null;
  requestId: string | null;
  /** Canonical JSON (sorted keys) exactly as hashed, or null. */
  details: string | null;
  hashAlg: HashAlgorithm;
  prevHash: Buffer;
  hash: Buffer;
}

/** Both algorithms give 32 bytes; the first entry chains to 32 zero bytes. */
export const GENESIS_HASH: Buffer = Buffer.alloc(32);

/** Version of the hashed encoding below; a change adds a version, never edits this one. */
const ENCODING_V1 = 1;

/**
 * hash = H(prevHash ‖ UTF-8 JSON array of every field in a fixed order).
 * JSON strings are unambiguous (quoted, escaped), so no field can bleed into the next.
 */
export function entryHash(e: Omit<StoredEntry, 'hash'>): Buffer {
  const fields = JSON.stringify([
    ENCODING_V1,
    e.sequence.toString(),
    e.timeMs,
    e.actor,
    e.actorRole,
    e.source,
    e.action,
    e.target,
    e.outcome,
    e.reason,
    e.requestId,
    e.details,
    e.hashAlg,
  ]);
  // One-shot crypto.hash: about half the cost of createHash per entry (full verify is hash-bound).
  return hash(e.hashAlg, Buffer.concat([e.prevHash, Buffer.from(fields, 'utf8')]), 'buffer');
}

export class InvalidAuditEntryError extends Error {
  override name = 'InvalidAuditEntryError';
}

const ACTION = /^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)+$/;
const LIMITS = {
  actor: 256,
  actorRole: 32,
  source: 256,
  target: 512,
  reason: 1_024,
  requestId: 128,
};
const MAX_DETAILS_CHARS = 16_384;

/** PostgreSQL text cannot hold NUL; long values are cut (and say so) rather than refused. */
function text(value: string | null | undefined, max: number): string | null {
  if (value === undefined || value === null) return null;
  const clean = String(value).replace(/\u0000/g, '');
  return clean.length > max ? `${clean.slice(0, max - 1)}…` : clean;
}

/** JSON with object keys sorted at every level, so equal details always hash equally. */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(sortKeys(value));
}

function sortKeys(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(sortKeys);
  if (v instanceof Date) return v.toISOString();
  if (typeof v === 'bigint') return v.toString();
  if (v && typeof v === 'object') {
    const out: Record<string, unknown> = {};
    for (const k of Object.keys(v).sort()) {
      const x = (v as Record<string, unknown>)[k];
      if (x !== undefined) out[k] = sortKeys(x);
    }
    return out;
  }
  if (typeof v === 'string') return v.replace(/\u0000/g, '');
  return v;
}

/** The fields of a new entry, validated and normalised (everything but sequence, time and hashes). */
export function normaliseEntry(input: AuditEntryInput) {
  if (typeof input.action !== 'string' || input.action.length > 100 || !ACTION.test(input.action)) {
    throw new InvalidAuditEntryError(
      `audit action must be dotted lower-case words (e.g. auth.login), got "${String(input.action)}"`,
    );
  }
  if (!(OUTCOMES as readonly string[]).includes(input.outcome)) {
    throw new InvalidAuditEntryError(`audit outcome must be one of ${OUTCOMES.join('|')}`);
  }
  let details: string | null = null;
  if (input.details !== undefined && input.details !== null) {
    details = canonicalJson(input.details);
    if (details.length > MAX_DETAILS_CHARS) {
      details = canonicalJson({
        truncated: true,
        chars: details.length,
        head: details.slice(0, 4_096),
      });
    }
  }
  return {
    actor: text(input.actor, LIMITS.actor),
    actorRole: text(input.actorRole, LIMITS.actorRole),
    source: text(input.source, LIMITS.source),
    action: input.action,
    target: text(input.target, LIMITS.target),
    outcome: input.outcome,
    reason: text(input.reason, LIMITS.reason),
    requestId: text(input.requestId, LIMITS.requestId),
    details,
  };
}
