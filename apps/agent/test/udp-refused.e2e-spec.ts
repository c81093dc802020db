import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Batch__Output, SourceFanout__Output } from '@tidewatch/proto';
import {
  destUnreachablesSent,
  probeUdpPorts,
  unlimitIcmpErrors,
  useTestNetwork,
  waitQuiet,
  type Link,
  type NetNs,
} from '@tidewatch/testhosts';
import { AgentProcess } from './fixtures/agent-process';
import { TestIngestServer, waitFor } from './fixtures/ingest-server';
import { describeKernel } from './fixtures/kernel';

// A UDP port scan, from the host's end of a link to closed ports of the peer
// namespace, through the built agent and its real eBPF collector. The peer answers
// each probe of a closed port with an ICMP port unreachable (its ICMP rate limit
// lifted); probes of a few ports it drops silently (nftables) stay unanswered.
// Ground truth: the ports probed, the unreachables the peer's kernel counted
// sending, and the drops its nftables counter counted.

jest.setTimeout(180_000);

const REFUSED = 24;
const DROPPED = 5;

/** Drops incoming UDP to `ports` without an answer; resolves to its drop counter. */
async function dropUdp(ns: NetNs, ports: number[]): Promise<() => Promise<number>> {
  const table = `tidewatch_udp_${ports[0]}`;
  await ns.exec('nft', ['-f', '-'], {
    input: [
      `table inet ${table} {`,
      '  chain input {',
      '    type filter hook input priority 0; policy accept;',
      `    udp dport { ${ports.join(', ')} } counter drop`,
      '  }',
      '}',
    ].join('\n'),
  });
  return async () => {
    const { stdout } = await ns.exec('nft', ['list', 'table', 'inet', table]);
    return Number(/counter packets (\d+)/.exec(stdout)?.[1] ?? -1);
  };
}

/** The address as the agent writes it unmasked (IPv6 compressed, lower case). */
const canonical = (addr: string) =>
  addr.includes(':') ? new URL(`http://[${addr}]/`).hostname.slice(1, -1) : addr;

describeKernel('agent: UDP probes answered by ICMP port unreachable count as refused', () => {
  const net = useTestNetwork();
  let link: Link;
  let dir: string;

  beforeAll(async () => {
    const peer = await net.namespace('udpscan');
    link = await net.link(net.host, peer);
    await unlimitIcmpErrors(peer);
    await waitQuiet([link.a, link.b]);
    dir = mkdtempSync(join(tmpdir(), 'tw-udp-'));
  });

  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it.each([4, 6] as const)(
    'IPv%i: every probe of a closed port is refused, every silently dropped one unanswered',
    async (family) => {
      const server = new TestIngestServer();
      const grpcPort = await server.start(0);
      const iface = link.a.ifname;
      const agent = new AgentProcess([
        'run',
        '--interfaces',
        iface,
        '--server',
        `127.0.0.1:${grpcPort}`,
        '--window',
        '2',
        '--state-dir',
        join(dir, `v${family}`),
        '--masking',
        'none',
        '--log-level',
        'info',
      ]);
      try {
        await agent.watching(iface);
        await waitFor(() => server.stored.size >= 1, 20_000, 'first window');
        const base = 20_000 + family * 1_000;
        const closed = Array.from({ length: REFUSED }, (_, i) => base + i);
        const filtered = Array.from({ length: DROPPED }, (_, i) => base + 500 + i);
        const drops = await dropUdp(link.b.netns, filtered);
        const before = await destUnreachablesSent(link.b.netns, family);
        const fromWindow = server.highestContiguous();

        const ports = [...closed, ...filtered];
        expect(await probeUdpPorts(link.a, link.b, { family, ports })).toBe(ports.length);
        await waitQuiet([link.a, link.b]);
        expect((await destUnreachablesSent(link.b.netns, family)) - before).toBe(REFUSED);
        expect(await drops()).toBe(DROPPED);

        // The windows after the probes, until every probe is in one of them.
        const udpSources = (): SourceFanout__Output[] =>
          [...server.stored.values()]
            .filter((b: Batch__Output) => b.sequence > fromWindow)
            .flatMap((b) => b.scan?.sources ?? [])
            .filter((s) => s.protocol === 'PROTOCOL_UDP');
        const sum = (k: 'pairs' | 'refused' | 'unanswered') =>
          udpSources().reduce((n, s) => n + s[k], 0);
        await waitFor(() => sum('pairs') >= ports.length, 20_000, 'the probes in a window');
        expect(new Set(udpSources().map((s) => s.src))).toEqual(
          new Set([canonical(family === 4 ? link.a.ipv4 : link.a.ipv6)]),
        );
        expect({
          pairs: sum('pairs'),
          refused: sum('refused'),
          unanswered: sum('unanswered'),
        }).toEqual({ pairs: ports.length, refused: REFUSED, unanswered: DROPPED });
        expect(
          udpSources().every(
            (s) => s.topDestination === canonical(family === 4 ? link.b.ipv4 : link.b.ipv6),
          ),
        ).toBe(true);
        expect(await agent.stop('SIGTERM')).toBe(0);
      } finally {
        await agent.stop('SIGKILL');
        server.stop();
      }
    },
  );
});
