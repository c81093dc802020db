import type { ServerDuplexStream } from '@grpc/grpc-js';
import type { AgentConfig, AgentMessage__Output, ServerMessage } from '@tidewatch/proto';
import type { ConfigAppliedReport } from '../agent-config/agent-config.service';
import {
  DomainError,
  InvalidInputError,
  MalformedMessageError,
  ProtocolOrderError,
  SequenceGapError,
  StoreUnavailableError,
  StreamSupersededError,
} from '../common/domain-errors';
import { toGrpcStatus } from '../common/grpc-status';
import type { AgentRegistryService } from '../hosts/agent-registry.service';
import { BatchLimits, validateBatch, validateHello } from './batch-validation';
import type { BatchWriterService } from './batch-writer.service';
import { isMalformed } from './safe-deserialize';

export interface SessionDeps {
  registry: AgentRegistryService;
  writer: BatchWriterService;
  limits: () => BatchLimits;
  maxInFlight: number;
  /** The agent's current configuration (sent in Welcome and ConfigUpdate). */
  configFor(agentId: string): Promise<AgentConfig>;
  /** Stores a ConfigApplied. */
  configApplied(agentId: string, report: ConfigAppliedReport): Promise<void>;
  /** The agent id the client certificate names (mutual TLS), or null. */
  certificateAgentId: string | null;
  /** Tells the server this agent's stream is open (an older one for the same agent is superseded). */
  attach(session: IngestSession): void;
  detach(session: IngestSession): void;
  log(level: 'info' | 'warn', msg: string): void;
}

type Call = ServerDuplexStream<AgentMessage__Output, ServerMessage>;

/**
 * One agent stream: Hello -> Welcome, then Batch -> (durable) -> Ack.
 * Reading pauses while this stream has `maxInFlight` batches pending or the
 * shared writer queue is full.
 */
export class IngestSession {
  agentId: string | null = null;
  /** When the database admitted this stream (set with agentId). */
  admittedAt: Date | null = null;
  private state: 'await-hello' | 'admitting' | 'ready' | 'closed' = 'await-hello';
  /** Highest sequence accepted into the pipeline (stored or queued). */
  private lastSequence = 0;
  private inFlight = 0;
  private paused = false;
  /** Config version last sent to the agent (Welcome or ConfigUpdate). */
  private configVersion = 0;
  private stopped = false;
  private readonly onDrain = () => this.updateFlow();

  constructor(
    private readonly call: Call,
    private readonly deps: SessionDeps,
  ) {
    call.on('data', (m: AgentMessage__Output) => this.onMessage(m));
    call.on('end', () => this.finish());
    call.on('cancelled', () => this.close());
    call.on('error', () => this.close());
    deps.writer.on('drain', this.onDrain);
  }

  /** Ends the stream with the status of `err` (once). */
  fail(err: unknown): void {
    if (this.state === 'closed') return;
    const st = toGrpcStatus(err);
    // The agent is told only "internal error"; the log keeps the cause.
    const cause = err instanceof DomainError ? '' : ` (${(err as Error)?.message ?? String(err)})`;
    this.deps.log('warn', `agent ${this.agentId ?? '?'} stream ended: ${st.details}${cause}`);
    this.close();
    this.call.emit('error', st);
  }

  /** Shutdown: read nothing more; pending batches still commit and are acked. */
  stopReading(): void {
    this.pause();
    this.stopped = true;
  }

  /** Sends a ConfigUpdate when `config` is newer than what the agent was last sent. */
  pushConfig(config: AgentConfig): void {
    if (this.state !== 'ready' || Number(config.version) <= this.configVersion) return;
    this.configVersion = Number(config.version);
    this.call.write({ configUpdate: { config } });
    this.deps.log('info', `config version ${this.configVersion} pushed to agent ${this.agentId}`);
  }

  supersede(): void {
    this.fail(new StreamSupersededError('a newer stream for this agent took over'));
  }

  private onMessage(m: AgentMessage__Output): void {
    if (this.state === 'closed') return;
    try {
      if (isMalformed(m)) throw new MalformedMessageError(`malformed AgentMessage: ${m.error}`);
      switch (m.body) {
        case 'hello':
          return this.onHello(m);
        case 'batch':
          return this.onBatch(m);
        case 'configApplied':
          return this.onConfigApplied(m);
        default:
          throw new InvalidInputError('AgentMessage has no body');
      }
    } catch (err) {
      this.fail(err);
    }
  }

  private onConfigApplied(m: AgentMessage__Output): void {
    if (this.state !== 'ready')
      throw new ProtocolOrderError('send Hello and wait for Welcome before ConfigApplied');
    const c = m.configApplied as NonNullable<AgentMessage__Output['configApplied']>;
    if (!Number.isSafeInteger(c.version) || c.version < 0) {
      throw new InvalidInputError('config_applied.version must be an integer >= 0');
    }
    const agentId = this.agentId as string;
    this.deps
      .configApplied(agentId, { version: c.version, ok: !!c.ok, error: c.error ?? '' })
      .then(() =>
        this.deps.log(
          c.ok ? 'info' : 'warn',
          `agent ${agentId} ${c.ok ? 'applied' : 'refused'} config version ${c.version}${c.ok ? '' : `: ${c.error}`}`,
        ),
      )
      .catch((err: Error) =>
        this.deps.log('warn', `agent ${agentId}: ConfigApplied not stored: ${err.message}`),
      );
  }

  private onHello(m: AgentMessage__Output): void {
    if (this.state !== 'await-hello')
      throw new ProtocolOrderError('Hello was already sent on this stream');
    const hello = validateHello(
      m.hello as NonNullable<AgentMessage__Output['hello']>,
      this.deps.certificateAgentId !== null,
    );
    this.state = 'admitting';
    this.pause();
    this.deps.registry
      .admit(hello, this.deps.certificateAgentId, this.call.getPeer())
      .then(async (admitted) => ({ admitted, config: await this.deps.configFor(admitted.agentId) }))
      .then(({ admitted, config }) => {
        if (this.state === 'closed') return;
        this.agentId = admitted.agentId;
        this.admittedAt = admitted.admittedAt;
        this.configVersion = Number(config.version);
        this.lastSequence = admitted.highestSequence;
        this.state = 'ready';
        this.deps.attach(this);
        this.call.write({
          welcome: {
            agentId: admitted.agentId,
            highestSequence: admitted.highestSequence,
            config,
            agentCredential: admitted.newCredential ?? '',
            serverTimeMs: Date.now(),
          },
        });
        this.deps.log(
          'info',
          `agent ${admitted.agentId} (${hello.hostname}) connected at sequence ${admitted.highestSequence}`,
        );
        this.updateFlow();
        // A change committed between reading the config and attaching was announced
        // before this stream could hear it: read once more.
        this.deps
          .configFor(admitted.agentId)
          .then((latest) => this.pushConfig(latest))
          .catch(() => undefined);
      })
      .catch((err) => {
        // The database unreachable or its pool exhausted (thousands of agents reconnecting at
        // once): a retry later is the answer, not INTERNAL.
        if (err instanceof DomainError) return this.fail(err);
        this.deps.log(
          'warn',
          `agent ${hello.agentId || '?'} not admitted: ${(err as Error).message}`,
        );
        this.fail(new StoreUnavailableError('could not admit the agent now; retry later'));
      });
  }

  private onBatch(m: AgentMessage__Output): void {
    if (this.state !== 'ready')
      throw new ProtocolOrderError('send Hello and wait for Welcome before Batch');
    const batch = validateBatch(
      m.batch as NonNullable<AgentMessage__Output['batch']>,
      this.deps.limits(),
    );
    if (batch.sequence > this.lastSequence + 1) {
      throw new SequenceGapError(
        `sequence gap: expected ${this.lastSequence + 1}, got ${batch.sequence}; resend from ${this.lastSequence + 1}`,
      );
    }
    // At or below lastSequence: a replay, answered with the cumulative ack after the writer checks it.
    if (batch.sequence === this.lastSequence + 1) this.lastSequence = batch.sequence;
    this.inFlight++;
    this.updateFlow();
    this.deps.writer
      .write(this.agentId as string, batch)
      .then((outcome) => {
        this.inFlight--;
        if (this.state === 'closed') return;
        this.call.write({ ack: { sequence: outcome.highestSequence } });
        this.updateFlow();
      })
      .catch((err) => {
        this.inFlight--;
        this.fail(err);
      });
  }

  private updateFlow(): void {
    if (this.state === 'closed') return;
    const busy = this.inFlight >= this.deps.maxInFlight || this.deps.writer.saturated;
    if (busy || this.stopped) this.pause();
    else if (this.state === 'ready') this.resume();
  }

  private pause(): void {
    if (!this.paused) {
      this.paused = true;
      this.call.pause();
    }
  }

  private resume(): void {
    if (this.paused) {
      this.paused = false;
      this.call.resume();
    }
  }

  /** The agent half-closed: finish pending acks, then end with OK. */
  private finish(): void {
    if (this.state === 'closed') return;
    const done = () => {
      if (this.state === 'closed') return;
      this.close();
      this.call.end();
    };
    if (this.inFlight === 0) return done();
    const timer = setInterval(() => {
      if (this.inFlight === 0 || this.state === 'closed') {
        clearInterval(timer);
        done();
      }
    }, 10);
  }

  private close(): void {
    if (this.state === 'closed') return;
    this.state = 'closed';
    this.deps.writer.off('drain', this.onDrain);
    this.deps.detach(this);
  }
}
