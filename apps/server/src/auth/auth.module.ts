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
import { LdapGroupRolesService } from './policy/ldap-group-roles.service';
import { SECURITY_SETTINGS_CHANNEL } from './policy/security-settings-store';
import { SecuritySettingsController } from './policy/security-settings.controller';
import { SignInPolicyService } from './policy/sign-in-policy.service';
import { NotifyModule } from '../notify/notify.module';
import { PgListenerService } from '../notify/pg-listener.service';

const settings = (c: ConfigurationService) => c.get('auth');

/** Users, sign-in, sessions, API tokens and the guard every route passes. */
@Module({
  imports: [
    AuditModule,
    DiscoveryModule,
    NotifyModule,
    ThrottlerModule.forRootAsync({
      inject: [ConfigurationService],
      useFactory: (c: ConfigurationService) => ({
        throttlers: [{ name: 'login', ttl: 60_000, limit: settings(c).loginRatePerMinute }],
      }),
    }),
  ],
  controllers: [AuthController, UsersController, ApiTokensController, SecuritySettingsController],
  providers: [
    { provide: AUTH_AUDIT, useExisting: AuditService },
    {
      // The directory (LDAP_URL set), else null.
      provide: LdapAccess,
      inject: [ConfigurationService],
      useFactory: (c: ConfigurationService) => {
        const ldap = c.get('ldap');
        return ldap ? new LdapAccess(ldap) : null;
      },
    },
    {
      // Directory users (LDAP_URL set), else null.
      provide: LdapUsers,
      inject: [DataSource, LdapAccess, AUTH_AUDIT],
      useFactory: (ds: DataSource, l: LdapAccess | null, a: AuthAudit) =>
        l ? new LdapUsers(ds, l, a) : null,
    },
    {
      // The stored policy (or the environment's) before the first request; reloaded on change.
      provide: SignInPolicyService,
      inject: [DataSource, ConfigurationService, AUTH_AUDIT, PgListenerService],
      useFactory: async (
        ds: DataSource,
        c: ConfigurationService,
        a: AuthAudit,
        listener: PgListenerService,
      ) => {
        const p = new SignInPolicyService(ds, settings(c), a);
        await p.load();
        listener.listen(SECURITY_SETTINGS_CHANNEL, (name) => {
          if (name === 'sign_in_policy') p.reload();
        });
        listener.on('reconnected', () => p.reload());
        return p;
      },
    },
    {
      provide: LdapGroupRolesService,
      inject: [DataSource, LdapAccess, AUTH_AUDIT, PgListenerService],
      useFactory: async (
        ds: DataSource,
        l: LdapAccess | null,
        a: AuthAudit,
        listener: PgListenerService,
      ) => {
        const g = new LdapGroupRolesService(ds, l, a);
        await g.load();
        listener.listen(SECURITY_SETTINGS_CHANNEL, (name) => {
          if (name === 'ldap_group_roles') g.reload();
        });
        listener.on('reconnected', () => g.reload());
        return g;
      },
    },
    {
      provide: SessionsService,
      inject: [DataSource, ConfigurationService, SignInPolicyService, LdapUsers],
      useFactory: (
        ds: DataSource,
        c: ConfigurationService,
        p: SignInPolicyService,
        l: LdapUsers | null,
      ) => new SessionsService(ds, settings(c), p, l),
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
      inject: [DataSource, ConfigurationService, SignInPolicyService, AUTH_AUDIT],
      useFactory: (ds: DataSource, c: ConfigurationService, p: SignInPolicyService, a: AuthAudit) =>
        new UsersService(ds, settings(c), p, a),
    },
    {
      provide: AuthService,
      inject: [
        DataSource,
        ConfigurationService,
        SignInPolicyService,
        AUTH_AUDIT,
        SessionsService,
        TotpService,
        LdapUsers,
      ],
      useFactory: (
        ds: DataSource,
        c: ConfigurationService,
        p: SignInPolicyService,
        a: AuthAudit,
        s: SessionsService,
        t: TotpService,
        l: LdapUsers | null,
      ) => new AuthService(ds, settings(c), p, a, s, t, l),
    },
    AccessGuard,
    LoginThrottlerGuard,
    RouteDeclarationCheck,
  ],
  exports: [
    AccessGuard,
    AUTH_AUDIT,
    SessionsService,
    ApiTokensService,
    UsersService,
    AuthService,
    SignInPolicyService,
  ],
})
export class AuthModule {}
