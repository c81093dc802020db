// Gate for tests that need the real kernel: root, bpffs, tracefs, the built
// addon and objects. Under CI=true a missing piece fails the run; elsewhere
// the block is skipped with the reason printed.
import { describeKernel as describeKernelGate } from '@tidewatch/testhosts';
import { addonAvailable, hasObject, probeKernel, type ObjectKind } from '../../src';

/** What this library's kernel tests need beyond the shared gate: the built addon and objects. */
function notBuilt(): string[] {
  const reasons: string[] = [];
  if (!addonAvailable()) reasons.push('native addon not built (npm run build -w @tidewatch/bpf)');
  if (!hasObject('legacy') || !hasObject('modern')) {
    reasons.push('BPF objects not built (npm run build -w @tidewatch/bpf)');
  }
  return reasons;
}

/** The shared gate of @tidewatch/testhosts, plus the build this library's tests load. */
export function describeKernel(name: string, fn: () => void): void {
  describeKernelGate(name, fn, notBuilt());
}

/**
 * The objects this kernel runs, as the probe selects them: both where the
 * modern one loads (ring buffer, batch ops, gso_segs), only the legacy one
 * on older kernels (4.19). TW_TEST_OBJECTS=legacy|modern narrows it (the
 * emulated old-kernel guests test the object the agent picks there); an
 * object this kernel cannot run is never silently dropped: asking for it
 * throws.
 */
function objectsForThisKernel(): ObjectKind[] {
  const runs: ObjectKind[] = !addonAvailable()
    ? ['legacy', 'modern'] // the gate above fails or skips these tests anyway
    : probeKernel().object === 'modern'
      ? ['legacy', 'modern']
      : ['legacy'];
  const wanted = process.env.TW_TEST_OBJECTS?.split(',').filter(Boolean) as
    ObjectKind[] | undefined;
  if (!wanted) return runs;
  for (const o of wanted) {
    if (!runs.includes(o)) {
      throw new Error(`TW_TEST_OBJECTS asks for the ${o} object, which this kernel cannot run`);
    }
  }
  return wanted;
}

export const OBJECTS: readonly ObjectKind[] = objectsForThisKernel();

if (OBJECTS.length < 2) {
  console.warn(`this kernel runs the kernel tests with the ${OBJECTS.join(', ')} object only`);
}
