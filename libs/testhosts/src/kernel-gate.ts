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

// The jest globals, typed here so the library builds without @types/jest.
type Describe = ((name: string, fn: () => void) => void) & {
  skip: (name: string, fn: () => void) => void;
};
type Hook = (fn: () => void) => void;
const jestGlobals = globalThis as unknown as { describe?: Describe; beforeAll?: Hook };

/**
 * The one "can this host run these tests" gate: `describe` where nothing is
 * missing; elsewhere skipped with the reasons in its title, except under
 * CI=true, where the block runs and every test in it fails with the reasons
 * (a CI host that cannot run them is a broken CI host, not a pass).
 * `missing` lists what is absent ('' entries are ignored).
 */
export function describeWhere(name: string, missing: string[], fn: () => void): void {
  const { describe, beforeAll } = jestGlobals;
  if (!describe || !beforeAll)
    throw new Error('describeWhere() must be called in a jest test file');
  const reason = missing.filter(Boolean).join('; ');
  if (!reason) {
    describe(name, fn);
  } else if (inCi()) {
    describe(name, () => {
      beforeAll(() => {
        throw new Error(`cannot run here (CI=true, so this fails instead of skipping): ${reason}`);
      });
      fn();
    });
  } else {
    describe.skip(`${name} (skipped: ${reason})`, fn);
  }
}

/** describeWhere for tests that need root and the kernel (kernelTestGate) plus anything else. */
export function describeKernel(name: string, fn: () => void, alsoMissing: string[] = []): void {
  describeWhere(name, [kernelTestGate().reason, ...alsoMissing], fn);
}
