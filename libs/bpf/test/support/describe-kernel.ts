// Gate for tests that need the real kernel: root, bpffs, tracefs, the built
// addon and objects. Under CI=true a missing piece fails the run; elsewhere
// the block is skipped with the reason printed.
import { inCi, kernelTestGate } from '@tidewatch/testhosts';
import { addonAvailable, hasObject } from '../../src';

function whyNot(): string {
  const gate = kernelTestGate();
  const reasons = gate.ok ? [] : [gate.reason];
  if (!addonAvailable()) reasons.push('native addon not built (npm run build -w @tidewatch/bpf)');
  if (!hasObject('legacy') || !hasObject('modern')) {
    reasons.push('BPF objects not built (npm run build -w @tidewatch/bpf)');
  }
  return reasons.join('; ');
}

export function describeKernel(name: string, fn: () => void): void {
  const reason = whyNot();
  if (!reason) {
    describe(name, fn);
  } else if (inCi()) {
    describe(name, () => {
      it('has what kernel tests need', () => {
        throw new Error(`kernel tests cannot run: ${reason}`);
      });
    });
  } else {
    console.warn(`skipping "${name}": ${reason}`);
    describe.skip(name, fn);
  }
}

/** Both objects: every kernel test runs against each. */
export const OBJECTS = ['legacy', 'modern'] as const;
