import { allZero, ApiPoint, gaps, rateLines, stepMs } from './series-data';

const T0 = Date.parse('2026-12-01T00:00:00Z');
const at = (s: number) => new Date(T0 + s * 1000).toISOString();
const p = (s: number, key: string, bytes: number): ApiPoint => ({
  t: at(s),
  key,
  packets: String(bytes ? 1 : 0),
  bytes: String(bytes),
});

describe('rate lines', () => {
  it('infers the raw window length and turns bytes per window into bit/s', () => {
    const pts = [p(0, 'ingress', 1250), p(10, 'ingress', 2500), p(20, 'ingress', 0)];
    expect(stepMs(pts, null)).toBe(10_000);
    const [line] = rateLines(pts, null, ['ingress']);
    expect(line.points).toEqual([
      [T0, 1000],
      [T0 + 10_000, 2000],
      [T0 + 20_000, 0],
    ]);
    expect(line.max).toEqual({ t: T0 + 10_000, bitsPerSecond: 2000 });
  });
  it('breaks the line where windows are missing (a gap is not zero)', () => {
    const pts = [p(0, 'all', 100), p(10, 'all', 100), p(60, 'all', 100)];
    const [line] = rateLines(pts, null, ['all']);
    expect(line.points).toEqual([
      [T0, 80],
      [T0 + 10_000, 80],
      [T0 + 20_000, null],
      [T0 + 60_000, 80],
    ]);
  });
  it('uses the rollup step when the server gives one', () => {
    const [line] = rateLines([p(0, 'egress', 60 * 1000)], 60, ['egress', 'ingress']);
    expect(line.points).toEqual([[T0, 8000]]);
  });
  it('counts a window another line has as zero for a line without it', () => {
    const lines = rateLines([p(0, 'ingress', 10), p(0, 'egress', 20), p(10, 'egress', 20)], null, [
      'ingress',
      'egress',
    ]);
    expect(lines[0].points).toEqual([
      [T0, 8],
      [T0 + 10_000, 0],
    ]);
  });
  it('sums exactly beyond 2^53 before converting', () => {
    const big: ApiPoint = { t: at(0), key: 'all', packets: '1', bytes: '9007199254740993' };
    const [line] = rateLines([big, { ...big, bytes: '1' }], 1, ['all']);
    expect(line.points[0][1]).toBe(Number(9007199254740994n * 8n));
  });
});

describe('gaps', () => {
  it('finds the stretches without windows, including before the first and after the last', () => {
    const pts = [p(30, 'all', 1), p(40, 'all', 1), p(90, 'all', 1)];
    expect(gaps(pts, null, T0, T0 + 200_000)).toEqual([
      { from: T0, to: T0 + 30_000 },
      { from: T0 + 50_000, to: T0 + 90_000 },
      { from: T0 + 100_000, to: T0 + 200_000 },
    ]);
  });
  it('is the whole range when nothing arrived', () => {
    expect(gaps([], null, T0, T0 + 1000)).toEqual([{ from: T0, to: T0 + 1000 }]);
  });
  it('tells zero traffic from missing windows', () => {
    expect(allZero([p(0, 'all', 0)])).toBe(true);
    expect(allZero([p(0, 'all', 0), p(10, 'all', 5)])).toBe(false);
  });
});
