import {
  formatAxisTime,
  formatBitRate,
  formatBytes,
  formatCompact,
  formatCount,
  formatDateTime,
  formatDurationMs,
  formatPercent,
  formatPlain,
  isoInZone,
  timeZoneLabel,
} from './units';

describe('formatCount', () => {
  it('keeps every digit of a 64-bit counter (beyond 2^53)', () => {
    expect(formatCount('en', '18446744073709551615')).toBe('18,446,744,073,709,551,615');
    expect(formatCount('zh-CN', '9007199254740993')).toBe('9,007,199,254,740,993');
  });
  it('groups small numbers for the locale', () => {
    expect(formatCount('en', '0')).toBe('0');
    expect(formatCount('en', 1234567)).toBe('1,234,567');
  });
});

describe('units', () => {
  it('humanises bit rates in SI steps', () => {
    expect(formatBitRate('en', 0)).toBe('0 bit/s');
    expect(formatBitRate('en', 999)).toBe('999 bit/s');
    expect(formatBitRate('en', 1000)).toBe('1 Kbit/s');
    expect(formatBitRate('en', 12_345_678)).toBe('12.3 Mbit/s');
    expect(formatBitRate('zh-CN', 2.5e9)).toBe('2.5 Gbit/s');
  });
  it('humanises bytes in IEC steps', () => {
    expect(formatBytes('en', '1023')).toBe('1,023 B');
    expect(formatBytes('en', '1536')).toBe('1.5 KiB');
    expect(formatBytes('en', 5 * 1024 ** 3)).toBe('5 GiB');
  });
  it('uses 万/亿 for compact counts in zh-CN', () => {
    expect(formatCompact('zh-CN', '123456')).toBe('12.3万');
    expect(formatCompact('zh-CN', 320_000_000)).toBe('3.2亿');
    expect(formatCompact('en', '123456')).toBe('123.5K');
  });
  it('computes shares exactly from BigInt counters', () => {
    expect(formatPercent('en', 1n, 3n)).toBe('33.3%');
    expect(formatPercent('en', 0n, 0n)).toBe('0%');
  });
  it('does not group ports', () => {
    expect(formatPlain('en', 31337)).toBe('31337');
  });
  it('names durations in the locale', () => {
    expect(formatDurationMs('en', 250)).toBe('250 ms');
    expect(formatDurationMs('en', 1500)).toBe('1.5 sec');
    expect(formatDurationMs('zh-CN', 1500)).toBe('1.5秒');
  });
});

describe('time zones', () => {
  // The process runs in UTC (jest.preset.js); the zone passed in decides, never the machine's.
  const instant = '2026-12-01T16:30:05Z';
  it('shows 24-hour times in the zone asked for, naming it', () => {
    expect(formatDateTime('en', 'Asia/Shanghai', instant)).toBe('12/02/2026, 00:30:05 GMT+8');
    expect(formatDateTime('zh-CN', 'Asia/Shanghai', instant)).toBe('2026/12/02 00:30:05 GMT+8');
    expect(formatDateTime('en', 'UTC', instant)).toBe('12/01/2026, 16:30:05 GMT+0');
  });
  it('labels chart axes with seconds for short ranges and the date for long ones', () => {
    const t = Date.parse(instant);
    expect(formatAxisTime('en', 'Asia/Shanghai', t, 120_000)).toBe('00:30:05');
    expect(formatAxisTime('en', 'Asia/Shanghai', t, 6 * 3_600_000)).toBe('00:30');
    expect(formatAxisTime('zh-CN', 'Asia/Shanghai', t, 7 * 86_400_000)).toBe('12/02 00:30');
  });
  it('writes ISO 8601 in the zone, with its offset, for the range form', () => {
    expect(isoInZone(new Date(instant), 'Asia/Shanghai')).toBe('2026-12-02T00:30:05+08:00');
    expect(isoInZone(new Date(instant), 'UTC')).toBe('2026-12-01T16:30:05Z');
    expect(isoInZone(new Date(instant), 'America/New_York')).toBe('2026-12-01T11:30:05-05:00');
  });
  it('labels the zone with its offset', () => {
    expect(timeZoneLabel('en', 'Asia/Shanghai')).toBe('Asia/Shanghai (GMT+8)');
  });
});
