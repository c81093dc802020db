import { hasDeclaredGap, hostState, labelChoices, validSelector } from './host-state';

describe('host state', () => {
  it('tells online, silent and offline apart', () => {
    expect(hostState({ status: 'online', lastSeenAt: '2026-12-01T00:00:00Z' })).toBe('online');
    expect(hostState({ status: 'offline', lastSeenAt: '2026-12-01T00:00:00Z' })).toBe('silent');
    expect(hostState({ status: 'offline', lastSeenAt: null })).toBe('offline');
    expect(hostState({ status: 'revoked', lastSeenAt: '2026-12-01T00:00:00Z' })).toBe('offline');
  });
  it('marks a declared data gap', () => {
    expect(hasDeclaredGap({ lostBatches: 3 })).toBe(true);
    expect(hasDeclaredGap({ lostBatches: 0 })).toBe(false);
    expect(hasDeclaredGap(null)).toBe(false);
  });
  it('lists label choices and validates selectors', () => {
    expect(
      labelChoices([{ labels: { zone: 'b', env: 'prod' } }, { labels: { env: 'prod' } }]),
    ).toEqual(['env=prod', 'zone=b']);
    expect(validSelector(' env=prod,zone=b ')).toBe('env=prod,zone=b');
    expect(validSelector('env')).toBeUndefined();
    expect(validSelector('')).toBeUndefined();
  });
});
