// Replays generated history through the server's anomaly detectors (the
// built apps/server/dist, the same code that runs on every stored window) and
// counts what they raise:
//  1. a fortnight of one host's diurnal traffic (makeWindow) at 10 s windows,
//     with a 3× spike for 10 minutes on day 11: when it is raised, and what else is;
//  2. days of ordinary mixed traffic for 100 hosts — app and database servers,
//     a poller that polls every host every minute, a load balancer with
//     thousands of clients and 20 backends, nightly backups to a backup server:
//     the incidents raised on each day (the first day is the baselines' warm-up).
//
// node tools/fleet-sim/dist/anomaly-replay.js [--days N] [--hosts N]
// (after `npm run build -w @tidewatch/server` and `tsc -p tools/fleet-sim/tsconfig.json`).

import type { DetectorState, DetectorWindow } from '@tidewatch/server/dist/anomalies/detectors';
import type { Finding } from '@tidewatch/server/dist/anomalies/anomaly-types';
import type { NormalizedFanout } from '@tidewatch/server/dist/storage/normalized-batch';
import { diurnal, makeWindow, prng } from './windows';

/* eslint-disable @typescript-eslint/no-require-imports -- the server's build output, loaded at run time */
const { detectWindow } =
  require('@tidewatch/server/dist/anomalies/detectors') as typeof import('@tidewatch/server/dist/anomalies/detectors');
const { DEFAULT_THRESHOLDS: T } =
  require('@tidewatch/server/dist/anomalies/thresholds') as typeof import('@tidewatch/server/dist/anomalies/thresholds');
const { validateBatch } =
  require('@tidewatch/server/dist/ingest/batch-validation') as typeof import('@tidewatch/server/dist/ingest/batch-validation');
/* eslint-enable @typescript-eslint/no-require-imports */

const WINDOW_MS = 10_000;
const RECENT_WINDOWS = 300_000 / WINDOW_MS; // the agent's default scan memory, 5 min
const DAY = 86_400_000;
const START = Date.UTC(2026, 0, 5);
const TCP = 1;
const UDP = 2;
const ICMP = 3;
const OTHER = 5;
const IN = 1;
const OUT = 2;

function arg(name: string, dflt: number): number {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : dflt;
}

/** Incidents as the server groups them: a repeat within regroupSeconds extends the last. */
class Incidents {
  private last = new Map<string, number>();
  readonly raised: { host: number; atMs: number; f: Finding }[] = [];
  add(host: number, atMs: number, findings: Finding[]): void {
    for (const f of findings) {
      const k = `${host}|${f.type}|${f.key}`;
      const prev = this.last.get(k);
      if (prev === undefined || atMs - prev > T.regroupSeconds * 1000)
        this.raised.push({ host, atMs, f });
      this.last.set(k, atMs);
    }
  }
}

function fortnight(): void {
  const windows = (14 * DAY) / WINDOW_MS;
  const spikeAt = START + 10 * DAY + 14 * 3_600_000;
  const spikeEnd = spikeAt + 10 * 60_000;
  let state: DetectorState = { baselines: new Map(), listening: null };
  const inc = new Incidents();
  const limits = { maxRecords: 10_000, notBefore: new Date(0), notAfter: new Date(8.64e15) };
  const t0 = Date.now();
  for (let i = 0; i < windows; i++) {
    const ws = START + i * WINDOW_MS;
    const b = makeWindow(3, i + 1, ws, WINDOW_MS);
    if (ws >= spikeAt && ws < spikeEnd) {
      for (const t of b.traffic ?? []) t.bytes = Number(t.bytes) * 3;
    }
    const out = detectWindow(validateBatch(b as never, limits), state, T);
    state = out.state;
    inc.add(3, ws, out.findings);
  }
  const spikes = inc.raised.filter((r) => r.f.type === 'traffic_spike');
  const inside = spikes.filter((r) => r.atMs >= spikeAt && r.atMs < spikeEnd);
  const first = Math.min(...inside.map((r) => r.atMs));
  console.log(
    JSON.stringify({
      scenario: 'fortnight, one host, 10 s windows, 3x spike for 10 min on day 11',
      windows,
      incidents: inc.raised.length,
      spikeIncidents: inside.map((r) => `${r.f.key}`),
      firstSpikeWindowsAfterStart: inside.length ? (first - spikeAt) / WINDOW_MS : null,
      others: inc.raised
        .filter((r) => !inside.includes(r))
        .map((r) => `${new Date(r.atMs).toISOString()} ${r.f.type} ${r.f.key}`),
      seconds: (Date.now() - t0) / 1000,
    }),
  );
}

type Role = 'app' | 'db' | 'poller' | 'lb' | 'backup' | 'misc';

function roleOf(h: number, hosts: number): Role {
  if (h === hosts - 10) return 'poller';
  if (h === hosts - 9) return 'lb';
  if (h === hosts - 8) return 'backup';
  if (h > hosts - 8) return 'misc';
  return h % 8 === 7 ? 'db' : 'app';
}

function fan(src: string, over: Partial<NormalizedFanout>): NormalizedFanout {
  return {
    src,
    protocol: TCP,
    pairs: 1,
    destinations: 1,
    ports: 1,
    refused: 0,
    unanswered: 0,
    topDestination: '198.19.0.0/24',
    topDestinationPorts: 1,
    topDestinationRefused: 0,
    topPort: 443,
    topPortDestinations: 1,
    topPortFailed: 0,
    recentTopDestination: '',
    recentTopDestinationFailed: 0,
    recentTopPort: 0,
    recentTopPortFailed: 0,
    ...over,
  };
}

/**
 * The agent's 5-minute memory of failed pairs (scan-memory.ts), modelled from
 * above: every failure of the last 30 windows counts as a distinct pair (a
 * down host or backend failing again is one pair to the real agent), so the
 * replay's recent_* figures are upper bounds and its false positives too.
 */
class RecentFailuresModel {
  private readonly past = new Map<string, number[]>();

  apply(h: number, w: DetectorWindow): DetectorWindow {
    if (!w.scan) return w;
    const sources = w.scan.sources.map((f) => {
      const key = `${h}|${f.protocol}|${f.src}`;
      const ring = this.past.get(key) ?? [];
      ring.push(f.topPortFailed + f.topDestinationRefused);
      if (ring.length > RECENT_WINDOWS) ring.shift();
      this.past.set(key, ring);
      const failed = ring.reduce((a, b) => a + b, 0);
      return failed === 0
        ? f
        : {
            ...f,
            recentTopDestination: f.topDestination,
            recentTopDestinationFailed: failed,
            recentTopPort: f.topPort,
            recentTopPortFailed: failed,
          };
    });
    return { ...w, scan: { ...w.scan, sources, recentSeconds: 300 } };
  }
}

/** One window of an ordinary day for host h (detector input, as validateBatch gives it). */
function mixedWindow(h: number, hosts: number, i: number, ws: number): DetectorWindow {
  const r = prng(h * 7_919 + i * 104_729);
  const role = roleOf(h, hosts);
  const load = diurnal(ws);
  const base = 20_000 * (1 + (h % 13)) * (role === 'db' ? 4 : role === 'lb' ? 20 : 1);
  const sec = WINDOW_MS / 1000;
  const hour = new Date(ws).getUTCHours() + new Date(ws).getUTCMinutes() / 60;
  const traffic: DetectorWindow['traffic'] = [];
  const add = (protocol: number, direction: number, bps: number) =>
    traffic.push({ protocol, direction, bytes: Math.round(bps * sec * (0.9 + 0.2 * r())) });
  for (const [p, share] of [
    [TCP, 0.85],
    [UDP, 0.12],
    [ICMP, 0.02],
    [OTHER, 0.01],
  ] as const) {
    add(p, IN, base * load * share);
    add(p, OUT, base * load * share * 1.6);
  }
  // Nightly backups: every host streams to the backup server in its own slot of 80 s.
  const slot = 1 + (h / hosts) * 2; // 01:00 .. 03:00 UTC
  if (role !== 'backup' && hour >= slot && hour < slot + 80 / 3600) {
    traffic.push({ protocol: TCP, direction: OUT, bytes: 40_000_000 * sec });
  }
  if (role === 'backup' && hour >= 1 && hour < 3) {
    traffic.push({ protocol: TCP, direction: IN, bytes: 40_000_000 * sec });
  }

  const sources: NormalizedFanout[] = [];
  let sourcesTotal = 0;
  const syns: NonNullable<DetectorWindow['scan']>['syns'] = [];
  // Everyone is polled by the poller once a minute: 2 TCP ports answered.
  if (i % 6 === h % 6) {
    sources.push(
      fan('198.18.250.0/24', { pairs: 2, ports: 2, topDestinationPorts: 2, topPort: 9100 }),
    );
    sourcesTotal++;
  }
  const clients = role === 'lb' ? 3000 : role === 'db' ? 12 : 10 + Math.floor(40 * load * r());
  sourcesTotal += clients;
  for (let c = 0; c < Math.min(64, clients); c++) {
    const pairs = 1 + Math.floor(2 * r());
    sources.push(fan(`10.${c}.0.0/24`, { pairs, ports: 1, topPortDestinations: 1 }));
  }
  const conns = Math.round((role === 'lb' ? 3000 : 30 * load + clients) * (0.8 + 0.4 * r()));
  syns.push({
    port: role === 'db' ? 5432 : 443,
    syns: conns,
    attempts: conns,
    halfOpen: Math.floor(conns * 0.01 * r()),
    refused: 0,
    sources: Math.min(clients, conns),
  });
  if (role === 'poller' || role === 'lb') {
    const poller = role === 'poller';
    const down = r() < 0.05 ? 1 : 0; // now and then a host or backend does not answer
    const dsts = poller ? hosts : 20;
    if (!poller || i % 6 === 0) {
      sources.push(
        fan('198.18.0.0/24', {
          pairs: dsts * (poller ? 2 : 1),
          destinations: dsts,
          ports: poller ? 2 : 1,
          unanswered: down * (poller ? 2 : 1),
          topDestinationPorts: poller ? 2 : 1,
          topDestinationRefused: 0,
          topPort: poller ? 9100 : 8080,
          topPortDestinations: dsts,
          topPortFailed: down,
        }),
      );
      if (poller)
        sources.push(
          fan('198.18.0.0/24', {
            protocol: UDP,
            pairs: dsts,
            destinations: dsts,
            topPort: 161,
            topPortDestinations: dsts,
            topPortFailed: down,
            unanswered: down,
          }),
        );
    }
  }
  sources.sort((a, b) => b.pairs - a.pairs);
  const opened = Math.round(5 + 20 * load * r());
  return {
    windowStart: new Date(ws),
    windowEnd: new Date(ws + WINDOW_MS),
    traffic,
    connections: {
      openedClient: opened,
      failed: r() < 0.1 ? 1 + Math.floor(3 * r()) : 0,
      retransmits: Math.round(40 * load * r()),
    },
    drops: r() < 0.3 ? [{ count: 1 + Math.floor(r() * 5) }] : [],
    abnormal: [],
    scan: {
      sources: sources.slice(0, 64),
      sweeps: [],
      syns,
      sourcesTotal,
      sourcesTruncated: sources.length > 64,
      otherSources: null,
      sweepsTruncated: false,
      synsTruncated: false,
      recentSeconds: 0,
    },
    listening: {
      ports: [
        { port: 22, protocol: TCP, loopbackOnly: false },
        { port: role === 'db' ? 5432 : 443, protocol: TCP, loopbackOnly: false },
        { port: 323, protocol: UDP, loopbackOnly: true },
      ],
      truncated: false,
    },
  };
}

function mixedFleet(hosts: number, days: number): void {
  const t0 = Date.now();
  const states: DetectorState[] = Array.from({ length: hosts }, () => ({
    baselines: new Map(),
    listening: null,
  }));
  const inc = new Incidents();
  const recent = new RecentFailuresModel();
  const perDay = DAY / WINDOW_MS;
  for (let i = 0; i < perDay * days; i++) {
    const ws = START + i * WINDOW_MS;
    for (let h = 0; h < hosts; h++) {
      const out = detectWindow(recent.apply(h, mixedWindow(h, hosts, i, ws)), states[h], T);
      states[h] = out.state;
      inc.add(h, ws, out.findings);
    }
  }
  const byDay = Array.from({ length: days }, (_, d) => {
    const day = inc.raised.filter((r) => Math.floor((r.atMs - START) / DAY) === d);
    const byType: Record<string, number> = {};
    for (const r of day) byType[r.f.type] = (byType[r.f.type] ?? 0) + 1;
    return { day: d + 1, incidents: day.length, byType };
  });
  const scanTypes = new Set(['port_scan', 'host_sweep', 'syn_flood']);
  const last = inc.raised.filter((r) => Math.floor((r.atMs - START) / DAY) === days - 1);
  console.log(
    JSON.stringify({
      scenario: `ordinary mixed traffic, ${hosts} hosts, ${days} days, 10 s windows (day 1 = warm-up)`,
      windows: perDay * days * hosts,
      byDay,
      lastDay: {
        scans: last.filter((r) => scanTypes.has(r.f.type)).length,
        baseline: last.filter((r) => r.f.type === 'traffic_spike' || r.f.type === 'traffic_drop')
          .length,
        all: last.map(
          (r) => `host ${r.host} ${new Date(r.atMs).toISOString()} ${r.f.type} ${r.f.key}`,
        ),
      },
      seconds: (Date.now() - t0) / 1000,
    }),
  );
}

const only = process.argv.includes('--fleet-only')
  ? 'fleet'
  : process.argv.includes('--fortnight-only')
    ? 'fortnight'
    : '';
if (only !== 'fleet') fortnight();
if (only !== 'fortnight') mixedFleet(arg('hosts', 100), arg('days', 2));
