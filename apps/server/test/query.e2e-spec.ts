import type { Hello } from '@tidewatch/proto';
import { EnrollmentService } from '../src/enrollment/enrollment.service';
import type { RunningServer } from '../src/server';
import { PartitionMaintenanceService } from '../src/storage/partition-maintenance.service';
import { GroundTruth, makeBatch } from './fixtures/windows';
import { AgentStream, ingestClient } from './support/agent-client';
import { tokenFor } from './support/auth';
import { createTestDatabase, TestDatabase } from './support/database';
import { getJson, startTestServer } from './support/server';

// Ground truth: every window this file ingests through gRPC, summed with
// BigInt. Every API answer below must EQUAL it — at raw, 1 min and 1 h, across
// a daily partition boundary, and after retention dropped the raw partitions.

const DAY = 86_400_000;
const MIN = 60_000;
const HOUR = 3_600_000;
/** A UTC midnight two days ago: windows straddle it, so they land in two daily partitions. */
const BOUNDARY = Math.floor((Date.now() - 2 * DAY) / DAY) * DAY;
const WINDOW_MS = 30_000;
const FIRST = BOUNDARY - 70 * MIN + 5_000; // unaligned to the minute on purpose
const WINDOWS = (140 * MIN) / WINDOW_MS;

const HOSTS = [
  {
    agentId: '11111111-1111-4111-8111-111111111111',
    hostname: 'db-1',
    labels: { env: 'prod', role: 'db' },
    seed: 11,
  },
  {
    agentId: '22222222-2222-4222-8222-222222222222',
    hostname: 'web-1',
    labels: { env: 'prod', role: 'web' },
    seed: 22,
  },
  {
    agentId: '33333333-3333-4333-8333-333333333333',
    hostname: 'lab-1',
    labels: { env: 'test', role: 'web' },
    seed: 33,
  },
];

let db: TestDatabase;
let server: RunningServer;
const truth = new GroundTruth();

const iso = (t: number) => new Date(t).toISOString();
/** As an operator (traffic and hosts), signed in through the real login route. */
const api = async <T = Record<string, unknown>>(path: string) =>
  getJson<T>(server.httpPort, `/api/v1${path}`, await tokenFor(server, 'operator'));

interface SummaryBody {
  items: { protocol: string; direction: string; packets: string; bytes: string }[];
  total: { packets: string; bytes: string };
  resolutions: string[];
}

function asTruth(body: SummaryBody) {
  const items: Record<string, { packets: string; bytes: string }> = {};
  for (const i of body.items)
    items[`${i.protocol}/${i.direction}`] = { packets: i.packets, bytes: i.bytes };
  return { items, total: body.total };
}

beforeAll(async () => {
  db = await createTestDatabase();
  server = await startTestServer(db.url, {
    RETENTION_RAW_DAYS: '1',
    RETENTION_1M_DAYS: '3',
    RETENTION_1H_DAYS: '400',
    INGEST_MAX_IN_FLIGHT_PER_STREAM: '64',
  });
  const { token } = await server.app.get(EnrollmentService).create('query-e2e', HOUR, 3);
  await Promise.all(
    HOSTS.map(async (h) => {
      const stream = new AgentStream(ingestClient(server.grpcPort));
      const hello: Hello = {
        agentId: h.agentId,
        hostname: h.hostname,
        agentVersion: '0.1.0',
        kernelRelease: h.seed === 33 ? '6.1.0' : '4.19.90-kylin',
        labels: h.labels,
        capabilities: [
          { name: 'ringbuf', available: h.seed === 33, used: h.seed === 33, detail: '' },
        ],
        enrollmentToken: token,
      };
      await stream.hello(hello);
      const batches = Array.from({ length: WINDOWS }, (_, i) =>
        makeBatch(h.seed, i + 1, FIRST + i * WINDOW_MS, WINDOW_MS),
      );
      batches.forEach((b) => truth.add(h.agentId, b));
      await stream.sendAndAwaitAck(batches, 60_000);
      await stream.close();
    }),
  );
  // Signed in once here (scrypt takes seconds on a loaded machine), reused by every api() call.
  await tokenFor(server, 'operator');
}, 120_000);

afterAll(async () => {
  await server?.close();
  await db?.drop();
});

const RANGES = {
  hourAligned: [BOUNDARY - HOUR, BOUNDARY + HOUR],
  minuteAligned: [BOUNDARY - 37 * MIN, BOUNDARY + 53 * MIN],
  unaligned: [BOUNDARY - 37 * MIN - 15_000, BOUNDARY + 53 * MIN + 20_000],
  everything: [FIRST - HOUR, FIRST + 3 * HOUR],
} as const;

/** Which resolutions answer exactly for a range: a bucket belongs to the instant it starts. */
const EXACT: Record<keyof typeof RANGES, string[]> = {
  hourAligned: ['auto', 'raw', '1m', '1h'],
  minuteAligned: ['auto', 'raw', '1m'],
  unaligned: ['auto', 'raw'],
  everything: ['auto', 'raw', '1m', '1h'],
};

const SCOPES: { name: string; q: string; agents?: string[] }[] = [
  { name: 'fleet', q: '' },
  {
    name: 'selector env=prod',
    q: '&selector=env%3Dprod',
    agents: [HOSTS[0].agentId, HOSTS[1].agentId],
  },
  { name: 'one host', q: `&agentId=${HOSTS[2].agentId}`, agents: [HOSTS[2].agentId] },
];

interface HistogramBody {
  durationHistograms: { boundsMs: number[]; counts: string[]; windows: string }[];
}

function histograms(body: unknown) {
  return Object.fromEntries(
    (body as HistogramBody).durationHistograms.map((h) => [
      h.boundsMs.join(','),
      { counts: h.counts, windows: h.windows },
    ]),
  );
}

describe('stored data spans the partition boundary', () => {
  it('puts rows in the partitions of both days', async () => {
    const day = (t: number) => new Date(t).toISOString().slice(0, 10).replace(/-/g, '');
    for (const d of [day(BOUNDARY - DAY), day(BOUNDARY)]) {
      const [r] = await db.query<{ n: string }>(`SELECT count(*) AS n FROM traffic_raw_p${d}`);
      expect(Number(r.n)).toBeGreaterThan(0);
    }
  });
});

describe('traffic answers equal what was ingested', () => {
  for (const [rangeName, [from, to]] of Object.entries(RANGES)) {
    for (const scope of SCOPES) {
      for (const res of EXACT[rangeName as keyof typeof RANGES]) {
        it(`summary: ${rangeName}, ${scope.name}, resolution ${res}`, async () => {
          const { status, body } = await api<SummaryBody>(
            `/traffic/summary?from=${iso(from)}&to=${iso(to)}&resolution=${res}${scope.q}`,
          );
          expect(status).toBe(200);
          expect(asTruth(body)).toEqual(truth.summary(new Date(from), new Date(to), scope.agents));
        });
      }
    }
  }

  it('auto reads the coarsest tables that are exact', async () => {
    const [from, to] = [BOUNDARY - 67 * MIN - 15_000, BOUNDARY + 63 * MIN + 20_000];
    const { body } = await api<SummaryBody>(`/traffic/summary?from=${iso(from)}&to=${iso(to)}`);
    expect(body.resolutions.sort()).toEqual(['1h', '1m', 'raw']);
    expect(asTruth(body)).toEqual(truth.summary(new Date(from), new Date(to)));
  });

  it.each(['raw', '1m', '1h'])('series at %s sums to the ingested totals', async (res) => {
    const [from, to] = RANGES.hourAligned;
    const { status, body } = await api<{
      points: { t: string; key: string; bytes: string; packets: string }[];
      resolution: string;
    }>(`/traffic/series?from=${iso(from)}&to=${iso(to)}&resolution=${res}&groupBy=direction`);
    expect(status).toBe(200);
    expect(body.resolution).toBe(res);
    const sum = { ingress: 0n, egress: 0n };
    for (const p of body.points) sum[p.key as 'ingress' | 'egress'] += BigInt(p.bytes);
    const t = truth.summary(new Date(from), new Date(to));
    const want = (dir: string) =>
      Object.entries(t.items)
        .filter(([k]) => k.endsWith(`/${dir}`))
        .reduce((s, [, v]) => s + BigInt(v.bytes), 0n);
    expect(sum.ingress).toBe(want('ingress'));
    expect(sum.egress).toBe(want('egress'));
    const expectedPoints = { raw: (2 * HOUR) / WINDOW_MS, '1m': 120, '1h': 2 }[res] as number;
    expect(new Set(body.points.map((p) => p.t)).size).toBe(expectedPoints);
  });

  it('series picks its resolution from the range', async () => {
    const pick = async (span: number) =>
      (
        await api<{ resolution: string }>(
          `/traffic/series?from=${iso(BOUNDARY - span)}&to=${iso(BOUNDARY)}`,
        )
      ).body.resolution;
    expect(await pick(6 * HOUR)).toBe('raw');
    expect(await pick(24 * HOUR)).toBe('1m');
    expect(await pick(30 * DAY)).toBe('1h');
  });

  it.each(['raw', '1m', '1h'])(
    'top ports, talkers, connections and drops equal the truth at %s',
    async (res) => {
      const [from, to] = RANGES.hourAligned;
      const q = `from=${iso(from)}&to=${iso(to)}&resolution=${res}`;
      const f = new Date(from);
      const t = new Date(to);
      const ports = await api<{
        items: {
          port: number;
          protocol: string;
          bytes: string;
          packets: string;
          connections: string;
          abnormal: boolean;
        }[];
      }>(`/traffic/ports?${q}&limit=1000`);
      expect(ports.status).toBe(200);
      expect(
        Object.fromEntries(
          ports.body.items.map((p) => [
            `${p.port}/${p.protocol}`,
            { bytes: p.bytes, packets: p.packets, connections: p.connections },
          ]),
        ),
      ).toEqual(truth.ports(f, t));
      expect(ports.body.items.find((p) => p.port === 31337)?.abnormal).toBe(true);
      const sorted = ports.body.items.map((p) => BigInt(p.bytes));
      expect(sorted).toEqual([...sorted].sort((a, b) => (a < b ? 1 : a > b ? -1 : 0)));
      const talkers = await api<{
        items: { src: string; dst: string; protocol: string; bytes: string }[];
      }>(`/traffic/talkers?${q}&limit=1000`);
      expect(
        Object.fromEntries(
          talkers.body.items.map((x) => [`${x.src}>${x.dst}/${x.protocol}`, x.bytes]),
        ),
      ).toEqual(truth.talkers(f, t));
      const conns = await api<Record<string, unknown>>(`/traffic/connections?${q}`);
      expect(conns.body).toMatchObject(truth.connections(f, t));
      expect(histograms(conns.body)).toEqual(truth.durations(f, t));
      const drops = await api<{ items: { reason: string; count: string }[] }>(
        `/traffic/drops?${q}`,
      );
      expect(Object.fromEntries(drops.body.items.map((d) => [d.reason, d.count]))).toEqual(
        truth.drops(f, t),
      );
    },
  );

  it.each(['raw', '1m', '1h'])(
    'duration histograms equal the ingested buckets at %s, per host and per bounds',
    async (res) => {
      const [from, to] = RANGES.hourAligned;
      const f = new Date(from);
      const t = new Date(to);
      for (const scope of SCOPES) {
        const { status, body } = await api(
          `/traffic/connections?from=${iso(from)}&to=${iso(to)}&resolution=${res}${scope.q}`,
        );
        expect(status).toBe(200);
        const want = truth.durations(f, t, scope.agents);
        expect(histograms(body)).toEqual(want);
      }
      // lab-1 switched layouts every other window: both sets kept apart, never added.
      const lab = truth.durations(f, t, [HOSTS[2].agentId]);
      expect(Object.keys(lab).sort()).toEqual(['10,100,1000', '5,50,500,5000']);
    },
  );

  it('duration histograms are exact for an unaligned range with resolution auto', async () => {
    const [from, to] = RANGES.unaligned;
    const { body } = await api(`/traffic/connections?from=${iso(from)}&to=${iso(to)}`);
    expect(histograms(body)).toEqual(truth.durations(new Date(from), new Date(to)));
  });

  it('rates: averages from the exact totals, peaks as reported', async () => {
    const [from, to] = RANGES.hourAligned;
    const { body } = await api<{
      items: {
        direction: string;
        bytes: string;
        avgBitsPerSecond: number;
        peakBitsPerSecond: number;
      }[];
    }>(`/traffic/rates?from=${iso(from)}&to=${iso(to)}&agentId=${HOSTS[0].agentId}`);
    const t = truth.summary(new Date(from), new Date(to), [HOSTS[0].agentId]);
    const ingress = Object.entries(t.items)
      .filter(([k]) => k.endsWith('/ingress'))
      .reduce((s, [, v]) => s + BigInt(v.bytes), 0n);
    const item = body.items.find((i) => i.direction === 'ingress');
    expect(item?.bytes).toBe(ingress.toString());
    expect(item?.avgBitsPerSecond).toBeCloseTo((Number(ingress) * 8) / 7200, 6);
    let peak = 0;
    for (const b of truth.select(new Date(from), new Date(to), [HOSTS[0].agentId])) {
      for (const r of b.rates ?? [])
        if (r.iface === '' && r.direction === 'DIRECTION_INGRESS')
          peak = Math.max(peak, Number(r.peakBitsPerSecond));
    }
    expect(item?.peakBitsPerSecond).toBe(peak);
  });
});

describe('hosts', () => {
  it('lists with status, labels, kernel, version, capabilities; filters, sorts, paginates', async () => {
    const all = await api<{
      items: {
        hostname: string;
        status: string;
        labels: object;
        kernelRelease: string;
        capabilities: unknown[];
      }[];
      total: number;
    }>('/hosts?sort=hostname&order=desc');
    expect(all.status).toBe(200);
    expect(all.body.total).toBe(3);
    expect(all.body.items.map((h) => h.hostname)).toEqual(['web-1', 'lab-1', 'db-1']);
    expect(all.body.items.every((h) => h.status === 'online')).toBe(true);
    expect(all.body.items[2]).toMatchObject({
      labels: { env: 'prod', role: 'db' },
      kernelRelease: '4.19.90-kylin',
    });
    const prod = await api<{ items: { hostname: string }[]; total: number }>(
      '/hosts?selector=env%3Dprod,role%3Dweb',
    );
    expect(prod.body.items.map((h) => h.hostname)).toEqual(['web-1']);
    const page = await api<{ items: { hostname: string }[]; total: number }>(
      '/hosts?limit=1&offset=1',
    );
    expect(page.body).toMatchObject({ total: 3, items: [{ hostname: 'lab-1' }] });
    const offline = await api<{ total: number }>('/hosts?status=offline');
    expect(offline.body.total).toBe(0);
    const one = await api<{ highestSequence: number; interfaces: unknown[] }>(
      `/hosts/${HOSTS[0].agentId}`,
    );
    expect(one.body.highestSequence).toBe(WINDOWS);
  });
  it('marks a host offline when nothing was heard from it for OFFLINE_AFTER_SECONDS', async () => {
    await db.query(
      `UPDATE hosts SET last_seen_at = now() - interval '1 hour' WHERE agent_id = $1`,
      [HOSTS[2].agentId],
    );
    const offline = await api<{ items: { hostname: string; status: string }[] }>(
      '/hosts?status=offline',
    );
    expect(offline.body.items).toEqual([
      expect.objectContaining({ hostname: 'lab-1', status: 'offline' }),
    ]);
    const online = await api<{ total: number }>('/hosts?status=online');
    expect(online.body.total).toBe(2);
  });
});

describe('health, metrics and OpenAPI', () => {
  it('answers /healthz and /readyz', async () => {
    expect(await getJson(server.httpPort, '/healthz')).toEqual({
      status: 200,
      body: { status: 'ok' },
    });
    const ready = await getJson<{ status: string; db: string; grpc: string }>(
      server.httpPort,
      '/readyz',
    );
    expect(ready).toMatchObject({ status: 200, body: { status: 'ready', db: 'ok', grpc: 'ok' } });
  });

  it('counts in /metrics exactly what was stored', async () => {
    const { status, body } = await getJson<string>(server.httpPort, '/metrics');
    expect(status).toBe(200);
    expect(body).toContain(
      `tidewatch_server_ingest_batches_total{outcome="stored"} ${HOSTS.length * WINDOWS}`,
    );
    const records = truth.sent.reduce(
      (n, { batch: b }) =>
        n +
        1 +
        (b.connections?.durationBoundsMs?.length ? 1 : 0) +
        [b.traffic, b.rates, b.ports, b.talkers, b.drops, b.abnormal].reduce(
          (m, xs) => m + (xs?.length ?? 0),
          0,
        ),
      0,
    );
    expect(body).toContain(`tidewatch_server_ingest_records_total ${records}`);
    expect(body).toMatch(/tidewatch_server_ingest_lag_seconds_count \d+/);
    expect(body).toMatch(/tidewatch_server_db_query_seconds_count\{query="summary"\} \d+/);
  });

  it('publishes the routes and their parameters at /api/docs', async () => {
    const { status, body } = await getJson<{
      paths: Record<string, { get: { parameters: { name: string }[] } }>;
    }>(server.httpPort, '/api/docs-json');
    expect(status).toBe(200);
    const names = body.paths['/api/v1/traffic/summary'].get.parameters.map((p) => p.name);
    expect(names).toEqual(
      expect.arrayContaining(['agentId', 'selector', 'from', 'to', 'resolution', 'protocol']),
    );
    for (const route of [
      '/api/v1/hosts',
      '/api/v1/hosts/{agentId}',
      '/api/v1/traffic/series',
      '/api/v1/traffic/ports',
      '/api/v1/hosts/{agentId}/config',
    ]) {
      expect(body.paths[route]).toBeDefined();
    }
    expect((await fetch(`http://127.0.0.1:${server.httpPort}/api/docs`)).status).toBe(200);
  });
});

describe('bad query parameters get a 400 naming the parameter', () => {
  const cases: [string, RegExp][] = [
    ['/traffic/summary?from=yesterday', /from/],
    ['/traffic/summary?to=2026-13-45T00:00:00Z', /to/],
    ['/traffic/summary?resolution=5m', /resolution/],
    ['/traffic/summary?agentId=not-a-uuid', /agentId/],
    ['/traffic/summary?selector=nope', /selector/],
    ['/traffic/summary?protocol=sctp', /protocol/],
    ['/traffic/summary?bogus=1', /bogus/],
    [
      '/traffic/summary?from=2026-01-02T00:00:00Z&to=2026-01-01T00:00:00Z',
      /from must be before to/,
    ],
    ['/traffic/ports?limit=0', /limit/],
    ['/traffic/ports?limit=abc', /limit/],
    ['/traffic/series?groupBy=port', /groupBy/],
    [
      `/traffic/series?resolution=raw&from=${iso(BOUNDARY - 3 * DAY)}&to=${iso(BOUNDARY)}`,
      /resolution raw/,
    ],
    ['/hosts?sort=uptime', /sort/],
    ['/hosts?status=sleeping', /status/],
    ['/hosts?limit=100000', /limit/],
    ['/hosts/not-a-uuid', /agentId/],
  ];
  it.each(cases)('%s', async (path, message) => {
    const { status, body } = await api<{ message: string | string[] }>(path);
    expect(status).toBe(400);
    expect([body.message].flat().join('; ')).toMatch(message);
  });

  it('answers 404 for an unknown host', async () => {
    expect((await api('/hosts/44444444-4444-4444-8444-444444444444')).status).toBe(404);
    expect(
      (await api('/traffic/summary?agentId=44444444-4444-4444-8444-444444444444')).status,
    ).toBe(404);
  });
});

describe('after retention ran', () => {
  beforeAll(async () => {
    const report = await server.app.get(PartitionMaintenanceService).run();
    expect(report.dropped.length).toBeGreaterThan(0);
  });

  it('dropped whole raw partitions and kept the rollups', async () => {
    const day = (t: number) => new Date(t).toISOString().slice(0, 10).replace(/-/g, '');
    const rel = async (name: string) =>
      (await db.query(`SELECT 1 FROM pg_class WHERE relname = $1`, [name])).length;
    expect(await rel(`traffic_raw_p${day(BOUNDARY)}`)).toBe(0);
    expect(await rel(`traffic_raw_p${day(BOUNDARY - DAY)}`)).toBe(0);
    expect(await rel(`traffic_1m_p${day(BOUNDARY)}`)).toBe(1);
  });

  it.each([
    ['hourAligned', '1h'],
    ['hourAligned', '1m'],
    ['hourAligned', 'auto'],
    ['minuteAligned', '1m'],
    ['minuteAligned', 'auto'],
  ] as const)('%s at %s still equals the truth', async (range, res) => {
    const [from, to] = RANGES[range];
    const { body } = await api<SummaryBody>(
      `/traffic/summary?from=${iso(from)}&to=${iso(to)}&resolution=${res}`,
    );
    expect(asTruth(body)).toEqual(truth.summary(new Date(from), new Date(to)));
  });

  it('duration histograms at 1h and 1m still equal the truth', async () => {
    const [from, to] = RANGES.hourAligned;
    for (const res of ['1h', '1m']) {
      const { body } = await api(
        `/traffic/connections?from=${iso(from)}&to=${iso(to)}&resolution=${res}`,
      );
      expect(histograms(body)).toEqual(truth.durations(new Date(from), new Date(to)));
    }
  });

  it('raw answers nothing for the dropped days', async () => {
    const [from, to] = RANGES.hourAligned;
    const { body } = await api<SummaryBody>(
      `/traffic/summary?from=${iso(from)}&to=${iso(to)}&resolution=raw`,
    );
    expect(body.total).toEqual({ packets: '0', bytes: '0' });
  });
});
