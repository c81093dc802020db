import { decodeNotification, encodeNotifications, LiveBatchSummary } from './live-payload';

describe('NOTIFY payloads', () => {
  it('pack summaries under the 8000-byte NOTIFY limit and decode back', () => {
    const items: LiveBatchSummary[] = Array.from({ length: 500 }, (_, i) => ({
      a: '0b5c6c6e-3c0a-4d5b-9c3e-8f5f1e2a3b4c',
      s: i + 1,
      ws: 1_795_000_000_000 + i * 10_000,
      we: 1_795_000_010_000 + i * 10_000,
      ib: 123_456_789,
      eb: 987_654_321,
      ip: 12_345,
      ep: 54_321,
    }));
    const payloads = encodeNotifications(items);
    expect(payloads.length).toBeGreaterThan(1);
    for (const p of payloads) expect(Buffer.byteLength(p)).toBeLessThan(8000);
    expect(payloads.flatMap(decodeNotification)).toEqual(items);
  });
});
