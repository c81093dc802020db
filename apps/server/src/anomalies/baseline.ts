import type { Thresholds } from './thresholds';

/** An EWMA of a rate and of its mean absolute deviation, with the windows it has seen. */
export interface BaselineState {
  mean: number;
  dev: number;
  n: number;
}

export type Verdict = 'spike' | 'drop' | null;

/**
 * One step of a series: the verdict against what was learned so far, then
 * the update. While a window is anomalous the baseline learns ten times more
 * slowly, so that a long spike is not learned as normal within minutes, yet
 * a lasting change of level is accepted in the end.
 */
export function stepBaseline(
  prev: BaselineState | undefined,
  x: number,
  t: Pick<
    Thresholds,
    'baselineAlpha' | 'baselineWarmupWindows' | 'spikeFactor' | 'dropFactor' | 'deviationBand'
  >,
  minRate: number,
): { state: BaselineState; verdict: Verdict; expected: number } {
  if (!prev) return { state: { mean: x, dev: 0, n: 1 }, verdict: null, expected: x };
  let verdict: Verdict = null;
  if (prev.n >= t.baselineWarmupWindows) {
    const band = t.deviationBand * prev.dev;
    if (x >= minRate && x > prev.mean * t.spikeFactor && x - prev.mean > band) verdict = 'spike';
    else if (prev.mean >= minRate && x * t.dropFactor < prev.mean && prev.mean - x > band)
      verdict = 'drop';
  }
  const a = verdict ? t.baselineAlpha / 10 : t.baselineAlpha;
  const mean = prev.mean + a * (x - prev.mean);
  const dev = prev.dev + a * (Math.abs(x - prev.mean) - prev.dev);
  return { state: { mean, dev, n: prev.n + 1 }, verdict, expected: prev.mean };
}
