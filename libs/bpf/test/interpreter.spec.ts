// Hardened hosts switch the BPF JIT off (net.core.bpf_jit_enable=0) and run
// the interpreter. With the JIT off while loading, the object this kernel
// runs must load (bpftool shows no JIT image: the interpreter runs it), count
// UDP and ICMP over IPv4 and IPv6 exactly against the interface counters and
// what was sent, and the probe must say the programs run interpreted.
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import {
  ping,
  readInterfaceStats,
  sendUdp,
  statsDelta,
  useTestNetwork,
  waitQuiet,
  type Endpoint,
} from '@tidewatch/testhosts';
import { Collector, probeKernel, type TrafficRow } from '../src';
import { describeKernel, OBJECTS } from './support/describe-kernel';

// A failure bound only: the interpreter in an emulated guest is slow.
jest.setTimeout(300_000);

const JIT = '/proc/sys/net/core/bpf_jit_enable';

function sum(rows: TrafficRow[], iface: string, direction: string, protocol?: string) {
  let packets = 0n;
  let bytes = 0n;
  for (const r of rows) {
    if (r.iface !== iface || r.direction !== direction) continue;
    if (protocol && r.protocol !== protocol) continue;
    packets += r.packets;
    bytes += r.bytes;
  }
  return { packets, bytes };
}

describeKernel('with the BPF JIT off (the interpreter)', () => {
  const net = useTestNetwork();
  let host: Endpoint;
  let peer: Endpoint;
  let before = '';
  // The object the agent picks here: the last of OBJECTS (modern where it loads).
  const object = OBJECTS[OBJECTS.length - 1];

  beforeAll(async () => {
    before = readFileSync(JIT, 'utf8').trim();
    const ns = await net.namespace('interp');
    const link = await net.link(net.host, ns);
    host = link.a;
    peer = link.b;
  });

  afterAll(() => {
    if (before) writeFileSync(JIT, `${before}\n`);
  });

  it(`loads the ${object} object interpreted and counts UDP and ICMP over IPv4 and IPv6 exactly (or the kernel refuses a JIT off)`, async () => {
    try {
      writeFileSync(JIT, '0\n');
    } catch (err) {
      // CONFIG_BPF_JIT_ALWAYS_ON (this 6.x host): the kernel has no interpreter
      // and refuses the switch; the guests (tools/kernel-tests) have one.
      expect((err as NodeJS.ErrnoException).code).toBe('EINVAL');
      expect(readFileSync(JIT, 'utf8').trim()).not.toBe('0');
      console.warn(
        'this kernel has no BPF interpreter (JIT always on): nothing to run interpreted',
      );
      return;
    }
    expect(readFileSync(JIT, 'utf8').trim()).toBe('0');
    const jit = probeKernel().features.find((f) => f.name === 'jit')!;
    expect(jit).toMatchObject({ ok: false, used: false });
    expect(jit.fallback).toContain('interpreted');

    const c = await Collector.open({ object });
    try {
      await c.attachInterface(host.ifname);
      // The programs on this interface (tc names their ids) have no JIT image.
      const ids = ['ingress', 'egress'].map((dir) => {
        const out = execFileSync('tc', ['filter', 'show', 'dev', host.ifname, dir], {
          encoding: 'utf8',
        });
        const m = /tw_tc_\w+.* id (\d+)/.exec(out);
        if (!m) throw new Error(`no Tidewatch filter on ${host.ifname} ${dir}: ${out}`);
        return m[1];
      });
      for (const id of ids) {
        const info = JSON.parse(
          execFileSync('bpftool', ['-j', 'prog', 'show', 'id', id], { encoding: 'utf8' }),
        ) as { name: string; bytes_jited?: number; bytes_xlated: number };
        expect({ name: info.name, jited: info.bytes_jited ?? 0 }).toEqual({
          name: info.name,
          jited: 0,
        });
        expect(info.bytes_xlated).toBeGreaterThan(0);
      }

      await waitQuiet([host, peer]);
      const rows0 = await c.readTraffic();
      const s0 = await readInterfaceStats(host);
      expect(await sendUdp(host, peer, { family: 4, count: 30, size: 200 })).toBe(30);
      expect(await sendUdp(host, peer, { family: 6, count: 30, size: 200 })).toBe(30);
      expect(await ping(host, peer, { family: 4, count: 10 })).toBe(10);
      expect(await ping(host, peer, { family: 6, count: 10 })).toBe(10);
      await waitQuiet([host, peer], 200);
      const rows1 = await c.readTraffic();
      const ifd = statsDelta(s0, await readInterfaceStats(host));
      const d = (direction: string, protocol?: string) => {
        const a = sum(rows1, host.ifname, direction, protocol);
        const b = sum(rows0, host.ifname, direction, protocol);
        return { packets: a.packets - b.packets, bytes: a.bytes - b.bytes };
      };
      expect(d('ingress')).toEqual({ packets: ifd.rxPackets, bytes: ifd.rxBytes });
      expect(d('egress')).toEqual({ packets: ifd.txPackets, bytes: ifd.txBytes });
      expect(d('egress', 'udp')).toEqual({
        packets: 60n,
        bytes: BigInt(30 * (14 + 20 + 8 + 200) + 30 * (14 + 40 + 8 + 200)),
      });
      expect(d('egress', 'icmp').packets).toBe(10n);
      expect(d('ingress', 'icmp').packets).toBe(10n);
      expect(d('egress', 'icmpv6').packets).toBeGreaterThanOrEqual(10n);
      expect(d('ingress', 'icmpv6').packets).toBeGreaterThanOrEqual(10n);
    } finally {
      await c.close();
      writeFileSync(JIT, `${before}\n`);
    }
  });
});
