import { accessSync, constants, existsSync, readFileSync } from 'node:fs';
import { release } from 'node:os';
import { Collector } from './collector';
import { TidewatchBpfError, fromNative } from './errors';
import { addonAvailable, hasObject, loadAddon, objectPath, type ObjectKind } from './loader';
import type { NativeKernelProbe } from './native';
import { TRACEFS_ROOTS, kfreeSkbReasonOffset } from './tracefs';

function kfreeSkbFormatReadable(): boolean {
  return TRACEFS_ROOTS.some((r) => {
    try {
      accessSync(`${r}/events/skb/kfree_skb/format`, constants.R_OK);
      return true;
    } catch {
      return false;
    }
  });
}

/** One line of the report the agent's `doctor` prints. */
export interface FeatureReport {
  /** Stable identifier: 'kernel', 'bpf-syscall', 'jit', ... */
  name: string;
  /** The feature is present (or, for capabilities, sufficient). */
  ok: boolean;
  /** Tidewatch will use it on this host. */
  used: boolean;
  /** What Tidewatch does instead when it is missing; '' when nothing changes. */
  fallback: string;
  /** What was found, for a person. */
  detail: string;
  /** What to do about it; '' when nothing needs doing. */
  remediation: string;
}

export interface KernelProbe {
  kernel: { release: string; major: number; minor: number };
  /** 'modern' when ring buffer, batch ops and gso_segs are all there, else 'legacy'. */
  object: 'legacy' | 'modern';
  /** Every feature checked; `ok` false with an empty fallback means Tidewatch cannot run. */
  features: FeatureReport[];
  /** True when nothing blocks loading and attaching. */
  ready: boolean;
}

/** Linux capability numbers (include/uapi/linux/capability.h). */
export const CAPS = { CAP_NET_ADMIN: 12, CAP_SYS_ADMIN: 21, CAP_PERFMON: 38, CAP_BPF: 39 } as const;
export type CapName = keyof typeof CAPS;

/** Where the probe looks; tests point these at fixtures. */
export interface ProbeSources {
  kernelRelease?: string;
  procStatus?: string;
  procMounts?: string;
  jitEnable?: string | null;
  btfVmlinux?: boolean;
  /** Results of the addon's bpf() probes; null when the addon is not built. */
  native?: NativeKernelProbe | null;
  /** clsact (sch_ingress) built in, loaded or loadable. */
  clsact?: boolean | null;
  /** Why this process cannot read `root`/events of a mounted tracefs; null when it can. */
  tracefsAccess?: (root: string) => string | null;
  /** Offset of skb/kfree_skb's reason field (0: none, 5.17+ has one); null when unreadable. */
  dropReasonOffset?: number | null;
}

export function parseKernelRelease(rel: string): { major: number; minor: number } {
  const m = /^(\d+)\.(\d+)/.exec(rel);
  return m ? { major: Number(m[1]), minor: Number(m[2]) } : { major: 0, minor: 0 };
}

/** CapEff of /proc/self/status as a bigint bit set. */
export function parseCapEff(status: string): bigint {
  const m = /^CapEff:\s*([0-9a-fA-F]+)$/m.exec(status);
  return m ? BigInt('0x' + m[1]) : 0n;
}

export function hasCap(capEff: bigint, cap: CapName): boolean {
  return ((capEff >> BigInt(CAPS[cap])) & 1n) === 1n;
}

/** Capabilities this kernel needs: CAP_BPF/CAP_PERFMON exist from 5.8, CAP_SYS_ADMIN before. */
export function requiredCaps(major: number, minor: number): CapName[] {
  const modern = major > 5 || (major === 5 && minor >= 8);
  return modern ? ['CAP_BPF', 'CAP_PERFMON', 'CAP_NET_ADMIN'] : ['CAP_SYS_ADMIN', 'CAP_NET_ADMIN'];
}

function atLeast(k: { major: number; minor: number }, major: number, minor: number): boolean {
  return k.major > major || (k.major === major && k.minor >= minor);
}

function readOr(path: string, fallback: string | null): string | null {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return fallback;
  }
}

/** TRACEFS_ROOTS order first, any other mount point after. */
function rootRank(path: string): number {
  const i = TRACEFS_ROOTS.indexOf(path);
  return i < 0 ? TRACEFS_ROOTS.length : i;
}

function mountTypes(mounts: string): { type: string; path: string }[] {
  return mounts
    .split('\n')
    .filter(Boolean)
    .map((l) => l.split(' '))
    .map((f) => ({ path: f[1], type: f[2] }));
}

/** sch_ingress (which provides clsact) built in, loaded, or present as a module. */
function clsactPresent(rel: string): boolean | null {
  if (existsSync('/sys/module/sch_ingress')) return true;
  const builtin = readOr(`/lib/modules/${rel}/modules.builtin`, null);
  if (builtin?.includes('sch_ingress')) return true;
  const deps = readOr(`/lib/modules/${rel}/modules.dep`, null);
  if (deps?.includes('sch_ingress')) return true;
  return builtin === null && deps === null ? null : false;
}

/** Node's error for reading and searching `root`/events, as "permission denied (EACCES) on PATH". */
export function tracefsAccessError(root: string): string | null {
  const events = `${root}/events`;
  try {
    accessSync(events, constants.R_OK | constants.X_OK);
    return null;
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    const reason = /^[A-Z]+: ([^,]+)/.exec(e.message)?.[1] ?? e.message;
    return `${reason} (${e.code ?? 'error'}) on ${events}`;
  }
}

function gatherSources(): Required<ProbeSources> {
  const rel = release();
  let nativeProbe: NativeKernelProbe | null = null;
  if (addonAvailable()) nativeProbe = loadAddon().probeKernel();
  return {
    kernelRelease: rel,
    procStatus: readOr('/proc/self/status', '') ?? '',
    procMounts: readOr('/proc/mounts', '') ?? '',
    jitEnable: readOr('/proc/sys/net/core/bpf_jit_enable', null),
    btfVmlinux: existsSync('/sys/kernel/btf/vmlinux'),
    native: nativeProbe,
    clsact: clsactPresent(rel),
    tracefsAccess: tracefsAccessError,
    dropReasonOffset: kfreeSkbFormatReadable() ? kfreeSkbReasonOffset() : null,
  };
}

/**
 * Checks the kernel features Tidewatch relies on and says, for each, whether
 * it is used, what falls back, and what a person can do. Reads /proc and
 * /sys, and asks the addon (when built) for what only bpf() can tell.
 */
export function probeKernel(sources: ProbeSources = {}): KernelProbe {
  const s = { ...gatherSources(), ...sources };
  const k = parseKernelRelease(s.kernelRelease);
  const n = s.native;
  const features: FeatureReport[] = [];
  const add = (f: FeatureReport) => features.push(f);

  add({
    name: 'kernel',
    ok: atLeast(k, 4, 19),
    used: true,
    fallback: '',
    detail: `Linux ${s.kernelRelease}`,
    remediation: atLeast(k, 4, 19) ? '' : 'Tidewatch needs Linux 4.19 or newer',
  });

  const caps = parseCapEff(s.procStatus);
  const need = requiredCaps(k.major, k.minor);
  // CAP_SYS_ADMIN covers CAP_BPF and CAP_PERFMON on every kernel.
  const missing = need.filter(
    (c) => !hasCap(caps, c) && !(c !== 'CAP_NET_ADMIN' && hasCap(caps, 'CAP_SYS_ADMIN')),
  );
  add({
    name: 'capabilities',
    ok: missing.length === 0,
    used: true,
    fallback: '',
    detail: `needs ${need.join(', ')}; effective set 0x${caps.toString(16)}${
      missing.length ? `, missing ${missing.join(', ')}` : ''
    }`,
    remediation: missing.length
      ? `run the agent as root or grant ${need.join(', ')} (e.g. AmbientCapabilities= in its systemd unit)`
      : '',
  });

  if (n) {
    const sysOk = n.bpfSyscall === 0;
    add({
      name: 'bpf-syscall',
      ok: sysOk,
      used: true,
      fallback: '',
      detail: sysOk ? 'bpf() works' : `bpf() failed with errno ${n.bpfSyscall}`,
      remediation: sysOk
        ? ''
        : n.bpfSyscall === 38
          ? 'the kernel was built without CONFIG_BPF_SYSCALL'
          : `grant ${need.join(', ')}, and check kernel.unprivileged_bpf_disabled and any seccomp/LSM policy`,
    });
  } else {
    add({
      name: 'bpf-syscall',
      ok: false,
      used: true,
      fallback: '',
      detail: 'not checked: the native addon is not built',
      remediation: 'run `npm run setup` (or `npm run build -w @tidewatch/bpf`) and probe again',
    });
  }

  const jit = s.jitEnable === null ? null : s.jitEnable.trim();
  add({
    name: 'jit',
    ok: jit === '1' || jit === '2',
    used: jit === '1' || jit === '2',
    fallback: jit === '1' || jit === '2' ? '' : 'the programs run interpreted (slower)',
    detail:
      jit === null ? 'net.core.bpf_jit_enable not readable' : `net.core.bpf_jit_enable=${jit}`,
    remediation: jit === '1' || jit === '2' ? '' : 'sysctl -w net.core.bpf_jit_enable=1',
  });

  add({
    name: 'btf',
    ok: s.btfVmlinux,
    used: false,
    fallback: s.btfVmlinux ? '' : 'none needed: the objects use fixed tracepoint formats, no CO-RE',
    detail: s.btfVmlinux ? '/sys/kernel/btf/vmlinux present' : 'no kernel BTF',
    remediation: '',
  });

  const mounts = mountTypes(s.procMounts);
  const tracefs = mounts.find(
    (m) =>
      (m.type === 'tracefs' || m.type === 'debugfs') &&
      TRACEFS_ROOTS.some((r) => r.startsWith(m.path)),
  );
  // Where tracefs is mounted, the usual places first; non-root with
  // capabilities finds it mounted but root-only (0700), which is not "not mounted".
  const tracefsAt = [...mounts]
    .filter((m) => m.type === 'tracefs')
    .sort((x, y) => rootRank(x.path) - rootRank(y.path))[0]?.path;
  const unreadable = tracefsAt ? s.tracefsAccess(tracefsAt) : null;
  const tracefsOk = tracefsAt !== undefined && unreadable === null;
  add({
    name: 'tracefs',
    ok: tracefsOk,
    used: tracefsOk,
    fallback: tracefsOk
      ? ''
      : 'no TCP lifecycle, retransmit or drop data (traffic counters still work)',
    detail: tracefsOk
      ? `tracefs mounted at ${tracefsAt}`
      : unreadable
        ? `tracefs is mounted at ${tracefsAt} but not readable by this user: ${unreadable}`
        : tracefs
          ? 'only debugfs mounted'
          : 'tracefs not mounted',
    remediation: tracefsOk
      ? ''
      : unreadable
        ? 'run as root, or grant this user read access to the events sock/inet_sock_set_state, tcp/tcp_retransmit_skb and skb/kfree_skb'
        : 'mount -t tracefs tracefs /sys/kernel/tracing',
  });

  const bpffs = mounts.some((m) => m.type === 'bpf');
  add({
    name: 'bpffs',
    ok: bpffs,
    used: false,
    fallback: bpffs ? '' : 'nothing is pinned; maps live as long as the agent',
    detail: bpffs ? 'bpffs mounted' : 'bpffs not mounted',
    remediation: bpffs ? '' : 'mount -t bpf bpf /sys/fs/bpf',
  });

  const clsact = s.clsact;
  const schedCls = n ? n.schedCls : atLeast(k, 4, 5);
  add({
    name: 'clsact',
    ok: clsact !== false && schedCls,
    used: clsact !== false && schedCls,
    fallback: '',
    detail:
      clsact === null
        ? 'sch_ingress not found in /sys/module or /lib/modules (may still be built in)'
        : clsact
          ? 'clsact qdisc available'
          : 'no sch_ingress module',
    remediation:
      clsact === false || !schedCls
        ? 'the kernel needs CONFIG_NET_SCH_INGRESS and CONFIG_NET_CLS_BPF'
        : '',
  });

  const ringbuf = n ? n.ringbuf : atLeast(k, 5, 8);
  const batch = n ? n.batchOps : atLeast(k, 5, 6);
  const gso = n ? n.gsoSegs : atLeast(k, 5, 1);
  const modern = ringbuf && batch && gso && hasObject('modern');
  const how = n ? 'probed' : 'by kernel version';
  add({
    name: 'ring-buffer',
    ok: ringbuf,
    used: modern,
    fallback: modern ? '' : 'connection events through a per-CPU perf buffer',
    detail: `BPF ring buffer ${ringbuf ? 'available' : 'missing'} (${how})`,
    remediation: '',
  });
  add({
    name: 'batch-map-ops',
    ok: batch,
    used: modern,
    fallback: modern ? '' : 'flow tables drained key by key',
    detail: `batch lookup-and-delete ${batch ? 'available' : 'missing'} (${how})`,
    remediation: '',
  });
  add({
    name: 'gso-segs',
    ok: gso,
    used: modern,
    fallback: modern
      ? ''
      : 'one packet per skb: TCP egress counts skbs (TCP builds GSO skbs even with offloads off), ingress is exact with GRO off',
    detail: `__sk_buff.gso_segs ${gso ? 'available' : 'missing'} (${how})`,
    remediation: '',
  });

  // skb/kfree_skb has a reason field from 5.17; the offset is 0 without it.
  const reasonOff = s.dropReasonOffset;
  const reasons = reasonOff !== null && reasonOff > 0;
  add({
    name: 'drop-reasons',
    ok: reasons,
    used: reasons,
    fallback: reasons ? '' : 'drops counted in total only, reason "unknown"',
    detail: reasons
      ? `skb/kfree_skb has a drop reason (offset ${reasonOff})`
      : reasonOff === null
        ? 'skb/kfree_skb format not readable (tracefs)'
        : atLeast(k, 5, 17)
          ? 'skb/kfree_skb has no reason field'
          : `skb/kfree_skb has no reason field before Linux 5.17`,
    remediation: '',
  });

  const blocking = features.filter((f) => !f.ok && f.fallback === '' && f.name !== 'btf');
  return {
    kernel: { release: s.kernelRelease, major: k.major, minor: k.minor },
    object: modern ? 'modern' : 'legacy',
    features,
    ready: blocking.length === 0,
  };
}

/** What happened when an object went through the running kernel's verifier. */
export interface LoadCheck {
  /** Which object was loaded (what the agent would use unless told otherwise). */
  object: ObjectKind;
  path: string;
  /** Every program (TC and tracepoints) passed the verifier and every map was created. */
  ok: boolean;
  /** The refusal, first line ("cannot load BPF object ...: Invalid argument"); '' when ok. */
  error: string;
  /** errno name of the refusal (EACCES: the verifier; EPERM: capabilities; EINVAL: map/program type). */
  code: string;
  /** The verifier's (or libbpf's) last lines on a refusal, without libbpf's prefixes. */
  log: string[];
  /** What to do about a refusal; '' when ok. */
  remediation: string;
}

/** The last lines of the verifier's log (or, for a map/program refusal, of libbpf's). */
export function verifierTail(message: string, lines = 8): string[] {
  const at = message.indexOf('\nlibbpf said:\n');
  if (at < 0) return [];
  const all = message
    .slice(at + '\nlibbpf said:\n'.length)
    .split('\n')
    .map((l) => l.replace(/\s+$/, ''))
    .filter(Boolean);
  const last = (mark: string) => {
    for (let i = all.length - 1; i >= 0; i--) if (all[i].includes(mark)) return i;
    return -1;
  };
  const begin = last('-- BEGIN PROG LOAD LOG --');
  const end = last('-- END PROG LOAD LOG --');
  const verifier =
    begin >= 0 && end > begin
      ? all.slice(begin + 1, end)
      : all.filter((l) => !/failed to load object/.test(l));
  return verifier.slice(-lines).map((l) => l.replace(/^libbpf: /, ''));
}

/** The line of a verifier log that says why: the last one that is not statistics. */
export function verifierReason(log: string[]): string {
  const why = log.filter(
    (l) => !/^(processed \d+ insns|verification time|stack depth|max_states_per_insn)/.test(l),
  );
  return why[why.length - 1] ?? log[log.length - 1] ?? '';
}

/**
 * Loads the object the agent would use here (or `object`) through the
 * running kernel's verifier, without attaching anything, and unloads it.
 * This is what `doctor` needs to tell the truth: features present in
 * /proc and bpf() probes do not prove the programs load.
 */
export async function verifyObject(object: 'auto' | ObjectKind = 'auto'): Promise<LoadCheck> {
  const kind: ObjectKind = object === 'auto' ? probeKernel().object : object;
  const path = objectPath(kind);
  try {
    const c = await Collector.open({ object: kind, flows: false, events: false });
    await c.close();
    return { object: kind, path, ok: true, error: '', code: '', log: [], remediation: '' };
  } catch (err) {
    const e = err instanceof TidewatchBpfError ? err : fromNative(err);
    const log = verifierTail(e.message);
    const first = e.message.split('\n')[0];
    const byVerifier = /verifier rejected/.test(first);
    let remediation: string;
    if (e.code === 'EPERM') {
      remediation = `grant ${requiredCaps(...kernelOf()).join(', ')} (or run as root)`;
    } else if (e.code === 'ENOENT' || e.code === 'ELIBBAD') {
      remediation = 'run `npm run setup` (builds the BPF objects and the addon)';
    } else if (kind === 'modern') {
      remediation =
        'this kernel refuses the modern object: run the agent with bpf.object: legacy ' +
        '(the 4.19 object) and report this output (kernel release and the lines above)';
    } else {
      remediation = byVerifier
        ? "this kernel's verifier refuses Tidewatch's programs: report this output " +
          '(kernel release and the lines above); nothing on the host can fix it'
        : 'report this output (kernel release and the lines above)';
    }
    return { object: kind, path, ok: false, error: first, code: e.code, log, remediation };
  }
}

function kernelOf(): [number, number] {
  const k = parseKernelRelease(release());
  return [k.major, k.minor];
}
