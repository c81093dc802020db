import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { effectiveCapabilities, missingCapabilities, requiredCapabilities } from './capabilities';

describe('capabilities', () => {
  it('needs CAP_BPF+CAP_NET_ADMIN+CAP_PERFMON from 5.8, CAP_SYS_ADMIN+CAP_NET_ADMIN before', () => {
    expect(requiredCapabilities([6, 18])).toEqual(['CAP_BPF', 'CAP_NET_ADMIN', 'CAP_PERFMON']);
    expect(requiredCapabilities([5, 8])).toEqual(['CAP_BPF', 'CAP_NET_ADMIN', 'CAP_PERFMON']);
    expect(requiredCapabilities([4, 19])).toEqual(['CAP_SYS_ADMIN', 'CAP_NET_ADMIN']);
  });

  it('reads CapEff and lets CAP_SYS_ADMIN stand in for CAP_BPF and CAP_PERFMON', () => {
    const dir = mkdtempSync(join(tmpdir(), 'tw-cap-'));
    try {
      const file = join(dir, 'status');
      writeFileSync(
        file,
        `Name:\tx\nCapEff:\t${((1n << 12n) | (1n << 39n)).toString(16).padStart(16, '0')}\n`,
      );
      const have = effectiveCapabilities(file);
      expect([...have].sort()).toEqual(['CAP_BPF', 'CAP_NET_ADMIN']);
      expect(missingCapabilities(have, requiredCapabilities([6, 1]))).toEqual(['CAP_PERFMON']);
      expect(
        missingCapabilities(
          new Set(['CAP_SYS_ADMIN', 'CAP_NET_ADMIN']),
          requiredCapabilities([6, 1]),
        ),
      ).toEqual([]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
