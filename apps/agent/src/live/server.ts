import { chmodSync, chownSync, readFileSync, unlinkSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import type { Agent } from '../agent/agent';
import type { Sample, SampleDelta } from '../aggregate/window';
import { ServerPortResolver } from '../aggregate/server-port';
import { summarizeFlows } from '../aggregate/flow-summary';
import type { Logger } from '../logging/logger';
import type { TopFrame } from '../top/render';
import type { LiveFrame } from './protocol';

/** A reader this far behind is dropped: a stalled `top` must not grow the agent's memory. */
const MAX_BACKLOG_BYTES = 4 * 1024 * 1024;

/** gid of a group given by name or number (from /etc/group). */
export function resolveGroup(group: string, etcGroup = '/etc/group'): number {
  if (/^\d+$/.test(group)) return Number(group);
  for (const line of readFileSync(etcGroup, 'utf8').split('\n')) {
    const [name, , gid] = line.split(':');
    if (name === group && gid !== undefined) return Number(gid);
  }
  throw new Error(`no group named ${group} in ${etcGroup}`);
}

/** The agent's top frame of one sample: per-second figures and top server ports, masked. */
export function topFrame(
  agent: Agent,
  resolver: ServerPortResolver,
  sample: Sample,
  delta: SampleDelta,
  opts: { topN: number; portAllowlist: number[] },
): TopFrame {
  const servers = resolver.resolve(sample.flows);
  const { ports } = summarizeFlows(sample.flows, servers, {
    topN: opts.topN,
    portAllowlist: new Set(opts.portAllowlist),
    masker: agent.currentMasker,
  });
  return {
    atMs: sample.atMs,
    delta,
    ports,
    interfaces: agent.watchedInterfaces,
    masking: agent.currentMasker.mode,
  };
}

/**
 * The running agent's local socket: `top` and `export` read the live samples
 * and windows here instead of loading a second copy of the programs. The
 * kernel checks who may connect: the socket is 0600 (the agent's user), or
 * 0660 with `group` (its members; the state directory must let them pass).
 */
export class LiveServer {
  private readonly clients = new Set<Socket>();
  private readonly resolver = new ServerPortResolver();

  private constructor(
    private readonly server: Server,
    readonly path: string,
    private readonly agent: Agent,
    private readonly opts: { topN: number; portAllowlist: number[]; windowSeconds: number },
    private readonly logger: Logger,
  ) {
    agent.on('sample', (sample, delta) => {
      if (this.clients.size === 0) return;
      this.broadcast({
        type: 'sample',
        frame: topFrame(agent, this.resolver, sample, delta, this.opts),
      });
    });
    agent.on('window', (window) => {
      if (this.clients.size > 0) this.broadcast({ type: 'window', window });
    });
    server.on('connection', (socket) => this.accept(socket));
  }

  /**
   * Listens on `path`. A socket file left there is removed first: the caller
   * holds the state directory's lock, so no other agent serves it.
   */
  static async listen(
    path: string,
    agent: Agent,
    opts: { topN: number; portAllowlist: number[]; windowSeconds: number; group?: string },
    logger: Logger,
  ): Promise<LiveServer> {
    try {
      unlinkSync(path);
    } catch {
      // None left.
    }
    const gid = opts.group === undefined ? undefined : resolveGroup(opts.group);
    const server = createServer();
    // Created 0600 (no moment where others may connect), widened to the group after.
    const umask = process.umask(0o177);
    try {
      await new Promise<void>((resolve, reject) => {
        server.once('error', reject);
        server.listen(path, () => resolve());
      });
    } finally {
      process.umask(umask);
    }
    if (gid !== undefined) {
      chownSync(path, process.getuid?.() ?? -1, gid);
      chmodSync(path, 0o660);
    } else {
      chmodSync(path, 0o600);
    }
    return new LiveServer(server, path, agent, opts, logger);
  }

  get clientCount(): number {
    return this.clients.size;
  }

  private accept(socket: Socket): void {
    this.clients.add(socket);
    socket.on('close', () => this.clients.delete(socket));
    socket.on('error', () => socket.destroy());
    // Clients only read; anything they send is ignored.
    socket.on('data', () => undefined);
    this.send(socket, {
      type: 'hello',
      pid: process.pid,
      interfaces: this.agent.watchedInterfaces,
      masking: this.agent.currentMasker.mode,
      windowSeconds: this.opts.windowSeconds,
    });
    this.logger.debug({ clients: this.clients.size }, 'local reader connected');
  }

  private send(socket: Socket, frame: LiveFrame): void {
    if (socket.writableLength > MAX_BACKLOG_BYTES) {
      this.logger.warn('a local reader fell behind; disconnected');
      socket.destroy();
      return;
    }
    socket.write(`${JSON.stringify(frame)}\n`);
  }

  private broadcast(frame: LiveFrame): void {
    for (const c of this.clients) this.send(c, frame);
  }

  async close(): Promise<void> {
    for (const c of this.clients) c.end();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
    for (const c of this.clients) c.destroy();
    try {
      unlinkSync(this.path);
    } catch {
      // Already gone.
    }
  }
}
