import {
  nextPeriod,
  partitionDdl,
  parsePartitionName,
  partitionName,
  periodsBetween,
  periodStart,
} from './partitions';

const t = (s: string) => new Date(s);

describe('partitions', () => {
  it('names daily and monthly partitions in UTC and parses them back', () => {
    const day = periodStart(t('2026-03-09T23:59:59.999Z'), 'day');
    expect(partitionName('traffic_raw', day, 'day')).toBe('traffic_raw_p20260309');
    expect(parsePartitionName('traffic_raw', 'traffic_raw_p20260309')).toEqual({
      start: day,
      unit: 'day',
    });
    const month = periodStart(t('2026-12-31T12:00:00Z'), 'month');
    expect(partitionName('traffic_1h', month, 'month')).toBe('traffic_1h_p202612');
    expect(nextPeriod(month, 'month')).toEqual(t('2027-01-01T00:00:00Z'));
    expect(parsePartitionName('traffic_1h', 'traffic_1m_p20260309')).toBeNull();
  });

  it('lists every period overlapping a range', () => {
    const days = periodsBetween(t('2026-02-27T10:00:00Z'), t('2026-03-01T00:00:00Z'), 'day');
    expect(days.map((d) => d.toISOString().slice(0, 10))).toEqual([
      '2026-02-27',
      '2026-02-28',
      '2026-03-01',
    ]);
  });

  it('leaves room for in-place updates in rollup partitions only', () => {
    const day = t('2026-03-09T00:00:00Z');
    expect(partitionDdl('traffic_1m', day, 'day', true)).toBe(
      `CREATE TABLE IF NOT EXISTS traffic_1m_p20260309 PARTITION OF traffic_1m
    FOR VALUES FROM ('2026-03-09T00:00:00.000Z') TO ('2026-03-10T00:00:00.000Z') WITH (fillfactor = 70)`,
    );
    expect(partitionDdl('traffic_raw', day, 'day', false)).not.toContain('fillfactor');
  });
});
