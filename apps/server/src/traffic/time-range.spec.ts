import { autoResolution, exactPlan, HOUR_MS, MINUTE_MS } from './time-range';

const t = (s: string) => new Date(s);

describe('autoResolution', () => {
  it('uses raw up to 6 h, 1 min up to 7 d, 1 h beyond', () => {
    const from = t('2026-01-01T00:00:00Z');
    expect(autoResolution(from, new Date(from.getTime() + 6 * HOUR_MS))).toBe('raw');
    expect(autoResolution(from, new Date(from.getTime() + 6 * HOUR_MS + 1))).toBe('1m');
    expect(autoResolution(from, new Date(from.getTime() + 7 * 24 * HOUR_MS))).toBe('1m');
    expect(autoResolution(from, new Date(from.getTime() + 7 * 24 * HOUR_MS + 1))).toBe('1h');
  });
});

describe('exactPlan', () => {
  it('covers the range exactly, without gaps or overlaps', () => {
    const from = t('2026-01-01T10:17:23.500Z');
    const to = t('2026-01-03T04:02:10Z');
    const segs = exactPlan(from, to);
    expect(segs.map((s) => s.resolution)).toEqual(['raw', '1m', '1h', '1m', 'raw']);
    expect(segs[0].from).toEqual(from);
    expect(segs[segs.length - 1].to).toEqual(to);
    for (let i = 1; i < segs.length; i++) expect(segs[i].from).toEqual(segs[i - 1].to);
    expect(segs[2].from).toEqual(t('2026-01-01T11:00:00Z'));
    expect(segs[2].to).toEqual(t('2026-01-03T04:00:00Z'));
  });

  it('reads only the 1 h rollup for hour-aligned ranges', () => {
    const segs = exactPlan(t('2026-01-01T00:00:00Z'), t('2026-01-31T00:00:00Z'));
    expect(segs).toEqual([
      { resolution: '1h', from: t('2026-01-01T00:00:00Z'), to: t('2026-01-31T00:00:00Z') },
    ]);
  });

  it('uses minutes when no whole hour fits, raw when no whole minute fits', () => {
    expect(
      exactPlan(t('2026-01-01T00:10:00Z'), t('2026-01-01T00:50:00Z')).map((s) => s.resolution),
    ).toEqual(['1m']);
    const sub = exactPlan(t('2026-01-01T00:00:10Z'), t('2026-01-01T00:00:50Z'));
    expect(sub).toEqual([
      { resolution: 'raw', from: t('2026-01-01T00:00:10Z'), to: t('2026-01-01T00:00:50Z') },
    ]);
    expect(
      exactPlan(t('2026-01-01T00:00:00Z'), new Date(Date.UTC(2026, 0, 1) + MINUTE_MS)),
    ).toHaveLength(1);
  });

  it('is empty for an empty range', () => {
    expect(exactPlan(t('2026-01-01T00:00:00Z'), t('2026-01-01T00:00:00Z'))).toEqual([]);
  });
});
