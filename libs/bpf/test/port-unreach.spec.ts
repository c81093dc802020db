// ICMP port unreachables quoting UDP: the record of each one names the port that
// was refused (sport = type | code << 8, dport = the quoted destination port), so
// that a refused UDP probe can be told from an unanswered one. Ground truth: the
// ports probed, and the destination unreachables the peer's kernel counted sending
// (its ICMP rate limit lifted, so it answers every probe).
import {
  destUnreachablesSent,
  ping,
  probeUdpPorts,
  unlimitIcmpErrors,
  useTestNetwork,
  waitQuiet,
  type Link,
} from '@tidewatch/testhosts';
import { Collector, ICMP_PORT_UNREACH, type FlowRecord } from '../src';
import { describeKernel, OBJECTS } from './support/describe-kernel';

// A failure bound only: emulated old-kernel guests (tools/kernel-tests) are slow.
jest.setTimeout(300_000);

const byPort = (a: FlowRecord, b: FlowRecord) => a.dport - b.dport;

describeKernel('ICMP port unreachable records', () => {
  const net = useTestNetwork();
  let link: Link;

  beforeAll(async () => {
    const ns = await net.namespace('unreach');
    link = await net.link(net.host, ns);
    await unlimitIcmpErrors(ns);
  });

  describe.each(OBJECTS)('%s object', (object) => {
    it.each([4, 6] as const)(
      'IPv%i: every UDP probe of a closed port comes back as a record naming that port',
      async (family) => {
        const icmp = family === 4 ? 1 : 58;
        const collector = await Collector.open({ object });
        try {
          const iface = await collector.attachInterface(link.a.ifname);
          await waitQuiet([link.a, link.b]);
          await collector.drainFlows();
          await collector.drainFlows();
          const before = await destUnreachablesSent(link.b.netns, family);
          // Closed ports below the ephemeral range, 7 apart.
          const ports = Array.from({ length: 12 }, (_, i) => 21_000 + i * 7 + family);
          expect(await probeUdpPorts(link.a, link.b, { family, ports })).toBe(ports.length);
          // A plain ICMP message keeps its type and code.
          expect(await ping(link.a, link.b, { family, count: 1 })).toBe(1);
          await waitQuiet([link.a, link.b], 200);
          expect((await destUnreachablesSent(link.b.netns, family)) - before).toBe(ports.length);

          const flows = [
            ...(await collector.drainFlows()),
            ...(await collector.drainFlows()),
          ].filter((f) => f.ifindex === iface.ifindex);
          const probes = flows
            .filter((f) => f.ipProto === 17 && f.direction === 'egress')
            .sort(byPort);
          expect(probes.map((f) => f.dport)).toEqual(ports);
          expect(new Set(probes.map((f) => f.sport)).size).toBe(1);
          const refusals = flows
            .filter(
              (f) =>
                f.ipProto === icmp &&
                f.sport === ICMP_PORT_UNREACH[family === 4 ? 'icmp' : 'icmpv6'],
            )
            .sort(byPort);
          expect(refusals.map((f) => f.dport)).toEqual(ports);
          for (const r of refusals) {
            expect(r).toMatchObject({
              direction: 'ingress',
              saddr: probes[0].daddr,
              daddr: probes[0].saddr,
              packets: 1n,
            });
          }
          const echo = flows.filter((f) => f.ipProto === icmp && f.direction === 'egress');
          const request = family === 4 ? 8 : 128;
          expect(echo.filter((f) => f.sport === request && f.dport === 0)).toHaveLength(1);
        } finally {
          await collector.close();
        }
      },
    );
  });
});
