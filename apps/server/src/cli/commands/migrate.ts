import { Command } from 'commander';
import { revertLastMigration, runMigrations } from '../../database/migrate';
import { MIGRATIONS } from '../../database/migrations';
import { appliedMigrations } from '../../database/schema-check';
import { CliContext } from '../context';

export function registerMigrate(program: Command, ctx: CliContext): void {
  const migrate = program
    .command('migrate')
    .description('database schema migrations (DATABASE_URL)');
  migrate
    .command('run')
    .description('apply every pending migration')
    .action(() =>
      ctx.withDatabase(
        async (ds) => {
          const ran = await runMigrations(ds);
          ctx.out(
            ran.length ? `applied: ${ran.map((m) => m.name).join(', ')}` : 'schema is up to date',
          );
        },
        { requireSchema: false },
      ),
    );
  migrate
    .command('revert')
    .description('undo the most recent migration')
    .action(() =>
      ctx.withDatabase(
        async (ds) => {
          const before = await appliedMigrations(ds);
          await revertLastMigration(ds);
          ctx.out(before.length ? `reverted: ${before[before.length - 1]}` : 'nothing to revert');
        },
        { requireSchema: false },
      ),
    );
  migrate
    .command('show')
    .description('list migrations and whether each is applied')
    .action(() =>
      ctx.withDatabase(
        async (ds) => {
          const applied = new Set(await appliedMigrations(ds));
          for (const m of MIGRATIONS) ctx.out(`${applied.has(m.name) ? '[X]' : '[ ]'} ${m.name}`);
        },
        { requireSchema: false },
      ),
    );
}
