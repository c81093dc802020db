// Loads every program of a BPF object into the running kernel with bpftool,
// pinned under a fresh directory in bpffs, and removes the pins again.
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';

export const BPFFS = '/sys/fs/bpf';

// Why this process cannot load BPF programs here, or undefined when it can.
export function loadBlocker(): string | undefined {
  const capEff = /^CapEff:\s*([0-9a-f]+)$/m.exec(readFileSync('/proc/self/status', 'utf8'));
  const CAP_SYS_ADMIN = 21n;
  if (!capEff || ((BigInt(`0x${capEff[1]}`) >> CAP_SYS_ADMIN) & 1n) === 0n) {
    return 'no CAP_SYS_ADMIN: loading BPF programs on 4.19 needs it (run as root)';
  }
  const mounts = readFileSync('/proc/mounts', 'utf8');
  if (!mounts.split('\n').some((l) => l.split(' ')[1] === BPFFS && l.split(' ')[2] === 'bpf')) {
    return `bpffs is not mounted at ${BPFFS} (mount -t bpf bpf ${BPFFS})`;
  }
  try {
    execFileSync('bpftool', ['version'], { stdio: 'ignore' });
  } catch {
    return 'bpftool is not installed (apt-get install bpftool)';
  }
  return undefined;
}

export interface LoadResult {
  pinned: string[]; // program names the verifier accepted
  types: Record<string, string>; // program name -> bpftool's program type
  processed: Record<string, number>; // program name -> instructions the verifier processed
  limit: number; // the verifier's limit on processed instructions (131072 on 4.19, 1M from 5.2)
}

// "libbpf: prog 'tw_tc_ingress': -- BEGIN PROG LOAD LOG --" ... "processed 12336 insns (limit ...".
export function parseVerifierStats(log: string): Record<string, number> {
  const processed: Record<string, number> = {};
  let prog: string | undefined;
  for (const line of log.split('\n')) {
    const begin = /prog '([^']+)': -- BEGIN PROG LOAD LOG --/.exec(line);
    if (begin) prog = begin[1];
    const stats = /^processed (\d+) insns/.exec(line);
    if (stats && prog) {
      processed[prog] = Number(stats[1]);
      prog = undefined;
    }
  }
  return processed;
}

// Runs the verifier on every program of objPath (bpftool -d: with the verifier's
// statistics); throws with the end of bpftool's log when it refuses.
export function loadAllPrograms(objPath: string): LoadResult {
  const dir = mkdtempSync(join(BPFFS, 'tw-test-'));
  try {
    const r = spawnSync('bpftool', ['-d', 'prog', 'loadall', objPath, dir], {
      encoding: 'utf8',
      maxBuffer: 256 * 1024 * 1024,
    });
    const log = `${r.stdout ?? ''}${r.stderr ?? ''}`;
    if (r.status !== 0) {
      const tail = log.split('\n').slice(-60).join('\n');
      throw new Error(
        `bpftool prog loadall ${objPath} failed (${r.error?.message ?? r.status}):\n${tail}`,
      );
    }
    const pinned = readdirSync(dir).sort();
    const types: Record<string, string> = {};
    for (const name of pinned) {
      const info = JSON.parse(
        execFileSync('bpftool', ['-j', 'prog', 'show', 'pinned', join(dir, name)], {
          encoding: 'utf8',
        }),
      ) as { type: string };
      types[name] = info.type;
    }
    const limit = Number(/^processed \d+ insns \(limit (\d+)\)/m.exec(log)?.[1] ?? 0);
    return { pinned, types, processed: parseVerifierStats(log), limit };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
