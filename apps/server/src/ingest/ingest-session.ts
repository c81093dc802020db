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
import type { IngestBudget } from './ingest-budget';
import type { ReadGate } from './read-gate';
import { isMalformed } from './safe-deserialize';

export interface SessionDeps {
  registry: AgentRegistryService;
  writer: BatchWriterService;
  limits: () => BatchLimits;
  /** Batches held across all streams (read, not yet committed), at most. */
  budget: IngestBudget;
  /** The credit to give this stream now (Welcome.max_in_flight, Ack.max_in_flight). */
  credit(): number;
  /** Holds the stream's reads until this session passes them. */
  gate: ReadGate;
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
 *
 * Credit: Welcome tells the agent how many unacknowledged batches it may have
 * in flight, and an Ack carries a new figure when it changed. The stream is
 * read no further than that, nor while the server-wide budget is spent (each
 * batch read counts in it until its write settles). An agent that sends more
 * than its credit (an older agent knows only its own limit) is not refused:
 * what it sent waits unread in HTTP/2 flow control until acks free room, and
 * is stored in order like the rest.
 */
export class IngestSession {
  agentId: string | null = null;
  /** When the database admitted this stream (set with agentId). */
  admittedAt: Date | null = null;
  private state: 'await-hello' | 'admitting' | 'ready' | 'closed' = 'await-hello';
  /** Highest sequence accepted into the pipeline (stored or queued). */
  private lastSequence = 0;
  /** Batches read and not yet settled by the writer. */
  private inFlight = 0;
  /** What the agent was last told it may have in flight (0: before Welcome). */
  private credit = 0;
  /** A read passed through the gate and not answered yet. */
  private reading = false;
  private waitingForBudget = false;
  /** Config version last sent to the agent (Welcome or ConfigUpdate). */
  private configVersion = 0;
  private stopped = false;
  private readonly onBudget = () => {
    this.waitingForBudget = false;
    this.maybeRead(true);
  };

  constructor(
    private readonly call: Call,
    private readonly deps: SessionDeps,
  ) {
    deps.gate.onWant = () => this.maybeRead();
    call.on('data', (m: AgentMessage__Output) => this.onMessage(m));
    call.on('end', () => {
      this.reading = false;
      this.finish();
    });
    call.on('cancelled', () => this.close());
    call.on('error', () => this.close());
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
    this.reading = false;
    try {
      if (this.state === 'closed') return;
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
    } finally {
      this.maybeRead();
    }
  }

  /**
   * Passes the stream's next read when it may have one: Hello at once; after
   * Welcome, only below the credit and while the budget is not spent (`admitted`:
   * the budget let this stream through).
   */
  private maybeRead(admitted = false): void {
    if (this.state === 'closed' || this.stopped || this.reading) return;
    if (this.waitingForBudget || !this.deps.gate.waiting) return;
    if (this.state === 'ready') {
      if (this.inFlight >= this.credit) return;
      if (!admitted && !this.deps.budget.admit(this.onBudget)) {
        this.waitingForBudget = true;
        return;
      }
    } else if (this.state !== 'await-hello') return;
    this.reading = true;
    this.deps.gate.pass();
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
        this.credit = this.deps.credit();
        this.call.write({
          welcome: {
            agentId: admitted.agentId,
            highestSequence: admitted.highestSequence,
            config,
            agentCredential: admitted.newCredential ?? '',
            serverTimeMs: Date.now(),
            maxInFlight: this.credit,
          },
        });
        this.deps.log(
          'info',
          `agent ${admitted.agentId} (${hello.hostname}) connected at sequence ${admitted.highestSequence}`,
        );
        this.maybeRead();
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
    this.deps.budget.charge();
    const release = () => this.deps.budget.release();
    this.deps.writer
      .write(this.agentId as string, batch)
      .then((outcome) => {
        this.inFlight--;
        release();
        if (this.state === 'closed') return;
        const credit = this.deps.credit();
        const changed = credit !== this.credit;
        this.credit = credit;
        this.call.write({
          ack: { sequence: outcome.highestSequence, maxInFlight: changed ? credit : 0 },
        });
        this.maybeRead();
      })
      .catch((err) => {
        this.inFlight--;
        release();
        this.fail(err);
      });
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
    this.deps.budget.withdraw(this.onBudget);
    this.waitingForBudget = false;
    this.deps.detach(this);
  }
}
