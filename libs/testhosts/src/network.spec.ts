// Real namespaces: a link carries traffic, and destroy() leaves nothing.
import { existsSync } from 'node:fs';
import { exec } from './exec';
import { describeKernel } from './kernel-gate';
import { TestNetwork } from './network';
import { readInterfaceStats, statsDelta, waitQuiet } from './stats';
import { ping, sendUdp } from './traffic';

jest.setTimeout(60_000);

describeKernel('TestNetwork', () => {
  it('joins a namespace to this one, carries exact traffic, and removes everything', async () => {
    const net = new TestNetwork();
    let nsName = '';
    let hostIf = '';
    try {
      const ns = await net.namespace('t');
      nsName = ns.name!;
      const link = await net.link(net.host, ns);
      hostIf = link.a.ifname;
      await waitQuiet([link.a, link.b]);
      const before = await readInterfaceStats(link.b);
      expect(await sendUdp(link.a, link.b, { family: 4, count: 7, size: 50 })).toBe(7);
      expect(await ping(link.a, link.b, { family: 6, count: 3 })).toBe(3);
      await waitQuiet([link.a, link.b], 200);
      const d = statsDelta(before, await readInterfaceStats(link.b));
      // 7 datagrams + 3 echo requests in, 3 replies out: nothing else talks.
      expect(d.rxPackets).toBe(10n);
      expect(d.rxBytes).toBe(BigInt(7 * (14 + 20 + 8 + 50) + 3 * (14 + 40 + 8 + 56)));
      expect(d.txPackets).toBe(3n);
    } finally {
      await net.destroy();
    }
    expect(existsSync(`/run/netns/${nsName}`)).toBe(false);
    const links = await exec('ip', ['-o', 'link', 'show', hostIf], { allowFailure: true });
    expect(links.code).not.toBe(0);
  });
});
