/**
 * Exponential backoff with jitter: attempt n waits a random time between half
 * and all of min(max, initial * 2^n), so a fleet that lost its server does not
 * come back in lockstep.
 */
export function backoffDelayMs(
  attempt: number,
  initialMs: number,
  maxMs: number,
  random: () => number = Math.random,
): number {
  const ceiling = Math.min(maxMs, initialMs * 2 ** Math.min(attempt, 30));
  return Math.round(ceiling / 2 + (random() * ceiling) / 2);
}
