import { CommanderError } from 'commander';
import { AttachError } from './collector/errors';
import { buildProgram } from './cli/program';
import { EXIT } from './cli/exit-codes';
import { ConfigError } from './config/errors';
import { ListenError } from './metrics/server';
import { StateDirError } from './state/errors';

export function exitCodeOf(err: unknown): number {
  if (err instanceof ConfigError) return EXIT.CONFIG;
  if (err instanceof AttachError) return EXIT.KERNEL;
  if (err instanceof StateDirError) return EXIT.STATE;
  if (err instanceof ListenError) return EXIT.LISTEN;
  return EXIT.INTERNAL;
}

/** Entry point of bin/tidewatch-agent.js. */
export async function main(argv: string[]): Promise<void> {
  let code: number = EXIT.OK;
  const program = buildProgram((c) => (code = c));
  program.exitOverride();
  for (const sub of program.commands) sub.exitOverride();
  try {
    await program.parseAsync(argv);
  } catch (err) {
    if (err instanceof CommanderError) {
      // --help and --version "fail" with exit code 0; usage errors are bad input.
      code = err.exitCode === 0 ? EXIT.OK : EXIT.CONFIG;
    } else {
      code = exitCodeOf(err);
      const msg = err instanceof Error ? err.message : String(err);
      process.stderr.write(`tidewatch-agent: ${msg}\n`);
      if (code === EXIT.INTERNAL && err instanceof Error && err.stack)
        process.stderr.write(`${err.stack}\n`);
    }
  }
  process.exitCode = code;
  // Handles left by libraries (gRPC channels) must not keep a finished command alive.
  setTimeout(() => process.exit(code), 200).unref();
}
