import 'reflect-metadata';
import { buildProgram } from './cli/program';

buildProgram()
  .parseAsync(process.argv)
  .catch((err: Error) => {
    process.stderr.write(`tidewatch-server: ${err.message}\n`);
    process.exit(1);
  });
