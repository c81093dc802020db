import { readFileSync } from 'node:fs';
import { ConfigError } from '../config/errors';

/** Read at start, so that a missing file is reported then, not at the first connect. */
export function readEnrollmentToken(file: string): string {
  try {
    return readFileSync(file, 'utf8').trim();
  } catch (err) {
    throw new ConfigError(
      `config key server.enrollmentTokenFile: cannot read ${file}: ${(err as Error).message}`,
    );
  }
}
