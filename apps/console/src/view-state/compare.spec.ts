import {
  brushedRange,
  brushSearch,
  changeRatio,
  comparedRange,
  compareSearch,
  parseCompare,
  shiftPoints,
  zoomOut,
} from './compare';
import { parseRange } from './range';

const NOW = new Date('2026-12-01T12:00:00.750Z');

describe('compare in the URL', () => {
  it('reads 1d and 7d; off, nothing or anything else is no comparison', () => {
    expect(parseCompare({ compare: '1d' })).toBe('1d');
    expect(parseCompare({ compare: ['7d', '1d'] })).toBe('7d');
    expect(parseCompare({ compare: 'off' })).toBeNull();
    expect(parseCompare({ compare: '2d' })).toBeNull();
    expect(parseCompare({})).toBeNull();
  });
  it('sets and removes the comparison, keeping the range and the rest', () => {
    expect(compareSearch({ range: '6h', compare: '7d', x: ['a', 'b'] }, '1d')).toBe(
      'range=6h&x=a&x=b&compare=1d',
    );
    expect(compareSearch({ from: 'F', to: 'T', compare: '1d' }, null)).toBe('from=F&to=T');
  });
});

describe('the compared period', () => {
  it('is the same range one day or one week earlier', () => {
    const r = parseRange(
      { from: '2026-12-01T10:00:00+08:00', to: '2026-12-01T11:30:00+08:00' },
      NOW,
    );
    expect(comparedRange(r, '1d')).toEqual({
      from: new Date('2026-11-30T02:00:00Z'),
      to: new Date('2026-11-30T03:30:00Z'),
    });
    expect(comparedRange(parseRange({ range: '1h' }, NOW), '7d')).toEqual({
      from: new Date('2026-11-24T11:00:00Z'),
      to: new Date('2026-11-24T12:00:00Z'),
    });
  });
  it('moves its points onto the current axis, keeping everything else', () => {
    const pts = [
      { t: '2026-11-30T02:00:00.000Z', key: 'ingress', bytes: '5', packets: '1' },
      { t: '2026-11-30T02:00:10.000Z', key: 'egress', bytes: '7', packets: '2' },
    ];
    expect(shiftPoints(pts, 86_400_000)).toEqual([
      { t: '2026-12-01T02:00:00.000Z', key: 'ingress', bytes: '5', packets: '1' },
      { t: '2026-12-01T02:00:10.000Z', key: 'egress', bytes: '7', packets: '2' },
    ]);
    expect(pts[0].t).toBe('2026-11-30T02:00:00.000Z');
  });
  it('gives the change as a ratio, only where both periods have a figure to compare', () => {
    expect(changeRatio(125n, 100n)).toBe(0.25);
    expect(changeRatio(50n, 200n)).toBe(-0.75);
    expect(changeRatio(1n, 3n)).toBe(-0.6666);
    // 64-bit counters stay exact far beyond Number's 2^53.
    expect(changeRatio(18_000_000_000_000_000_001n, 9_000_000_000_000_000_000n)).toBe(1);
    expect(changeRatio(5n, 0n)).toBeNull();
    expect(changeRatio(null, 5n)).toBeNull();
    expect(changeRatio(5n, null)).toBeNull();
  });
});

describe('brush and zoom out', () => {
  it('widens a dragged stretch to whole seconds, in either drag direction', () => {
    const want = { from: new Date('2026-12-01T11:10:03Z'), to: new Date('2026-12-01T11:20:08Z') };
    const a = Date.parse('2026-12-01T11:10:03.400Z');
    const b = Date.parse('2026-12-01T11:20:07.001Z');
    expect(brushedRange(a, b)).toEqual(want);
    expect(brushedRange(b, a)).toEqual(want);
    expect(brushedRange(a, a)).toBeNull();
    expect(brushedRange(Number.NaN, b)).toBeNull();
  });
  it('navigates to the brushed range, keeping the comparison', () => {
    expect(
      brushSearch(
        { range: '1h', compare: '7d' },
        Date.parse('2026-12-01T11:00:00Z'),
        Date.parse('2026-12-01T11:15:00Z'),
      ),
    ).toBe('compare=7d&from=2026-12-01T11%3A00%3A00.000Z&to=2026-12-01T11%3A15%3A00.000Z');
    expect(brushSearch({}, 5, 5)).toBeNull();
  });
  it('doubles the range around its centre', () => {
    const r = { from: new Date('2026-11-30T10:00:00Z'), to: new Date('2026-11-30T11:00:00Z') };
    expect(zoomOut(r, NOW)).toEqual({
      from: new Date('2026-11-30T09:30:00Z'),
      to: new Date('2026-11-30T11:30:00Z'),
    });
  });
  it('never reaches past now: a range ending now doubles backwards', () => {
    const r = parseRange({ range: '1h' }, NOW);
    expect(zoomOut(r, NOW)).toEqual({
      from: new Date('2026-12-01T10:00:00Z'),
      to: new Date('2026-12-01T12:00:00Z'),
    });
    const near = { from: new Date('2026-12-01T11:00:00Z'), to: new Date('2026-12-01T11:50:00Z') };
    expect(zoomOut(near, NOW)).toEqual({
      from: new Date('2026-12-01T10:20:00Z'),
      to: new Date('2026-12-01T12:00:00Z'),
    });
  });
});
