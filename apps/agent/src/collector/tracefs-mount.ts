import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { TRACEFS_ROOTS } from '@tidewatch/bpf';
import { effectiveCapabilities, type CapName } from '../cli/capabilities';

/** Where the agent mounts tracefs when no one did (the kernel's own mount point, 4.1+). */
export const TRACEFS_MOUNT_POINT = '/sys/kernel/tracing';

export type TracefsState =
  | { state: 'present'; root: string }
  | { state: 'mounted'; root: string }
  | { state: 'missing'; reason: string };

export interface TracefsDeps {
  roots?: readonly string[];
  caps?: Set<CapName>;
  /** mount(8); returns an error message or undefined. */
  mount?: (target: string) => string | undefined;
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
export function ensureTracefs(deps: TracefsDeps = {}): TracefsState {
  const roots = deps.roots ?? TRACEFS_ROOTS;
  const found = roots.find((r) => existsSync(`${r}/events`));
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
