import { Command, Option } from 'commander';
import type { ExportFlags } from './export';
import { applyCompactHeap } from '../health/heap-tuning';
import { addConfigOptions, type CommonFlags } from './options';
import { AGENT_VERSION } from './version';

const EXIT_CODES_HELP = `
Exit codes:
  0  success (run: stopped by SIGTERM/SIGINT after flushing the last window)
  1  internal error
  2  bad configuration, environment, flags or unknown interface
  3  the kernel side cannot run: missing capability or kernel feature (see doctor)
  4  the state directory or spool cannot be used (unwritable, disk full),
     or another agent process uses it (stateDir/agent.lock)
  5  cannot listen on the --metrics-listen address`;

/**
 * The command tree. `onExit` receives each command's exit code. Each command's
 * code is loaded when it runs: `doctor` and `--help` do not pay for gRPC,
 * Prometheus and the config schema (about 480 modules), which under emulation
 * or on a small host costs seconds.
 */
export function buildProgram(onExit: (code: number) => void): Command {
  const program = new Command('tidewatch-agent')
    .description(
      'Tidewatch host agent: eBPF traffic counters, aggregated per window, streamed to the server',
    )
    .version(AGENT_VERSION)
    .addHelpText('after', EXIT_CODES_HELP)
    .showHelpAfterError();

  addConfigOptions(
    program
      .command('run')
      .description(
        'watch interfaces and stream windows to the server (standalone without --server)',
      ),
  )
    .option(
      '--server <host:port>',
      'Tidewatch server gRPC address (env TIDEWATCH_SERVER); absent: standalone',
    )
    .option('--metrics-listen <host:port>', 'serve Prometheus metrics on http://HOST:PORT/metrics')
    .option(
      '--enrollment-token-file <file>',
      'file holding the one-time token for the first contact (env TIDEWATCH_ENROLLMENT_TOKEN_FILE)',
    )
    // Refused with a pointer to the file: a token on argv is readable by every local user.
    .addOption(new Option('--enrollment-token <token>').hideHelp())
    .option('--tls-ca <file>', 'CA certificate to verify the server (turns TLS on)')
    .option('--tls-cert <file>', 'client certificate for mutual TLS')
    .option('--tls-key <file>', 'client key for mutual TLS')
    .option('--tls-server-name <name>', 'expected server name in its certificate')
    .option('--spool-max-bytes <size>', 'on-disk spool bound, e.g. 64MiB')
    .addHelpText('after', EXIT_CODES_HELP)
    .action(async (flags: CommonFlags) => {
      // Before the run's modules load: their start-up garbage would grow the young generation.
      applyCompactHeap();
      const { runCommand } = await import('./run');
      onExit(await runCommand(flags));
    });

  program
    .command('doctor')
    .description('probe the kernel and this host: what the agent can use and what to fix')
    .option('--json', 'machine-readable output')
    .addOption(
      new Option('--object <object>', 'BPF object to load through the verifier')
        .choices(['auto', 'legacy', 'modern'])
        .default('auto'),
    )
    .addHelpText('after', '\nExit code 0: the agent can run here; 3: it cannot (see "What to do").')
    .action(async (opts: { json?: boolean; object?: 'auto' | 'legacy' | 'modern' }) => {
      const { doctorCommand } = await import('./doctor');
      onExit(await doctorCommand(opts));
    });

  addConfigOptions(
    program.command('top').description('live view refreshed each second, like iftop (q to quit)'),
  )
    .option('--count <n>', 'stop after n frames')
    .addHelpText('after', EXIT_CODES_HELP)
    .action(async (flags: CommonFlags & { count?: string }) => {
      const { topCommand } = await import('./top');
      onExit(await topCommand(flags));
    });

  addConfigOptions(
    program
      .command('export')
      .description('watch for a while, then write windows and top flows (masked)'),
  )
    .addOption(
      new Option('--format <format>', 'output format').choices(['csv', 'json']).default('csv'),
    )
    .option('--duration <duration>', 'how long to watch, e.g. 30s, 5m', '30s')
    .requiredOption('-o, --output <file>', 'file to write')
    .addHelpText('after', EXIT_CODES_HELP)
    .action(async (flags: ExportFlags) => {
      const { exportCommand } = await import('./export');
      onExit(await exportCommand(flags));
    });

  return program;
}
