import { existsSync, readFileSync } from 'node:fs';
import { release } from 'node:os';
import {
  effectiveCapabilities,
  kernelVersion,
  missingCapabilities,
  requiredCapabilities,
} from './capabilities';

export interface DoctorCheck {
  name: string;
  ok: boolean;
  /** The agent cannot run without it. */
  required: boolean;
  detail: string;
  /** What to do when not ok. */
  fix: string;
}

function readText(file: string): string | undefined {
  try {
    return readFileSync(file, 'utf8');
  } catch {
    return undefined;
  }
}

/** Kernel and host checks the agent can make itself; the BPF feature probe adds to them. */
export function hostChecks(): DoctorCheck[] {
  const [maj, min] = kernelVersion();
  const need = requiredCapabilities();
  const missing = missingCapabilities(effectiveCapabilities(), need);
  const mounted = readText('/proc/mounts') ?? '';
  const tracefs = /\stracefs\s/.test(mounted) || existsSync('/sys/kernel/tracing/events');
  const stats = readText('/proc/sys/kernel/bpf_stats_enabled')?.trim();
  const eventsReadable = ['/sys/kernel/tracing/events', '/sys/kernel/debug/tracing/events'].some(
    (d) => existsSync(`${d}/sock/inet_sock_set_state/id`),
  );
  const modern = maj > 4 || (maj === 4 && min >= 19);
  return [
    {
      name: 'kernel',
      ok: modern,
      required: true,
      detail: `${release()} (needs >= 4.19)`,
      fix: 'upgrade the kernel to 4.19 or later (Kylin V10: 4.19 is fine)',
    },
    {
      name: 'capabilities',
      ok: missing.length === 0,
      required: true,
      detail: `this kernel needs ${need.join(' ')}${missing.length ? `; missing ${missing.join(' ')}` : ''}`,
      fix: `run with ${need.join(' ')} (systemd: AmbientCapabilities=${need.join(' ')})`,
    },
    {
      name: 'tracefs',
      ok: tracefs,
      required: false,
      detail: tracefs ? 'mounted' : 'not mounted: no TCP lifecycle, retransmit or drop figures',
      fix: 'mount -t tracefs tracefs /sys/kernel/tracing (or add it to /etc/fstab)',
    },
    {
      name: 'tracefs_access',
      ok: eventsReadable,
      required: false,
      detail: eventsReadable
        ? 'tracepoint ids readable by this user'
        : 'tracepoint ids not readable by this user (tracefs is root-only, mode 0700): no TCP lifecycle, retransmit or drop figures',
      fix: 'run as the systemd unit with its tracefs ExecStartPre (grants the agent group read access), or as root',
    },
    {
      name: 'btf',
      ok: existsSync('/sys/kernel/btf/vmlinux'),
      required: false,
      detail: existsSync('/sys/kernel/btf/vmlinux')
        ? '/sys/kernel/btf/vmlinux present'
        : 'no kernel BTF: the 4.19-compatible object is used',
      fix: 'nothing to do: the core counters need no BTF',
    },
    bpfStatsCheck(stats, maj, min),
  ];
}

/**
 * kernel.bpf_stats_enabled (per-program run time and count) exists from 5.1:
 * below that there is nothing to switch on, so no sysctl is advised.
 */
export function bpfStatsCheck(
  value: string | undefined,
  major: number,
  minor: number,
): DoctorCheck {
  const exists = major > 5 || (major === 5 && minor >= 1);
  if (value === undefined && !exists) {
    return {
      name: 'bpf_stats',
      ok: false,
      required: false,
      detail: `not in Linux ${major}.${minor} (kernel.bpf_stats_enabled needs 5.1+): BPF run time in AgentHealth reads 0`,
      fix: 'nothing to do on this kernel (per-program run time needs Linux 5.1 or later)',
    };
  }
  if (value === undefined) {
    return {
      name: 'bpf_stats',
      ok: false,
      required: false,
      detail: 'kernel.bpf_stats_enabled not readable: BPF run time in AgentHealth reads 0',
      fix: 'check that /proc/sys is mounted (kernel.bpf_stats_enabled)',
    };
  }
  return {
    name: 'bpf_stats',
    ok: value === '1',
    required: false,
    detail: value === '1' ? 'enabled' : 'disabled: BPF run time in AgentHealth reads 0',
    fix: value === '1' ? '' : 'sysctl -w kernel.bpf_stats_enabled=1',
  };
}
