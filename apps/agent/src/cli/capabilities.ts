import { readFileSync } from 'node:fs';
import { release } from 'node:os';

export const CAP = { CAP_NET_ADMIN: 12, CAP_SYS_ADMIN: 21, CAP_PERFMON: 38, CAP_BPF: 39 } as const;
export type CapName = keyof typeof CAP;

/** Effective capabilities of this process (from /proc/self/status). */
export function effectiveCapabilities(status = '/proc/self/status'): Set<CapName> {
  const out = new Set<CapName>();
  let mask = 0n;
  try {
    const m = /^CapEff:\s*([0-9a-f]+)$/m.exec(readFileSync(status, 'utf8'));
    if (m) mask = BigInt(`0x${m[1]}`);
  } catch {
    return out;
  }
  for (const [name, bit] of Object.entries(CAP)) {
    if (mask & (1n << BigInt(bit))) out.add(name as CapName);
  }
  return out;
}

export function kernelVersion(text = release()): [number, number] {
  const m = /^(\d+)\.(\d+)/.exec(text);
  return m ? [Number(m[1]), Number(m[2])] : [0, 0];
}

/**
 * The capability set this kernel needs: CAP_BPF and CAP_PERFMON exist from
 * 5.8; before that (Kylin V10's 4.19) loading BPF needs CAP_SYS_ADMIN.
 */
export function requiredCapabilities(version = kernelVersion()): CapName[] {
  const [major, minor] = version;
  const modern = major > 5 || (major === 5 && minor >= 8);
  return modern ? ['CAP_BPF', 'CAP_NET_ADMIN', 'CAP_PERFMON'] : ['CAP_SYS_ADMIN', 'CAP_NET_ADMIN'];
}

/** Missing capabilities; CAP_SYS_ADMIN stands in for CAP_BPF and CAP_PERFMON. */
export function missingCapabilities(have: Set<CapName>, need: CapName[]): CapName[] {
  return need.filter(
    (c) => !have.has(c) && !((c === 'CAP_BPF' || c === 'CAP_PERFMON') && have.has('CAP_SYS_ADMIN')),
  );
}
