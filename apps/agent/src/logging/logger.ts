import pino, { type Logger } from 'pino';
import type { Masker } from '../masking/masker';

export type { Logger };

/**
 * JSON logs on stderr (stdout belongs to command output). Every finished line
 * passes through the masker, so an address that slips into a message or an
 * error text is masked like everything else that leaves the process.
 */
export function createLogger(
  level: string,
  masker: Masker | (() => Masker),
  sink: { write(line: string): void } = process.stderr,
): Logger {
  const current = typeof masker === 'function' ? masker : () => masker;
  return pino(
    { level, base: { name: 'tidewatch-agent' }, timestamp: pino.stdTimeFunctions.isoTime },
    { write: (line: string) => sink.write(current().scrub(line)) },
  );
}
