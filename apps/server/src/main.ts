import 'reflect-metadata';
import { buildProgram } from './cli/program';
import { redactSecrets } from './database/schema-check';

buildProgram()
  .parseAsync(process.argv)
  .catch((err: Error) => {
    // Whatever failed, the database password never reaches the terminal or a log.
    const message = redactSecrets(err.message, process.env.DATABASE_URL ?? '');
    process.stderr.write(`tidewatch-server: ${message}\n`);
    process.exit(1);
  });
