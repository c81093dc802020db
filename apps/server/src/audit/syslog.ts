// Checkpoints also go to syslog through logger(1), so that a copy sits on the
// log host even if the checkpoint file and the database are both lost.

import { spawn } from 'node:child_process';
import type { SyslogTarget } from './audit-settings';

export type SyslogState = 'off' | 'unknown' | 'ok' | 'unreachable';

export class SyslogSink {
  private lastState: SyslogState;
  private lastError = '';

  constructor(private readonly target: SyslogTarget) {
    this.lastState = target.kind === 'off' ? 'off' : 'unknown';
  }

  get state(): { state: SyslogState; error?: string } {
    return this.lastError
      ? { state: this.lastState, error: this.lastError }
      : { state: this.lastState };
  }

  /** Sends one line (facility auth, tag tidewatch-audit); resolves with whether it was handed over. */
  send(line: string): Promise<boolean> {
    const t = this.target;
    if (t.kind === 'off') return Promise.resolve(false);
    const args = ['-t', 'tidewatch-audit', '-p', 'auth.notice'];
    // Without this, logger(1) exits 0 even when /dev/log does not exist.
    if (t.kind === 'local') args.push('--socket-errors=on');
    if (t.kind === 'udp') args.push('-d', '-n', t.host, '-P', String(t.port));
    if (t.kind === 'tcp') args.push('-T', '-n', t.host, '-P', String(t.port));
    args.push('--', line);
    return new Promise((resolve) => {
      let stderr = '';
      const child = spawn('logger', args, { stdio: ['ignore', 'ignore', 'pipe'] });
      child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
      child.on('error', (err) =>
        this.done(false, `logger(1) not runnable: ${err.message}`, resolve),
      );
      child.on('close', (code) =>
        code === 0
          ? this.done(true, '', resolve)
          : this.done(false, stderr.trim() || `logger exited with ${code}`, resolve),
      );
    });
  }

  private done(ok: boolean, error: string, resolve: (ok: boolean) => void): void {
    this.lastState = ok ? 'ok' : 'unreachable';
    this.lastError = error;
    resolve(ok);
  }
}
