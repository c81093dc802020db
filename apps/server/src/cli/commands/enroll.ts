import { Command, InvalidArgumentError } from 'commander';
import { AuditService } from '../../audit/audit.service';
import { ConfigurationService } from '../../config/configuration.service';
import { EnrollmentService } from '../../enrollment/enrollment.service';
import { parseDuration } from '../../enrollment/secrets';
import { CliContext } from '../context';
import { cliActor } from './agents';

function duration(v: string): number {
  try {
    return parseDuration(v);
  } catch (err) {
    throw new InvalidArgumentError((err as Error).message);
  }
}

function positiveInt(v: string): number {
  if (!/^\d+$/.test(v) || Number(v) < 1)
    throw new InvalidArgumentError('must be a positive integer');
  return Number(v);
}

export function registerEnroll(program: Command, ctx: CliContext): void {
  const enroll = program
    .command('enroll')
    .description('enrollment tokens that let new agents register');
  enroll
    .command('create')
    .description('create a token; it is printed once, only its hash is stored')
    .requiredOption('--name <name>', 'what the token is for, e.g. "rollout-dc1"')
    .option('--expires <duration>', 'lifetime: 90s, 30m, 24h, 7d', duration, 24 * 3_600_000)
    .option(
      '--uses <n>',
      'how many agents may enroll with it (default: unlimited until expiry)',
      positiveInt,
    )
    .action((opts: { name: string; expires: number; uses?: number }) =>
      ctx.withDatabase(async (ds) => {
        const audit = new AuditService(ds, new ConfigurationService(ctx.env()));
        // In one transaction: no token without its audit entry (fail closed).
        const t = await ds.transaction(async (em) => {
          const created = await new EnrollmentService(ds).create(
            opts.name,
            opts.expires,
            opts.uses ?? null,
            em,
          );
          await audit.recordIn(em, {
            ...cliActor(),
            action: 'enrollment.token_created',
            target: created.id,
            outcome: 'success',
            details: {
              name: created.name,
              expiresAt: created.expiresAt?.toISOString() ?? null,
              maxUses: created.maxUses,
            },
          });
          return created;
        });
        ctx.err(
          `enrollment token ${t.id} "${t.name}" expires ${t.expiresAt?.toISOString() ?? 'never'}` +
            (t.maxUses ? `, ${t.maxUses} use(s)` : '') +
            ' — shown once, store it now:',
        );
        ctx.out(t.token);
      }),
    );
  enroll
    .command('revoke')
    .description('revoke a token by id or name; agents already enrolled keep their credentials')
    .argument('<id-or-name>')
    .action((idOrName: string) =>
      ctx.withDatabase(async (ds) => {
        const audit = new AuditService(ds, new ConfigurationService(ctx.env()));
        const n = await ds.transaction(async (em) => {
          const revoked = await new EnrollmentService(ds).revoke(idOrName, em);
          await audit.recordIn(em, {
            ...cliActor(),
            action: 'enrollment.token_revoked',
            target: idOrName,
            outcome: 'success',
            details: { tokens: revoked },
          });
          return revoked;
        });
        ctx.out(`revoked ${n} token(s)`);
      }),
    );
  enroll
    .command('list')
    .description('list tokens (never the tokens themselves)')
    .action(() =>
      ctx.withDatabase(async (ds) => {
        for (const t of await new EnrollmentService(ds).list()) {
          const state = t.revokedAt
            ? 'revoked'
            : t.expiresAt && t.expiresAt < new Date()
              ? 'expired'
              : 'live';
          ctx.out(
            `${t.id}  ${state.padEnd(7)}  uses ${t.uses}${t.maxUses ? `/${t.maxUses}` : ''}  ` +
              `expires ${t.expiresAt?.toISOString() ?? 'never'}  ${t.name}`,
          );
        }
      }),
    );
}
