import { ArgumentsHost, Catch, ExceptionFilter, HttpException, Logger } from '@nestjs/common';
import { WsException } from '@nestjs/websockets';
import type { WebSocket } from 'ws';
import { DomainError } from '../common/domain-errors';

/**
 * Errors in live-feed handlers (a refused guard included) become an
 * {"event":"error"} message on the socket; Nest's default filter would call
 * socket.io's emit, which a plain `ws` socket does not send.
 */
@Catch()
export class LiveExceptionFilter implements ExceptionFilter {
  private readonly logger = new Logger('live');

  catch(err: unknown, host: ArgumentsHost): void {
    const client = host.switchToWs().getClient<WebSocket>();
    let message = 'internal error';
    if (err instanceof WsException || err instanceof DomainError) message = err.message;
    else if (err instanceof HttpException) message = err.message;
    else this.logger.error(err instanceof Error ? (err.stack ?? err.message) : String(err));
    if (client.readyState === client.OPEN) {
      client.send(JSON.stringify({ event: 'error', data: { message } }));
    }
  }
}
