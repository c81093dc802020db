import { Injectable, Logger, OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import { EventEmitter } from 'node:events';
import { Client } from 'pg';
import { ConfigurationService } from '../config/configuration.service';
import { decodeNotification, LIVE_CHANNEL, LiveBatchSummary } from './live-payload';

/**
 * LISTENs on the batches channel with its own connection (outside the pool)
 * and re-emits every stored batch, whichever replica stored it. Reconnects
 * with a short back-off when the connection drops.
 */
@Injectable()
export class LiveListenerService
  extends EventEmitter
  implements OnApplicationBootstrap, OnApplicationShutdown
{
  private readonly logger = new Logger('live');
  private client: Client | null = null;
  private stopping = false;
  private retry: NodeJS.Timeout | null = null;

  constructor(private readonly config: ConfigurationService) {
    super();
    this.setMaxListeners(0);
  }

  async onApplicationBootstrap(): Promise<void> {
    await this.connect();
  }

  async onApplicationShutdown(): Promise<void> {
    this.stopping = true;
    if (this.retry) clearTimeout(this.retry);
    const c = this.client;
    this.client = null;
    if (c) await c.end().catch(() => undefined);
  }

  get connected(): boolean {
    return this.client !== null;
  }

  private async connect(): Promise<void> {
    const client = new Client({
      connectionString: this.config.get('databaseUrl'),
      application_name: 'tidewatch-live',
    });
    client.on('notification', (msg) => {
      if (msg.channel !== LIVE_CHANNEL || !msg.payload) return;
      try {
        for (const s of decodeNotification(msg.payload)) this.emit('batch', s as LiveBatchSummary);
      } catch (err) {
        this.logger.warn(`bad notification payload: ${(err as Error).message}`);
      }
    });
    client.on('error', (err) => {
      this.logger.warn(`live listener connection lost: ${err.message}`);
      this.client = null;
      client.end().catch(() => undefined);
      this.scheduleReconnect();
    });
    await client.connect();
    await client.query(`LISTEN ${LIVE_CHANNEL}`);
    this.client = client;
  }

  private scheduleReconnect(): void {
    if (this.stopping || this.retry) return;
    this.retry = setTimeout(() => {
      this.retry = null;
      this.connect().catch((err: Error) => {
        this.logger.warn(`live listener reconnect failed: ${err.message}`);
        this.scheduleReconnect();
      });
    }, 1_000);
    this.retry.unref();
  }
}
