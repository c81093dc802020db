import { closeSync, mkdirSync, openSync, readFileSync, unlinkSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { realMkdirError } from './durable-file';
import { StateDirError } from './errors';

/** Another live agent process uses the state directory. The CLI exits with code 4. */
export class StateDirInUseError extends StateDirError {}

export const LOCK_FILE = 'agent.lock';

interface Holder {
  pid: number;
  /** Start time of the process in clock ticks since boot (/proc/PID/stat field 22). */
  startTicks: string;
  command: string;
}

function startTicksOf(pid: number): string | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after the command name, which may itself hold spaces and parentheses.
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19];
  } catch {
    return undefined;
  }
}

/** Whether the process that wrote the lock still runs (same pid and same start time). */
function isAlive(h: Holder): boolean {
  if (!Number.isInteger(h.pid) || h.pid <= 0) return false;
  try {
    process.kill(h.pid, 0);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EPERM') return false;
  }
  const now = startTicksOf(h.pid);
  // A reused pid has another start time; without /proc the signal test decides.
  return now === undefined || now === h.startTicks;
}

function readRaw(path: string): string | undefined {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return undefined; // removed meanwhile
  }
}

function parseHolder(raw: string | undefined): Holder | undefined {
  try {
    return raw === undefined ? undefined : (JSON.parse(raw) as Holder);
  } catch {
    return undefined; // half-written by a crash
  }
}

/**
 * One agent process per state directory: `run`, `top` and `export` all attach
 * to Tidewatch's TC slot and clean up the filters a crashed run left there,
 * which would remove a live agent's. The lock is a file created exclusively
 * with the holder's pid and start time; one whose process is gone (crash,
 * SIGKILL) is taken over.
 */
export class InstanceLock {
  private released = false;
  private readonly onExit = () => this.release();

  private constructor(
    readonly path: string,
    private readonly content: string,
  ) {
    process.once('exit', this.onExit);
  }

  static acquire(stateDir: string, command: string): InstanceLock {
    try {
      mkdirSync(stateDir, { recursive: true, mode: 0o700 });
    } catch (err) {
      throw stateError(realMkdirError(stateDir, err), 'create', stateDir);
    }
    const path = join(stateDir, LOCK_FILE);
    const self: Holder = { pid: process.pid, startTicks: startTicksOf(process.pid) ?? '', command };
    const content = JSON.stringify(self);
    for (let attempt = 0; attempt < 5; attempt++) {
      let fd: number;
      try {
        fd = openSync(path, 'wx', 0o600);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw stateError(err, 'create', path);
        const raw = readRaw(path);
        const holder = parseHolder(raw);
        if (holder && isAlive(holder)) {
          throw new StateDirInUseError(
            `state directory ${stateDir} is in use by another tidewatch-agent ${holder.command} (pid ${holder.pid}): ` +
              "one agent per state directory and host (they would remove each other's TC filters); " +
              `stop it first, or remove ${path} if that process is not a tidewatch-agent`,
          );
        }
        if (!holder && attempt === 0) {
          // Possibly being written right now by a starting agent: look again shortly.
          Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 50);
          continue;
        }
        try {
          // Left by a process that is gone; unless another start took it over meanwhile.
          if (readRaw(path) === raw) unlinkSync(path);
        } catch {
          // Taken over by another start meanwhile: the next attempt sees it.
        }
        continue;
      }
      try {
        writeSync(fd, content);
      } finally {
        closeSync(fd);
      }
      return new InstanceLock(path, content);
    }
    throw new StateDirInUseError(`cannot take the lock ${path}: it keeps changing hands`);
  }

  get held(): boolean {
    return !this.released;
  }

  /** Removes the lock file if it is still ours. Also runs at process exit. */
  release(): void {
    if (this.released) return;
    this.released = true;
    process.off('exit', this.onExit);
    try {
      if (readFileSync(this.path, 'utf8') === this.content) unlinkSync(this.path);
    } catch {
      // Already gone.
    }
  }
}

function stateError(err: unknown, action: string, path: string): StateDirError {
  const e = err as NodeJS.ErrnoException;
  const hint: Record<string, string> = {
    EROFS: 'the file system is read-only: point stateDir at a writable directory',
    EACCES: 'permission denied: the agent user must own stateDir (mode 0700)',
    EPERM: 'permission denied: the agent user must own stateDir (mode 0700)',
    ENOTDIR: 'a path component is not a directory: check stateDir',
    ENOSPC: 'the disk is full: free space',
  };
  const why = (e.code && hint[e.code]) ?? e.message;
  return new StateDirError(
    `state directory: cannot ${action} ${path} (${e.code ?? 'error'}): ${why}`,
  );
}

/**
 * The lock for a command. A live holder always stops it (exit 4). A state
 * directory that cannot be written stops it only when it is `required` (`run`
 * with a server: the spool lives there); otherwise the command goes on without
 * the lock, as before, and leaves filters a crashed run left behind alone.
 */
export function lockStateDir(
  stateDir: string,
  command: string,
  required: boolean,
  warn: (msg: string) => void,
): InstanceLock | undefined {
  try {
    return InstanceLock.acquire(stateDir, command);
  } catch (err) {
    if (required || err instanceof StateDirInUseError) throw err;
    warn(
      `${(err as Error).message}; going on without the state directory's lock: filters a crashed run left behind are not cleaned up`,
    );
    return undefined;
  }
}
