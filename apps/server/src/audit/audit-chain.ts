// The one path that writes audit entries. Everything that appends (service,
// heartbeat, purge tombstone, tests, benchmark) goes through appendEntry().

import type { EntityManager } from 'typeorm';
import {
  AuditEntryInput,
  entryHash,
  GENESIS_HASH,
  normaliseEntry,
  StoredEntry,
} from './audit-entry';
import type { HashAlgorithm } from './audit-settings';

/**
 * Serializes writers across every connection and every server replica. It is a
 * transaction-level lock: held until the caller's transaction commits or rolls
 * back, so the next writer always reads a committed head.
 */
export const AUDIT_WRITE_LOCK = 0x7477_6175; // "twau"

/** Columns in the order the hash covers them; `time_ms` read back exactly as written. */
// Aliases differ from column names (`seq`, not `sequence`), so ORDER BY sequence sorts numbers.
export const ENTRY_COLUMNS = `sequence::text AS seq, (extract(epoch FROM time) * 1000)::int8::text AS time_ms,
  actor, actor_role, source, action, target, outcome, reason, request_id, details, hash_alg, prev_hash, hash`;

export interface EntryRow {
  seq: string;
  time_ms: string;
  actor: string | null;
  actor_role: string | null;
  source: string | null;
  action: string;
  target: string | null;
  outcome: string;
  reason: string | null;
  request_id: string | null;
  details: string | null;
  hash_alg: string;
  prev_hash: Buffer;
  hash: Buffer;
}

export function fromRow(r: EntryRow): StoredEntry {
  return {
    sequence: BigInt(r.seq),
    timeMs: Number(r.time_ms),
    actor: r.actor,
    actorRole: r.actor_role,
    source: r.source,
    action: r.action,
    target: r.target,
    outcome: r.outcome,
    reason: r.reason,
    requestId: r.request_id,
    details: r.details,
    hashAlg: r.hash_alg as HashAlgorithm,
    prevHash: r.prev_hash,
    hash: r.hash,
  };
}

/**
 * Appends one entry inside `em`'s transaction (which must be open): takes the
 * writer lock, reads the head, chains to it and inserts. The sequence is the
 * head's plus one, so sequence and chain stay linear under any number of writers.
 */
export async function appendEntry(
  em: EntityManager,
  input: AuditEntryInput,
  hashAlg: HashAlgorithm,
  nowMs: number = Date.now(),
): Promise<StoredEntry> {
  const fields = normaliseEntry(input);
  await em.query('SELECT pg_advisory_xact_lock($1)', [AUDIT_WRITE_LOCK]);
  // Ordered by the column, not by a text alias of it ('9' > '10').
  const head: { seq: string; hash: Buffer }[] = await em.query(
    'SELECT e.sequence::text AS seq, e.hash FROM audit_entries e ORDER BY e.sequence DESC LIMIT 1',
  );
  const base = {
    ...fields,
    sequence: head.length ? BigInt(head[0].seq) + 1n : 1n,
    timeMs: Math.trunc(nowMs),
    hashAlg,
    prevHash: head.length ? head[0].hash : GENESIS_HASH,
  };
  const entry: StoredEntry = { ...base, hash: entryHash(base) };
  await em.query(
    `INSERT INTO audit_entries (sequence, time, actor, actor_role, source, action, target, outcome,
                                reason, request_id, details, hash_alg, prev_hash, hash)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)`,
    [
      entry.sequence.toString(),
      new Date(entry.timeMs).toISOString(),
      entry.actor,
      entry.actorRole,
      entry.source,
      entry.action,
      entry.target,
      entry.outcome,
      entry.reason,
      entry.requestId,
      entry.details,
      entry.hashAlg,
      entry.prevHash,
      entry.hash,
    ],
  );
  return entry;
}
