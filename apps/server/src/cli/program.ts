import { Command } from 'commander';
import { registerAgents } from './commands/agents';
import { registerAudit } from './commands/audit';
import { registerEnroll } from './commands/enroll';
import { registerMigrate } from './commands/migrate';
import { registerServe } from './commands/serve';
import { registerUsers } from './commands/users';
import { CliContext, defaultContext } from './context';

/** Every subcommand registers itself here: one file in commands/ and one entry below. */
const COMMANDS = [
  registerServe,
  registerMigrate,
  registerEnroll,
  registerAgents,
  registerUsers,
  registerAudit,
];

export function buildProgram(
  ctx: CliContext = defaultContext(),
  configure?: (root: Command) => void,
): Command {
  const program = new Command('tidewatch-server')
    .description(
      'Tidewatch aggregation server (env: DATABASE_URL, HTTP_PORT, GRPC_PORT, …; see README)',
    )
    .showHelpAfterError();
  // Settings made here (e.g. exitOverride in tests) are inherited by every subcommand.
  configure?.(program);
  for (const register of COMMANDS) register(program, ctx);
  return program;
}
