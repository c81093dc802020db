import { rateChartOption, RateChartProps } from './rate-option';
import { rateLines } from './series-data';

const T0 = Date.parse('2026-12-01T02:00:00Z');
const at = (s: number) => new Date(T0 + s * 1000).toISOString();
const pts = (offset: number) => [
  { t: at(offset), key: 'ingress', bytes: '1000', packets: '1' },
  { t: at(offset), key: 'egress', bytes: '500', packets: '1' },
  { t: at(offset + 10), key: 'ingress', bytes: '2000', packets: '1' },
  { t: at(offset + 30), key: 'ingress', bytes: '3000', packets: '1' },
];
const base: RateChartProps = {
  lines: rateLines(pts(0), null, ['ingress', 'egress']),
  gaps: [],
  from: T0,
  to: T0 + 60_000,
  locale: 'en',
  timeZone: 'Asia/Shanghai',
  names: { ingress: 'Ingress', egress: 'Egress' },
  words: { title: 'Rate', axis: 'Time', gap: 'no data', peak: 'peak' },
};

interface Series {
  name: string;
  color: string;
  data: [number, number | null][];
  lineStyle?: { type: string };
  markPoint?: unknown;
}
const series = (p: RateChartProps) =>
  (rateChartOption(p) as unknown as { series: Series[] }).series;

describe('rateChartOption', () => {
  it('draws only the current lines, and no brush, by default', () => {
    const o = rateChartOption(base) as { brush?: unknown };
    expect(o.brush).toBeUndefined();
    expect(series(base).map((s) => [s.name, s.lineStyle?.type ?? 'solid'])).toEqual([
      ['Ingress', 'solid'],
      ['Egress', 'solid'],
    ]);
  });
  it('draws the compared period dashed, in its current line colour, with its breaks', () => {
    const p = {
      ...base,
      compare: {
        lines: rateLines(pts(5), null, ['egress', 'ingress']),
        gaps: [],
        names: { ingress: 'Ingress, yesterday', egress: 'Egress, yesterday' },
      },
    };
    const s = series(p);
    expect(s.map((x) => [x.name, x.lineStyle?.type ?? 'solid'])).toEqual([
      ['Ingress', 'solid'],
      ['Egress', 'solid'],
      ['Egress, yesterday', 'dashed'],
      ['Ingress, yesterday', 'dashed'],
    ]);
    expect(s[3].color).toBe(s[0].color);
    expect(s[2].color).toBe(s[1].color);
    expect(s[0].color).not.toBe(s[1].color);
    // The missing window (20-30 s) breaks the compared line too; no peak marks on it.
    expect(s[3].data.map(([t, v]) => [(t - T0) / 1000, v])).toEqual([
      [5, 800],
      [15, 1600],
      [25, null],
      [35, 2400],
    ]);
    expect(s[3].markPoint).toBeUndefined();
  });
  it('has a brush over the time axis when a drag may zoom', () => {
    const o = rateChartOption({ ...base, zoom: { path: '/hosts/x', params: {} } }) as {
      brush?: { xAxisIndex: number; brushType: string; brushMode: string };
    };
    expect(o.brush).toMatchObject({ xAxisIndex: 0, brushType: 'lineX', brushMode: 'single' });
  });
});
