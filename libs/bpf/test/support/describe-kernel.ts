// Gate for tests that need the real kernel: root, bpffs, tracefs, the built
// addon and objects. Under CI=true a missing piece fails the run; elsewhere
// the block is skipped with the reason printed.
import { describeKernel as describeKernelGate } from '@tidewatch/testhosts';
import { addonAvailable, hasObject } from '../../src';

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

/** Both objects: every kernel test runs against each. */
export const OBJECTS = ['legacy', 'modern'] as const;
