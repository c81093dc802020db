// The agent standalone (no server) on whatever kernel runs this: the object
// the agent picks there loads, /metrics equals the interface's own counters
// and what the test sent, for every protocol class over IPv4 and IPv6, and,
// stopped, it leaves no filter behind. The old-kernel targets
// (tools/kernel-tests) run this inside Linux 4.19 and 5.10 guests, where only
// this test opens sockets: there the failed connects are exact and the opens
// are ours plus at most the test's own /metrics reads (on a shared host other
// tests add theirs).
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
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
  type Link,
} from '@tidewatch/testhosts';
import { AgentProcess, freeTcpPort, metricSum, scrape } from './fixtures/agent-process';
import { describeKernel } from './fixtures/kernel';

// Emulated guests are several times slower: generous bounds, no timing assumption.
jest.setTimeout(300_000);

/** Set by tools/kernel-tests/guest.sh: a guest where only this test makes connections. */
const QUIET_GUEST = process.env.TW_GUEST_KERNEL !== undefined;

describeKernel('the agent standalone: /metrics exact on this kernel', () => {
  const net = useTestNetwork();
  let link: Link;
  let dir: string;

  beforeAll(async () => {
    const peer = await net.namespace('alone');
    link = await net.link(net.host, peer);
    await waitQuiet([link.a, link.b]);
    dir = mkdtempSync(join(tmpdir(), 'tw-standalone-'));
  });

  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('every protocol class over IPv4 and IPv6 equals the interface counters and what was sent', async () => {
    const port = await freeTcpPort();
    const iface = link.a.ifname;
    const agent = new AgentProcess([
      'run',
      '--interfaces',
      iface,
      '--metrics-listen',
      `127.0.0.1:${port}`,
      '--window',
      '1',
      '--state-dir',
      dir,
    ]);
    try {
      await agent.watching(iface, 240_000);
      await waitQuiet([link.a, link.b]);
      const sum = (text: string, name: string, labels: Record<string, string>) =>
        metricSum(text, name, { iface, ...labels });
      // The agent publishes what it sampled: read until a sample covers "now"
      // (after 90 s the last read goes to the assertions, which show the difference).
      let scrapes = 0;
      const settled = async (pred: (m: string) => boolean): Promise<string> => {
        for (const end = Date.now() + 90_000; ;) {
          const m = await scrape(port);
          scrapes++;
          if (pred(m) || Date.now() > end) return m;
          if (agent.child.exitCode !== null) throw new Error(`agent exited: ${agent.stderr}`);
          await new Promise((r) => setTimeout(r, 200));
        }
      };
      // Quiet since before the agent attached: any sample is the baseline.
      const s0 = await readInterfaceStats(link.a);
      const m0 = await scrape(port);
      scrapes = 0; // connections opened for reads after m0

      const { a, b } = link;
      expect(await sendUdp(b, a, { family: 4, count: 50, size: 200 })).toBe(50);
      expect(await sendUdp(b, a, { family: 6, count: 20, size: 300 })).toBe(20);
      expect(await ping(b, a, { family: 4, count: 10 })).toBe(10);
      expect(await ping(b, a, { family: 6, count: 10 })).toBe(10);
      expect((await tcpConnections(b, a, { family: 4, count: 4, port: 8443 })).ok).toBe(4);
      expect((await tcpConnections(b, a, { family: 6, count: 4, port: 9443 })).ok).toBe(4);
      expect((await connect(b, a, { family: 4, count: 3, port: 7999 })).failed).toBe(3);
      await sendArp(b, a, 5);
      await waitQuiet([a, b]);
      const truth = statsDelta(s0, await readInterfaceStats(a));
      const grew = (m: string, direction: string) =>
        sum(m, 'tidewatch_packets_total', { direction }) -
        sum(m0, 'tidewatch_packets_total', { direction });
      const m1 = await settled(
        (m) =>
          grew(m, 'ingress') === Number(truth.rxPackets) &&
          grew(m, 'egress') === Number(truth.txPackets),
      );
      const d = (name: string, labels: Record<string, string>) =>
        sum(m1, name, labels) - sum(m0, name, labels);

      // Ground truth 1: the interface's own counters, both directions, packets and bytes.
      for (const [direction, packets, bytes] of [
        ['ingress', truth.rxPackets, truth.rxBytes],
        ['egress', truth.txPackets, truth.txBytes],
      ] as const) {
        expect(d('tidewatch_packets_total', { direction })).toBe(Number(packets));
        expect(d('tidewatch_bytes_total', { direction })).toBe(Number(bytes));
      }
      // Ground truth 2: what was sent, class by class (replies come back out).
      expect(d('tidewatch_packets_total', { direction: 'ingress', protocol: 'udp' })).toBe(70);
      expect(d('tidewatch_bytes_total', { direction: 'ingress', protocol: 'udp' })).toBe(
        50 * (14 + 20 + 8 + 200) + 20 * (14 + 40 + 8 + 300),
      );
      for (const [protocol, n] of [
        ['icmp', 10],
        ['icmpv6', 10],
        ['other', 5],
      ] as const) {
        expect(d('tidewatch_packets_total', { direction: 'ingress', protocol })).toBe(n);
        expect(d('tidewatch_packets_total', { direction: 'egress', protocol })).toBe(n);
      }
      // 8 connections of at least SYN, ACK, data, FIN, ACK in; 3 refused SYNs in, 3 RSTs out.
      expect(
        d('tidewatch_packets_total', { direction: 'ingress', protocol: 'tcp' }),
      ).toBeGreaterThan(8 * 5 + 3);

      // Connections: the tracepoints see every namespace of the kernel.
      const conn = (name: string, labels: Record<string, string> = {}) =>
        metricSum(m1, name, labels) - metricSum(m0, name, labels);
      const opened = (role: string) => conn('tidewatch_tcp_connections_opened_total', { role });
      if (QUIET_GUEST) {
        // Our 8, plus at most one connection per /metrics read of this test
        // (the agent's own endpoint is TCP on loopback; reads may reuse one).
        for (const role of ['server', 'client']) {
          expect(opened(role)).toBeGreaterThanOrEqual(8);
          expect(opened(role)).toBeLessThanOrEqual(8 + scrapes);
        }
        expect(opened('server')).toBe(opened('client'));
        expect(conn('tidewatch_tcp_connections_failed_total')).toBe(3);
      } else {
        expect(opened('server')).toBeGreaterThanOrEqual(8);
        expect(opened('client')).toBeGreaterThanOrEqual(8);
        expect(conn('tidewatch_tcp_connections_failed_total')).toBeGreaterThanOrEqual(3);
      }
      // While it runs its filters are there; stopped, it leaves none (nor its clsact).
      const filters = async () =>
        ['ingress', 'egress']
          .map((dir) =>
            execFileSync('tc', ['filter', 'show', 'dev', iface, dir], { encoding: 'utf8' }),
          )
          .join('');
      expect(await filters()).toMatch(/tw_tc_ingress/);
      expect(await agent.stop('SIGTERM')).toBe(0);
      expect(await filters()).toBe('');
      expect(
        execFileSync('tc', ['qdisc', 'show', 'dev', iface], { encoding: 'utf8' }),
      ).not.toContain('clsact');
    } finally {
      await agent.stop('SIGKILL');
    }
  });
});
