import type { SqlRunner, StoredBatch } from './batch-store';

/** The anomaly detectors' per-window inputs (Batch.scan), kept beside the window's other rows. */
export async function storeScanWindows(runner: SqlRunner, items: StoredBatch[]): Promise<void> {
  const withScan = items.filter((i) => i.batch.scan);
  if (withScan.length === 0) return;
  await runner.query(
    `INSERT INTO scan_windows (agent_id, window_start, window_end, scan)
     SELECT * FROM unnest($1::uuid[], $2::timestamptz[], $3::timestamptz[], $4::jsonb[])
     ON CONFLICT DO NOTHING`,
    [
      withScan.map((i) => i.agentId),
      withScan.map((i) => i.batch.windowStart),
      withScan.map((i) => i.batch.windowEnd),
      withScan.map((i) => JSON.stringify(i.batch.scan)),
    ],
  );
}
