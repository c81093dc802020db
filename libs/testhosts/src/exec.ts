import { spawn, type ChildProcess } from 'node:child_process';

export interface ExecResult {
  stdout: string;
  stderr: string;
  code: number;
}

export interface ExecOptions {
  /** Run inside this network namespace (`ip netns exec`). */
  netns?: string | null;
  /** Written to stdin, then stdin is closed. */
  input?: string;
  /** Kill the command after this long (default 30 s). */
  timeoutMs?: number;
  /** Resolve with a non-zero code instead of rejecting. */
  allowFailure?: boolean;
}

/** The argv that runs `cmd args` in `netns` (or here when netns is null). */
export function inNetns(netns: string | null | undefined, cmd: string, args: string[]): string[] {
  return netns ? ['ip', 'netns', 'exec', netns, cmd, ...args] : [cmd, ...args];
}

/** Runs a command to completion; rejects with its stderr when it fails. */
export function exec(cmd: string, args: string[], opts: ExecOptions = {}): Promise<ExecResult> {
  const argv = inNetns(opts.netns, cmd, args);
  return new Promise((resolve, reject) => {
    const child = spawn(argv[0], argv.slice(1), { stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    // A bound for failures only (emulated guests are several times slower).
    const timer = setTimeout(() => child.kill('SIGKILL'), opts.timeoutMs ?? 120_000);
    child.on('error', (err) => {
      clearTimeout(timer);
      reject(new Error(`${argv.join(' ')}: ${err.message}`));
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      const rc = code ?? 128;
      if (rc !== 0 && !opts.allowFailure) {
        const why = signal ? `killed by ${signal}` : `exit ${rc}`;
        reject(new Error(`${argv.join(' ')} failed (${why}): ${stderr.trim() || stdout.trim()}`));
        return;
      }
      resolve({ stdout, stderr, code: rc });
    });
    // A command that never reads stdin closes it early: not an error.
    child.stdin.on('error', () => undefined);
    child.stdin.end(opts.input ?? '');
  });
}

/** A long-running command whose stdout lines can be awaited. */
export class Background {
  private out = '';
  private readonly exited: Promise<ExecResult>;
  private err = '';

  constructor(readonly child: ChildProcess) {
    child.stdout?.on('data', (d: Buffer) => (this.out += d.toString()));
    child.stderr?.on('data', (d: Buffer) => (this.err += d.toString()));
    this.exited = new Promise((resolve) => {
      child.on('close', (code) =>
        resolve({ stdout: this.out, stderr: this.err, code: code ?? 128 }),
      );
    });
  }

  get stdout(): string {
    return this.out;
  }

  /**
   * Resolves once stdout contains `text`; rejects on exit or timeout (a bound
   * for failures only: a node child in an emulated guest takes seconds to start).
   */
  async waitFor(text: string, timeoutMs = 60_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!this.out.includes(text)) {
      if (this.child.exitCode !== null) {
        throw new Error(`process exited before printing "${text}": ${this.err.trim()}`);
      }
      if (Date.now() > deadline) throw new Error(`timed out waiting for "${text}"`);
      await new Promise((r) => setTimeout(r, 10));
    }
  }

  /** Resolves with the process's output when it exits (killed after timeoutMs). */
  async wait(timeoutMs = 30_000): Promise<ExecResult> {
    const timer = setTimeout(() => this.child.kill('SIGKILL'), timeoutMs);
    try {
      return await this.exited;
    } finally {
      clearTimeout(timer);
    }
  }

  async kill(): Promise<void> {
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill('SIGKILL');
    await this.exited;
  }
}

/** Starts a command in the background (inside netns when given). */
export function background(cmd: string, args: string[], netns?: string | null): Background {
  const argv = inNetns(netns, cmd, args);
  return new Background(spawn(argv[0], argv.slice(1), { stdio: ['ignore', 'pipe', 'pipe'] }));
}
