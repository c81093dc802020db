import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
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
import {
  AgentProcess,
  freeTcpPort,
  metricSum,
  scrape,
  untilMetric,
} from './fixtures/agent-process';
import { until } from './fixtures/wait';
import {
  describePrometheus,
  PrometheusServer,
  promtoolCheckMetrics,
  type PromSample,
} from './fixtures/prometheus';

jest.setTimeout(120_000);

/** The samples of a query result as "direction/protocol" → value. */
function byDirectionProtocol(samples: PromSample[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const s of samples) out[`${s.labels.direction}/${s.labels.protocol}`] = s.value;
  return out;
}

function sumWhere(map: Record<string, number>, direction: string): number {
  return Object.entries(map)
    .filter(([k]) => k.startsWith(`${direction}/`))
    .reduce((s, [, v]) => s + v, 0);
}

describePrometheus(
  'metrics through a real Prometheus: promtool lint, scrape, query',
  () => {
    const net = useTestNetwork();
    let link: Link;
    let dir: string;

    beforeAll(async () => {
      const peer = await net.namespace('prom');
      link = await net.link(net.host, peer);
      await waitQuiet([link.a, link.b]);
      dir = mkdtempSync(join(tmpdir(), 'tw-prom-e2e-'));
    });

    afterAll(() => rmSync(dir, { recursive: true, force: true }));

    it('every label set exists at 0 before the first packet, so increase() counts the first burst exactly; a vanished interface’s series go', async () => {
      const gone = await net.namespace('promgone');
      const link2 = await net.link(net.host, gone);
      await waitQuiet([link2.a, link2.b]);
      const metricsPort = await freeTcpPort();
      const iface = link.a.ifname;
      const agent = new AgentProcess([
        'run',
        '--interfaces',
        `${iface},${link2.a.ifname}`,
        '--metrics-listen',
        `127.0.0.1:${metricsPort}`,
        '--window',
        '1',
        '--state-dir',
        join(dir, 'state-zero'),
      ]);
      const prom = new PrometheusServer();
      const udp = `tidewatch_packets_total{job="tidewatch",iface="${iface}",direction="ingress",protocol="udp"}`;
      const udpBytes = udp.replace('tidewatch_packets_total', 'tidewatch_bytes_total');
      try {
        await agent.watching(iface);
        await agent.watching(link2.a.ifname);
        await prom.start(`127.0.0.1:${metricsPort}`);
        // Prometheus holds the udp series at 0 before any UDP packet was sent.
        await until(
          async () => (await prom.query(udp)).map((s) => s.value).join() === '0',
          'Prometheus to store the udp series at 0',
        );
        const zeroSeries = await prom.query(
          `count(tidewatch_packets_total{job="tidewatch",iface="${iface}"})`,
        );
        expect(zeroSeries.map((s) => s.value)).toEqual([10]);

        expect(await sendUdp(link.b, link.a, { family: 4, count: 2000, size: 100 })).toBe(2000);
        // The agent's own counter says when it has published all of them...
        await until(
          async () =>
            metricSum(await scrape(metricsPort), 'tidewatch_packets_total', {
              iface,
              direction: 'ingress',
              protocol: 'udp',
            }) === 2000,
          'the agent to count 2000 udp packets',
        );
        // ...and Prometheus' latest sample says when it has stored that value.
        let at = 0;
        await until(async () => {
          const [last] = await prom.query(`${udp} == 2000`);
          if (!last) return false;
          at = (await prom.query(`timestamp(${udp})`))[0].value;
          return true;
        }, 'Prometheus to store the udp series at 2000');
        // Evaluated at that sample: the range starts with samples at 0, so
        // increase() extrapolates nothing and equals what was sent.
        const inc = await prom.query(`increase(${udp}[60s])`, at);
        expect(inc.map((s) => s.value)).toEqual([2000]);
        const incBytes = await prom.query(`increase(${udpBytes}[60s])`, at);
        expect(incBytes.map((s) => s.value)).toEqual([2000 * (14 + 20 + 8 + 100)]);

        // The second interface vanishes: the agent detaches and its series go.
        expect(await scrape(metricsPort)).toContain(`iface="${link2.a.ifname}"`);
        await gone.exec('ip', ['link', 'del', link2.b.ifname]);
        await until(
          async () => !(await scrape(metricsPort)).includes(`iface="${link2.a.ifname}"`),
          `the series of ${link2.a.ifname} to go from /metrics`,
        );
        expect(agent.stderr).toMatch(
          new RegExp(`"iface":"${link2.a.ifname}".*interface gone: detached`),
        );
        expect(await scrape(metricsPort)).toContain(`iface="${iface}"`);
        expect(await agent.stop('SIGTERM')).toBe(0);
      } finally {
        await prom.stop();
        await agent.stop('SIGKILL');
      }
    });

    it('Prometheus scrapes /metrics every second and its query results equal the interface counters exactly', async () => {
      const metricsPort = await freeTcpPort();
      const iface = link.a.ifname;
      const agent = new AgentProcess([
        'run',
        '--interfaces',
        iface,
        '--metrics-listen',
        `127.0.0.1:${metricsPort}`,
        '--window',
        '1',
        '--state-dir',
        join(dir, 'state'),
      ]);
      const prom = new PrometheusServer();
      try {
        await agent.watching(iface);
        await prom.start(`127.0.0.1:${metricsPort}`);
        // The target is up once Prometheus has scraped it.
        await until(
          async () => (await prom.query('up{job="tidewatch"}'))[0]?.value === 1,
          'Prometheus to scrape the agent',
        );

        const before = await readInterfaceStats(link.a);
        const { a, b } = link;
        expect(await sendUdp(b, a, { family: 4, count: 40, size: 200 })).toBe(40);
        expect(await sendUdp(b, a, { family: 6, count: 15, size: 300 })).toBe(15);
        expect(await ping(b, a, { family: 4, count: 6 })).toBe(6);
        expect(await ping(b, a, { family: 6, count: 4 })).toBe(4);
        expect((await tcpConnections(b, a, { family: 4, count: 3, port: 8443 })).ok).toBe(3);
        await sendArp(b, a, 3);
        await waitQuiet([link.a, link.b]);
        const truth = statsDelta(before, await readInterfaceStats(link.a));
        const sel = `{job="tidewatch",iface="${iface}"}`;
        // Traffic has stopped: wait until the agent has published all of it,
        // then until Prometheus has stored a scrape that holds it.
        await untilMetric(
          metricsPort,
          'tidewatch_packets_total',
          { iface, direction: 'egress' },
          (v) => v >= Number(truth.txPackets),
        );
        await until(
          async () =>
            (await prom.query(`sum(tidewatch_packets_total${sel})`))[0]?.value >=
            Number(truth.rxPackets + truth.txPackets),
          'Prometheus to store the published counters',
        );

        const packets = byDirectionProtocol(
          await prom.query(`sum by (iface, direction, protocol) (tidewatch_packets_total${sel})`),
        );
        const bytes = byDirectionProtocol(
          await prom.query(`sum by (iface, direction, protocol) (tidewatch_bytes_total${sel})`),
        );
        // Ground truth 1: the interface's own counters (rx = ingress, tx = egress), exactly.
        expect({
          ingressPackets: sumWhere(packets, 'ingress'),
          ingressBytes: sumWhere(bytes, 'ingress'),
          egressPackets: sumWhere(packets, 'egress'),
          egressBytes: sumWhere(bytes, 'egress'),
        }).toEqual({
          ingressPackets: Number(truth.rxPackets),
          ingressBytes: Number(truth.rxBytes),
          egressPackets: Number(truth.txPackets),
          egressBytes: Number(truth.txBytes),
        });
        // Ground truth 2: what the test sent, class by class.
        expect(packets['ingress/udp']).toBe(40 + 15);
        expect(bytes['ingress/udp']).toBe(40 * (14 + 20 + 8 + 200) + 15 * (14 + 40 + 8 + 300));
        expect(packets['ingress/icmp']).toBe(6);
        expect(packets['egress/icmp']).toBe(6);
        expect(packets['ingress/icmpv6']).toBe(4);
        expect(packets['egress/icmpv6']).toBe(4);
        expect(packets['ingress/other']).toBe(3);
        expect(packets['egress/other']).toBe(3);
        expect(packets['ingress/tcp']).toBeGreaterThanOrEqual(3 * 3);

        // Prometheus holds what the agent serves, series by series.
        const text = await scrape(metricsPort);
        for (const [key, value] of Object.entries(packets)) {
          const [direction, protocol] = key.split('/');
          expect({ key, value }).toEqual({
            key,
            value: metricSum(text, 'tidewatch_packets_total', { iface, direction, protocol }),
          });
        }

        // The real exposition passes promtool's lint.
        expect(promtoolCheckMetrics(text)).toEqual({ code: 0, output: '' });
        expect(await agent.stop('SIGTERM')).toBe(0);
      } finally {
        await prom.stop();
        await agent.stop('SIGKILL');
      }
    });
  },
  { kernel: true },
);
