// The append-only file of signed checkpoints (one JSON line each), outside the
// database. Read incrementally: only the bytes appended since the last read.

import type { KeyObject } from 'node:crypto';
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { Checkpoint, checkpointProblem, keyId } from './checkpoint-signing';

export interface CheckpointFileProblem {
  line: number;
  reason: string;
}

export class CheckpointLog {
  private offset = 0;
  private lines = 0;
  private pending = '';
  private readonly checkpoints: Checkpoint[] = [];
  private readonly problems: CheckpointFileProblem[] = [];
  private readonly currentId: string;
  private readonly retired = new Map<string, KeyObject>();
  /** A line signed by the current key was read: retired keys sign nothing after it. */
  private currentSeen = false;

  /**
   * `retired`: public keys of signing keys rotated out. Their lines verify
   * when they come before the first line of the current key in the file; one
   * after it (an old key, perhaps leaked, signing a new checkpoint) is refused.
   */
  constructor(
    readonly file: string,
    private readonly publicKey: KeyObject,
    retired: KeyObject[] = [],
  ) {
    this.currentId = keyId(publicKey);
    for (const k of retired) if (keyId(k) !== this.currentId) this.retired.set(keyId(k), k);
  }

  /** Appends and flushes one checkpoint (O_APPEND: concurrent writers never interleave a line). */
  async append(c: Checkpoint): Promise<void> {
    await fs.mkdir(path.dirname(this.file), { recursive: true, mode: 0o700 });
    const fh = await fs.open(this.file, 'a', 0o600);
    try {
      await fh.write(`${JSON.stringify(c)}\n`);
      await fh.datasync();
    } finally {
      await fh.close();
    }
  }

  /** Every checkpoint read so far (in file order) and every line that was not a valid one. */
  async read(): Promise<{
    checkpoints: readonly Checkpoint[];
    problems: readonly CheckpointFileProblem[];
  }> {
    let fh: fs.FileHandle;
    try {
      fh = await fs.open(this.file, 'r');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') {
        if (this.offset > 0) this.problem('the checkpoint file was removed');
        return { checkpoints: this.checkpoints, problems: this.problems };
      }
      throw err;
    }
    try {
      const { size } = await fh.stat();
      if (size < this.offset) {
        this.problem(`the checkpoint file shrank from ${this.offset} to ${size} bytes`);
        this.offset = size;
      }
      if (size > this.offset) {
        const buf = Buffer.alloc(size - this.offset);
        await fh.read(buf, 0, buf.length, this.offset);
        this.offset = size;
        this.consume(buf.toString('utf8'));
      }
    } finally {
      await fh.close();
    }
    return { checkpoints: this.checkpoints, problems: this.problems };
  }

  private consume(text: string): void {
    const all = this.pending + text;
    const parts = all.split('\n');
    this.pending = parts.pop() ?? '';
    for (const line of parts) {
      this.lines++;
      if (line.trim() === '') continue;
      let parsed: unknown;
      try {
        parsed = JSON.parse(line);
      } catch {
        this.problems.push({ line: this.lines, reason: 'not JSON' });
        continue;
      }
      const id = (parsed as { keyId?: unknown } | null)?.keyId;
      const old = typeof id === 'string' ? this.retired.get(id) : undefined;
      const why = checkpointProblem(parsed, old ?? this.publicKey);
      if (why) this.problems.push({ line: this.lines, reason: why });
      else if (old && this.currentSeen) {
        this.problems.push({
          line: this.lines,
          reason: `signed by the retired key ${id as string} after the current key ${this.currentId} took over`,
        });
      } else {
        if (!old) this.currentSeen = true;
        this.checkpoints.push(parsed as Checkpoint);
      }
    }
  }

  private problem(reason: string): void {
    this.problems.push({ line: this.lines, reason });
  }
}
