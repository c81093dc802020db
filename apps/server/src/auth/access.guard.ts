import {
  CanActivate,
  ExecutionContext,
  ForbiddenException,
  Inject,
  Injectable,
  UnauthorizedException,
} from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { WsException } from '@nestjs/websockets';
import type { IncomingMessage } from 'node:http';
import { DataSource } from 'typeorm';
import { ConfigurationService } from '../config/configuration.service';
import { hashSecret } from '../enrollment/secrets';
import { ALLOW_PENDING } from './allow-pending.decorator';
import { ApiTokensService } from './api-tokens.service';
import { AUTH_AUDIT, AuthAudit } from './audit-port';
import { LIVE_ROLES, roomRoles } from './live-rooms';
import type { Principal } from './principal';
import { IS_PUBLIC } from './public.decorator';
import { credentialOf, requestIdOf, sourceOf } from './request-credentials';
import type { Role } from './roles';
import { ROLES_KEY } from './roles.decorator';
import { SessionsService } from './sessions.service';

export type AuthenticatedRequest = IncomingMessage & { principal?: Principal };

/**
 * The one guard every HTTP route and every live-feed (WebSocket) message
 * passes through: APP_GUARD for REST, @UseGuards on the gateway, and
 * `allowConnection` at the WebSocket handshake. Deny by default: a route
 * without @Roles or @Public is refused (and the boot check refuses to start).
 * Every refusal (401, 403) is written to the audit trail.
 */
@Injectable()
export class AccessGuard implements CanActivate {
  constructor(
    private readonly reflector: Reflector,
    private readonly sessions: SessionsService,
    private readonly tokens: ApiTokensService,
    @Inject(AUTH_AUDIT) private readonly audit: AuthAudit,
    private readonly ds: DataSource,
    private readonly config: ConfigurationService,
  ) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const targets = [context.getHandler(), context.getClass()];
    if (this.reflector.getAllAndOverride<boolean>(IS_PUBLIC, targets)) return true;
    const roles = this.reflector.getAllAndOverride<Role[] | undefined>(ROLES_KEY, targets) ?? [];
    const allowPending = this.reflector.getAllAndOverride<boolean>(ALLOW_PENDING, targets) ?? false;
    const ws = context.getType() === 'ws';
    const req: AuthenticatedRequest | undefined = ws
      ? (context.switchToWs().getClient() as { upgradeRequest?: IncomingMessage }).upgradeRequest
      : context.switchToHttp().getRequest<AuthenticatedRequest>();
    const what = ws
      ? `live:${String((context.switchToWs().getData() as { room?: unknown } | null)?.room ?? '')}`
      : `${req?.method ?? ''} ${(req as { originalUrl?: string } | undefined)?.originalUrl?.split('?')[0] ?? req?.url ?? ''}`;
    const principal = await this.authenticate(req);
    if (!principal) {
      await this.deny(req, null, what, 'auth.unauthenticated', 'no valid session or token');
      throw ws ? new WsException('Unauthorized') : new UnauthorizedException('sign in first');
    }
    if (req) req.principal = principal;
    let reason: string | null = null;
    if (!roles.includes(principal.role)) reason = `role ${principal.role} not admitted`;
    else if (principal.pending && !allowPending) {
      reason =
        principal.pending === 'password'
          ? 'password change required'
          : 'TOTP enrolment required for this role';
    } else if (ws) {
      const room = (context.switchToWs().getData() as { room?: unknown } | null)?.room;
      if (typeof room === 'string' && context.getHandler().name === 'subscribe') {
        if (!roomRoles(room.toLowerCase()).includes(principal.role)) {
          reason = `role ${principal.role} not admitted to this room`;
        }
      }
    }
    if (reason) {
      await this.deny(req, principal, what, 'auth.forbidden', reason);
      throw ws ? new WsException('Forbidden resource') : new ForbiddenException(reason);
    }
    return true;
  }

  /**
   * The WebSocket handshake: the upgrade request carries the cookie (the
   * console) or a bearer token like any HTTP request. Refused connections are closed with 1008.
   */
  async allowConnection(request: IncomingMessage | undefined): Promise<boolean> {
    const principal = await this.authenticate(request);
    const what = 'live:connect';
    if (!principal) {
      await this.deny(request, null, what, 'auth.unauthenticated', 'no valid session or token');
      return false;
    }
    if (!LIVE_ROLES.includes(principal.role) || principal.pending) {
      await this.deny(
        request,
        principal,
        what,
        'auth.forbidden',
        principal.pending ? 'sign-in not completed' : `role ${principal.role} not admitted`,
      );
      return false;
    }
    return true;
  }

  /**
   * For an open live-feed socket: is its session (or API token) still live and
   * admitted? Read-only — an open socket is not activity, so it does not hold a
   * session past its idle timeout. Sockets that fail are closed (live.gateway.ts).
   */
  async stillAdmitted(req: IncomingMessage | undefined): Promise<boolean> {
    const credential = credentialOf(req);
    if (!credential) return false;
    const hash = hashSecret(credential);
    let rows: { role: Role }[] = [];
    if (credential.startsWith('tws_')) {
      rows = await this.ds.query(
        `SELECT u.role FROM sessions s JOIN users u ON u.id = s.user_id
          WHERE s.token_hash = $1 AND s.revoked_at IS NULL AND s.expires_at > now()
            AND s.last_seen_at > now() - make_interval(mins => $2) AND u.disabled_at IS NULL`,
        [hash, this.config.get('auth').sessionIdleMinutes],
      );
    } else if (credential.startsWith('twt_')) {
      rows = await this.ds.query(
        `SELECT role FROM api_tokens WHERE token_hash = $1 AND revoked_at IS NULL AND expires_at > now()`,
        [hash],
      );
    }
    return rows.length === 1 && LIVE_ROLES.includes(rows[0].role);
  }

  async authenticate(req: IncomingMessage | undefined): Promise<Principal | null> {
    const credential = credentialOf(req);
    if (!credential) return null;
    if (credential.startsWith('tws_')) return this.sessions.authenticate(credential);
    if (credential.startsWith('twt_')) return this.tokens.authenticate(credential, sourceOf(req));
    return null;
  }

  private deny(
    req: IncomingMessage | undefined,
    principal: Principal | null,
    target: string,
    action: string,
    reason: string,
  ): Promise<unknown> {
    return this.audit.record({
      actor: principal?.name ?? null,
      actorRole: principal?.role ?? null,
      source: sourceOf(req),
      requestId: requestIdOf(req),
      action,
      target: target.slice(0, 512),
      outcome: 'denied',
      reason,
    });
  }
}
