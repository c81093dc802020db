import { Command, InvalidArgumentError } from 'commander';
import { readFileSync } from 'node:fs';
import { userInfo } from 'node:os';
import { DataSource } from 'typeorm';
import { AuditService } from '../../audit/audit.service';
import { SignInPolicyService } from '../../auth/policy/sign-in-policy.service';
import { isRole, ROLES } from '../../auth/roles';
import { ConfigurationService } from '../../config/configuration.service';
import { Actor, UsersService } from '../../users/users.service';
import { CliContext } from '../context';

function role(v: string): string {
  if (!isRole(v)) throw new InvalidArgumentError(`must be one of ${ROLES.join(', ')}`);
  return v;
}

/** The CLI acts as `cli:<os user>`: whoever runs it holds the database credentials. */
function cliActor(): Actor {
  let name = 'unknown';
  try {
    name = userInfo().username;
  } catch {
    // no passwd entry (containers)
  }
  return { name: `cli:${name}`, role: null, source: 'cli' };
}

/** A password file holds the password on its first line (a trailing newline is not part of it). */
function readPasswordFile(file: string): string {
  const text = readFileSync(file, 'utf8').split(/\r?\n/)[0];
  if (!text) throw new Error(`${file}: the first line is empty`);
  return text;
}

export function registerUsers(program: Command, ctx: CliContext): void {
  // The sign-in policy in force (stored by the security administrator, else AUTH_*).
  const service = async (ds: DataSource) => {
    const config = new ConfigurationService(ctx.env());
    const audit = new AuditService(ds, config);
    const policy = new SignInPolicyService(ds, ctx.env().auth, audit);
    await policy.load();
    return new UsersService(ds, ctx.env().auth, policy, audit);
  };
  const users = program
    .command('users')
    .description('local users and their roles (the first administrators start here)');
  users
    .command('create')
    .description(
      'create a user; without --password-file a password is generated, printed once, and must be changed at first sign-in',
    )
    .requiredOption('--username <name>', 'sign-in name')
    .requiredOption('--role <role>', ROLES.join(' | '), role)
    .option('--password-file <file>', 'the password, as given (no forced change)')
    .action((opts: { username: string; role: string; passwordFile?: string }) =>
      ctx.withDatabase(async (ds) => {
        const password = opts.passwordFile ? readPasswordFile(opts.passwordFile) : null;
        const { user, generatedPassword } = await (
          await service(ds)
        ).create(cliActor(), {
          username: opts.username,
          role: opts.role,
          password,
        });
        if (generatedPassword) {
          ctx.err(
            `created ${user.role} "${user.username}"; its password is shown once and must be changed at first sign-in:`,
          );
          ctx.out(generatedPassword);
        } else {
          ctx.out(`created ${user.role} "${user.username}"`);
        }
      }),
    );
  users
    .command('list')
    .description('list users (never their secrets)')
    .action(() =>
      ctx.withDatabase(async (ds) => {
        for (const u of await (await service(ds)).list()) {
          const state = u.disabledAt ? 'disabled' : u.lockedUntil ? 'locked' : 'active';
          ctx.out(
            `${u.username.padEnd(20)} ${u.role.padEnd(10)} ${state.padEnd(8)} ` +
              `totp ${u.totpEnrolled ? 'yes' : 'no '}  ${u.mustChangePassword ? 'must-change-password  ' : ''}` +
              `last sign-in ${u.lastLoginAt?.toISOString() ?? 'never'}`,
          );
        }
      }),
    );
  users
    .command('disable')
    .description('disable a user; their sessions end at once')
    .argument('<username>')
    .action((username: string) =>
      ctx.withDatabase(async (ds) => {
        await (await service(ds)).setDisabled(cliActor(), username, true);
        ctx.out(`disabled "${username}"`);
      }),
    );
  users
    .command('enable')
    .description('enable a disabled user')
    .argument('<username>')
    .action((username: string) =>
      ctx.withDatabase(async (ds) => {
        await (await service(ds)).setDisabled(cliActor(), username, false);
        ctx.out(`enabled "${username}"`);
      }),
    );
  users
    .command('reset')
    .description(
      'new generated password (printed once, changed at next sign-in), lockout cleared, sessions ended',
    )
    .argument('<username>')
    .option('--totp', 'also remove the TOTP enrolment (the user enrols again at next sign-in)')
    .action((username: string, opts: { totp?: boolean }) =>
      ctx.withDatabase(async (ds) => {
        const { password } = await (
          await service(ds)
        ).reset(cliActor(), username, { totp: opts.totp });
        ctx.err(`reset "${username}"; the new password is shown once:`);
        ctx.out(password);
      }),
    );
  users
    .command('unlock')
    .description('clear a lockout after failed sign-ins')
    .argument('<username>')
    .action((username: string) =>
      ctx.withDatabase(async (ds) => {
        await (await service(ds)).unlock(cliActor(), username);
        ctx.out(`unlocked "${username}"`);
      }),
    );
  users
    .command('set-role')
    .description("change a user's role (administrator roles stay with different users)")
    .argument('<username>')
    .argument('<role>', ROLES.join(' | '), role)
    .action((username: string, newRole: string) =>
      ctx.withDatabase(async (ds) => {
        const u = await (await service(ds)).setRole(cliActor(), username, newRole);
        ctx.out(`"${u.username}" is now ${u.role}`);
      }),
    );
}
