import { InvalidInputError } from './domain-errors';

/** `env=prod,role=db` -> { env: 'prod', role: 'db' }; every pair must match. */
export function parseLabelSelector(text: string, param = 'selector'): Record<string, string> {
  const out: Record<string, string> = {};
  for (const part of text.split(',')) {
    const m = /^\s*([A-Za-z0-9_.\-/]{1,63})\s*=\s*([^,=]{0,256}?)\s*$/.exec(part);
    if (!m) {
      throw new InvalidInputError(
        `${param} must be key=value pairs separated by commas, got "${part.slice(0, 80)}"`,
      );
    }
    out[m[1]] = m[2];
  }
  return out;
}
