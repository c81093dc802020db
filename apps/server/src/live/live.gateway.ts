import { Logger, OnModuleDestroy, OnModuleInit, UseFilters, UseGuards } from '@nestjs/common';
import type { IncomingMessage } from 'node:http';
import {
  ConnectedSocket,
  MessageBody,
  OnGatewayConnection,
  OnGatewayDisconnect,
  SubscribeMessage,
  WebSocketGateway,
} from '@nestjs/websockets';
import type { WebSocket } from 'ws';
import { AccessGuard } from '../auth/access.guard';
import { LIVE_ROLES } from '../auth/live-rooms';
import { Roles } from '../auth/roles.decorator';
import { ConfigurationService } from '../config/configuration.service';
import { MetricsService } from '../health/metrics.service';
import { LiveExceptionFilter } from './live-exception.filter';
import { LiveListenerService } from './live-listener.service';
import type { LiveAnomaly } from '../anomalies/live-anomaly';
import type { LiveBatchSummary } from './live-payload';

const ROOM = /^(fleet|host:[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})$/;

/**
 * Live feed at ws://HOST:8080/api/v1/live. Send
 * {"event":"subscribe","data":{"room":"fleet"}} or {"room":"host:<agentId>"};
 * every stored batch in a subscribed room arrives as {"event":"batch","data":{…}}.
 * The REST guard (AccessGuard) checks the handshake and every message.
 */
@WebSocketGateway({ path: '/api/v1/live' })
@UseGuards(AccessGuard)
@Roles(...LIVE_ROLES)
@UseFilters(LiveExceptionFilter)
export class LiveGateway
  implements OnGatewayConnection, OnGatewayDisconnect, OnModuleInit, OnModuleDestroy
{
  private readonly logger = new Logger('live');
  private readonly rooms = new Map<WebSocket, Set<string>>();
  private readonly admissions = new Map<WebSocket, Promise<boolean>>();
  private readonly onBatch = (s: LiveBatchSummary) => this.publish(s);
  private readonly onAnomaly = (a: LiveAnomaly) =>
    this.send(a.agentId, { event: 'anomaly', data: a });

  constructor(
    private readonly listener: LiveListenerService,
    private readonly metrics: MetricsService,
    private readonly guard: AccessGuard,
    private readonly config: ConfigurationService,
  ) {}

  private recheck: NodeJS.Timeout | null = null;

  onModuleInit(): void {
    // A socket outlives the request that opened it: sessions that ended (logout, idle, disabled
    // user, new role) lose their sockets at the next sweep.
    this.recheck = setInterval(
      () => void this.sweep(),
      this.config.get('auth').liveRecheckSeconds * 1000,
    );
    this.recheck.unref();
    this.listener.on('batch', this.onBatch);
    this.listener.on('anomaly', this.onAnomaly);
  }

  onModuleDestroy(): void {
    if (this.recheck) clearInterval(this.recheck);
    this.listener.off('batch', this.onBatch);
    this.listener.off('anomaly', this.onAnomaly);
  }

  async handleConnection(client: WebSocket, request?: IncomingMessage): Promise<void> {
    // Kept on the socket for the guard's per-message checks.
    (client as WebSocket & { upgradeRequest?: IncomingMessage }).upgradeRequest = request;
    // The check reads the database, and the client may speak before it ends: messages wait for it.
    const admission = this.guard.allowConnection(request).catch((err: Error) => {
      this.logger.warn(`live handshake check failed: ${err.message}`);
      return false;
    });
    this.admissions.set(client, admission);
    const allowed = await admission;
    this.admissions.delete(client);
    if (!allowed) {
      client.close(1008, 'forbidden');
      return;
    }
    if (client.readyState !== client.OPEN) return;
    this.rooms.set(client, new Set());
    this.metrics.liveSubscribers.set(this.rooms.size);
  }

  private async sweep(): Promise<void> {
    for (const client of [...this.rooms.keys()]) {
      const request = (client as WebSocket & { upgradeRequest?: IncomingMessage }).upgradeRequest;
      let ok = true;
      try {
        ok = await this.guard.stillAdmitted(request);
      } catch (err) {
        // The database is away: keep the sockets; the next sweep decides.
        this.logger.warn(`live session re-check failed: ${(err as Error).message}`);
      }
      if (!ok) {
        this.rooms.delete(client);
        this.metrics.liveSubscribers.set(this.rooms.size);
        client.close(1008, 'session ended');
      }
    }
  }

  handleDisconnect(client: WebSocket): void {
    this.admissions.delete(client);
    this.rooms.delete(client);
    this.metrics.liveSubscribers.set(this.rooms.size);
  }

  @SubscribeMessage('subscribe')
  async subscribe(@ConnectedSocket() client: WebSocket, @MessageBody() body: unknown) {
    const room = roomOf(body);
    if (!room)
      return { event: 'error', data: { message: 'room must be "fleet" or "host:<agentId>"' } };
    await this.admissions.get(client);
    const rooms = this.rooms.get(client);
    if (!rooms) return { event: 'error', data: { message: 'connection not admitted' } };
    const max = this.config.get('liveMaxRoomsPerSocket');
    if (!rooms.has(room) && rooms.size >= max) {
      return { event: 'error', data: { message: `at most ${max} rooms per connection` } };
    }
    rooms.add(room);
    return { event: 'subscribed', data: { room } };
  }

  @SubscribeMessage('unsubscribe')
  unsubscribe(@ConnectedSocket() client: WebSocket, @MessageBody() body: unknown) {
    const room = roomOf(body);
    if (!room)
      return { event: 'error', data: { message: 'room must be "fleet" or "host:<agentId>"' } };
    this.rooms.get(client)?.delete(room);
    return { event: 'unsubscribed', data: { room } };
  }

  /** Anomalies (raised, acknowledged, resolved, suppressed) go to the fleet room and the host's. */
  private send(agentId: string, body: unknown): void {
    const hostRoom = `host:${agentId}`;
    const message = JSON.stringify(body);
    for (const [client, rooms] of this.rooms) {
      if (!rooms.has('fleet') && !rooms.has(hostRoom)) continue;
      if (client.readyState === client.OPEN) {
        client.send(message, (err) => err && this.logger.debug(`live send failed: ${err.message}`));
      }
    }
  }

  private publish(s: LiveBatchSummary): void {
    const hostRoom = `host:${s.a}`;
    let message: string | null = null;
    for (const [client, rooms] of this.rooms) {
      if (!rooms.has('fleet') && !rooms.has(hostRoom)) continue;
      message ??= JSON.stringify({
        event: 'batch',
        data: {
          agentId: s.a,
          sequence: s.s,
          windowStart: new Date(s.ws).toISOString(),
          windowEnd: new Date(s.we).toISOString(),
          ingressBytes: s.ib,
          egressBytes: s.eb,
          ingressPackets: s.ip,
          egressPackets: s.ep,
        },
      });
      if (client.readyState === client.OPEN) {
        client.send(message, (err) => err && this.logger.debug(`live send failed: ${err.message}`));
      }
    }
  }
}

function roomOf(body: unknown): string | null {
  const room = (body as { room?: unknown } | null)?.room;
  return typeof room === 'string' && ROOM.test(room.toLowerCase()) ? room.toLowerCase() : null;
}
