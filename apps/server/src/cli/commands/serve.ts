import { Command } from 'commander';
import { CliContext } from '../context';

export function registerServe(program: Command, ctx: CliContext): void {
  program
    .command('serve', { isDefault: true })
    .description(
      'run the server: REST + WebSocket on HTTP_PORT (8080), gRPC ingest on GRPC_PORT (50051)',
    )
    .option('--no-migrate', 'do not run pending migrations at start (refuse to start when behind)')
    .action(async (opts: { migrate: boolean }) => {
      const env = { ...ctx.env(), migrateOnStart: ctx.env().migrateOnStart && opts.migrate };
      // Loaded here so that the other commands do not pay for Nest at start-up.
      const { startServer } = await import('../../server');
      const server = await startServer(env);
      const stop = (signal: string) => {
        ctx.err(`tidewatch-server: ${signal}, shutting down`);
        server.close().then(
          () => process.exit(0),
          () => process.exit(1),
        );
      };
      process.once('SIGTERM', () => stop('SIGTERM'));
      process.once('SIGINT', () => stop('SIGINT'));
    });
}
