import { Injectable, Logger, OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import { EventEmitter } from 'node:events';
import { Client } from 'pg';
import { ConfigurationService } from '../config/configuration.service';

type Handler = (payload: string) => void;

/**
 * One LISTEN connection per replica (outside the pool) for every NOTIFY
 * channel the modules use: the live feed's batches, agent config changes.
 * Reconnects with a short back-off and re-LISTENs; emits 'reconnected' so
 * that users can catch up on what they may have missed meanwhile.
 */
@Injectable()
export class PgListenerService
  extends EventEmitter
  implements OnApplicationBootstrap, OnApplicationShutdown
{
  private readonly logger = new Logger('notify');
  private readonly handlers = new Map<string, Handler[]>();
  private client: Client | null = null;
  private stopping = false;
  private retry: NodeJS.Timeout | null = null;
  private everConnected = false;

  constructor(private readonly config: ConfigurationService) {
    super();
    this.setMaxListeners(0);
  }

  /** Calls `handler` with the payload of every NOTIFY on `channel` (a fixed identifier). */
  listen(channel: string, handler: Handler): void {
    if (!/^[a-z_][a-z0-9_]*$/.test(channel)) throw new Error(`bad channel name ${channel}`);
    const list = this.handlers.get(channel);
    if (list) {
      list.push(handler);
      return;
    }
    this.handlers.set(channel, [handler]);
    this.client?.query(`LISTEN ${channel}`).catch((err: Error) => {
      this.logger.warn(`LISTEN ${channel} failed: ${err.message}`);
    });
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
      application_name: 'tidewatch-listen',
    });
    client.on('notification', (msg) => {
      for (const h of this.handlers.get(msg.channel) ?? []) {
        try {
          h(msg.payload ?? '');
        } catch (err) {
          this.logger.warn(`bad ${msg.channel} notification: ${(err as Error).message}`);
        }
      }
    });
    client.on('error', (err) => {
      this.logger.warn(`listener connection lost: ${err.message}`);
      this.client = null;
      client.end().catch(() => undefined);
      this.scheduleReconnect();
    });
    await client.connect();
    for (const channel of this.handlers.keys()) await client.query(`LISTEN ${channel}`);
    this.client = client;
    if (this.everConnected) this.emit('reconnected');
    this.everConnected = true;
  }

  private scheduleReconnect(): void {
    if (this.stopping || this.retry) return;
    this.retry = setTimeout(() => {
      this.retry = null;
      this.connect().catch((err: Error) => {
        this.logger.warn(`listener reconnect failed: ${err.message}`);
        this.scheduleReconnect();
      });
    }, 1_000);
    this.retry.unref();
  }
}
