import * as grpc from '@grpc/grpc-js';
import {
  AgentMessage,
  Batch,
  Hello,
  IngestClient,
  loadTidewatchV1,
  ServerMessage__Output,
  Welcome__Output,
} from '@tidewatch/proto';

export interface StreamEnd {
  code: grpc.status;
  details: string;
}

/** A real gRPC client for one agent stream, recording everything the server says. */
export class AgentStream {
  readonly messages: ServerMessage__Output[] = [];
  readonly acks: number[] = [];
  welcome: Welcome__Output | null = null;
  ended: Promise<StreamEnd>;
  private waiters: (() => void)[] = [];
  readonly call: grpc.ClientDuplexStream<AgentMessage, ServerMessage__Output>;

  constructor(
    readonly client: IngestClient,
    metadata = new grpc.Metadata(),
  ) {
    this.call = client.Stream(metadata);
    this.ended = new Promise((resolve) => {
      let done = false;
      const finish = (e: StreamEnd) => {
        if (!done) {
          done = true;
          resolve(e);
          this.notify();
        }
      };
      this.call.on('status', (s: grpc.StatusObject) =>
        finish({ code: s.code, details: s.details }),
      );
      this.call.on('error', (e: grpc.ServiceError) => finish({ code: e.code, details: e.details }));
    });
    this.call.on('data', (m: ServerMessage__Output) => {
      this.messages.push(m);
      if (m.welcome) this.welcome = m.welcome;
      if (m.ack) this.acks.push(m.ack.sequence);
      this.notify();
    });
  }

  private notify(): void {
    const w = this.waiters;
    this.waiters = [];
    for (const f of w) f();
  }

  /** Resolves when `cond` holds; rejects after `ms` or when the stream ended first. */
  async until(cond: () => boolean, ms = 10_000, what = 'condition'): Promise<void> {
    const deadline = Date.now() + ms;
    let ended: StreamEnd | null = null;
    void this.ended.then((e) => (ended = e));
    while (!cond()) {
      if (ended)
        throw new Error(
          `stream ended (${(ended as StreamEnd).code} ${(ended as StreamEnd).details}) before ${what}`,
        );
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
      await new Promise<void>((r) => {
        this.waiters.push(r);
        setTimeout(r, 50);
      });
    }
  }

  async hello(hello: Hello): Promise<Welcome__Output> {
    this.call.write({ hello });
    await this.until(() => this.welcome !== null, 10_000, 'Welcome');
    return this.welcome as Welcome__Output;
  }

  send(batch: Batch): void {
    this.call.write({ batch });
  }

  async sendAndAwaitAck(batches: Batch[], ms = 20_000): Promise<void> {
    for (const b of batches) this.send(b);
    const last = Number(batches[batches.length - 1].sequence);
    await this.until(
      () => this.acks.length > 0 && this.acks[this.acks.length - 1] >= last,
      ms,
      `ack ${last}`,
    );
  }

  /** Half-closes and waits for the server's status. */
  async close(): Promise<StreamEnd> {
    this.call.end();
    return this.ended;
  }

  cancel(): void {
    this.call.cancel();
  }
}

export function ingestClient(port: number, options: grpc.ChannelOptions = {}): IngestClient {
  const v1 = loadTidewatchV1();
  return new v1.Ingest(`127.0.0.1:${port}`, grpc.credentials.createInsecure(), {
    'grpc.max_send_message_length': 64 * 1024 * 1024,
    ...options,
  }) as IngestClient;
}

/** A client for the same method that sends raw bytes (for malformed-protobuf tests). */
export function rawStream(port: number): grpc.ClientDuplexStream<Buffer, Buffer> {
  const client = new grpc.Client(`127.0.0.1:${port}`, grpc.credentials.createInsecure());
  return client.makeBidiStreamRequest<Buffer, Buffer>(
    '/tidewatch.v1.Ingest/Stream',
    (b: Buffer) => b,
    (b: Buffer) => b,
  );
}
