import type { Thresholds } from './thresholds';

/** mean, mean absolute deviation, windows seen */
export type Moments = [number, number, number];

/**
 * An EWMA of a rate and of its mean absolute deviation, with the windows it
 * has seen; `hours` keeps the same per hour of the day (UTC) once a series
 * has history, so that a nightly backup is compared with other nights.
 */
export interface BaselineState {
  mean: number;
  dev: number;
  n: number;
  hours?: (Moments | null)[];
}

export type Verdict = 'spike' | 'drop' | null;

type BaselineKnobs = Pick<
  Thresholds,
  | 'baselineAlpha'
  | 'baselineWarmupWindows'
  | 'spikeFactor'
  | 'dropFactor'
  | 'deviationBand'
  | 'seasonalAlpha'
  | 'seasonalMinWindows'
>;

function judge(m: Moments, x: number, t: BaselineKnobs, minRate: number): Verdict {
  const [mean, dev] = m;
  const band = t.deviationBand * dev;
  if (x >= minRate && x > mean * t.spikeFactor && x - mean > band) return 'spike';
  if (mean >= minRate && x * t.dropFactor < mean && mean - x > band) return 'drop';
  return null;
}

function update(m: Moments, x: number, a: number): Moments {
  const [mean, dev, n] = m;
  return [mean + a * (x - mean), dev + a * (Math.abs(x - mean) - dev), n + 1];
}

/**
 * One step of a series: the verdict against what was learned so far, then
 * the update. Where the hour of the day has history (seasonalMinWindows), its
 * own baseline decides; before that, the recent EWMA does. While a window is
 * anomalous the baselines learn ten times more slowly, so that a long spike
 * is not learned as normal within minutes, yet a lasting change is in the end.
 */
export function stepBaseline(
  prev: BaselineState | undefined,
  x: number,
  t: BaselineKnobs,
  minRate: number,
  hour?: number,
): { state: BaselineState; verdict: Verdict; expected: number } {
  if (!prev) {
    const hours =
      hour === undefined ? undefined : Array.from({ length: 24 }, (): Moments | null => null);
    if (hours && hour !== undefined) hours[hour] = [x, 0, 1];
    return { state: { mean: x, dev: 0, n: 1, hours }, verdict: null, expected: x };
  }
  const global: Moments = [prev.mean, prev.dev, prev.n];
  const bucket = hour === undefined ? null : (prev.hours?.[hour] ?? null);
  let verdict: Verdict = null;
  let expected = prev.mean;
  if (bucket && bucket[2] >= t.seasonalMinWindows) {
    verdict = judge(bucket, x, t, minRate);
    expected = bucket[0];
  } else if (prev.n >= t.baselineWarmupWindows) {
    verdict = judge(global, x, t, minRate);
  }
  const damp = verdict ? 10 : 1;
  const [mean, dev, n] = update(global, x, t.baselineAlpha / damp);
  const state: BaselineState = { mean, dev, n };
  if (hour !== undefined) {
    const hours = prev.hours
      ? [...prev.hours]
      : Array.from({ length: 24 }, (): Moments | null => null);
    hours[hour] = bucket
      ? update(bucket, x, t.seasonalAlpha / damp)
      : [x, Math.abs(x - prev.mean), 1];
    state.hours = hours;
  }
  return { state, verdict, expected };
}
