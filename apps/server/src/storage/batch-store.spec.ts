import { seriesInsertSql } from './batch-store';
import { seriesByName } from './series';

describe('seriesInsertSql', () => {
  it('inserts raw rows with one unnest and upserts both rollups in the same statement', () => {
    const sql = seriesInsertSql(seriesByName('traffic'));
    expect(sql).toContain('INSERT INTO traffic_raw');
    expect(sql).toContain('unnest($1::uuid[], $2::timestamptz[], $3::text[]');
    expect(sql).toContain(`date_trunc('minute', window_start, 'UTC')`);
    expect(sql).toContain(`date_trunc('hour', window_start, 'UTC')`);
    expect(sql).toContain(
      'ON CONFLICT (agent_id, bucket, iface, direction, family, protocol) DO UPDATE SET packets = t.packets + EXCLUDED.packets',
    );
  });

  it('merges maxima with GREATEST and flags with OR', () => {
    expect(seriesInsertSql(seriesByName('rates'))).toContain(
      'peak_bps = GREATEST(t.peak_bps, EXCLUDED.peak_bps)',
    );
    expect(seriesInsertSql(seriesByName('ports'))).toContain(
      'abnormal = t.abnormal OR EXCLUDED.abnormal',
    );
  });
});
