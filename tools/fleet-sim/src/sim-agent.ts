import * as grpc from '@grpc/grpc-js';
import {
  AgentMessage,
  Batch,
  IngestClient,
  loadTidewatchV1,
  ServerMessage__Output,
} from '@tidewatch/proto';

export interface SimAgentOptions {
  address: string;
  agentId: string;
  hostname: string;
  labels: Record<string, string>;
  enrollmentToken?: string;
  agentCredential?: string;
  /** Batches sent but not yet acknowledged, at most (lowered by the server's credit, as the agent does). */
  window: number;
  /**
   * Its own TCP connection, as a real agent on its own host has (grpc-js otherwise shares one
   * connection between the clients of one process that name the same address).
   */
  ownConnection?: boolean;
}

/**
 * One simulated agent over real gRPC: Hello, then batches with at most
 * min(`window`, the server's credit) unacknowledged, recording each batch's
 * ack latency.
 */
export class SimAgent {
  readonly client: IngestClient;
  private call: grpc.ClientDuplexStream<AgentMessage, ServerMessage__Output> | null = null;
  private sentAt = new Map<number, number>();
  private waiting: (() => void)[] = [];
  acked = 0;
  /** Welcome/Ack max_in_flight; 0: none given. */
  credit = 0;
  credential = '';
  readonly latenciesMs: number[] = [];
  error: grpc.ServiceError | null = null;

  constructor(private readonly opts: SimAgentOptions) {
    this.client = new (loadTidewatchV1().Ingest)(
      opts.address,
      grpc.credentials.createInsecure(),
      opts.ownConnection ? { 'grpc.use_local_subchannel_pool': 1 } : {},
    ) as IngestClient;
  }

  async connect(): Promise<number> {
    const call = this.client.Stream();
    this.call = call;
    let welcomed: (n: number) => void = () => undefined;
    const welcome = new Promise<number>((resolve) => (welcomed = resolve));
    call.on('data', (m: ServerMessage__Output) => {
      if (m.welcome) {
        this.credential ||= m.welcome.agentCredential;
        this.acked = m.welcome.highestSequence;
        this.credit = m.welcome.maxInFlight;
        welcomed(m.welcome.highestSequence);
      }
      if (m.ack) {
        if (m.ack.maxInFlight > 0) this.credit = m.ack.maxInFlight;
        const now = performance.now();
        for (let s = this.acked + 1; s <= m.ack.sequence; s++) {
          const t = this.sentAt.get(s);
          if (t !== undefined) {
            this.latenciesMs.push(now - t);
            this.sentAt.delete(s);
          }
        }
        this.acked = Math.max(this.acked, m.ack.sequence);
      }
      this.wake();
    });
    const failed = new Promise<never>((_, reject) =>
      call.on('error', (e: grpc.ServiceError) => {
        this.error = e;
        this.wake();
        reject(e);
      }),
    );
    failed.catch(() => undefined); // later errors surface through send()/drain()
    call.write({
      hello: {
        agentId: this.opts.agentId,
        hostname: this.opts.hostname,
        agentVersion: 'fleet-sim',
        kernelRelease: '4.19.90-24.4.v2101.ky10.x86_64',
        labels: this.opts.labels,
        capabilities: [{ name: 'btf', available: false, used: false, detail: 'Kylin V10' }],
        interfaces: [
          { name: 'eth0', ifindex: 2, mtu: 1500, up: true, watched: true },
          { name: 'bond0', ifindex: 3, mtu: 9000, up: true, watched: true },
        ],
        enrollmentToken: this.credential ? '' : (this.opts.enrollmentToken ?? ''),
        agentCredential: this.credential || this.opts.agentCredential || '',
        startedAtMs: Date.now(),
      },
    });
    return Promise.race([welcome, failed]);
  }

  private wake(): void {
    const w = this.waiting;
    this.waiting = [];
    for (const f of w) f();
  }

  get limit(): number {
    return this.credit > 0 ? Math.min(this.opts.window, this.credit) : this.opts.window;
  }

  /** Sends a batch once fewer than `limit` are unacknowledged. */
  async send(batch: Batch): Promise<void> {
    const seq = Number(batch.sequence);
    while (seq - this.acked > this.limit) {
      if (this.error) throw this.error;
      await new Promise<void>((r) => this.waiting.push(r));
    }
    this.sentAt.set(seq, performance.now());
    this.call?.write({ batch });
  }

  async drain(sequence: number): Promise<void> {
    while (this.acked < sequence) {
      if (this.error) throw this.error;
      await new Promise<void>((r) => this.waiting.push(r));
    }
  }

  close(): void {
    this.call?.end();
    this.client.close();
  }
}
