import type { INestApplicationContext } from '@nestjs/common';
import { WsAdapter } from '@nestjs/platform-ws';
import type { Server } from 'ws';

export interface LiveLimits {
  /** Largest message a client may send; a bigger one closes the socket (1009). */
  maxPayloadBytes: number;
  /** Open sockets per server; the next handshake is answered 503. */
  maxConnections: number;
}

/**
 * The ws adapter with the live feed's limits applied to every WebSocket
 * server it creates, so that no gateway can forget them.
 */
export class BoundedWsAdapter extends WsAdapter {
  constructor(
    app: INestApplicationContext,
    private readonly limits: LiveLimits,
  ) {
    super(app);
  }

  override create(port: number, options: Record<string, unknown> = {}): Server {
    let server: Server | null = null;
    server = super.create(port, {
      ...options,
      maxPayload: this.limits.maxPayloadBytes,
      verifyClient: (
        _info: unknown,
        done: (ok: boolean, code?: number, message?: string) => void,
      ) => {
        const open = server?.clients.size ?? 0;
        if (open >= this.limits.maxConnections) done(false, 503, 'too many live connections');
        else done(true);
      },
    }) as Server;
    return server;
  }
}
