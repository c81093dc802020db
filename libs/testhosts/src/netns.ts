import { background, exec, type Background, type ExecOptions, type ExecResult } from './exec';

/**
 * A network namespace made by a TestNetwork, or this process's own
 * namespace (name null). Commands run inside it through `ip netns exec`.
 */
export class NetNs {
  constructor(readonly name: string | null) {}

  /** True for the namespace this process runs in. */
  get isHost(): boolean {
    return this.name === null;
  }

  exec(cmd: string, args: string[], opts: Omit<ExecOptions, 'netns'> = {}): Promise<ExecResult> {
    return exec(cmd, args, { ...opts, netns: this.name });
  }

  /** Runs a shell script (sh -e) inside the namespace. */
  sh(script: string, opts: Omit<ExecOptions, 'netns'> = {}): Promise<ExecResult> {
    return this.exec('sh', ['-e', '-c', script], opts);
  }

  /** Runs a Node.js script inside the namespace with the test's own node binary. */
  node(
    script: string,
    args: string[] = [],
    opts: Omit<ExecOptions, 'netns'> = {},
  ): Promise<ExecResult> {
    return this.exec(process.execPath, ['-e', script, '--', ...args], opts);
  }

  /** Starts a Node.js script in the background inside the namespace. */
  nodeBackground(script: string, args: string[] = []): Background {
    return background(process.execPath, ['-e', script, '--', ...args], this.name);
  }

  background(cmd: string, args: string[]): Background {
    return background(cmd, args, this.name);
  }
}
