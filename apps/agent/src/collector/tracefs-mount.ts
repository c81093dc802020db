import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { effectiveCapabilities, type CapName } from '../cli/capabilities';

/** Where the agent mounts tracefs when no one did (the kernel's own mount point, 4.1+). */
export const TRACEFS_MOUNT_POINT = '/sys/kernel/tracing';

export type TracefsState =
  | { state: 'present'; root: string }
  | { state: 'mounted'; root: string }
  | { state: 'missing'; reason: string };

export interface TracefsDeps {
  /** Where tracefs may be, first the one to mount on (@tidewatch/bpf's TRACEFS_ROOTS). */
  roots: readonly string[];
  /** /proc/self/mounts: a tracefs root-only to this user is mounted all the same. */
  mounts?: string;
  caps?: Set<CapName>;
  /** mount(8); returns an error message or undefined. */
  mount?: (target: string) => string | undefined;
}

function tracefsMountPoints(file: string): Set<string> {
  try {
    return new Set(
      readFileSync(file, 'utf8')
        .split('\n')
        .map((l) => l.split(' '))
        .filter((f) => f[2] === 'tracefs')
        .map((f) => f[1]),
    );
  } catch {
    return new Set();
  }
}

function runMount(target: string): string | undefined {
  const r = spawnSync('mount', ['-t', 'tracefs', 'tracefs', target], { encoding: 'utf8' });
  if (r.error) return r.error.message;
  return r.status === 0 ? undefined : (r.stderr || `mount exited ${r.status}`).trim();
}

/**
 * The tracepoints need tracefs (libbpf reads each event's id there, the
 * agent its field offsets). Where the agent runs in a mount namespace with
 * a fresh /sys (`ip netns exec`, some containers) it is not mounted: with
 * CAP_SYS_ADMIN the agent mounts it itself (in its own mount namespace when
 * it has one); without, it reports why, and the caller carries on without
 * the connection figures.
 */
export function ensureTracefs(deps: TracefsDeps): TracefsState {
  const roots = deps.roots;
  const mounted = tracefsMountPoints(deps.mounts ?? '/proc/self/mounts');
  const found = roots.find((r) => mounted.has(r) || existsSync(`${r}/events`));
  if (found) return { state: 'present', root: found };
  const caps = deps.caps ?? effectiveCapabilities();
  const where = roots.join(' or ');
  if (!caps.has('CAP_SYS_ADMIN')) {
    return {
      state: 'missing',
      reason: `tracefs is not mounted (${where}) and mounting it needs CAP_SYS_ADMIN; mount it where the agent runs: mount -t tracefs tracefs ${TRACEFS_MOUNT_POINT}`,
    };
  }
  const target = roots[0] ?? TRACEFS_MOUNT_POINT;
  const error = (deps.mount ?? runMount)(target);
  if (error === undefined && existsSync(`${target}/events`))
    return { state: 'mounted', root: target };
  return {
    state: 'missing',
    reason: `tracefs is not mounted (${where}) and mounting it on ${target} failed: ${error ?? 'no events directory after mounting'}`,
  };
}
