import { parseRange, rangeSearch, shiftRange, toSearch } from './range';

const NOW = new Date('2026-12-01T12:00:00.750Z');

describe('parseRange', () => {
  it('defaults to the last hour, ending at the whole second', () => {
    const r = parseRange({}, NOW);
    expect(r).toEqual({
      from: new Date('2026-12-01T11:00:00Z'),
      to: new Date('2026-12-01T12:00:00Z'),
      preset: '1h',
    });
  });
  it('takes a preset from the URL', () => {
    expect(parseRange({ range: '7d' }, NOW).from).toEqual(new Date('2026-11-24T12:00:00Z'));
    expect(parseRange({ range: 'bogus' }, NOW, '15m').preset).toBe('15m');
  });
  it('prefers a valid absolute range, with offsets', () => {
    const r = parseRange(
      { from: '2026-11-30T08:00:00+08:00', to: '2026-11-30T01:00:00Z', range: '1h' },
      NOW,
    );
    expect(r).toEqual({
      from: new Date('2026-11-30T00:00:00Z'),
      to: new Date('2026-11-30T01:00:00Z'),
      preset: null,
    });
  });
  it('ignores an inverted or malformed absolute range', () => {
    expect(
      parseRange({ from: '2026-11-30T02:00:00Z', to: '2026-11-30T01:00:00Z' }, NOW).preset,
    ).toBe('1h');
    expect(parseRange({ from: 'yesterday', to: '2026-11-30T01:00:00Z' }, NOW).preset).toBe('1h');
  });
});

describe('range in the URL', () => {
  it('writes presets and absolute ranges, keeping other params', () => {
    expect(rangeSearch({ selector: 'env=prod', from: 'x', to: 'y' }, { preset: '6h' })).toBe(
      'selector=env%3Dprod&range=6h',
    );
    expect(
      rangeSearch(
        { range: '1h' },
        { from: new Date('2026-11-30T00:00:00Z'), to: new Date('2026-11-30T01:00:00Z') },
      ),
    ).toBe('from=2026-11-30T00%3A00%3A00.000Z&to=2026-11-30T01%3A00%3A00.000Z');
  });
  it('shifts a range by its own length', () => {
    const r = parseRange({ range: '1h' }, NOW);
    expect(shiftRange(r, -1)).toEqual({
      from: new Date('2026-12-01T10:00:00Z'),
      to: new Date('2026-12-01T11:00:00Z'),
    });
    expect(shiftRange(r, 1)).toEqual({
      from: new Date('2026-12-01T12:00:00Z'),
      to: new Date('2026-12-01T13:00:00Z'),
    });
  });
  it('round-trips search params', () => {
    expect(toSearch({ a: '1', b: ['2', '3'], c: undefined })).toBe('?a=1&b=2&b=3');
    expect(toSearch({})).toBe('');
  });
});
