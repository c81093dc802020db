import { Module } from '@nestjs/common';
import { DiscoveryModule } from '@nestjs/core';
import { ThrottlerModule } from '@nestjs/throttler';
import { DataSource } from 'typeorm';
import { AuditModule } from '../audit/audit.module';
import { AuditService } from '../audit/audit.service';
import { ConfigurationService } from '../config/configuration.service';
import { UsersController } from '../users/users.controller';
import { UsersService } from '../users/users.service';
import { AccessGuard } from './access.guard';
import { ApiTokensController } from './api-tokens.controller';
import { ApiTokensService } from './api-tokens.service';
import { AUTH_AUDIT, AuthAudit } from './audit-port';
import { AuthController } from './auth.controller';
import { AuthService } from './auth.service';
import { LoginThrottlerGuard } from './login-throttler.guard';
import { RouteDeclarationCheck } from './route-declaration.check';
import { SessionsService } from './sessions.service';
import { TotpService } from './totp.service';
import { LdapAccess } from './ldap/ldap-access';
import { LdapUsers } from './ldap/ldap-users.service';

const settings = (c: ConfigurationService) => c.get('auth');

/** Users, sign-in, sessions, API tokens and the guard every route passes. */
@Module({
  imports: [
    AuditModule,
    DiscoveryModule,
    ThrottlerModule.forRootAsync({
      inject: [ConfigurationService],
      useFactory: (c: ConfigurationService) => ({
        throttlers: [{ name: 'login', ttl: 60_000, limit: settings(c).loginRatePerMinute }],
      }),
    }),
  ],
  controllers: [AuthController, UsersController, ApiTokensController],
  providers: [
    { provide: AUTH_AUDIT, useExisting: AuditService },
    {
      // Directory users (LDAP_URL set), else null.
      provide: LdapUsers,
      inject: [DataSource, ConfigurationService, AUTH_AUDIT],
      useFactory: (ds: DataSource, c: ConfigurationService, a: AuthAudit) => {
        const ldap = c.get('ldap');
        return ldap ? new LdapUsers(ds, new LdapAccess(ldap), a) : null;
      },
    },
    {
      provide: SessionsService,
      inject: [DataSource, ConfigurationService, LdapUsers],
      useFactory: (ds: DataSource, c: ConfigurationService, l: LdapUsers | null) =>
        new SessionsService(ds, settings(c), l),
    },
    {
      provide: TotpService,
      inject: [DataSource, ConfigurationService],
      useFactory: (ds: DataSource, c: ConfigurationService) => new TotpService(ds, settings(c)),
    },
    {
      provide: ApiTokensService,
      inject: [DataSource, ConfigurationService, AUTH_AUDIT],
      useFactory: (ds: DataSource, c: ConfigurationService, a: AuthAudit) =>
        new ApiTokensService(ds, settings(c), a),
    },
    {
      provide: UsersService,
      inject: [DataSource, ConfigurationService, AUTH_AUDIT],
      useFactory: (ds: DataSource, c: ConfigurationService, a: AuthAudit) =>
        new UsersService(ds, settings(c), a),
    },
    {
      provide: AuthService,
      inject: [
        DataSource,
        ConfigurationService,
        AUTH_AUDIT,
        SessionsService,
        TotpService,
        LdapUsers,
      ],
      useFactory: (
        ds: DataSource,
        c: ConfigurationService,
        a: AuthAudit,
        s: SessionsService,
        t: TotpService,
        l: LdapUsers | null,
      ) => new AuthService(ds, settings(c), a, s, t, l),
    },
    AccessGuard,
    LoginThrottlerGuard,
    RouteDeclarationCheck,
  ],
  exports: [AccessGuard, AUTH_AUDIT, SessionsService, ApiTokensService, UsersService, AuthService],
})
export class AuthModule {}
