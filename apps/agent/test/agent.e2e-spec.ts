import { execFileSync } from 'node:child_process';
import { chownSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Batch__Output } from '@tidewatch/proto';
import {
  connect,
  ping,
  readInterfaceStats,
  sendArp,
  sendUdp,
  statsDelta,
  tcpConnections,
  useTestNetwork,
  waitQuiet,
  type Endpoint,
  type Link,
} from '@tidewatch/testhosts';
import {
  AgentProcess,
  freeTcpPort,
  metricSum,
  scrape,
  untilMetric,
} from './fixtures/agent-process';
import { runCli } from './fixtures/cli';
import { TestIngestServer, waitFor } from './fixtures/ingest-server';
import { describeKernel } from './fixtures/kernel';
import { until } from './fixtures/wait';

jest.setTimeout(180_000);

interface Totals {
  packets: number;
  bytes: number;
}

function trafficSum(
  batches: Batch__Output[],
  iface: string,
  where: { direction?: string; protocol?: string; family?: string } = {},
): Totals {
  const out = { packets: 0, bytes: 0 };
  for (const b of batches) {
    for (const t of b.traffic) {
      if (t.iface !== iface) continue;
      if (where.direction && t.direction !== where.direction) continue;
      if (where.protocol && t.protocol !== where.protocol) continue;
      if (where.family && t.family !== where.family) continue;
      out.packets += t.packets;
      out.bytes += t.bytes;
    }
  }
  return out;
}

/** Sends one known dose of every traffic class from the namespace end (b) to the host end (a). */
async function everyClass(link: Link, ports: { tcp4: number; tcp6: number; closed: number }) {
  const { a, b } = link;
  expect(await sendUdp(b, a, { family: 4, count: 50, size: 200 })).toBe(50);
  expect(await sendUdp(b, a, { family: 6, count: 20, size: 300 })).toBe(20);
  expect(await ping(b, a, { family: 4, count: 10 })).toBe(10);
  expect(await ping(b, a, { family: 6, count: 10 })).toBe(10);
  expect((await tcpConnections(b, a, { family: 4, count: 5, port: ports.tcp4 })).ok).toBe(5);
  expect((await tcpConnections(b, a, { family: 6, count: 5, port: ports.tcp6 })).ok).toBe(5);
  expect((await connect(b, a, { family: 4, count: 3, port: ports.closed })).failed).toBe(3);
  await sendArp(b, a, 5);
}

/** Every address the test used, as patterns that do not match inside a longer address. */
function rawAddressPatterns(eps: Endpoint[]): RegExp[] {
  const esc = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  return eps.flatMap((e) => [
    new RegExp(`(?<![\\d.])${esc(e.ipv4)}(?![\\d])`),
    new RegExp(`(?<![0-9a-fA-F:])${esc(e.ipv6)}(?![0-9a-fA-F:])`, 'i'),
  ]);
}

describeKernel('agent end to end: real eBPF collector on real namespaces', () => {
  const net = useTestNetwork();
  let link: Link;
  let dir: string;

  beforeAll(async () => {
    const peer = await net.namespace('peer');
    link = await net.link(net.host, peer);
    await waitQuiet([link.a, link.b]);
    dir = mkdtempSync(join(tmpdir(), 'tw-e2e-'));
  });

  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('windows (gRPC) and /metrics equal the interface counters exactly; nothing raw escapes under truncate', async () => {
    const server = new TestIngestServer();
    const grpcPort = await server.start(0);
    const metricsPort = await freeTcpPort();
    const iface = link.a.ifname;
    const agent = new AgentProcess([
      'run',
      '--interfaces',
      iface,
      '--server',
      `127.0.0.1:${grpcPort}`,
      '--metrics-listen',
      `127.0.0.1:${metricsPort}`,
      '--window',
      '1',
      '--state-dir',
      join(dir, 'truncate'),
      '--masking',
      'truncate',
      '--port-allowlist',
      '22,443',
      '--top-n',
      '50',
      '--log-level',
      'debug',
    ]);
    try {
      await agent.watching(iface);
      await waitFor(() => server.stored.size >= 1, 20_000, 'first window');
      const before = await readInterfaceStats(link.a);
      await everyClass(link, { tcp4: 8443, tcp6: 9443, closed: 7999 });
      await waitQuiet([link.a, link.b]);
      const truth = statsDelta(before, await readInterfaceStats(link.a));
      // The agent has published everything the interface counted (its own counter says so).
      await untilMetric(
        metricsPort,
        'tidewatch_packets_total',
        { iface, direction: 'ingress' },
        (v) => v >= Number(truth.rxPackets),
      );
      const metrics = await scrape(metricsPort);
      expect(await agent.stop('SIGTERM')).toBe(0);
      await waitFor(
        () => server.stored.size === server.highestContiguous(),
        10_000,
        'all windows stored',
      );

      const batches = [...server.stored.values()].sort((x, y) => x.sequence - y.sequence);
      // Ground truth: the interface's own counters (rx = ingress, tx = egress).
      expect(trafficSum(batches, iface, { direction: 'DIRECTION_INGRESS' })).toEqual({
        packets: Number(truth.rxPackets),
        bytes: Number(truth.rxBytes),
      });
      expect(trafficSum(batches, iface, { direction: 'DIRECTION_EGRESS' })).toEqual({
        packets: Number(truth.txPackets),
        bytes: Number(truth.txBytes),
      });
      expect(metricSum(metrics, 'tidewatch_packets_total', { iface, direction: 'ingress' })).toBe(
        Number(truth.rxPackets),
      );
      expect(metricSum(metrics, 'tidewatch_bytes_total', { iface, direction: 'ingress' })).toBe(
        Number(truth.rxBytes),
      );
      expect(metricSum(metrics, 'tidewatch_packets_total', { iface, direction: 'egress' })).toBe(
        Number(truth.txPackets),
      );
      expect(metricSum(metrics, 'tidewatch_bytes_total', { iface, direction: 'egress' })).toBe(
        Number(truth.txBytes),
      );

      // Ground truth: what the test sent, class by class.
      const inUdp4 = trafficSum(batches, iface, {
        direction: 'DIRECTION_INGRESS',
        protocol: 'PROTOCOL_UDP',
        family: 'FAMILY_IPV4',
      });
      const inUdp6 = trafficSum(batches, iface, {
        direction: 'DIRECTION_INGRESS',
        protocol: 'PROTOCOL_UDP',
        family: 'FAMILY_IPV6',
      });
      expect(inUdp4).toEqual({ packets: 50, bytes: 50 * (14 + 20 + 8 + 200) });
      expect(inUdp6).toEqual({ packets: 20, bytes: 20 * (14 + 40 + 8 + 300) });
      for (const [protocol, n] of [
        ['PROTOCOL_ICMP', 10],
        ['PROTOCOL_ICMPV6', 10],
        ['PROTOCOL_OTHER', 5],
      ] as const) {
        expect(
          trafficSum(batches, iface, { direction: 'DIRECTION_INGRESS', protocol }).packets,
        ).toBe(n);
        expect(
          trafficSum(batches, iface, { direction: 'DIRECTION_EGRESS', protocol }).packets,
        ).toBe(n);
      }
      expect(trafficSum(batches, iface, { protocol: 'PROTOCOL_TCP' }).packets).toBeGreaterThan(
        10 * 6,
      );

      // Server ports: the listening side, with one connection per client connect.
      const portConnections = (port: number) =>
        batches
          .flatMap((b) => b.ports)
          .filter((p) => p.port === port && p.protocol === 'PROTOCOL_TCP')
          .reduce((s, p) => s + p.connections, 0);
      expect(portConnections(8443)).toBe(5);
      expect(portConnections(9443)).toBe(5);
      expect(portConnections(7999)).toBe(3);
      expect(batches.flatMap((b) => b.ports).find((p) => p.port === 8443)!.abnormal).toBe(true);
      const abnormal = batches.flatMap((b) => b.abnormal).filter((a) => a.port === 8443);
      expect(abnormal.reduce((s, a) => s + a.connections, 0)).toBe(5);
      expect(abnormal[0]).toMatchObject({
        direction: 'DIRECTION_INGRESS',
        peer: expect.stringMatching(/\.0\/24$/),
      });

      // Connections: the tracepoints see every namespace of this kernel, so at least ours.
      const conn = batches.map((b) => b.connections!);
      const sum = (k: 'openedClient' | 'openedServer' | 'failed' | 'closed') =>
        conn.reduce((s, c) => s + c[k], 0);
      expect(sum('openedServer')).toBeGreaterThanOrEqual(10);
      expect(sum('openedClient')).toBeGreaterThanOrEqual(10);
      expect(sum('failed')).toBeGreaterThanOrEqual(3);
      expect(sum('closed')).toBeGreaterThanOrEqual(10);
      expect(
        metricSum(metrics, 'tidewatch_tcp_connections_opened_total', { role: 'server' }),
      ).toBeGreaterThanOrEqual(10);
      const closedInHistogram = conn.reduce(
        (s, c) => s + c.durationCounts[c.durationCounts.length - 1],
        0,
      );
      expect(closedInHistogram).toBeGreaterThanOrEqual(10);

      // Rates: peaks from per-second samples are never below the window average.
      for (const r of batches.flatMap((b) => b.rates)) {
        expect(r.peakPacketsPerSecond).toBeGreaterThanOrEqual(r.avgPacketsPerSecond * 0.999);
      }
      // Windows: contiguous in time and in sequence, each delivered once.
      expect(batches.map((b) => b.sequence)).toEqual(batches.map((_, i) => i + 1));
      expect(server.received.length).toBe(batches.length);
      for (let i = 1; i < batches.length; i++)
        expect(batches[i].windowStartMs).toBe(batches[i - 1].windowEndMs);

      // Masking: talkers show prefixes; no raw test address in any output channel.
      const talkers = batches.flatMap((b) => b.talkers);
      expect(talkers.length).toBeGreaterThan(0);
      expect(talkers.every((t) => /\/24$|\/48$/.test(t.src) && /\/24$|\/48$/.test(t.dst))).toBe(
        true,
      );
      const channels = { grpc: JSON.stringify(server.received), metrics, logs: agent.output };
      expect(agent.stderr).toContain('watching interface');
      for (const [channel, text] of Object.entries(channels)) {
        for (const raw of rawAddressPatterns([link.a, link.b])) {
          expect({ channel, leaked: raw.test(text) ? raw.source : null }).toEqual({
            channel,
            leaked: null,
          });
        }
      }
    } finally {
      await agent.stop('SIGKILL');
      server.stop();
    }
  });

  it('follows interfaces that appear and vanish (glob), and stops cleanly on SIGINT', async () => {
    const metricsPort = await freeTcpPort();
    const agent = new AgentProcess([
      'run',
      '--interfaces',
      `tw${net.tag}*a`,
      '--exclude-interfaces',
      link.a.ifname,
      '--metrics-listen',
      `127.0.0.1:${metricsPort}`,
      '--window',
      '1',
      '--state-dir',
      join(dir, 'follow'),
      '--log-level',
      'debug',
    ]);
    try {
      await waitFor(
        () => agent.stderr.includes('streaming') || agent.stderr.includes('standalone'),
        20_000,
        'agent up',
      );
      const peer = await net.namespace('late');
      const late = await net.link(net.host, peer);
      await agent.watching(late.a.ifname, 10_000);
      await waitQuiet([late.a, late.b]);
      // Its series exist (at 0) once it is watched: the pings below count from there.
      await until(
        async () => (await scrape(metricsPort)).includes(`iface="${late.a.ifname}"`),
        'the late interface in /metrics',
      );
      const before = await readInterfaceStats(late.a);
      expect(await ping(late.b, late.a, { family: 4, count: 7 })).toBe(7);
      await waitQuiet([late.a, late.b]);
      const truth = statsDelta(before, await readInterfaceStats(late.a));
      await untilMetric(
        metricsPort,
        'tidewatch_packets_total',
        { iface: late.a.ifname, direction: 'ingress', protocol: 'icmp' },
        (v) => v >= 7,
      );
      const metrics = await scrape(metricsPort);
      const seen = metricSum(metrics, 'tidewatch_packets_total', {
        iface: late.a.ifname,
        direction: 'ingress',
      });
      // Everything since attach: the link's quiet start, then the pings.
      expect(seen).toBeGreaterThanOrEqual(Number(truth.rxPackets));
      expect(
        metricSum(metrics, 'tidewatch_packets_total', {
          iface: late.a.ifname,
          protocol: 'icmp',
          direction: 'ingress',
        }),
      ).toBe(7);
      expect(metricSum(metrics, 'tidewatch_packets_total', { iface: link.a.ifname })).toBe(0); // excluded
      execFileSync('ip', ['link', 'del', late.a.ifname]);
      await waitFor(() => agent.stderr.includes('interface gone: detached'), 10_000, 'detach');
      expect(metricSum(await scrape(metricsPort), 'tidewatch_agent_interfaces_watched')).toBe(0);
      expect(await agent.stop('SIGINT')).toBe(0);
      expect(agent.stderr).toContain('stopped: last window flushed, programs detached');
    } finally {
      await agent.stop('SIGKILL');
    }
  });

  it("runs as a non-root user with only CAP_BPF, CAP_NET_ADMIN and CAP_PERFMON (the systemd unit's set)", async () => {
    const metricsPort = await freeTcpPort();
    const state = join(dir, 'nonroot');
    execFileSync('mkdir', ['-p', state]);
    chownSync(state, 65534, 65534);
    const caps = '+bpf,+net_admin,+perfmon';
    const setpriv = [
      'setpriv',
      '--reuid=65534',
      '--regid=65534',
      '--clear-groups',
      `--inh-caps=${caps}`,
      `--ambient-caps=${caps}`,
      `--bounding-set=-all,${caps}`,
      '--',
    ];
    const agent = new AgentProcess(
      [
        'run',
        '--interfaces',
        link.a.ifname,
        '--metrics-listen',
        `127.0.0.1:${metricsPort}`,
        '--window',
        '1',
        '--state-dir',
        state,
      ],
      {},
      setpriv,
    );
    try {
      await agent.watching(link.a.ifname);
      const before = await readInterfaceStats(link.a);
      expect(await sendUdp(link.b, link.a, { family: 4, count: 25, size: 64 })).toBe(25);
      await waitQuiet([link.a, link.b]);
      const truth = statsDelta(before, await readInterfaceStats(link.a));
      const udpIn = { iface: link.a.ifname, protocol: 'udp', direction: 'ingress' };
      await untilMetric(metricsPort, 'tidewatch_packets_total', udpIn, (v) => v >= 25);
      const metrics = await scrape(metricsPort);
      expect(
        metricSum(metrics, 'tidewatch_packets_total', {
          iface: link.a.ifname,
          protocol: 'udp',
          direction: 'ingress',
        }),
      ).toBe(25);
      expect(
        metricSum(metrics, 'tidewatch_packets_total', {
          iface: link.a.ifname,
          direction: 'ingress',
        }),
      ).toBeGreaterThanOrEqual(Number(truth.rxPackets));
      expect(await agent.stop('SIGTERM')).toBe(0);
      if ((statSync('/sys/kernel/tracing').mode & 0o005) !== 0o005) {
        // tracefs is root-only here: the warning and doctor say so, not "not mounted".
        const why =
          'tracefs is mounted at /sys/kernel/tracing but not readable by this user: permission denied (EACCES) on /sys/kernel/tracing/events';
        expect(agent.stderr).toContain(
          `tracepoints not attached (cannot attach tracepoints: ${why}`,
        );
        expect(agent.stderr).not.toContain('not mounted');
        const doctor = await runCli(['doctor', '--json'], { prefix: setpriv });
        const checks = (JSON.parse(doctor.stdout) as { checks: { name: string; detail: string }[] })
          .checks;
        expect(checks.find((c) => c.name === 'tracefs')?.detail.slice(0, why.length)).toBe(why);
        expect(doctor.code).toBe(0); // traffic counting does not need tracefs
      }
    } finally {
      await agent.stop('SIGKILL');
    }
  });

  it('top: a live view each second with protocol mix, directions, ports and connections', async () => {
    const top = new AgentProcess([
      'top',
      '--interfaces',
      link.a.ifname,
      '--count',
      '4',
      '--state-dir',
      join(dir, 'top'),
    ]);
    await waitFor(() => top.stdout.includes('tidewatch top'), 20_000, 'first frame');
    expect(await ping(link.b, link.a, { family: 4, count: 20 })).toBe(20);
    await waitFor(() => top.child.exitCode !== null, 20_000, 'top to finish');
    expect(top.child.exitCode).toBe(0);
    const frames = top.stdout.split('tidewatch top').slice(1);
    expect(frames).toHaveLength(4);
    for (const word of ['PROTOCOL', 'DIRECTION', 'TOP SERVER PORTS', 'TCP  opened/s'])
      expect(frames[0]).toContain(word);
    expect(top.stdout).toMatch(/icmp\s+[1-9]/);
  });
});
