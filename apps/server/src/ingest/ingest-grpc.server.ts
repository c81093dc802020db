import { Injectable, Logger, OnApplicationBootstrap, OnModuleDestroy } from '@nestjs/common';
import * as grpc from '@grpc/grpc-js';
import { AgentMessage__Output, loadTidewatchV1, ServerMessage } from '@tidewatch/proto';
import { AgentConfigService, CONFIG_CHANNEL } from '../agent-config/agent-config.service';
import { AuditService } from '../audit/audit.service';
import { AgentRevokedError, StoreUnavailableError } from '../common/domain-errors';
import { toGrpcStatus } from '../common/grpc-status';
import { ConfigurationService } from '../config/configuration.service';
import { MetricsService } from '../health/metrics.service';
import { AGENT_ACCESS_CHANNEL, AgentRegistryService } from '../hosts/agent-registry.service';
import { PgListenerService } from '../notify/pg-listener.service';
import { BatchWriterService } from './batch-writer.service';
import { IngestBudget } from './ingest-budget';
import { IngestSession, SessionDeps } from './ingest-session';
import { serverCredentials } from './grpc-credentials';
import { ReadGate, readGateInterceptor, readGateOf } from './read-gate';
import { agentIdFromCertificate } from './peer-identity';
import { safeDeserializer } from './safe-deserialize';

const DAY_MS = 86_400_000;
const STREAM_PATH = '/tidewatch.v1.Ingest/Stream';

/** The tidewatch.v1.Ingest gRPC server (plain @grpc/grpc-js, owned by Nest's lifecycle). */
@Injectable()
export class IngestGrpcServer implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly logger = new Logger('ingest');
  private server: grpc.Server | null = null;
  private readonly sessions = new Map<string, IngestSession>();
  private readonly open = new Set<IngestSession>();
  private boundPort = 0;
  /** Batches held across every stream of this replica (read, not yet committed). */
  readonly budget: IngestBudget;

  constructor(
    private readonly config: ConfigurationService,
    private readonly registry: AgentRegistryService,
    private readonly writer: BatchWriterService,
    private readonly metrics: MetricsService,
    private readonly configs: AgentConfigService,
    listener: PgListenerService,
    private readonly audit: AuditService,
  ) {
    this.budget = new IngestBudget(config.get('ingestQueueLimit'));
    this.budget.onChange = (held, queued) => {
      metrics.batchesHeld.set(held);
      metrics.streamsWaiting.set(queued);
    };
    // Config changes, from whichever replica took the PUT: push to the stream if it is here.
    listener.listen(CONFIG_CHANNEL, (agentId) => this.pushConfig(agentId));
    // Notifications sent while the listener was reconnecting are lost: resend what changed.
    listener.on('reconnected', () => {
      for (const id of this.sessions.keys()) this.pushConfig(id);
      this.endRevoked(null);
    });
    // `agents reset` / revoke (any process): streams admitted on the old credential end now.
    listener.listen(AGENT_ACCESS_CHANNEL, (agentId) => this.endRevoked(agentId));
  }

  /** The port actually bound (useful with GRPC_PORT=0). */
  get port(): number {
    return this.boundPort;
  }

  get listening(): boolean {
    return this.server !== null && this.boundPort > 0;
  }

  async onApplicationBootstrap(): Promise<void> {
    const max = this.config.get('grpcMaxMessageBytes');
    const server = new grpc.Server({
      'grpc.max_receive_message_length': max,
      'grpc.max_send_message_length': 1024 * 1024,
      'grpc.keepalive_time_ms': 30_000,
      'grpc.keepalive_timeout_ms': 10_000,
      'grpc.keepalive_permit_without_calls': 1,
      'grpc.http2.min_ping_interval_without_data_ms': 5_000,
      interceptors: [readGateInterceptor(STREAM_PATH)],
    });
    const def = loadTidewatchV1().Ingest.service;
    const stream = def.Stream;
    const service: grpc.ServiceDefinition = {
      Stream: { ...stream, requestDeserialize: safeDeserializer(stream.requestDeserialize) },
    };
    server.addService(service, {
      Stream: (call: grpc.ServerDuplexStream<AgentMessage__Output, ServerMessage>) =>
        this.accept(call),
    });
    const address = `${this.config.get('grpcHost')}:${this.config.get('grpcPort')}`;
    this.boundPort = await new Promise<number>((resolve, reject) =>
      server.bindAsync(address, serverCredentials(this.config.get('grpcTls')), (err, port) =>
        err
          ? reject(new Error(`cannot listen for gRPC on ${address}: ${err.message}`))
          : resolve(port),
      ),
    );
    this.server = server;
    const tls = this.config.get('grpcTls');
    this.logger.log(
      `gRPC ingest listening on ${this.config.get('grpcHost')}:${this.boundPort} (${
        !tls
          ? 'plaintext'
          : !tls.clientCaFile
            ? 'TLS'
            : `mutual TLS, client certificate ${tls.clientCertRequired ? 'required' : 'optional'}`
      })`,
    );
  }

  private pushConfig(agentId: string): void {
    const session = this.sessions.get(agentId);
    if (!session) return;
    this.configs
      .wireFor(agentId)
      .then((config) => session.pushConfig(config))
      .catch((err: Error) =>
        this.logger.warn(`config for agent ${agentId} not pushed: ${err.message}`),
      );
  }

  /** Ends the open streams of `agentId` (null: of every agent) that a reset or revocation ended. */
  private endRevoked(agentId: string | null): void {
    const streams = [...this.open].filter(
      (s) =>
        s.agentId !== null && s.admittedAt !== null && (agentId === null || s.agentId === agentId),
    );
    this.registry
      .accessEnded(streams.map((s) => ({ agentId: s.agentId!, admittedAt: s.admittedAt! })))
      .then((ended) => {
        for (const i of ended) {
          streams[i].fail(
            new AgentRevokedError(
              `agent ${streams[i].agentId}: its credential was reset or revoked by an administrator; enroll again`,
            ),
          );
        }
      })
      .catch((err: Error) =>
        this.logger.error(`streams of reset/revoked agents not checked: ${err.message}`),
      );
  }

  async onModuleDestroy(): Promise<void> {
    const server = this.server;
    if (!server) return;
    this.server = null;
    // Stop reading, let queued batches commit and their acks go out, then end every stream.
    for (const s of this.open) s.stopReading();
    await this.writer.drain();
    for (const s of [...this.open])
      s.fail(new StoreUnavailableError('server is shutting down; reconnect'));
    await new Promise<void>((resolve) => {
      const timer = setTimeout(() => {
        server.forceShutdown();
        resolve();
      }, 2_000);
      server.tryShutdown(() => {
        clearTimeout(timer);
        resolve();
      });
    });
  }

  /** After the fact: a disconnect cannot be refused, so a trail that is down is logged instead. */
  private recordDisconnect(agentId: string, peer: string): void {
    this.audit
      .record({
        actor: `agent:${agentId}`,
        source: peer,
        action: 'agent.disconnected',
        target: agentId,
        outcome: 'success',
      })
      .catch((err: Error) =>
        this.logger.error(`agent ${agentId} disconnect not audited: ${err.message}`),
      );
  }

  private accept(call: grpc.ServerDuplexStream<AgentMessage__Output, ServerMessage>): void {
    let certificateAgentId: string | null;
    let gate: ReadGate;
    try {
      gate = readGateOf(call);
      certificateAgentId = agentIdFromCertificate(call.getAuthContext().sslPeerCertificate);
    } catch (err) {
      call.emit('error', toGrpcStatus(err));
      return;
    }
    const deps: SessionDeps = {
      registry: this.registry,
      writer: this.writer,
      budget: this.budget,
      credit: () =>
        this.budget.creditFor(this.open.size, this.config.get('ingestMaxInFlightPerStream')),
      gate,
      limits: () => {
        const now = Date.now();
        return {
          maxRecords: this.config.get('maxRecordsPerBatch'),
          notBefore: new Date(now - this.config.get('retention1hDays') * DAY_MS),
          notAfter: new Date(now + this.config.get('maxClockSkewSeconds') * 1000),
        };
      },
      configFor: (agentId) => this.configs.wireFor(agentId),
      configApplied: (agentId, report) => this.configs.recordApplied(agentId, report),
      certificateAgentId,
      attach: (s) => {
        const id = s.agentId as string;
        const previous = this.sessions.get(id);
        this.sessions.set(id, s);
        if (previous && previous !== s) previous.supersede();
      },
      detach: (s) => {
        this.open.delete(s);
        if (s.agentId && this.sessions.get(s.agentId) === s) this.sessions.delete(s.agentId);
        this.metrics.streams.set(this.open.size);
        if (s.agentId) this.recordDisconnect(s.agentId, call.getPeer());
      },
      log: (level, msg) => (level === 'info' ? this.logger.log(msg) : this.logger.warn(msg)),
    };
    const session = new IngestSession(call, deps);
    this.open.add(session);
    this.metrics.streams.set(this.open.size);
  }
}
