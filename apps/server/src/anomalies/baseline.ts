import type { Thresholds } from './thresholds';

/** mean, mean absolute deviation, windows seen, and (per hour) the decaying peak */
export type Moments = [number, number, number, number?];

/** Per update of an hour's bucket: its peak halves in about a week of 10 s windows. */
const PEAK_DECAY = 0.9997;

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
  const [mean, dev, , peak] = m;
  const band = t.deviationBand * dev;
  // Against an hour's history, a spike must also clear twice that hour's recent peak:
  // what happened at this hour before (a nightly backup) is not news.
  const abovePeak = peak === undefined || x > 2 * peak;
  if (x >= minRate && x > mean * t.spikeFactor && x - mean > band && abovePeak) return 'spike';
  if (mean >= minRate && x * t.dropFactor < mean && mean - x > band) return 'drop';
  return null;
}

function update(m: Moments, x: number, a: number): Moments {
  const [mean, dev, n, peak] = m;
  const next: Moments = [mean + a * (x - mean), dev + a * (Math.abs(x - mean) - dev), n + 1];
  if (peak !== undefined) next[3] = Math.max(x, peak * PEAK_DECAY);
  return next;
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
    if (hours && hour !== undefined) hours[hour] = [x, 0, 1, x];
    return { state: { mean: x, dev: 0, n: 1, hours }, verdict: null, expected: x };
  }
  const global: Moments = [prev.mean, prev.dev, prev.n];
  const bucket = hour === undefined ? null : (prev.hours?.[hour] ?? null);
  let verdict: Verdict = null;
  let expected = prev.mean;
  const seasonal = !!bucket && bucket[2] >= t.seasonalMinWindows;
  if (bucket && seasonal) {
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
    // A spike the hour's own history calls one does not raise its peak: the next is
    // judged against normal days. Before that history exists, the hour learns what it sees.
    const clip = seasonal && verdict === 'spike';
    hours[hour] = bucket
      ? update(bucket, clip ? Math.min(x, bucket[3] ?? x) : x, t.seasonalAlpha / (clip ? 10 : 1))
      : [x, Math.abs(x - prev.mean), 1, x];
    state.hours = hours;
  }
  return { state, verdict, expected };
}
