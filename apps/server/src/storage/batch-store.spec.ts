import { rawRecordsOf, rawRowsOf, seriesInsertSql, StoredBatch } from './batch-store';
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

describe('rawRowsOf', () => {
  it('gives one raw row per record, columns as the writer sends them', () => {
    const start = new Date('2026-01-15T10:00:00Z');
    const item: StoredBatch = {
      agentId: '00000000-0000-4000-8000-000000000001',
      batch: {
        sequence: 7,
        windowStart: start,
        windowEnd: new Date(start.getTime() + 10_000),
        flowsSampled: false,
        traffic: [{ iface: 'eth0', direction: 1, family: 1, protocol: 1, packets: 3, bytes: 300 }],
        rates: [],
        ports: [],
        talkers: [],
        drops: [],
        abnormal: [],
        connections: {
          openedClient: 1,
          openedServer: 2,
          failed: 0,
          closed: 3,
          active: 4,
          peakOpenedPerSecond: 0.5,
          retransmits: 0,
          durationSumMs: 12.5,
          durations: { boundsMs: [10, 100], counts: [1, 2, 0], sumMs: 12.5 },
        },
        health: {
          cpuPercent: 1,
          rssBytes: 2,
          bpfRunTimeNs: 3,
          bpfRunCount: 4,
          spoolDepth: 0,
          spoolBytes: 0,
          flowTableFull: 0,
          recordsDropped: 0,
        },
        scan: null,
        listening: null,
        records: 3,
      },
    };
    const tables = rawRowsOf([item]);
    expect(tables.map((t) => t.table)).toEqual(['traffic_raw', 'windows_raw', 'durations_raw']);
    const traffic = tables[0];
    expect(traffic.columns.slice(0, 3)).toEqual(['agent_id', 'window_start', 'iface']);
    expect(traffic.values.map((c) => c[0])).toEqual([item.agentId, start, 'eth0', 1, 1, 1, 3, 300]);
    expect(tables[2].values.map((c) => c[0])).toEqual([
      item.agentId,
      start,
      '{10,100}',
      '{1,2,0}',
      12.5,
    ]);
    // The same rows row by row, the histogram's arrays as arrays (for a binary COPY).
    const records = rawRecordsOf([item]);
    expect(records.map((t) => t.series.raw)).toEqual(tables.map((t) => t.table));
    const transpose = (cols: unknown[][]) => cols[0].map((_, r) => cols.map((c) => c[r]));
    expect(records[0].rows).toEqual(transpose(tables[0].values));
    expect(records[1].rows).toEqual(transpose(tables[1].values));
    expect(records[2].rows).toEqual([[item.agentId, start, [10, 100], [1, 2, 0], 12.5]]);
  });
});
