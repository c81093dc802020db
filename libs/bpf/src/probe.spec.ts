import { parseCapEff, probeKernel, requiredCaps, type ProbeSources } from './probe';

const MOUNTS_ALL = [
  'sysfs /sys sysfs rw 0 0',
  'tracefs /sys/kernel/tracing tracefs rw 0 0',
  'bpf /sys/fs/bpf bpf rw 0 0',
].join('\n');

const NATIVE_OLD = {
  bpfSyscall: 0,
  schedCls: true,
  tracepoint: true,
  perfEventArray: true,
  ringbuf: false,
  batchOps: false,
  gsoSegs: false,
};

// A Kylin V10-like host: 4.19, no BTF, root with the full capability set.
const KYLIN: ProbeSources = {
  kernelRelease: '4.19.90-24.4.v2101.ky10.x86_64',
  procStatus: 'Name:\tnode\nCapEff:\t000001ffffffffff\n',
  procMounts: MOUNTS_ALL,
  jitEnable: '1\n',
  btfVmlinux: false,
  native: NATIVE_OLD,
  clsact: true,
  tracefsAccess: () => null,
};

const feature = (p: ReturnType<typeof probeKernel>, name: string) =>
  p.features.find((f) => f.name === name);

describe('probeKernel', () => {
  it('needs CAP_SYS_ADMIN below 5.8 and CAP_BPF/CAP_PERFMON from 5.8', () => {
    expect(requiredCaps(4, 19)).toEqual(['CAP_SYS_ADMIN', 'CAP_NET_ADMIN']);
    expect(requiredCaps(5, 8)).toEqual(['CAP_BPF', 'CAP_PERFMON', 'CAP_NET_ADMIN']);
  });

  it('parses CapEff', () => {
    expect(parseCapEff('CapEff:\t0000000000003000\n')).toBe(0x3000n);
    expect(parseCapEff('nothing')).toBe(0n);
  });

  it('takes the legacy object on 4.19 without BTF and is still ready', () => {
    const p = probeKernel(KYLIN);
    expect(p.object).toBe('legacy');
    expect(p.ready).toBe(true);
    expect(feature(p, 'ring-buffer')).toMatchObject({ ok: false, used: false });
    expect(feature(p, 'ring-buffer')?.fallback).toContain('perf buffer');
    expect(feature(p, 'batch-map-ops')?.fallback).toContain('key by key');
    expect(feature(p, 'btf')).toMatchObject({ ok: false, used: false });
  });

  it('names the missing capabilities and what to do', () => {
    const p = probeKernel({ ...KYLIN, procStatus: 'CapEff:\t0000000000001000\n' });
    expect(p.ready).toBe(false);
    const caps = feature(p, 'capabilities')!;
    expect(caps.ok).toBe(false);
    expect(caps.detail).toContain('missing CAP_SYS_ADMIN');
    expect(caps.remediation).toContain('CAP_SYS_ADMIN, CAP_NET_ADMIN');
  });

  it('accepts CAP_BPF + CAP_PERFMON + CAP_NET_ADMIN without CAP_SYS_ADMIN on 5.8+', () => {
    const caps = (1n << 39n) | (1n << 38n) | (1n << 12n);
    const p = probeKernel({
      ...KYLIN,
      kernelRelease: '6.1.0-18-amd64',
      procStatus: `CapEff:\t${caps.toString(16).padStart(16, '0')}\n`,
    });
    expect(feature(p, 'capabilities')?.ok).toBe(true);
  });

  it('tells how to mount tracefs and enable the JIT', () => {
    const p = probeKernel({ ...KYLIN, procMounts: 'bpf /sys/fs/bpf bpf rw 0 0', jitEnable: '0\n' });
    expect(feature(p, 'tracefs')).toMatchObject({
      ok: false,
      remediation: 'mount -t tracefs tracefs /sys/kernel/tracing',
    });
    expect(feature(p, 'jit')).toMatchObject({
      ok: false,
      remediation: 'sysctl -w net.core.bpf_jit_enable=1',
    });
  });

  it('says tracefs is mounted but not readable, not "not mounted", to a non-root user', () => {
    const asked: string[] = [];
    const p = probeKernel({
      ...KYLIN,
      tracefsAccess: (root) => {
        asked.push(root);
        return `permission denied (EACCES) on ${root}/events`;
      },
    });
    expect(asked).toEqual(['/sys/kernel/tracing']);
    expect(feature(p, 'tracefs')).toEqual({
      name: 'tracefs',
      ok: false,
      used: false,
      fallback: 'no TCP lifecycle, retransmit or drop data (traffic counters still work)',
      detail:
        'tracefs is mounted at /sys/kernel/tracing but not readable by this user: permission denied (EACCES) on /sys/kernel/tracing/events',
      remediation:
        'run as root, or grant this user read access to the events sock/inet_sock_set_state, tcp/tcp_retransmit_skb and skb/kfree_skb',
    });
    expect(p.ready).toBe(true); // traffic counters do not need tracefs
    expect(feature(probeKernel(KYLIN), 'tracefs')).toMatchObject({
      ok: true,
      detail: 'tracefs mounted at /sys/kernel/tracing',
    });
  });

  it('says to build the addon when it is missing', () => {
    const p = probeKernel({ ...KYLIN, native: null });
    expect(feature(p, 'bpf-syscall')?.remediation).toContain('npm run setup');
    expect(p.ready).toBe(false);
  });
});
