import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { hostname, release, tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  exec,
  ping,
  readInterfaceStats,
  sendUdp,
  statsDelta,
  tcpConnections,
  tcpMib,
  useTestNetwork,
  waitQuiet,
  type Endpoint,
  type InterfaceStats,
  type Link,
  type NetNs,
} from '@tidewatch/testhosts';
import {
  AGENT_BIN,
  assertBuilt,
  freeTcpPort,
  NodeProcess,
  runCli,
  SERVER_BIN,
  waitFor,
} from './fixtures/binaries';
import { createTestDatabase, type TestDatabase } from './fixtures/database';
import { describePipeline } from './fixtures/gate';
import { authHeaders, getJson, metricValue, signIn } from './fixtures/rest';
import { spooled, tokenFile } from './fixtures/agent-state';
import {
  DIRECTIONS,
  directionTotal,
  echoFrame,
  emptyTable,
  PROTOCOLS,
  tableOf,
  udpFrame,
  type Cell,
  type Direction,
  type SummaryView,
  type Table,
} from './fixtures/traffic-table';

// The whole pipeline as a user runs it: the built server and agent as
// processes, real eBPF on a real veth, real PostgreSQL, answers read over
// REST. Ground truth: the interface's own counters, the peer namespace's TCP
// MIB, and the exact datagrams and pings the test sent.

jest.setTimeout(60_000);

const WINDOW_SECONDS = 1;

interface SeriesView {
  resolution: string;
  points: { t: string; key: string; packets: string; bytes: string }[];
}
interface HostView {
  agentId: string;
  hostname: string;
  status: string;
  kernelRelease: string;
  agentVersion: string;
}
interface HostDetail extends HostView {
  highestSequence: number;
}

const DOSE = {
  udp4In: { count: 40, size: 200 }, // peer → host
  udp6Out: { count: 20, size: 300 }, // host → peer
  ping4In: 10, // peer pings host: requests in, replies out
  ping6Out: 10, // host pings peer: requests out, replies in
  tcp4In: 5, // connections peer → host server
  tcp6Out: 5, // connections host → peer server
};

/** Known traffic of every class, both families, both directions, over the test link. */
async function sendKnownTraffic(link: Link): Promise<{ tcp4Port: number; tcp6Port: number }> {
  const { a: host, b: peer } = link;
  expect(await sendUdp(peer, host, { family: 4, ...DOSE.udp4In })).toBe(DOSE.udp4In.count);
  expect(await sendUdp(host, peer, { family: 6, ...DOSE.udp6Out })).toBe(DOSE.udp6Out.count);
  expect(await ping(peer, host, { family: 4, count: DOSE.ping4In })).toBe(DOSE.ping4In);
  expect(await ping(host, peer, { family: 6, count: DOSE.ping6Out })).toBe(DOSE.ping6Out);
  const tcp4 = await tcpConnections(peer, host, { family: 4, count: DOSE.tcp4In });
  expect(tcp4.ok).toBe(DOSE.tcp4In);
  const tcp6 = await tcpConnections(host, peer, { family: 6, count: DOSE.tcp6Out });
  expect(tcp6.ok).toBe(DOSE.tcp6Out);
  return { tcp4Port: tcp4.port, tcp6Port: tcp6.port };
}

/**
 * The expected table on the host end: UDP and ICMP from what was sent, TCP
 * packets from the peer's TCP MIB (every segment it sent arrives here, every
 * one it received left here), TCP bytes as the rest of the interface's own
 * byte counters, nothing else ("other" stays 0: permanent neighbours, no ND).
 */
function expectedTable(iface: InterfaceStats, mib: Record<string, number>): Table {
  const t = emptyTable();
  t.ingress.udp = {
    packets: BigInt(DOSE.udp4In.count),
    bytes: BigInt(DOSE.udp4In.count) * udpFrame(4, DOSE.udp4In.size),
  };
  t.egress.udp = {
    packets: BigInt(DOSE.udp6Out.count),
    bytes: BigInt(DOSE.udp6Out.count) * udpFrame(6, DOSE.udp6Out.size),
  };
  for (const d of DIRECTIONS) {
    t[d].icmp = { packets: BigInt(DOSE.ping4In), bytes: BigInt(DOSE.ping4In) * echoFrame(4) };
    t[d].icmpv6 = { packets: BigInt(DOSE.ping6Out), bytes: BigInt(DOSE.ping6Out) * echoFrame(6) };
  }
  t.ingress.tcp.packets = BigInt(mib.OutSegs + mib.RetransSegs);
  t.egress.tcp.packets = BigInt(mib.InSegs);
  const rest = (d: Direction) => t[d].udp.bytes + t[d].icmp.bytes + t[d].icmpv6.bytes;
  t.ingress.tcp.bytes = iface.rxBytes - rest('ingress');
  t.egress.tcp.bytes = iface.txBytes - rest('egress');
  return t;
}

function sumBy(points: SeriesView['points']): Record<string, Cell> {
  const out: Record<string, Cell> = {};
  for (const p of points) {
    const c = (out[p.key] ??= { packets: 0n, bytes: 0n });
    c.packets += BigInt(p.packets);
    c.bytes += BigInt(p.bytes);
  }
  return out;
}

/** Every address the test used, as patterns that do not match inside a longer address. */
function rawAddressPatterns(eps: Endpoint[]): RegExp[] {
  const esc = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  return eps.flatMap((e) => [
    new RegExp(`(?<![\\d.])${esc(e.ipv4)}(?![\\d])`),
    new RegExp(`(?<![0-9a-fA-F:])${esc(e.ipv6)}(?![0-9a-fA-F:])`, 'i'),
  ]);
}

describePipeline('pipeline: agent → gRPC → server → PostgreSQL → REST', () => {
  let db: TestDatabase | undefined;
  let server: NodeProcess | undefined;
  let agent: NodeProcess | undefined;
  let dir = '';

  // Declared before useTestNetwork(): the processes go before their namespaces do.
  afterAll(async () => {
    await agent?.stop('SIGKILL');
    await server?.stop('SIGTERM', 10_000);
    await db?.drop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  }, 30_000);

  const net = useTestNetwork();
  const agentId = randomUUID();
  const from = new Date(Date.now() - 60_000).toISOString();
  let api = '';
  let grpcPort = 0;
  let token = '';
  let peer: NetNs;
  let link: Link;
  let stateDir = '';
  let metricsPort = 0;
  let before: InterfaceStats;
  let truth: InterfaceStats;
  let expected: Table;

  const logs = () => [server, agent].map((p) => p?.tail() ?? '').join('\n');
  const scope = (extra: Record<string, string> = {}) => ({
    agentId,
    from,
    to: new Date(Date.now() + 60_000).toISOString(),
    ...extra,
  });
  const summary = () =>
    getJson<SummaryView>(api, '/api/v1/traffic/summary', scope({ iface: link.a.ifname }));
  const highestSequence = async () => {
    const res = await fetch(new URL(`/api/v1/hosts/${agentId}`, api), {
      headers: authHeaders(api),
    });
    return res.ok ? ((await res.json()) as HostDetail).highestSequence : 0;
  };

  beforeAll(async () => {
    assertBuilt();
    dir = mkdtempSync(join(tmpdir(), 'tw-pipeline-'));
    db = await createTestDatabase();
    const env = { DATABASE_URL: db.url, LOG_LEVEL: 'warn' };
    runCli(SERVER_BIN, ['migrate', 'run'], env);
    // The Ed25519 key that signs the audit trail's checkpoints, kept outside the database.
    const auditKey = join(dir, 'audit-signing-key.pem');
    runCli(SERVER_BIN, ['audit', 'keygen', '--out', auditKey], env);
    token = runCli(
      SERVER_BIN,
      ['enroll', 'create', '--name', 'e2e-pipeline', '--expires', '1h'],
      env,
    ).stdout.trim();
    expect(token).toMatch(/^\S{16,}$/);
    // A viewer reads traffic and hosts; its password by file, as an operator would create it.
    const passwordFile = join(dir, 'viewer-password');
    writeFileSync(passwordFile, 'e2e-read-only-passphrase\n', { mode: 0o600 });
    runCli(
      SERVER_BIN,
      [
        'users',
        'create',
        '--username',
        'pipeline-viewer',
        '--role',
        'viewer',
        '--password-file',
        passwordFile,
      ],
      env,
    );

    server = new NodeProcess('server', SERVER_BIN, ['serve', '--no-migrate'], {
      DATABASE_URL: db.url,
      HTTP_HOST: '127.0.0.1',
      HTTP_PORT: '0',
      GRPC_HOST: '127.0.0.1',
      GRPC_PORT: '0',
      // Config version 1 that the server sends to every agent: keep the test's short window.
      AGENT_WINDOW_SECONDS: String(WINDOW_SECONDS),
      AUDIT_SIGNING_KEY_FILE: auditKey,
      LOG_LEVEL: 'info',
    });
    const listening = JSON.parse(await server.line(/"event":"listening"/, 30_000)) as {
      httpPort: number;
      grpcPort: number;
    };
    api = `http://127.0.0.1:${listening.httpPort}`;
    grpcPort = listening.grpcPort;
    await signIn(api, 'pipeline-viewer', 'e2e-read-only-passphrase');

    peer = await net.namespace('peer');
    link = await net.link(net.host, peer);
    await waitQuiet([link.a, link.b]);
  }, 120_000); // a server start, CLI runs and a scrypt sign-in on a loaded machine

  it('stores exactly what crossed the interface, per direction × protocol, and the host is online', async () => {
    const iface = link.a.ifname;
    stateDir = join(dir, 'agent-state');
    metricsPort = await freeTcpPort();
    agent = new NodeProcess(
      'agent',
      AGENT_BIN,
      [
        'run',
        '--interfaces',
        iface,
        '--server',
        `127.0.0.1:${grpcPort}`,
        '--enrollment-token-file',
        tokenFile(dir, token),
        '--window',
        String(WINDOW_SECONDS),
        '--masking',
        'truncate',
        '--state-dir',
        stateDir,
        '--metrics-listen',
        `127.0.0.1:${metricsPort}`,
      ],
      { TIDEWATCH_AGENT_ID: agentId },
    );
    await agent.line(new RegExp(`"iface":"${iface}"`), 20_000);
    // Enrolled and streaming: the first window is stored.
    await waitFor(async () => (await highestSequence()) >= 1, 20_000, 'the first window', logs);

    before = await readInterfaceStats(link.a);
    const mibBefore = await tcpMib(peer);
    const { tcp4Port, tcp6Port } = await sendKnownTraffic(link);
    await waitQuiet([link.a, link.b]);
    truth = statsDelta(before, await readInterfaceStats(link.a));
    const mibAfter = await tcpMib(peer);
    const mib = Object.fromEntries(
      Object.keys(mibAfter).map((k) => [k, mibAfter[k] - (mibBefore[k] ?? 0)]),
    );
    expected = expectedTable(truth, mib);

    // Every packet above is in a window up to the one open now: wait until it
    // is closed, stored by the server and acknowledged (gone from the spool).
    const scrape = async () => (await fetch(`http://127.0.0.1:${metricsPort}/metrics`)).text();
    const last = metricValue(await scrape(), 'tidewatch_agent_windows_total') + 1;
    await waitFor(
      async () => (await highestSequence()) >= last && spooled(stateDir).every((s) => s > last),
      10_000 + 3_000 * WINDOW_SECONDS,
      `window ${last} stored and acked`,
      logs,
    );

    // Per direction × protocol, exactly; per direction, the interface's own counters.
    const stored = await summary();
    expect(tableOf(stored)).toEqual(expected);
    expect(stored.total).toEqual({
      packets: String(truth.rxPackets + truth.txPackets),
      bytes: String(truth.rxBytes + truth.txBytes),
    });
    expect(directionTotal(tableOf(stored), 'ingress')).toEqual({
      packets: truth.rxPackets,
      bytes: truth.rxBytes,
    });
    expect(directionTotal(tableOf(stored), 'egress')).toEqual({
      packets: truth.txPackets,
      bytes: truth.txBytes,
    });
    // SYN, SYN-ACK, ACK, data and FINs at least: the MIB truth is not vacuous.
    const connectionsMade = DOSE.tcp4In + DOSE.tcp6Out;
    expect(expected.ingress.tcp.packets + expected.egress.tcp.packets).toBeGreaterThanOrEqual(
      BigInt(6 * connectionsMade),
    );

    // The time series (raw windows) add up to the same.
    const series = (groupBy: string) =>
      getJson<SeriesView>(
        api,
        '/api/v1/traffic/series',
        scope({ groupBy, resolution: 'raw', iface }),
      );
    const dirSeries = await series('direction');
    expect(dirSeries.resolution).toBe('raw');
    expect(sumBy(dirSeries.points)).toEqual({
      ingress: { packets: truth.rxPackets, bytes: truth.rxBytes },
      egress: { packets: truth.txPackets, bytes: truth.txBytes },
    });
    const protoSeries = sumBy((await series('protocol')).points);
    for (const p of PROTOCOLS) {
      const want = {
        packets: expected.ingress[p].packets + expected.egress[p].packets,
        bytes: expected.ingress[p].bytes + expected.egress[p].bytes,
      };
      expect({ [p]: protoSeries[p] ?? { packets: 0n, bytes: 0n } }).toEqual({ [p]: want });
    }

    // The host: online, with the kernel it runs and the agent's version.
    const agentVersion = runCli(AGENT_BIN, ['--version']).stdout.trim();
    const hosts = await getJson<{ items: HostView[] }>(api, '/api/v1/hosts');
    expect(hosts.items.find((h) => h.agentId === agentId)).toMatchObject({
      hostname: hostname(),
      status: 'online',
      kernelRelease: release(),
      agentVersion,
    });

    // Server ports carry the connections the test made; no raw address left the agent.
    const ports = await getJson<{
      items: { port: number; protocol: string; connections: string }[];
    }>(api, '/api/v1/traffic/ports', scope({ limit: '1000' }));
    for (const [port, made] of [
      [tcp4Port, DOSE.tcp4In],
      [tcp6Port, DOSE.tcp6Out],
    ]) {
      expect(ports.items.find((p) => p.port === port && p.protocol === 'tcp')).toMatchObject({
        connections: String(made),
      });
    }
    const talkers = await getJson<{ items: { src: string; dst: string }[] }>(
      api,
      '/api/v1/traffic/talkers',
      scope({ limit: '1000' }),
    );
    expect(talkers.items.length).toBeGreaterThan(0);
    const masked = talkers.items.flatMap((t) => [t.src, t.dst]);
    expect(masked.every((a) => /\/(24|48)$/.test(a))).toBe(true);
    const answers = JSON.stringify(ports) + JSON.stringify(talkers);
    for (const raw of rawAddressPatterns([link.a, link.b])) expect(answers).not.toMatch(raw);

    // Connections come from tracepoints that see every namespace: at least ours.
    const conn = await getJson<{ openedClient: string; openedServer: string }>(
      api,
      '/api/v1/traffic/connections',
      scope(),
    );
    expect(Number(conn.openedClient)).toBeGreaterThanOrEqual(connectionsMade);
    expect(Number(conn.openedServer)).toBeGreaterThanOrEqual(connectionsMade);
  });

  it('SIGTERM: the agent flushes, exits 0, leaves no TC filter, and the totals still hold', async () => {
    if (!agent || !expected) throw new Error('the agent did not run (see the test above)');
    const iface = link.a.ifname;
    expect(await agent.stop('SIGTERM')).toBe(0);
    for (const hook of ['ingress', 'egress']) {
      const { stdout } = await exec('tc', ['filter', 'show', 'dev', iface, hook]);
      expect({ hook, filters: stdout.trim() }).toEqual({ hook, filters: '' });
    }
    expect(spooled(stateDir)).toEqual([]);
    // The interface stayed quiet, so the flushed last window added nothing.
    expect(statsDelta(before, await readInterfaceStats(link.a))).toEqual(truth);
    expect(tableOf(await summary())).toEqual(expected);
  });
});
