import {
  Body,
  Controller,
  Get,
  HttpCode,
  HttpException,
  Inject,
  Post,
  Req,
  Res,
  UseGuards,
} from '@nestjs/common';
import {
  ApiOkResponse,
  ApiResponse,
  ApiTags,
  ApiTooManyRequestsResponse,
  ApiUnauthorizedResponse,
} from '@nestjs/swagger';
import { UsersService } from '../users/users.service';
import { AllowPending } from './allow-pending.decorator';
import type { AuthenticatedRequest } from './access.guard';
import { AUTH_AUDIT, AuthAudit } from './audit-port';
import { AccountLockedError, AuthService } from './auth.service';
import {
  ChangePasswordDto,
  LoginDto,
  LoginView,
  MeView,
  TotpConfirmDto,
  TotpEnrolView,
} from './dto/auth.dto';
import { LoginThrottlerGuard } from './login-throttler.guard';
import { SignInPolicyService } from './policy/sign-in-policy.service';
import type { Principal } from './principal';
import { Public } from './public.decorator';
import { requestIdOf, sourceOf } from './request-credentials';
import { ROLES } from './roles';
import { Roles } from './roles.decorator';
import { SESSION_COOKIE, SessionsService } from './sessions.service';
import { TotpService } from './totp.service';
import { InvalidInputError, DomainError } from '../common/domain-errors';

interface CookieResponse {
  setHeader(name: string, value: string): void;
}

class NotForTokensError extends DomainError {
  override name = 'NotForTokensError';
  readonly kind = 'forbidden';
}

function cookie(token: string, maxAgeSeconds: number): string {
  return `${SESSION_COOKIE}=${token}; Path=/; HttpOnly; Secure; SameSite=Strict; Max-Age=${maxAgeSeconds}`;
}

function principalOf(req: AuthenticatedRequest): Principal {
  // The guard ran before (this route carries @Roles) and set it.
  return req.principal!;
}

@ApiTags('auth')
@Controller('auth')
export class AuthController {
  constructor(
    private readonly auth: AuthService,
    private readonly sessions: SessionsService,
    private readonly users: UsersService,
    private readonly totp: TotpService,
    private readonly policy: SignInPolicyService,
    @Inject(AUTH_AUDIT) private readonly audit: AuthAudit,
  ) {}

  /** Password (and TOTP for AUTH_TOTP_ROLES) → a session: the token, and the same as an HttpOnly cookie. */
  @Post('login')
  @Public()
  @UseGuards(LoginThrottlerGuard)
  @HttpCode(200)
  @ApiOkResponse({ type: LoginView })
  @ApiUnauthorizedResponse({ description: 'Bad credentials (the same answer for unknown users)' })
  @ApiResponse({ status: 423, description: 'Locked after too many failures' })
  @ApiTooManyRequestsResponse({ description: 'Too many attempts from this address' })
  async login(
    @Body() body: LoginDto,
    @Req() req: AuthenticatedRequest,
    @Res({ passthrough: true }) res: CookieResponse,
  ): Promise<LoginView> {
    try {
      const result = await this.auth.login(body, {
        source: sourceOf(req),
        requestId: requestIdOf(req),
      });
      const maxAge = Math.floor((Date.parse(result.expiresAt) - Date.now()) / 1000);
      res.setHeader('Set-Cookie', cookie(result.accessToken, maxAge));
      return result;
    } catch (err) {
      if (err instanceof AccountLockedError) {
        throw new HttpException(
          {
            statusCode: 423,
            error: 'Locked',
            message: 'account locked after too many failed sign-ins',
            lockedUntil: err.until.toISOString(),
          },
          423,
        );
      }
      throw err;
    }
  }

  @Post('logout')
  @Roles(...ROLES)
  @AllowPending()
  @HttpCode(200)
  @ApiOkResponse({ description: 'The session is revoked and the cookie cleared' })
  async logout(
    @Req() req: AuthenticatedRequest,
    @Res({ passthrough: true }) res: CookieResponse,
  ): Promise<{ ok: true }> {
    const p = principalOf(req);
    if (p.kind !== 'session')
      throw new NotForTokensError('an API token is revoked, not logged out');
    await this.sessions.revoke(p.id, 'logout');
    await this.audit.record({
      actor: p.name,
      actorRole: p.role,
      source: sourceOf(req),
      requestId: requestIdOf(req),
      action: 'auth.logout',
      target: p.name,
      outcome: 'success',
      details: { session: p.id },
    });
    res.setHeader('Set-Cookie', cookie('', 0));
    return { ok: true };
  }

  @Get('me')
  @Roles(...ROLES)
  @AllowPending()
  @ApiOkResponse({ type: MeView })
  async me(@Req() req: AuthenticatedRequest): Promise<MeView> {
    const p = principalOf(req);
    const totpRequired = this.policy.current.totpRoles.includes(p.role);
    let totpEnrolled = false;
    let mustChangePassword = false;
    if (p.userId) {
      const u = await this.users.get(p.name);
      totpEnrolled = u.totpEnrolled;
      mustChangePassword = p.pending === 'password';
    }
    return {
      username: p.name,
      role: p.role,
      via: p.kind,
      expiresAt: p.expiresAt.toISOString(),
      mustChangePassword,
      totpRequired: totpRequired && p.kind === 'session',
      totpEnrolled,
    };
  }

  /** Changes the signed-in user's password; every session of theirs ends (sign in again). */
  @Post('password')
  @Roles(...ROLES)
  @AllowPending()
  @HttpCode(200)
  async changePassword(
    @Body() body: ChangePasswordDto,
    @Req() req: AuthenticatedRequest,
    @Res({ passthrough: true }) res: CookieResponse,
  ): Promise<{ ok: true }> {
    const p = principalOf(req);
    if (!p.userId) throw new NotForTokensError('an API token has no password');
    await this.users.changePassword(
      { name: p.name, role: p.role, source: sourceOf(req), requestId: requestIdOf(req) },
      p.userId,
      body.currentPassword,
      body.newPassword,
    );
    res.setHeader('Set-Cookie', cookie('', 0));
    return { ok: true };
  }

  /** Starts TOTP enrolment: the secret, shown once. Confirm with a code from it. */
  @Post('totp/enroll')
  @Roles(...ROLES)
  @AllowPending()
  @HttpCode(200)
  @ApiOkResponse({ type: TotpEnrolView })
  async enrol(@Req() req: AuthenticatedRequest): Promise<TotpEnrolView> {
    const p = principalOf(req);
    if (!p.userId || p.kind !== 'session')
      throw new NotForTokensError('API tokens have no second factor');
    if (p.pending === 'password') throw new NotForTokensError('change the password first');
    return this.totp.begin(p.userId, p.name);
  }

  @Post('totp/confirm')
  @Roles(...ROLES)
  @AllowPending()
  @HttpCode(200)
  async confirm(
    @Body() body: TotpConfirmDto,
    @Req() req: AuthenticatedRequest,
  ): Promise<{ ok: true }> {
    const p = principalOf(req);
    if (!p.userId || p.kind !== 'session')
      throw new NotForTokensError('API tokens have no second factor');
    const ok = await this.totp.confirm(p.userId, body.code);
    await this.audit.record({
      actor: p.name,
      actorRole: p.role,
      source: sourceOf(req),
      requestId: requestIdOf(req),
      action: 'user.totp_enrolled',
      target: p.name,
      outcome: ok ? 'success' : 'failure',
      reason: ok ? null : 'wrong code',
    });
    if (!ok) throw new InvalidInputError('the code does not match the new secret');
    return { ok: true };
  }
}
