import { setFlagsFromString } from 'node:v8';

/**
 * V8 heap settings for the long-running `run`, applied by the agent itself so
 * that every way of starting it (npm bin, systemd unit, RPM, container,
 * tools/start.js, a test's spawn) gets them, not only the launchers that pass
 * node flags.
 *
 * By default V8 grows the young generation to 3 × 16 MiB and lets the old
 * generation grow up to 4× its live size before a full collection: for the
 * agent (live heap ~17 MB with 10,000 flows per window, all of a window's
 * records garbage once it closes) that was ~70 MB of heap, mostly garbage.
 *
 * - semi-space-growth-factor=1: the young generation stays at its initial
 *   size (1 MiB semi-spaces) instead of doubling up to 16 MiB;
 * - heap-growing-percent=50: a full collection once the old generation is
 *   1.5× what survived the last one (instead of up to 4×).
 *
 * Both are read by V8 each time it sizes the heap, so setting them after start
 * takes effect (heap-tuning.spec.ts holds this Node's V8 to it). The price is
 * more frequent, smaller collections (CPU; see the README's bench:agent).
 * TIDEWATCH_COMPACT_HEAP=0 leaves V8's defaults. The settings that cannot be
 * set this way (--jitless, MALLOC_ARENA_MAX) are the launchers': launch-flags.ts.
 */
export const COMPACT_HEAP_FLAGS = ['--semi-space-growth-factor=1', '--heap-growing-percent=50'];

export function applyCompactHeap(env: NodeJS.ProcessEnv = process.env): string[] {
  if (env.TIDEWATCH_COMPACT_HEAP === '0') return [];
  for (const flag of COMPACT_HEAP_FLAGS) setFlagsFromString(flag);
  return COMPACT_HEAP_FLAGS;
}
