// Attach/detach hygiene: detach leaves no filter of ours (and no clsact we
// created) but keeps everyone else's; leftovers of a killed run are found and
// removed; a missing interface gives a clear error; 100 load/attach/detach
// cycles leak no file descriptor. Ground truth: `tc` and /proc/self/fd.
import { existsSync, readdirSync, statSync } from 'node:fs';
import { release } from 'node:os';
import { join } from 'node:path';
import { background, exec, sendUdp, useTestNetwork, type Link } from '@tidewatch/testhosts';
import { Collector, TidewatchBpfError, addonPath, objectPath, probeKernel } from '../src';
import { describeKernel, OBJECTS } from './support/describe-kernel';

jest.setTimeout(120_000);

const [MAJOR, MINOR] = release()
  .split('.')
  .map((x) => parseInt(x, 10));
const atLeast = (major: number, minor: number) =>
  MAJOR > major || (MAJOR === major && MINOR >= minor);

async function tc(...args: string[]): Promise<string> {
  return (await exec('tc', args)).stdout;
}

const ours = (out: string) => out.split('\n').filter((l) => /handle 0x7477 .*tw_tc_/.test(l));

describeKernel('attach, detach and clean-up', () => {
  const net = useTestNetwork();
  let link: Link;
  let ifname: string;

  beforeAll(async () => {
    const ns = await net.namespace('life');
    link = await net.link(net.host, ns);
    ifname = link.a.ifname;
  });

  it('detach removes its filters and the clsact qdisc it created', async () => {
    const c = await Collector.open({ object: 'legacy' });
    try {
      await c.attachInterface(ifname);
      expect(ours(await tc('filter', 'show', 'dev', ifname, 'ingress'))).toHaveLength(1);
      expect(ours(await tc('filter', 'show', 'dev', ifname, 'egress'))).toHaveLength(1);
      await c.detachInterface(ifname);
      expect(await tc('filter', 'show', 'dev', ifname, 'ingress')).toBe('');
      expect(await tc('filter', 'show', 'dev', ifname, 'egress')).toBe('');
      expect(await tc('qdisc', 'show', 'dev', ifname)).not.toContain('clsact');
    } finally {
      await c.close();
    }
  });

  it("leaves other programs' filters and their clsact alone", async () => {
    await tc('qdisc', 'add', 'dev', ifname, 'clsact');
    try {
      await tc(
        'filter',
        'add',
        'dev',
        ifname,
        'ingress',
        'prio',
        '1',
        'protocol',
        'all',
        'u32',
        'match',
        'u32',
        '0',
        '0',
        'flowid',
        '1:1',
      );
      const c = await Collector.open({ object: 'legacy' });
      try {
        await c.attachInterface(ifname);
        await c.detachInterface(ifname);
      } finally {
        await c.close();
      }
      const left = await tc('filter', 'show', 'dev', ifname, 'ingress');
      expect(left).toContain('u32');
      expect(ours(left)).toHaveLength(0);
      expect(await tc('qdisc', 'show', 'dev', ifname)).toContain('clsact');
    } finally {
      await tc('qdisc', 'del', 'dev', ifname, 'clsact');
    }
  });

  it('lets the filters after it see every packet (it never ends classification)', async () => {
    // A host's own filter at a later priority: mirror egress to another veth.
    // Its action counter is the ground truth; it must equal what was sent.
    const ns = await net.namespace('after');
    const spare = await net.link(net.host, ns);
    const c = await Collector.open({ object: 'legacy' });
    try {
      await c.attachInterface(ifname);
      await tc(
        'filter',
        'add',
        'dev',
        ifname,
        'egress',
        'prio',
        '60000',
        'protocol',
        'all',
        'u32',
        'match',
        'u32',
        '0',
        '0',
        'action',
        'mirred',
        'egress',
        'mirror',
        'dev',
        spare.a.ifname,
      );
      const sent = await sendUdp(link.a, link.b, { family: 4, count: 25, size: 64 });
      expect(sent).toBe(25);
      const stats = await tc('-s', 'filter', 'show', 'dev', ifname, 'egress', 'prio', '60000');
      const mirrored = Number(/Sent \d+ bytes (\d+) pkt/.exec(stats)?.[1] ?? -1);
      const counted = (await c.readTraffic())
        .filter((r) => r.iface === ifname && r.direction === 'egress')
        .reduce((sum, r) => sum + r.packets, 0n);
      expect(mirrored).toBeGreaterThanOrEqual(25);
      expect(BigInt(mirrored)).toBe(counted);
    } finally {
      await tc('filter', 'del', 'dev', ifname, 'egress', 'prio', '60000').catch(() => undefined);
      await c.close();
    }
  });

  it('close() removes the filters of every attached interface', async () => {
    const c = await Collector.open({ object: 'legacy' });
    await c.attachInterface(ifname);
    await c.close();
    expect(await tc('filter', 'show', 'dev', ifname, 'ingress')).toBe('');
    expect(await tc('filter', 'show', 'dev', ifname, 'egress')).toBe('');
  });

  it('cleanupStale removes the filters a killed run left behind', async () => {
    // A run that dies without detaching: TC filters outlive the process.
    const child = background(process.execPath, [
      '-e',
      `const a = require(process.argv[1]);
       a.open(process.argv[2], {}).then((h) => a.attachTc(h, process.argv[3]))
        .then(() => console.log('attached'), (e) => { console.error(e.message); process.exit(1); });
       setInterval(() => {}, 1000);`,
      addonPath(),
      objectPath('legacy'),
      ifname,
    ]);
    try {
      await child.waitFor('attached');
    } finally {
      await child.kill();
    }
    expect(ours(await tc('filter', 'show', 'dev', ifname, 'ingress'))).toHaveLength(1);
    expect(ours(await tc('filter', 'show', 'dev', ifname, 'egress'))).toHaveLength(1);
    expect(await Collector.cleanupStale(ifname)).toBe(2);
    expect(await tc('filter', 'show', 'dev', ifname, 'ingress')).toBe('');
    expect(await tc('filter', 'show', 'dev', ifname, 'egress')).toBe('');
    expect(await Collector.cleanupStale(ifname)).toBe(0);
    await tc('qdisc', 'del', 'dev', ifname, 'clsact');
  });

  it('says clearly that an interface does not exist', async () => {
    const c = await Collector.open({ object: 'legacy' });
    try {
      const err = await c.attachInterface('twmissing0').catch((e: unknown) => e);
      expect(err).toBeInstanceOf(TidewatchBpfError);
      expect(err).toMatchObject({
        code: 'ENODEV',
        errno: 19,
        message: 'cannot attach to twmissing0: no such interface',
      });
      expect(c.interfaces()).toEqual([]);
    } finally {
      await c.close();
    }
  });

  it('says which capabilities are missing when it has none', async () => {
    // The same process with every capability dropped (root uid, empty sets).
    const res = await exec('setpriv', [
      '--inh-caps=-all',
      '--bounding-set=-all',
      '--',
      process.execPath,
      '-e',
      `require(process.argv[1]).open(process.argv[2], {}).then(
           () => console.log('{}'),
           (e) => console.log(JSON.stringify({ code: e.code, errno: e.errno, message: e.message })));`,
      addonPath(),
      objectPath('legacy'),
    ]);
    expect(JSON.parse(res.stdout)).toEqual({
      code: 'EPERM',
      errno: 1,
      message:
        `cannot load BPF object ${objectPath('legacy')}: permission denied: the agent needs ` +
        'CAP_BPF, CAP_PERFMON and CAP_NET_ADMIN (CAP_SYS_ADMIN and CAP_NET_ADMIN below kernel 5.8); ' +
        'run it as root or grant these capabilities',
    });
  });

  it('says tracefs is mounted but not readable, not "not mounted", to a non-root user with only the capabilities', async () => {
    // uid 65534 with CAP_BPF, CAP_NET_ADMIN, CAP_PERFMON: what the systemd unit
    // grants. tracefs stays root-only (0700), so the tracepoints cannot be found.
    const caps = '+bpf,+net_admin,+perfmon';
    const res = await exec('setpriv', [
      '--reuid=65534',
      '--regid=65534',
      '--clear-groups',
      `--inh-caps=${caps}`,
      `--ambient-caps=${caps}`,
      `--bounding-set=-all,${caps}`,
      '--',
      process.execPath,
      '-e',
      `const b = require(process.argv[1]);
       (async () => {
         const probe = b.probeKernel().features.find((f) => f.name === 'tracefs');
         const c = await b.Collector.open({ object: 'legacy' });
         const err = await c.attachTracepoints().then(() => null, (e) => ({ code: e.code, errno: e.errno, message: e.message }));
         await c.close();
         console.log(JSON.stringify({ probe, err }));
       })().catch((e) => { console.error(e); process.exit(1); });`,
      join(__dirname, '..', 'dist', 'index.js'),
    ]);
    const { probe, err } = JSON.parse(res.stdout);
    if ((statSync('/sys/kernel/tracing').mode & 0o005) === 0o005) {
      // A kernel whose tracefs is open to everyone: nothing to report.
      expect({ ok: probe.ok, err }).toEqual({ ok: true, err: null });
      return;
    }
    const why = 'permission denied (EACCES) on /sys/kernel/tracing/events';
    expect(probe).toMatchObject({
      ok: false,
      detail: `tracefs is mounted at /sys/kernel/tracing but not readable by this user: ${why}`,
    });
    expect(err).toEqual({
      code: 'EACCES',
      errno: 13,
      message:
        `cannot attach tracepoints: tracefs is mounted at /sys/kernel/tracing but not readable by this user: ${why} ` +
        '(run as root, or grant this user read access to the events sock/inet_sock_set_state, tcp/tcp_retransmit_skb and skb/kfree_skb)',
    });
  });

  it('rejects bad arguments before they reach the addon', async () => {
    await expect(Collector.open({ flowTableSize: 0 })).rejects.toMatchObject({
      code: 'EINVAL',
      message: 'invalid flowTableSize: must be an integer from 1 to 16777216, got 0',
    });
    const c = await Collector.open({ object: 'legacy' });
    try {
      await expect(c.attachInterface('')).rejects.toMatchObject({ code: 'EINVAL' });
      await expect(c.attachInterface('a/b')).rejects.toBeInstanceOf(TidewatchBpfError);
    } finally {
      await c.close();
    }
    await expect(c.readTraffic()).rejects.toMatchObject({ code: 'EBADF' });
  });

  it('leaks no file descriptor over 100 load/attach/detach/close cycles', async () => {
    const fds = () => readdirSync('/proc/self/fd').length;
    // One warm-up cycle: libbpf and the addon open a few things once.
    const warm = await Collector.open({ object: 'legacy' });
    await warm.attachInterface(ifname);
    await warm.close();
    const before = fds();
    // Every tenth cycle loads the modern object (ring buffer poller), which
    // takes the verifier about a second; the others the legacy one.
    for (let i = 0; i < 100; i++) {
      const object = i % 10 || !OBJECTS.includes('modern') ? 'legacy' : 'modern';
      const c = await Collector.open({ object, flowTableSize: 64 });
      await c.attachInterface(ifname);
      await c.attachTracepoints();
      c.onEvent(() => undefined);
      await c.detachInterface(ifname);
      await c.close();
    }
    expect(fds()).toBe(before);
    expect(await tc('filter', 'show', 'dev', ifname, 'ingress')).toBe('');
    expect(await tc('qdisc', 'show', 'dev', ifname)).not.toContain('clsact');
  });

  const STATS_SYSCTL = '/proc/sys/kernel/bpf_stats_enabled';
  // kernel.bpf_stats_enabled and the run counters behind it came in 5.1.
  if (!existsSync(STATS_SYSCTL))
    it('reports every program with zero run counts where the kernel keeps none (before 5.1)', async () => {
      expect(atLeast(5, 1)).toBe(false);
      const c = await Collector.open({ object: 'legacy' });
      try {
        await c.attachInterface(ifname);
        await exec('ping', ['-c', '3', '-i', '0.01', '-q', link.b.ipv4]);
        const stats = c.programStats();
        expect(stats.map((s) => [s.name, s.runCount, s.runTimeNs]).sort()).toEqual([
          ['tw_tc_egress', 0n, 0n],
          ['tw_tc_ingress', 0n, 0n],
          ['tw_tp_kfree_skb', 0n, 0n],
          ['tw_tp_retransmit', 0n, 0n],
          ['tw_tp_sock_state', 0n, 0n],
        ]);
      } finally {
        await c.close();
      }
    });

  if (existsSync(STATS_SYSCTL))
    it('reports per-program run counts when kernel.bpf_stats_enabled=1', async () => {
      const prev = (await exec('sysctl', ['-n', 'kernel.bpf_stats_enabled'])).stdout.trim();
      await exec('sysctl', ['-q', '-w', 'kernel.bpf_stats_enabled=1']);
      const c = await Collector.open({ object: 'legacy' });
      try {
        await c.attachInterface(ifname);
        await exec('ping', ['-c', '3', '-i', '0.01', '-q', link.b.ipv4]);
        const stats = c.programStats();
        expect(stats.map((s) => s.name).sort()).toEqual([
          'tw_tc_egress',
          'tw_tc_ingress',
          'tw_tp_kfree_skb',
          'tw_tp_retransmit',
          'tw_tp_sock_state',
        ]);
        const egress = stats.find((s) => s.name === 'tw_tc_egress')!;
        expect(egress.runCount).toBeGreaterThanOrEqual(3n);
        expect(egress.runTimeNs).toBeGreaterThan(0n);
      } finally {
        await c.close();
        await exec('sysctl', ['-q', '-w', `kernel.bpf_stats_enabled=${prev}`]);
      }
    });

  // Ground truth by version: ring buffer 5.8, batch map ops 5.6, gso_segs 5.1.
  const modern = atLeast(5, 8);
  it(`probes this kernel as ready for the ${modern ? 'modern' : 'legacy'} object`, () => {
    const p = probeKernel();
    expect(p.ready).toBe(true);
    expect(p.object).toBe(modern ? 'modern' : 'legacy');
    const byName = Object.fromEntries(p.features.map((f) => [f.name, f]));
    for (const n of ['bpf-syscall', 'capabilities', 'tracefs', 'bpffs', 'clsact']) {
      expect(byName[n]).toMatchObject({ ok: true });
    }
    expect(byName['ring-buffer']).toMatchObject({ ok: atLeast(5, 8), used: modern });
    expect(byName['batch-map-ops']).toMatchObject({ ok: atLeast(5, 6), used: modern });
    expect(byName['gso-segs']).toMatchObject({ ok: atLeast(5, 1), used: modern });
    expect(byName['drop-reasons']).toMatchObject({ ok: atLeast(5, 17) });
  });
});
