import { AgentMetrics } from './registry';
import { serveMetrics } from './server';
import { describePrometheus, promtoolCheckMetrics } from '../../test/fixtures/prometheus';

describe('AgentMetrics', () => {
  it('exposes exactly the DESIGN.md names and labels over HTTP, with exact values', async () => {
    const m = new AgentMetrics();
    m.onSample({
      traffic: [
        {
          iface: 'veth0',
          direction: 'ingress',
          family: 'ipv4',
          protocol: 'tcp',
          packets: 3,
          bytes: 300,
        },
        {
          iface: 'veth0',
          direction: 'ingress',
          family: 'ipv6',
          protocol: 'tcp',
          packets: 2,
          bytes: 200,
        },
        {
          iface: 'veth0',
          direction: 'egress',
          family: 'ipv4',
          protocol: 'udp',
          packets: 1,
          bytes: 42,
        },
      ],
      tcp: { openedClient: 2, openedServer: 1, failed: 0, closed: 1, retransmits: 4 },
      active: 2,
      flowTableFull: 5,
      elapsedSeconds: 1,
    });
    const server = await serveMetrics(m.registry, '127.0.0.1:0');
    const addr = server.address() as { port: number };
    try {
      const text = await (await fetch(`http://127.0.0.1:${addr.port}/metrics`)).text();
      expect(text).toContain(
        'tidewatch_packets_total{iface="veth0",direction="ingress",protocol="tcp"} 5',
      );
      expect(text).toContain(
        'tidewatch_bytes_total{iface="veth0",direction="ingress",protocol="tcp"} 500',
      );
      expect(text).toContain(
        'tidewatch_bytes_total{iface="veth0",direction="egress",protocol="udp"} 42',
      );
      expect(text).toContain('tidewatch_tcp_connections_opened_total{role="client"} 2');
      expect(text).toContain('tidewatch_tcp_connections_opened_total{role="server"} 1');
      expect(text).toContain('tidewatch_tcp_connections_active 2');
      expect(text).toContain('tidewatch_tcp_retransmits_total 4');
      expect(text).toContain('tidewatch_flow_table_full_total 5');
      expect((await fetch(`http://127.0.0.1:${addr.port}/healthz`)).status).toBe(200);
    } finally {
      server.close();
    }
  });
});

describe('AgentMetrics label sets from the start', () => {
  it('exports every direction × protocol of a watched interface at 0, and every known reason', async () => {
    const m = new AgentMetrics({
      kernelErrors: ['flow_table_full', 'tp_layout'],
      dropReasons: ['NO_SOCKET'],
    });
    m.watchInterface('veth0');
    const text = await m.registry.metrics();
    const series = (name: string) =>
      text
        .split('\n')
        .filter((l) => l.startsWith(`${name}{`))
        .sort();
    const expected = ['ingress', 'egress'].flatMap((direction) =>
      ['tcp', 'udp', 'icmp', 'icmpv6', 'other'].map(
        (protocol) => `{iface="veth0",direction="${direction}",protocol="${protocol}"} 0`,
      ),
    );
    expect(series('tidewatch_packets_total')).toEqual(
      expected.map((l) => `tidewatch_packets_total${l}`).sort(),
    );
    expect(series('tidewatch_bytes_total')).toEqual(
      expected.map((l) => `tidewatch_bytes_total${l}`).sort(),
    );
    expect(series('tidewatch_tcp_connections_opened_total')).toEqual([
      'tidewatch_tcp_connections_opened_total{role="client"} 0',
      'tidewatch_tcp_connections_opened_total{role="server"} 0',
    ]);
    expect(series('tidewatch_packet_drops_total')).toEqual([
      'tidewatch_packet_drops_total{reason="NO_SOCKET"} 0',
      'tidewatch_packet_drops_total{reason="unknown"} 0',
    ]);
    expect(series('tidewatch_agent_records_dropped_total')).toEqual(
      ['cpu_budget_sampling', 'flow_limit', 'spool_full', 'spool_write_failed', 'tp_layout']
        .map((r) => `tidewatch_agent_records_dropped_total{reason="${r}"} 0`)
        .sort(),
    );
    for (const name of [
      'tidewatch_tcp_connections_failed_total',
      'tidewatch_tcp_connections_closed_total',
      'tidewatch_tcp_retransmits_total',
      'tidewatch_flow_table_full_total',
    ])
      expect(text).toContain(`\n${name} 0\n`);
  });

  it('removes an interface’s series when it is no longer watched, and keeps the others', async () => {
    const m = new AgentMetrics();
    m.watchInterface('veth0');
    m.watchInterface('veth1');
    m.unwatchInterface('veth0');
    const text = await m.registry.metrics();
    expect(text).not.toContain('iface="veth0"');
    expect(text.match(/^tidewatch_packets_total\{iface="veth1"/gm)).toHaveLength(10);
  });
});

describePrometheus('AgentMetrics and promtool', () => {
  it('passes `promtool check metrics` with every metric holding samples', async () => {
    const m = new AgentMetrics();
    m.onSample({
      traffic: [
        {
          iface: 'veth0',
          direction: 'ingress',
          family: 'ipv4',
          protocol: 'tcp',
          packets: 3,
          bytes: 300,
        },
      ],
      tcp: { openedClient: 2, openedServer: 1, failed: 1, closed: 1, retransmits: 4 },
      active: 2,
      flowTableFull: 5,
      elapsedSeconds: 1,
    });
    m.onWindow({
      sequence: 1,
      windowStartMs: 0,
      windowEndMs: 1000,
      traffic: [],
      rates: [],
      ports: [],
      talkers: [],
      connections: null,
      drops: [{ reason: 'NO_SOCKET', count: 2 }],
      health: {
        cpuPercent: 1.5,
        rssBytes: 80e6,
        bpfRunTimeNs: 12345,
        bpfRunCount: 10,
        spoolDepth: 1,
        spoolBytes: 900,
        recordsDropped: [{ reason: 'spool_full', count: 3 }],
        flowTableFull: 0,
      },
      abnormal: [],
      flowsSampled: false,
    });
    m.setConnected(true);
    m.setInterfaces(1);
    const text = await m.registry.metrics();
    for (const name of ['tidewatch_agent_records_dropped_total', 'tidewatch_packet_drops_total'])
      expect(text).toMatch(new RegExp(`^${name}\\{reason="[A-Za-z_]+"\\} [1-9]`, 'm'));
    expect(promtoolCheckMetrics(text)).toEqual({ code: 0, output: '' });
  });
});
