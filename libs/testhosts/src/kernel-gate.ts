import { existsSync, readFileSync } from 'node:fs';

export interface KernelGate {
  ok: boolean;
  /** Why kernel tests cannot run here; '' when they can. */
  reason: string;
}

function mounted(type: string): boolean {
  try {
    return readFileSync('/proc/mounts', 'utf8')
      .split('\n')
      .some((l) => l.split(' ')[2] === type);
  } catch {
    return false;
  }
}

/**
 * Whether tests that load BPF programs and make namespaces can run: root,
 * bpffs and tracefs mounted, `ip` present.
 */
export function kernelTestGate(): KernelGate {
  const missing: string[] = [];
  if (process.getuid?.() !== 0) missing.push('not running as root');
  if (!mounted('bpf')) missing.push('bpffs not mounted (mount -t bpf bpf /sys/fs/bpf)');
  if (!mounted('tracefs'))
    missing.push('tracefs not mounted (mount -t tracefs tracefs /sys/kernel/tracing)');
  if (!existsSync('/usr/sbin/ip') && !existsSync('/sbin/ip') && !existsSync('/usr/bin/ip')) {
    missing.push('iproute2 missing');
  }
  return { ok: missing.length === 0, reason: missing.join('; ') };
}

/** True under CI=true, where kernel tests must fail rather than skip. */
export function inCi(): boolean {
  return process.env.CI === 'true' || process.env.CI === '1';
}
