import * as grpc from '@grpc/grpc-js';
import {
  loadTidewatchV1,
  type AgentConfig__Output,
  type AgentMessage,
  type Hello,
  type IngestClient,
  type ServerMessage__Output,
} from '@tidewatch/proto';
import type { Logger } from '../logging/logger';
import type { Spool } from '../spool/spool';
import { backoffDelayMs } from './backoff';
import {
  channelCredentials,
  channelOptions,
  CredentialStore,
  type TlsOptions,
} from './credentials';

export interface ConfigResult {
  ok: boolean;
  error?: string;
}

export interface StreamClientOptions {
  address: string;
  tls: TlsOptions;
  enrollmentToken?: string;
  credentials: CredentialStore;
  /** Hello without credentials; called on every (re)connect. */
  hello: () => Hello;
  spool: Spool;
  /** Batches sent ahead of the last ack, at most; the server's credit may lower it. */
  maxInFlight: number;
  backoff: { initialMs: number; maxMs: number };
  /** Welcome timeout: a connection that does not answer Hello is retried. */
  welcomeTimeoutMs?: number;
  onConfig: (config: AgentConfig__Output) => ConfigResult;
  logger: Logger;
}

export type ConnectionState =
  | 'idle'
  | 'connecting'
  | 'ready'
  /** Ending the stream gracefully to announce, in a new Hello, batches dropped unsent. */
  | 'renewing'
  | 'backoff'
  | 'stopped';

/**
 * One bidirectional stream to the server: Hello → Welcome, then every spooled
 * batch in sequence order, each kept until a (cumulative) Ack covers it.
 * After a failure, unacknowledged batches are sent again from the oldest on
 * the next connection (at-least-once; the server dedups by sequence).
 *
 * The server refuses a sequence gap it was not told about. Every Hello says
 * which is the oldest batch still held (`oldestSequence`), so batches the
 * bounded spool dropped before it are a declared gap. When a batch is missing
 * on an open stream (dropped from a full spool before it was sent, or never
 * written), the stream is ended gracefully after what came before it, and a
 * new Hello announces the gap.
 */
export class StreamClient {
  private client: IngestClient | undefined;
  private call: grpc.ClientDuplexStream<AgentMessage, ServerMessage__Output> | undefined;
  private state: ConnectionState = 'idle';
  private attempt = 0;
  private acked = 0;
  private sentUpTo = 0;
  /** oldestSequence of the open stream's Hello (0: the spool was empty). */
  private declaredOldest = 0;
  private renewTimer: NodeJS.Timeout | undefined;
  private timer: NodeJS.Timeout | undefined;
  private welcomeTimer: NodeJS.Timeout | undefined;
  private ackWaiters: Array<() => void> = [];
  /** The open stream's credit (Welcome/Ack max_in_flight); 0: the server gave none. */
  private serverCredit = 0;
  private lastError: string | undefined;

  constructor(private readonly opts: StreamClientOptions) {}

  get connectionState(): ConnectionState {
    return this.state;
  }

  get highestAcked(): number {
    return this.acked;
  }

  /** Batches this agent may have unacknowledged now: its own limit, or the server's credit if lower. */
  get inFlightLimit(): number {
    const own = this.opts.maxInFlight;
    return this.serverCredit > 0 ? Math.min(own, this.serverCredit) : own;
  }

  start(): void {
    if (this.state !== 'idle') return;
    const v1 = loadTidewatchV1();
    this.client = new v1.Ingest(
      this.opts.address,
      channelCredentials(this.opts.tls),
      channelOptions(this.opts.tls),
    ) as unknown as IngestClient;
    this.connect();
  }

  /** A batch was appended to the spool: send it if connected. */
  notify(): void {
    this.pump();
  }

  private connect(): void {
    if (this.state === 'stopped' || !this.client) return;
    this.state = 'connecting';
    this.serverCredit = 0;
    const call = this.client.Stream();
    this.call = call;
    const credential = this.opts.credentials.read();
    const hello: Hello = { ...this.opts.hello() };
    if (credential) hello.agentCredential = credential;
    else if (this.opts.enrollmentToken) hello.enrollmentToken = this.opts.enrollmentToken;
    this.declaredOldest = this.opts.spool.oldestSequence ?? 0;
    hello.oldestSequence = this.declaredOldest;
    call.on('data', (msg: ServerMessage__Output) => this.onMessage(call, msg));
    call.on('error', (err: grpc.ServiceError) =>
      this.onBroken(call, `${grpc.status[err.code] ?? err.code}: ${err.details || err.message}`),
    );
    call.on('end', () => this.onBroken(call, 'server closed the stream'));
    call.write({ hello });
    this.welcomeTimer = setTimeout(
      () => this.onBroken(call, 'no Welcome in time'),
      this.opts.welcomeTimeoutMs ?? 15_000,
    );
  }

  private onMessage(
    call: grpc.ClientDuplexStream<AgentMessage, ServerMessage__Output>,
    msg: ServerMessage__Output,
  ): void {
    if (call !== this.call) return;
    if (msg.welcome) {
      clearTimeout(this.welcomeTimer);
      const w = msg.welcome;
      if (w.agentCredential) {
        this.opts.credentials.save(w.agentCredential);
        this.opts.logger.info(
          { file: this.opts.credentials.path },
          'enrolled: agent credential stored',
        );
      }
      if (!this.adoptServerNumbering(call, w.highestSequence)) return;
      this.serverCredit = w.maxInFlight;
      this.markAcked(Math.max(this.acked, w.highestSequence));
      // What Hello declared dropped counts as sent: the server recorded it as lost.
      this.sentUpTo = Math.max(this.acked, this.declaredOldest - 1);
      this.state = 'ready';
      this.attempt = 0;
      if (this.lastError) {
        this.opts.logger.info({ server: this.opts.address }, 'connected to server again');
        this.lastError = undefined;
      }
      if (w.config && w.config.version > 0) this.applyConfig(call, w.config);
      this.pump();
    } else if (msg.ack) {
      if (msg.ack.maxInFlight > 0) this.serverCredit = msg.ack.maxInFlight;
      this.markAcked(msg.ack.sequence);
      this.pump();
    } else if (msg.configUpdate?.config) {
      this.applyConfig(call, msg.configUpdate.config);
    }
  }

  /**
   * A highest sequence above any this spool ever assigned is no ack of ours:
   * the numbering restarted (fresh state directory, same agent id) and the
   * server holds an earlier life's batches. Ours are renumbered after it so
   * that none is taken as delivered. False when that failed (stream dropped).
   */
  private adoptServerNumbering(
    call: grpc.ClientDuplexStream<AgentMessage, ServerMessage__Output>,
    highest: number,
  ): boolean {
    const spool = this.opts.spool;
    const restarted = highest > spool.lastSequence;
    if (!restarted && !spool.renumberingPending) return true;
    let renumbered: number;
    try {
      renumbered = spool.renumberAfter(highest);
    } catch (err) {
      this.opts.logger.error({ highestSequence: highest }, (err as Error).message);
      this.onBroken(call, `cannot renumber the spool: ${(err as Error).message}`);
      return false;
    }
    if (!restarted) return true; // an earlier renumbering, finished now
    if (this.declaredOldest > 0) this.declaredOldest = spool.oldestSequence ?? 0;
    this.opts.logger.warn(
      { server: this.opts.address, highestSequence: highest, renumbered },
      `sequence numbers restarted: the server already holds up to ${highest}; ${renumbered} held windows renumbered from ${highest + 1}`,
    );
    return true;
  }

  private applyConfig(
    call: grpc.ClientDuplexStream<AgentMessage, ServerMessage__Output>,
    config: AgentConfig__Output,
  ): void {
    let result: ConfigResult;
    try {
      result = this.opts.onConfig(config);
    } catch (err) {
      result = { ok: false, error: (err as Error).message };
    }
    // A stream being renewed is half-closed; the next Welcome carries the config again.
    if (this.state === 'renewing') return;
    call.write({
      configApplied: { version: config.version, ok: result.ok, error: result.error ?? '' },
    });
  }

  private markAcked(sequence: number): void {
    if (sequence > this.acked) this.acked = sequence;
    this.opts.spool.ack(this.acked);
    if (this.opts.spool.depth === 0) {
      const waiters = this.ackWaiters;
      this.ackWaiters = [];
      waiters.forEach((w) => w());
    }
  }

  private pump(): void {
    if (this.state !== 'ready' || !this.call) return;
    const room = this.inFlightLimit - this.opts.spool.countBetween(this.acked, this.sentUpTo);
    if (room <= 0) return;
    for (const seq of this.opts.spool.pendingAfter(Math.max(this.sentUpTo, this.acked), room)) {
      const expected = Math.max(this.sentUpTo, this.acked) + 1;
      if (seq !== expected) return this.renew(this.call, expected, seq - 1);
      const batch = this.opts.spool.read(seq);
      if (!batch) {
        // Unreadable on disk: counted as lost, and announced like a spool drop.
        this.opts.spool.discard(seq);
        return this.renew(this.call, expected, seq);
      }
      this.sentUpTo = seq;
      this.call.write({ batch });
    }
  }

  /**
   * Batches from..to will never be sent: half-close so that the server acks
   * what it has, then reconnect with a Hello whose oldestSequence declares them.
   */
  private renew(
    call: grpc.ClientDuplexStream<AgentMessage, ServerMessage__Output>,
    from: number,
    to: number,
  ): void {
    this.state = 'renewing';
    this.opts.logger.info(
      { server: this.opts.address, dropped: { from, to } },
      'batches dropped before they were sent: announcing the gap in a new Hello',
    );
    call.end();
    // A server that does not close its end in time is left behind.
    this.renewTimer = setTimeout(
      () => this.onBroken(call, 'stream not closed by the server'),
      this.opts.welcomeTimeoutMs ?? 15_000,
    );
  }

  private onBroken(
    call: grpc.ClientDuplexStream<AgentMessage, ServerMessage__Output>,
    why: string,
  ): void {
    if (call !== this.call) return;
    clearTimeout(this.welcomeTimer);
    clearTimeout(this.renewTimer);
    this.call = undefined;
    call.removeAllListeners('data');
    call.on('error', () => undefined); // late errors from a stream we gave up on
    call.cancel();
    if (this.state === 'stopped') return;
    // Renewing: reconnect at once when the new Hello says something new, so
    // that a server which acks nothing cannot make this a busy loop.
    const oldest = this.opts.spool.oldestSequence ?? 0;
    if (this.state === 'renewing' && oldest !== this.declaredOldest) {
      this.state = 'backoff';
      this.timer = setTimeout(() => this.connect(), 0);
      return;
    }
    const delay = backoffDelayMs(
      this.attempt++,
      this.opts.backoff.initialMs,
      this.opts.backoff.maxMs,
    );
    if (why !== this.lastError) {
      this.opts.logger.warn(
        { server: this.opts.address, retryInMs: delay, spoolDepth: this.opts.spool.depth },
        `server unreachable (${why}); spooling and retrying`,
      );
      this.lastError = why;
    }
    this.state = 'backoff';
    this.timer = setTimeout(() => this.connect(), delay);
  }

  /** Resolves once every spooled batch is acknowledged, or after timeoutMs. Returns whether drained. */
  waitForDrain(timeoutMs: number): Promise<boolean> {
    if (this.opts.spool.depth === 0) return Promise.resolve(true);
    return new Promise((resolve) => {
      const t = setTimeout(() => resolve(this.opts.spool.depth === 0), timeoutMs);
      this.ackWaiters.push(() => {
        clearTimeout(t);
        resolve(true);
      });
    });
  }

  stop(): void {
    this.state = 'stopped';
    clearTimeout(this.timer);
    clearTimeout(this.welcomeTimer);
    clearTimeout(this.renewTimer);
    const call = this.call;
    this.call = undefined;
    if (call) {
      call.removeAllListeners();
      call.on('error', () => undefined);
      call.end();
      call.cancel();
    }
    this.client?.close();
  }
}
