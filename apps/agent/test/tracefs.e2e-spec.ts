import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  tcpConnections,
  useTestNetwork,
  waitQuiet,
  type Link,
  type NetNs,
} from '@tidewatch/testhosts';
import { AgentProcess, metricSum } from './fixtures/agent-process';
import { describeKernel } from './fixtures/kernel';
import { until } from './fixtures/wait';

jest.setTimeout(120_000);

// `ip netns exec` gives the agent a fresh /sys without tracefs: the case the
// connection figures used to read 0 silently.
describeKernel('tracefs missing where the agent runs (ip netns exec)', () => {
  const net = useTestNetwork();
  let ns: NetNs;
  let link: Link;
  let dir: string;

  beforeAll(async () => {
    ns = await net.namespace('tfs');
    link = await net.link(net.host, ns);
    await waitQuiet([link.a, link.b]);
    dir = mkdtempSync(join(tmpdir(), 'tw-tracefs-e2e-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  /** The agent inside the namespace, its /metrics on the namespace's veth address. */
  function agentInNs(state: string, prefix: string[] = []): { agent: AgentProcess; url: string } {
    const listen = `${link.b.ipv4}:9464`;
    const agent = new AgentProcess(
      [
        'run',
        '--interfaces',
        link.b.ifname,
        '--metrics-listen',
        listen,
        '--window',
        '1',
        '--state-dir',
        join(dir, state),
      ],
      {},
      ['ip', 'netns', 'exec', ns.name!, ...prefix],
    );
    return { agent, url: `http://${listen}/metrics` };
  }

  const scrape = async (url: string) => (await fetch(url)).text();

  it('with CAP_SYS_ADMIN the agent mounts tracefs, says so, attaches the tracepoints and counts connections', async () => {
    const { agent, url } = agentInNs('with-sys-admin');
    try {
      await agent.watching(link.b.ifname);
      expect(agent.stderr).toMatch(/tracefs was not mounted where the agent runs.*mounted it/);
      expect(agent.stderr).not.toContain('tracepoints not attached');
      await until(
        async () => (await scrape(url)).includes('tidewatch_tracepoints_attached'),
        'metrics',
      );
      expect(metricSum(await scrape(url), 'tidewatch_tracepoints_attached')).toBe(3);
      // Connections accepted inside the namespace: counted by the tracepoints
      // (host-wide, so at least these three).
      expect((await tcpConnections(link.a, link.b, { family: 4, count: 3, port: 8443 })).ok).toBe(
        3,
      );
      await until(
        async () =>
          metricSum(await scrape(url), 'tidewatch_tcp_connections_opened_total', {
            role: 'server',
          }) >= 3,
        'the three accepted connections in tidewatch_tcp_connections_opened_total',
      );
      expect(await agent.stop('SIGTERM')).toBe(0);
    } finally {
      await agent.stop('SIGKILL');
    }
  });

  it('without CAP_SYS_ADMIN the warning stays and tidewatch_tracepoints_attached is 0', async () => {
    const { agent, url } = agentInNs('without-sys-admin', [
      'setpriv',
      '--inh-caps=-sys_admin',
      '--bounding-set=-sys_admin',
      '--',
    ]);
    try {
      await agent.watching(link.b.ifname);
      expect(agent.stderr).toMatch(
        /tracepoints not attached \(tracefs is not mounted .*needs CAP_SYS_ADMIN; mount it where the agent runs/,
      );
      await until(
        async () => (await scrape(url)).includes('tidewatch_tracepoints_attached'),
        'metrics',
      );
      expect(metricSum(await scrape(url), 'tidewatch_tracepoints_attached')).toBe(0);
      expect(await agent.stop('SIGTERM')).toBe(0);
    } finally {
      await agent.stop('SIGKILL');
    }
  });
});
