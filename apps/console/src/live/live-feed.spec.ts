import { inRoom, liveUrl, parseMessage, reconnectDelay, windowInView } from './live-feed';

const batch = (ws: number, we: number, agentId = 'AA') => ({
  event: 'batch' as const,
  data: {
    agentId,
    sequence: 1,
    windowStart: new Date(ws).toISOString(),
    windowEnd: new Date(we).toISOString(),
    ingressBytes: 1,
    egressBytes: 2,
    ingressPackets: 3,
    egressPackets: 4,
  },
});

describe('live feed rules', () => {
  it('parses the server messages and ignores anything else', () => {
    expect(parseMessage('{"event":"subscribed","data":{"room":"fleet"}}')).toEqual({
      event: 'subscribed',
      data: { room: 'fleet' },
    });
    expect(parseMessage('not json')).toBeNull();
    expect(parseMessage('{"event":1}')).toBeNull();
  });
  it('delivers every host to the fleet room, one host to its room', () => {
    expect(inRoom('fleet', batch(0, 1, 'x'))).toBe(true);
    expect(inRoom('host:aa', batch(0, 1, 'AA'))).toBe(true);
    expect(inRoom('host:bb', batch(0, 1, 'AA'))).toBe(false);
  });
  it('a live view takes windows from its start on; a fixed range only those inside it', () => {
    const view = { from: 100_000, to: 200_000 };
    expect(windowInView(batch(250_000, 260_000).data, { ...view, live: true })).toBe(true);
    expect(windowInView(batch(250_000, 260_000).data, { ...view, live: false })).toBe(false);
    expect(windowInView(batch(150_000, 160_000).data, { ...view, live: false })).toBe(true);
    expect(windowInView(batch(80_000, 90_000).data, { ...view, live: true })).toBe(false);
    // A window that straddles the start still counts in the range.
    expect(windowInView(batch(95_000, 105_000).data, { ...view, live: false })).toBe(true);
  });
  it('reconnects after 1 s, doubling up to 30 s', () => {
    expect([0, 1, 2, 5, 10].map(reconnectDelay)).toEqual([1000, 2000, 4000, 30_000, 30_000]);
  });
  it('uses the page origin, wss under https', () => {
    expect(liveUrl({ protocol: 'http:', host: '127.0.0.1:3000' })).toBe(
      'ws://127.0.0.1:3000/api/v1/live',
    );
    expect(liveUrl({ protocol: 'https:', host: 'tw.bank.example' })).toBe(
      'wss://tw.bank.example/api/v1/live',
    );
  });
});
