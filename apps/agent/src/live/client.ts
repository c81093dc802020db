import { EventEmitter } from 'node:events';
import { connect, type Socket } from 'node:net';
import { StateDirError } from '../state/errors';
import type { LiveFrame } from './protocol';

/** The socket exists but this user may not connect (exit code 4, like other state-directory errors). */
export class LiveAccessError extends StateDirError {}

type Hello = Extract<LiveFrame, { type: 'hello' }>;

/** A connection to the running agent's local socket. */
export class LiveClient extends EventEmitter<{
  sample: [Extract<LiveFrame, { type: 'sample' }>['frame']];
  window: [Extract<LiveFrame, { type: 'window' }>['window']];
  close: [];
}> {
  private buffer = '';

  constructor(
    private readonly socket: Socket,
    readonly hello: Hello,
    rest: string,
  ) {
    super();
    socket.on('data', (d: Buffer) => this.onData(d.toString('utf8')));
    socket.on('close', () => this.emit('close'));
    socket.on('error', () => socket.destroy());
    // Frames that arrived with the hello are handed on once listeners exist.
    if (rest) setImmediate(() => this.onData(rest));
  }

  private onData(text: string): void {
    this.buffer += text;
    let nl = this.buffer.indexOf('\n');
    while (nl >= 0) {
      const line = this.buffer.slice(0, nl);
      this.buffer = this.buffer.slice(nl + 1);
      const frame = JSON.parse(line) as LiveFrame;
      if (frame.type === 'sample') this.emit('sample', frame.frame);
      else if (frame.type === 'window') this.emit('window', frame.window);
      nl = this.buffer.indexOf('\n');
    }
  }

  close(): void {
    this.socket.destroy();
  }
}

/**
 * Connects to the running agent's socket. Resolves to undefined when no agent
 * serves it (no socket, or one a stopped agent left): the caller then works
 * on its own, as without a running agent.
 */
export async function connectLive(path: string, timeoutMs = 5000): Promise<LiveClient | undefined> {
  return new Promise((resolve, reject) => {
    const socket = connect(path);
    let buffer = '';
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(`the agent on ${path} did not answer within ${timeoutMs} ms`));
    }, timeoutMs);
    const onData = (d: Buffer) => {
      buffer += d.toString('utf8');
      const nl = buffer.indexOf('\n');
      if (nl < 0) return;
      clearTimeout(timer);
      socket.off('data', onData);
      socket.off('error', onError);
      const hello = JSON.parse(buffer.slice(0, nl)) as LiveFrame;
      if (hello.type !== 'hello') {
        socket.destroy();
        reject(new Error(`unexpected first frame from ${path}: ${hello.type}`));
        return;
      }
      resolve(new LiveClient(socket, hello, buffer.slice(nl + 1)));
    };
    const onError = (err: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      if (err.code === 'ENOENT' || err.code === 'ECONNREFUSED') resolve(undefined);
      else if (err.code === 'EACCES' || err.code === 'EPERM')
        reject(
          new LiveAccessError(
            `a tidewatch-agent runs on this state directory, but this user may not read its socket ${path} (${err.code}): ` +
              'run as the agent user, or set localSocketGroup in the agent config and join that group ' +
              '(the state directory must then be searchable by the group, e.g. mode 0710)',
          ),
        );
      else reject(err);
    };
    socket.on('data', onData);
    socket.on('error', onError);
  });
}
