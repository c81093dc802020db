import { existsSync, mkdirSync, readFileSync, readdirSync, statSync, unlinkSync } from 'node:fs';
import { join } from 'node:path';
import type { Batch__Output } from '@tidewatch/proto';

import { StateDirError } from '../state/errors';
import { fsyncDir, realMkdirError, writeFileDurably } from '../state/durable-file';

interface Entry {
  sequence: number;
  bytes: number;
}

interface SpoolState {
  lastSequence: number;
  /**
   * A renumbering in progress (see renumberAfter): from[i] becomes base + i.
   * Kept until every file is moved, so that a restart finishes it.
   */
  renumbering?: { from: number[]; base: number };
  /**
   * Records lost and not yet reported, by reason: batches dropped because the
   * spool was full ("spool_full") or could not be written ("spool_write_failed"),
   * plus the losses that dropped batches themselves were carrying.
   */
  droppedUnreported: Record<string, number>;
}

const FILE_RE = /^(\d{20})\.json$/;
const STATE_FILE = 'spool-state.json';

function describe(err: unknown, action: string, path: string): StateDirError {
  const e = err as NodeJS.ErrnoException;
  const hint: Record<string, string> = {
    ENOSPC: 'the disk is full: free space or lower spool.maxBytes',
    EROFS: 'the file system is read-only: point stateDir at a writable directory',
    EACCES: 'permission denied: the agent user must own stateDir (mode 0700)',
    EPERM: 'permission denied: the agent user must own stateDir (mode 0700)',
    ENOTDIR: 'a path component is not a directory: check stateDir',
    EDQUOT: 'the disk quota is exhausted: free space or lower spool.maxBytes',
  };
  const why = (e.code && hint[e.code]) ?? e.message;
  return new StateDirError(`spool: cannot ${action} ${path} (${e.code ?? 'error'}): ${why}`);
}

function asStateDirError(err: unknown, action: string, path: string): StateDirError {
  return err instanceof StateDirError ? err : describe(err, action, path);
}

/**
 * Bounded on-disk queue of batches awaiting acknowledgement, one file per
 * batch in sequence order. It survives restarts: sequences keep growing, and
 * what was not acknowledged is replayed. When a new batch does not fit in
 * maxBytes, the oldest batches are dropped and counted; the disk never holds
 * more than maxBytes of batches.
 */
export class Spool {
  private readonly dir: string;
  private entries: Entry[] = [];
  private totalBytes = 0;
  private state: SpoolState = { lastSequence: 0, droppedUnreported: {} };

  private constructor(
    private readonly stateDir: string,
    private maxBytes: number,
  ) {
    this.dir = join(stateDir, 'spool');
  }

  static open(stateDir: string, maxBytes: number): Spool {
    const spool = new Spool(stateDir, maxBytes);
    spool.load();
    return spool;
  }

  private load(): void {
    try {
      mkdirSync(this.dir, { recursive: true, mode: 0o700 });
    } catch (err) {
      throw describe(realMkdirError(this.dir, err), 'create', this.dir);
    }
    try {
      // Prove the directory is writable now, not at the first window.
      writeFileDurably(join(this.dir, '.probe'), 'ok');
      unlinkSync(join(this.dir, '.probe'));
    } catch (err) {
      throw describe(err, 'write to', this.dir);
    }
    try {
      this.state = {
        ...this.state,
        ...JSON.parse(readFileSync(join(this.stateDir, STATE_FILE), 'utf8')),
      };
    } catch {
      // No state yet (first start) or unreadable: rebuilt from the files below.
    }
    if (this.state.renumbering) {
      try {
        this.finishRenumbering(); // a crash in the middle of one
      } catch (err) {
        throw asStateDirError(err, 'finish renumbering in', this.dir);
      }
    }
    this.scan();
    this.enforceBound(0);
  }

  /** Rebuilds the entries from the files on disk. */
  private scan(): void {
    this.entries = [];
    this.totalBytes = 0;
    for (const name of readdirSync(this.dir).sort()) {
      const m = FILE_RE.exec(name);
      if (!m) {
        if (name.endsWith('.tmp')) unlinkSync(join(this.dir, name)); // a crash mid-write
        continue;
      }
      const bytes = statSync(join(this.dir, name)).size;
      this.entries.push({ sequence: Number(m[1]), bytes });
      this.totalBytes += bytes;
    }
    const last = this.entries.at(-1)?.sequence ?? 0;
    this.state.lastSequence = Math.max(this.state.lastSequence, last);
  }

  /** Whether a renumbering was started and not finished (a write failed). */
  get renumberingPending(): boolean {
    return this.state.renumbering !== undefined;
  }

  /**
   * The server already holds sequences up to `highest`, above any number this
   * spool ever assigned: the numbering restarted (a fresh state directory
   * under an agent id the server knows). Every held batch gets a new number
   * after `highest`, in order, and numbering continues from there. The new
   * numbers are all above the old ones; the plan is persisted first, and each
   * batch is written under its new number before the old file is removed, so
   * a restart at any point finishes the job with each batch held once.
   * Returns how many batches were renumbered.
   */
  renumberAfter(highest: number): number {
    if (this.state.renumbering) {
      try {
        this.finishRenumbering();
      } catch (err) {
        throw asStateDirError(err, 'finish renumbering in', this.dir);
      }
      this.scan();
    }
    if (highest <= this.state.lastSequence) return 0;
    const from = this.entries.map((e) => e.sequence);
    this.state.lastSequence = highest + from.length;
    if (from.length > 0) this.state.renumbering = { from, base: highest + 1 };
    this.saveState();
    try {
      this.finishRenumbering();
    } catch (err) {
      throw asStateDirError(err, 'renumber batches in', this.dir);
    } finally {
      this.scan();
    }
    if (this.enforceBound(0) > 0) this.saveState();
    return from.length;
  }

  private finishRenumbering(): void {
    const plan = this.state.renumbering;
    if (!plan) return;
    plan.from.forEach((old, i) => {
      const sequence = plan.base + i;
      const oldFile = this.fileOf(old);
      if (!existsSync(oldFile)) return; // moved before a crash, or dropped
      if (!existsSync(this.fileOf(sequence))) {
        const raw = readFileSync(oldFile);
        let data: string | Buffer = raw;
        try {
          data = JSON.stringify({ ...JSON.parse(raw.toString('utf8')), sequence });
        } catch {
          // Unreadable: moved as it is, and counted as lost when it is read.
        }
        writeFileDurably(this.fileOf(sequence), data);
        fsyncDir(this.dir);
      }
      unlinkSync(oldFile);
    });
    fsyncDir(this.dir);
    delete this.state.renumbering;
    this.saveState();
  }

  private fileOf(sequence: number): string {
    return join(this.dir, `${String(sequence).padStart(20, '0')}.json`);
  }

  private saveState(): void {
    try {
      writeFileDurably(join(this.stateDir, STATE_FILE), JSON.stringify(this.state));
    } catch (err) {
      throw describe(err, 'write', join(this.stateDir, STATE_FILE));
    }
  }

  private countDropped(reason: string, n: number): void {
    if (n > 0)
      this.state.droppedUnreported[reason] = (this.state.droppedUnreported[reason] ?? 0) + n;
  }

  private enforceBound(incoming: number): number {
    let dropped = 0;
    while (this.entries.length > 0 && this.totalBytes + incoming > this.maxBytes) {
      const oldest = this.entries.shift()!;
      this.totalBytes -= oldest.bytes;
      // The losses this batch was reporting must not vanish with it.
      for (const d of this.read(oldest.sequence)?.health?.recordsDropped ?? []) {
        this.countDropped(d.reason, d.count);
      }
      try {
        unlinkSync(this.fileOf(oldest.sequence));
      } catch {
        // Already gone: nothing left to free.
      }
      dropped++;
    }
    this.countDropped('spool_full', dropped);
    return dropped;
  }

  setMaxBytes(maxBytes: number): void {
    this.maxBytes = maxBytes;
    if (this.enforceBound(0) > 0) this.saveState();
  }

  /** Stores a window under the next sequence number and returns it. */
  append(batch: Batch__Output): Batch__Output {
    const sequence = this.state.lastSequence + 1;
    const stored = { ...batch, sequence };
    const data = Buffer.from(JSON.stringify(stored));
    this.state.lastSequence = sequence;
    if (data.length > this.maxBytes) {
      // Larger than the whole spool: it can never be kept.
      this.countDropped('spool_full', 1);
      for (const d of batch.health?.recordsDropped ?? []) this.countDropped(d.reason, d.count);
      this.saveState();
      return stored;
    }
    this.enforceBound(data.length);
    try {
      // The sequence is recorded before the batch, so that it is never reused,
      // even when the batch itself cannot be written.
      writeFileDurably(join(this.stateDir, STATE_FILE), JSON.stringify(this.state));
      writeFileDurably(this.fileOf(sequence), data);
    } catch (err) {
      this.countDropped('spool_write_failed', 1);
      for (const d of batch.health?.recordsDropped ?? []) this.countDropped(d.reason, d.count);
      throw describe(err, 'write batch to', this.fileOf(sequence));
    }
    this.entries.push({ sequence, bytes: data.length });
    this.totalBytes += data.length;
    return stored;
  }

  /** Index of the first entry with sequence > after (entries are sorted). */
  private firstAfter(after: number): number {
    let lo = 0;
    let hi = this.entries.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.entries[mid].sequence > after) hi = mid;
      else lo = mid + 1;
    }
    return lo;
  }

  /** Batches with sequence > after, oldest first. */
  pendingAfter(after: number, limit = Infinity): number[] {
    const start = this.firstAfter(after);
    const end = Math.min(this.entries.length, start + limit);
    return this.entries.slice(start, end).map((e) => e.sequence);
  }

  /** How many stored batches have a sequence in (after, upTo]. */
  countBetween(after: number, upTo: number): number {
    return Math.max(0, this.firstAfter(upTo) - this.firstAfter(after));
  }

  read(sequence: number): Batch__Output | undefined {
    try {
      return JSON.parse(readFileSync(this.fileOf(sequence), 'utf8')) as Batch__Output;
    } catch {
      return undefined;
    }
  }

  /** Cumulative acknowledgement: everything <= sequence is durable on the server. */
  ack(sequence: number): void {
    while (this.entries.length > 0 && this.entries[0].sequence <= sequence) {
      const e = this.entries.shift()!;
      this.totalBytes -= e.bytes;
      try {
        unlinkSync(this.fileOf(e.sequence));
      } catch {
        // Already removed.
      }
    }
  }

  /** Forgets a batch that cannot be read back (corrupt or removed): counted as lost. */
  discard(sequence: number): void {
    const i = this.entries.findIndex((e) => e.sequence === sequence);
    if (i < 0) return;
    this.totalBytes -= this.entries[i].bytes;
    this.entries.splice(i, 1);
    try {
      unlinkSync(this.fileOf(sequence));
    } catch {
      // Already gone.
    }
    this.countDropped('spool_read_failed', 1);
    try {
      this.saveState();
    } catch {
      // Still counted in memory, reported with the next window.
    }
  }

  /** Losses not yet reported, by reason; taking them hands them over to the next window. */
  takeDropped(): Record<string, number> {
    const out = this.state.droppedUnreported;
    if (Object.keys(out).length > 0) {
      this.state.droppedUnreported = {};
      try {
        this.saveState();
      } catch {
        // Reported in this window anyway; at worst counted twice after a crash.
      }
    }
    return out;
  }

  get depth(): number {
    return this.entries.length;
  }

  get bytes(): number {
    return this.totalBytes;
  }

  get lastSequence(): number {
    return this.state.lastSequence;
  }

  get oldestSequence(): number | undefined {
    return this.entries[0]?.sequence;
  }
}
