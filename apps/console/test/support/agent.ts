import * as grpc from '@grpc/grpc-js';
import {
  AgentConfig__Output,
  AgentMessage,
  Batch,
  Hello,
  IngestClient,
  loadTidewatchV1,
  ServerMessage__Output,
} from '@tidewatch/proto';

/** One agent's real gRPC stream to the server: Hello, then batches, waiting for their acks. */
export class AgentStream {
  private acked = 0;
  private welcomed = false;
  /** The per-agent credential the server issued in Welcome (on enrollment), for a later Hello. */
  credential = '';
  /** Every configuration the server sent: Welcome's first, then each ConfigUpdate. */
  readonly configs: AgentConfig__Output[] = [];
  private ended: string | null = null;
  private waiters: (() => void)[] = [];
  private readonly call: grpc.ClientDuplexStream<AgentMessage, ServerMessage__Output>;

  constructor(grpcPort: number) {
    const v1 = loadTidewatchV1();
    const client = new v1.Ingest(
      `127.0.0.1:${grpcPort}`,
      grpc.credentials.createInsecure(),
    ) as IngestClient;
    this.call = client.Stream();
    this.call.on('data', (m: ServerMessage__Output) => {
      if (m.welcome) {
        this.welcomed = true;
        if (m.welcome.agentCredential) this.credential = m.welcome.agentCredential;
        if (m.welcome.config) this.configs.push(m.welcome.config);
      }
      if (m.configUpdate?.config) this.configs.push(m.configUpdate.config);
      if (m.ack) this.acked = Math.max(this.acked, Number(m.ack.sequence));
      this.notify();
    });
    this.call.on('error', (e: grpc.ServiceError) => {
      this.ended = `${e.code} ${e.details}`;
      this.notify();
    });
    this.call.on('status', (s: grpc.StatusObject) => {
      this.ended ??= `${s.code} ${s.details}`;
      this.notify();
    });
  }

  private notify() {
    const w = this.waiters;
    this.waiters = [];
    w.forEach((f) => f());
  }

  private async until(cond: () => boolean, what: string, ms = 30_000) {
    const deadline = Date.now() + ms;
    while (!cond()) {
      if (this.ended) throw new Error(`stream ended (${this.ended}) before ${what}`);
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
      await new Promise<void>((r) => {
        this.waiters.push(r);
        setTimeout(r, 100);
      });
    }
  }

  async hello(hello: Hello) {
    this.call.write({ hello });
    await this.until(() => this.welcomed, 'Welcome');
  }

  async send(batches: Batch[]) {
    for (const batch of batches) this.call.write({ batch });
    const last = Number(batches[batches.length - 1].sequence);
    await this.until(() => this.acked >= last, `ack ${last}`);
  }

  /** Waits for a configuration (Welcome's or pushed) that `match` accepts, and answers it. */
  async config(match: (c: AgentConfig__Output) => boolean, what: string) {
    await this.until(() => this.configs.some(match), what);
    return this.configs.find(match) as AgentConfig__Output;
  }

  /** ConfigApplied, as the agent answers a configuration it applied (ok) or refused. */
  configApplied(version: number, ok: boolean, error = '') {
    this.call.write({ configApplied: { version, ok, error } });
  }

  close() {
    this.call.end();
  }
}
