import { ExecutionContext, Inject, Injectable } from '@nestjs/common';
import { ThrottlerGuard, ThrottlerLimitDetail } from '@nestjs/throttler';
import type { IncomingMessage } from 'node:http';
import { AUTH_AUDIT, AuthAudit } from './audit-port';
import { requestIdOf, sourceOf } from './request-credentials';

/** The per-address sign-in limit (AUTH_LOGIN_RATE_PER_MINUTE); each refusal (429) is audited. */
@Injectable()
export class LoginThrottlerGuard extends ThrottlerGuard {
  @Inject(AUTH_AUDIT) private readonly audit!: AuthAudit;

  protected override async throwThrottlingException(
    context: ExecutionContext,
    detail: ThrottlerLimitDetail,
  ): Promise<void> {
    const req = context.switchToHttp().getRequest<IncomingMessage & { body?: unknown }>();
    const username = (req.body as { username?: unknown } | undefined)?.username;
    await this.audit.record({
      actor: typeof username === 'string' ? username.slice(0, 64) : null,
      source: sourceOf(req),
      requestId: requestIdOf(req),
      action: 'auth.rate_limited',
      target: typeof username === 'string' ? username.slice(0, 64) : null,
      outcome: 'denied',
      reason: `more than ${detail.limit} sign-in attempts per ${detail.ttl / 1000} s from this address`,
    });
    return super.throwThrottlingException(context, detail);
  }
}
