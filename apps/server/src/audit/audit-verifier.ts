// Walks the chain and compares it with the signed checkpoints. Names the first
// bad sequence: a modified entry, a missing range, a chain rewritten
// consistently (caught by a checkpoint), a head behind the last checkpoint.

import type { DataSource } from 'typeorm';
import { ENTRY_COLUMNS, EntryRow, fromRow } from './audit-chain';
import { entryHash, GENESIS_HASH, StoredEntry } from './audit-entry';
import type { Checkpoint } from './checkpoint-signing';
import type { CheckpointLog } from './checkpoint-log';

export type Query = <T = Record<string, unknown>>(sql: string, params?: unknown[]) => Promise<T[]>;
export type VerifyMode = 'incremental' | 'full';

export interface VerifyResult {
  ok: boolean;
  /** Entries whose hash and link were checked. */
  checked: number;
  /** The first bad sequence. */
  brokenAt?: string;
  reason?: string;
  mode: VerifyMode;
  /** Where the walk started (incremental: the newest signed checkpoint). */
  from: string | null;
  head: { sequence: string; hash: string } | null;
  /** Signed checkpoints the chain was compared with. */
  checkpointsChecked: number;
  lastCheckpoint: { sequence: string; time: string } | null;
  /** false when the server runs with AUDIT_CHECKPOINTS=off: a consistent rewrite is then not detectable. */
  checkpointsEnabled: boolean;
}

/** The purge tombstone's details (audit.purged). */
export interface TombstoneDetails {
  firstPurgedSequence: string;
  lastPurgedSequence: string;
  lastPurgedHash: string;
  purged: string;
}

const BATCH = 5_000;

class Broken extends Error {
  constructor(
    readonly sequence: bigint,
    readonly why: string,
  ) {
    super(why);
  }
}

/**
 * Verifies on one connection of `ds`, through the pg driver itself: TypeORM's
 * query wrapper doubles the cost of reading a million rows.
 */
export async function verifyWithDataSource(
  ds: DataSource,
  log: CheckpointLog | null,
  mode: VerifyMode,
): Promise<VerifyResult> {
  const qr = ds.createQueryRunner();
  // PostgresQueryRunner.connect() answers the pool's pg client.
  const client = (await qr.connect()) as {
    query(sql: string, params?: unknown[]): Promise<{ rows: unknown[] }>;
  };
  try {
    const query: Query = async <T>(sql: string, params?: unknown[]) =>
      (await client.query(sql, params)).rows as T[];
    return await verifyTrail(query, log, mode);
  } finally {
    await qr.release();
  }
}

export async function verifyTrail(
  query: Query,
  log: CheckpointLog | null,
  mode: VerifyMode,
): Promise<VerifyResult> {
  const file = log ? await log.read() : { checkpoints: [], problems: [] };
  // The newest checkpoint for each sequence wins only if all agree; any disagreement is itself a finding.
  const bySequence = new Map<string, Checkpoint>();
  for (const c of file.checkpoints) bySequence.set(c.sequence, c);
  const sorted = [...bySequence.values()].sort((a, b) =>
    cmp(BigInt(a.sequence), BigInt(b.sequence)),
  );
  const last = sorted.length ? sorted[sorted.length - 1] : null;
  const result: VerifyResult = {
    ok: true,
    checked: 0,
    mode,
    from: null,
    head: null,
    checkpointsChecked: 0,
    lastCheckpoint: last ? { sequence: last.sequence, time: last.time } : null,
    checkpointsEnabled: log !== null,
  };
  if (file.problems.length) {
    const p = file.problems[0];
    return fail(result, undefined, `checkpoint file ${log?.file}, line ${p.line}: ${p.reason}`);
  }

  const headRows = await query<{ seq: string; hash: Buffer }>(
    'SELECT e.sequence::text AS seq, e.hash FROM audit_entries e ORDER BY e.sequence DESC LIMIT 1',
  );
  const head = headRows.length
    ? { sequence: BigInt(headRows[0].seq), hash: headRows[0].hash }
    : null;
  result.head = head
    ? { sequence: head.sequence.toString(), hash: head.hash.toString('hex') }
    : null;
  if (last && (!head || head.sequence < BigInt(last.sequence))) {
    return fail(
      result,
      (head?.sequence ?? 0n) + 1n,
      `head behind the last checkpoint: the trail ends at sequence ${head?.sequence ?? 0} but the checkpoint signed at ${last.time} names sequence ${last.sequence} (entries were removed or an older backup restored)`,
    );
  }
  if (!head) return result;

  // Incremental: from the newest signed checkpoint (its entry re-hashed, then everything after it).
  const start = mode === 'incremental' && last ? BigInt(last.sequence) : null;
  result.from = start?.toString() ?? null;
  const checkpoints = sorted.filter((c) => start === null || BigInt(c.sequence) >= start);
  let cpIndex = 0;
  let lastGoodCheckpoint: bigint | null = null;
  let prev: StoredEntry | null = null;
  let first: StoredEntry | null = null;
  const tombstones: TombstoneDetails[] = [];
  try {
    const page = (after: bigint) => {
      const p = query<EntryRow>(
        `SELECT ${ENTRY_COLUMNS} FROM audit_entries WHERE sequence > $1 ORDER BY sequence LIMIT ${BATCH}`,
        [after.toString()],
      );
      p.catch(() => undefined); // a page read ahead and then not needed must not go unhandled
      return p;
    };
    let next = page(start === null ? 0n : start - 1n);
    for (;;) {
      const rows = await next;
      // The next page is read while this one is hashed.
      if (rows.length === BATCH) next = page(BigInt(rows[rows.length - 1].seq));
      for (const row of rows) {
        const e = fromRow(row);
        if (first === null) {
          first = e;
          if (start !== null && e.sequence !== start) {
            throw new Broken(start, `entry ${start} (the last checkpoint's) is missing`);
          }
        }
        if (prev && e.sequence !== prev.sequence + 1n) {
          const from = prev.sequence + 1n;
          throw new Broken(from, `entries ${range(from, e.sequence - 1n)} are missing`);
        }
        if (!entryHash(e).equals(e.hash)) {
          throw new Broken(
            e.sequence,
            `entry ${e.sequence} does not match its hash: it was modified`,
          );
        }
        if (prev && !e.prevHash.equals(prev.hash)) {
          throw new Broken(
            e.sequence,
            `entry ${e.sequence} does not chain to entry ${prev.sequence}: one of them was replaced`,
          );
        }
        if (!prev && e.sequence === 1n && !e.prevHash.equals(GENESIS_HASH)) {
          throw new Broken(1n, 'entry 1 does not start the chain (its previous hash is not zero)');
        }
        while (cpIndex < checkpoints.length && BigInt(checkpoints[cpIndex].sequence) < e.sequence) {
          // A checkpoint whose entry is gone: legitimately purged only if a tombstone says so (checked below).
          cpIndex++;
        }
        if (cpIndex < checkpoints.length && BigInt(checkpoints[cpIndex].sequence) === e.sequence) {
          const c = checkpoints[cpIndex++];
          result.checkpointsChecked++;
          if (c.hash !== e.hash.toString('hex')) {
            const since =
              lastGoodCheckpoint === null ? 'the start' : `sequence ${lastGoodCheckpoint + 1n}`;
            throw new Broken(
              e.sequence,
              `entry ${e.sequence} differs from the checkpoint signed at ${c.time}: the chain was rewritten between ${since} and ${e.sequence}`,
            );
          }
          lastGoodCheckpoint = e.sequence;
        }
        if (e.action === 'audit.purged' && e.details) tombstones.push(tombstone(e.details));
        result.checked++;
        prev = e;
      }
      if (rows.length < BATCH) break;
    }
    await checkCounts(query, checkpoints);
    if (start === null && first && first.sequence !== 1n) {
      // The oldest entries were purged: a tombstone must name exactly the last purged one.
      const t = tombstones.find((x) => BigInt(x.lastPurgedSequence) === first!.sequence - 1n);
      if (!t) {
        const covered = tombstones.reduce(
          (m, x) => (BigInt(x.lastPurgedSequence) > m ? BigInt(x.lastPurgedSequence) : m),
          0n,
        );
        throw new Broken(
          covered + 1n,
          `entries ${range(covered + 1n, first.sequence - 1n)} are missing (no purge tombstone names them)`,
        );
      }
      if (t.lastPurgedHash !== first.prevHash.toString('hex')) {
        throw new Broken(
          first.sequence,
          `entry ${first.sequence} does not chain to the purge tombstone's last purged hash`,
        );
      }
    }
  } catch (err) {
    if (err instanceof Broken) return fail(result, err.sequence, err.why);
    throw err;
  }
  return result;
}

/**
 * Each checkpoint signed how many entries were present up to its sequence: the
 * oldest present one was then `sequence - count + 1`. Entries before it that
 * are there now were inserted since; entries from it that are gone now must be
 * named by a purge tombstone recorded after the checkpoint. The chain's
 * contiguity from the oldest entry is the walk's (full mode); here the oldest
 * entry is read with one index lookup, so the incremental mode catches a
 * removed head of the trail too.
 */
async function checkCounts(query: Query, checkpoints: Checkpoint[]): Promise<void> {
  if (!checkpoints.length) return;
  const [{ first }] = await query<{ first: string | null }>(
    'SELECT min(sequence)::text AS first FROM audit_entries',
  );
  if (first === null) return;
  const oldest = BigInt(first);
  let purges: { seq: bigint; t: TombstoneDetails }[] | null = null;
  for (const c of checkpoints) {
    const seq = BigInt(c.sequence);
    const count = BigInt(c.count);
    if (seq < oldest) continue; // all purged since; the walk checks the tombstone
    const oldestThen = seq - count + 1n;
    if (oldestThen < 1n) {
      throw new Broken(
        seq,
        `the checkpoint signed at ${c.time} counts ${count} entries up to ${seq}`,
      );
    }
    if (oldest < oldestThen) {
      throw new Broken(
        oldest,
        `entries ${range(oldest, oldestThen - 1n)} were not in the trail when the checkpoint signed at ${c.time} counted ${count} entries up to ${seq}: inserted since`,
      );
    }
    if (oldest === oldestThen) continue;
    purges ??= (
      await query<{ seq: string; details: string }>(
        `SELECT sequence::text AS seq, details FROM audit_entries WHERE action = 'audit.purged' ORDER BY sequence`,
      )
    ).map((r) => ({ seq: BigInt(r.seq), t: tombstone(r.details) }));
    // The purges recorded after the checkpoint must cover oldestThen .. oldest - 1 without a hole.
    const ranges = purges
      .filter((p) => p.seq > seq)
      .map((p) => [BigInt(p.t.firstPurgedSequence), BigInt(p.t.lastPurgedSequence)] as const)
      .sort((a, b) => cmp(a[0], b[0]));
    let covered = oldestThen - 1n;
    for (const [a, b] of ranges) if (a <= covered + 1n && b > covered) covered = b;
    if (covered < oldest - 1n) {
      throw new Broken(
        covered + 1n,
        `entries ${range(covered + 1n, oldest - 1n)} are missing: the checkpoint signed at ${c.time} counted ${count} entries up to ${seq}, ${seq - oldest + 1n} are left, and no purge tombstone recorded since names them`,
      );
    }
  }
}

function tombstone(details: string): TombstoneDetails {
  try {
    const d = JSON.parse(details) as TombstoneDetails;
    return d;
  } catch {
    return { firstPurgedSequence: '0', lastPurgedSequence: '0', lastPurgedHash: '', purged: '0' };
  }
}

function fail(r: VerifyResult, at: bigint | undefined, reason: string): VerifyResult {
  return { ...r, ok: false, ...(at !== undefined ? { brokenAt: at.toString() } : {}), reason };
}

function range(a: bigint, b: bigint): string {
  return a === b ? `${a}` : `${a}–${b}`;
}

function cmp(a: bigint, b: bigint): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
