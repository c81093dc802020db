import { validateBatch } from '../ingest/batch-validation';
import type {
  NormalizedBatch,
  NormalizedFanout,
  NormalizedScan,
} from '../storage/normalized-batch';
// The history is fleet-sim's own diurnal generator (tools/ is not a workspace project).
// eslint-disable-next-line @nx/enforce-module-boundaries
import { makeWindow } from '../../../../tools/fleet-sim/src/windows';
import type { Finding } from './anomaly-types';
import { detectWindow, type DetectorState, type DetectorWindow } from './detectors';
import { DEFAULT_THRESHOLDS as T, resolveThresholds, validateThresholds } from './thresholds';

const TCP = 1;
const UDP = 2;

function fanout(over: Partial<NormalizedFanout>): NormalizedFanout {
  return {
    src: '198.18.7.0/24',
    protocol: TCP,
    pairs: 0,
    destinations: 0,
    ports: 0,
    refused: 0,
    unanswered: 0,
    topDestination: '198.18.9.0/24',
    topDestinationPorts: 0,
    topDestinationRefused: 0,
    topPort: 0,
    topPortDestinations: 0,
    topPortFailed: 0,
    recentTopDestination: '',
    recentTopDestinationFailed: 0,
    recentTopPort: 0,
    recentTopPortFailed: 0,
    ...over,
  };
}

function scan(over: Partial<NormalizedScan>): NormalizedScan {
  return {
    sources: [],
    sweeps: [],
    syns: [],
    sourcesTotal: 0,
    sourcesTruncated: false,
    otherSources: null,
    sweepsTruncated: false,
    synsTruncated: false,
    recentSeconds: 0,
    ...over,
  };
}

function win(over: Partial<DetectorWindow>, startMs = Date.UTC(2026, 0, 5, 10)): DetectorWindow {
  return {
    windowStart: new Date(startMs),
    windowEnd: new Date(startMs + 10_000),
    traffic: [],
    connections: { openedClient: 0, failed: 0, retransmits: 0 },
    drops: [],
    abnormal: [],
    scan: null,
    listening: null,
    ...over,
  };
}

const fresh = (): DetectorState => ({ baselines: new Map(), listening: null });
const types = (f: Finding[]) => f.map((x) => x.type);

describe('per-window detectors at their thresholds', () => {
  it('port scan: 14 failed ports on one destination raise nothing, 15 raise port_scan with the figures', () => {
    const under = fanout({
      pairs: 14,
      ports: 14,
      destinations: 1,
      topDestinationPorts: 14,
      topDestinationRefused: 14,
      refused: 14,
    });
    expect(detectWindow(win({ scan: scan({ sources: [under] }) }), fresh(), T).findings).toEqual(
      [],
    );
    const at = {
      ...under,
      pairs: 15,
      ports: 15,
      topDestinationPorts: 15,
      topDestinationRefused: 15,
      refused: 15,
    };
    const [f] = detectWindow(win({ scan: scan({ sources: [at] }) }), fresh(), T).findings;
    expect(f).toMatchObject({
      type: 'port_scan',
      severity: 'medium',
      figures: {
        source: '198.18.7.0/24',
        destination: '198.18.9.0/24',
        ports: 15,
        failedPorts: 15,
      },
    });
  });

  it('slow scan: 2 failed ports in this window but 16 over the agent memory raise port_scan, over 5 min', () => {
    const slow = fanout({
      pairs: 2,
      ports: 2,
      destinations: 1,
      topDestinationPorts: 2,
      topDestinationRefused: 2,
      refused: 2,
      recentTopDestination: '198.18.9.0/24',
      recentTopDestinationFailed: 14,
    });
    const at = (f: NormalizedFanout) =>
      detectWindow(win({ scan: scan({ sources: [f], recentSeconds: 300 }) }), fresh(), T).findings;
    expect(at(slow)).toEqual([]);
    const [f] = at({ ...slow, recentTopDestinationFailed: 16 });
    expect(f).toMatchObject({
      type: 'port_scan',
      // The same incident key as a fast scan of that pair: one incident, not two.
      key: 'tcp|198.18.7.0/24>198.18.9.0/24',
      summary: '198.18.7.0/24 had 16 tcp ports on 198.18.9.0/24 refused or unanswered in 5 min',
      figures: { failedPorts: 16, ports: 16, windowFailedPorts: 2, overSeconds: 300 },
    });
    // A fast scan is judged on its window, and says so.
    const [fast] = at({ ...slow, topDestinationPorts: 20, topDestinationRefused: 20 });
    expect(fast).toMatchObject({
      key: 'tcp|198.18.7.0/24>198.18.9.0/24',
      figures: { failedPorts: 20, overSeconds: 10 },
    });
  });

  it('slow sweep: one port failed on 25 destinations over the agent memory raises host_sweep', () => {
    const slow = fanout({
      pairs: 1,
      destinations: 1,
      ports: 1,
      topPort: 445,
      topPortDestinations: 1,
      topPortFailed: 1,
      recentTopPort: 445,
      recentTopPortFailed: 25,
    });
    const [f] = detectWindow(
      win({ scan: scan({ sources: [slow], recentSeconds: 300 }) }),
      fresh(),
      T,
    ).findings;
    expect(f).toMatchObject({
      type: 'host_sweep',
      key: 'tcp|198.18.7.0/24|445',
      figures: { port: 445, destinations: 25, failedDestinations: 25, overSeconds: 300 },
    });
  });

  it('host sweep: a load balancer whose 40 backends answer is not a sweep; 25 failed destinations are', () => {
    const lb = fanout({
      pairs: 40,
      destinations: 40,
      ports: 1,
      topPort: 8080,
      topPortDestinations: 40,
      topPortFailed: 0,
      topDestinationPorts: 1,
    });
    expect(detectWindow(win({ scan: scan({ sources: [lb] }) }), fresh(), T).findings).toEqual([]);
    const sweep = {
      ...lb,
      topPort: 445,
      topPortDestinations: 25,
      topPortFailed: 25,
      unanswered: 25,
      pairs: 25,
    };
    const [f] = detectWindow(win({ scan: scan({ sources: [sweep] }) }), fresh(), T).findings;
    expect(f).toMatchObject({ type: 'host_sweep', figures: { port: 445, failedDestinations: 25 } });
  });

  it('SYN flood: 256 SYN/s mostly unfinished raise it; 1,000 completed handshakes per second do not', () => {
    const busy = {
      port: 443,
      syns: 10_000,
      attempts: 10_000,
      halfOpen: 100,
      refused: 0,
      sources: 900,
    };
    expect(detectWindow(win({ scan: scan({ syns: [busy] }) }), fresh(), T).findings).toEqual([]);
    const flood = {
      port: 443,
      syns: 2_560,
      attempts: 2_560,
      halfOpen: 2_000,
      refused: 0,
      sources: 1,
    };
    const [f] = detectWindow(win({ scan: scan({ syns: [flood] }) }), fresh(), T).findings;
    expect(f).toMatchObject({
      type: 'syn_flood',
      severity: 'high',
      figures: { port: 443, synsPerSecond: 256 },
    });
    const under = { ...flood, syns: 2_559 };
    expect(detectWindow(win({ scan: scan({ syns: [under] }) }), fresh(), T).findings).toEqual([]);
  });

  it('connection failures: 50 failed of 60 raise it, 49 do not', () => {
    const f = (failed: number) =>
      types(
        detectWindow(win({ connections: { openedClient: 10, failed, retransmits: 0 } }), fresh(), T)
          .findings,
      );
    expect(f(49)).toEqual([]);
    expect(f(50)).toEqual(['connection_failures']);
  });

  it('listening ports: the first report is the baseline; a new one is raised, high-risk ones higher', () => {
    const l = (ports: [number, number, boolean][]) => ({
      ports: ports.map(([protocol, port, loopbackOnly]) => ({ protocol, port, loopbackOnly })),
      truncated: false,
    });
    const first = detectWindow(
      win({
        listening: l([
          [TCP, 443, false],
          [UDP, 53, false],
        ]),
      }),
      fresh(),
      T,
    );
    expect(first.findings).toEqual([]);
    const next = detectWindow(
      win({
        listening: l([
          [TCP, 443, false],
          [UDP, 53, false],
          [TCP, 3389, false],
          [TCP, 8125, true],
        ]),
      }),
      first.state,
      T,
    );
    expect(next.findings.map((x) => [x.type, x.key, x.severity])).toEqual([
      ['new_listening_port', 'tcp/3389', 'high'],
      ['new_listening_port', 'tcp/8125', 'low'],
    ]);
    const again = detectWindow(
      win({
        listening: l([
          [TCP, 443, false],
          [TCP, 3389, false],
        ]),
      }),
      next.state,
      T,
    );
    expect(again.findings).toEqual([]);
  });

  it('thresholds: label scopes override the fleet, key by key; unknown keys are refused', () => {
    const scopes = new Map([
      ['fleet', { portScanFailedPorts: 20 }],
      ['label:role=scanner', { portScanFailedPorts: 1000, hostSweepFailedDestinations: 500 }],
    ]);
    expect(resolveThresholds(scopes, { env: 'prod' }).portScanFailedPorts).toBe(20);
    expect(resolveThresholds(scopes, { role: 'scanner' })).toMatchObject({
      portScanFailedPorts: 1000,
      hostSweepFailedDestinations: 500,
      synFloodSynsPerSecond: 256,
    });
    expect(() => validateThresholds({ portScanPorts: 3 })).toThrow(/unknown threshold/);
    expect(() => validateThresholds({ baselineAlpha: 2 })).toThrow(/between 0 and 1/);
  });
});

describe('baselines over a replayed fortnight of diurnal traffic (tools/fleet-sim)', () => {
  // One-minute windows keep the suite quick; tools/fleet-sim's anomaly replay runs the
  // agents' default 10 s windows (README: anomaly detection).
  const WINDOW_MS = 60_000;
  const start = Date.UTC(2026, 0, 5);
  const windows = (14 * 86_400_000) / WINDOW_MS;
  const spikeAt = start + 10 * 86_400_000 + 14 * 3_600_000; // day 11, 14:00 UTC
  const spikeWindows = 10; // 10 minutes

  function normalized(seq: number, startMs: number, factor: number): NormalizedBatch {
    const b = makeWindow(3, seq, startMs, WINDOW_MS);
    for (const t of b.traffic ?? []) {
      t.packets = Math.round(Number(t.packets) * factor);
      t.bytes = Math.round(Number(t.bytes) * factor);
    }
    const batch = validateBatch(b as Parameters<typeof validateBatch>[0], {
      maxRecords: 10_000,
      notBefore: new Date(0),
      notAfter: new Date(8.64e15),
    });
    return batch;
  }

  it('a 3× spike for 10 minutes is raised within three windows, and nothing else is', () => {
    let state = fresh();
    const raised: { i: number; f: Finding }[] = [];
    for (let i = 0; i < windows; i++) {
      const ws = start + i * WINDOW_MS;
      const inSpike = ws >= spikeAt && ws < spikeAt + spikeWindows * WINDOW_MS;
      const out = detectWindow(normalized(i + 1, ws, inSpike ? 3 : 1), state, T);
      state = out.state;
      for (const f of out.findings) raised.push({ i, f });
    }
    const spikeIndex = (spikeAt - start) / WINDOW_MS;
    const spikes = raised.filter((r) => r.f.type === 'traffic_spike');
    const others = raised.filter((r) => r.f.type !== 'traffic_spike');
    expect(others.map((r) => `${r.i} ${r.f.type} ${r.f.key}`)).toEqual([]);
    // Inside the spike only, first within three windows of its start.
    expect(spikes.every((r) => r.i >= spikeIndex && r.i < spikeIndex + spikeWindows)).toBe(true);
    expect(Math.min(...spikes.map((r) => r.i)) - spikeIndex).toBeLessThan(3);
  });
});
