import { loadBpfModule } from '../collector/open';
import { hostChecks, type DoctorCheck } from './probe';
import { requiredCapabilities } from './capabilities';
import { EXIT } from './exit-codes';

const INDISPENSABLE = new Set(['kernel', 'capabilities', 'bpf-syscall', 'clsact']);

export interface DoctorReport {
  canRun: boolean;
  /** Which BPF object this kernel gets: "modern" (ring buffer, batch ops) or "legacy" (4.19). */
  object: string;
  requiredCapabilities: string[];
  checks: DoctorCheck[];
}

/**
 * The kernel feature probe of @tidewatch/bpf, plus what only the agent
 * checks. Without the native addon the agent's own host checks stand in.
 */
export function gatherDoctor(): DoctorReport {
  const own = hostChecks();
  const stats = own.filter((c) => c.name === 'bpf_stats' || c.name === 'tracefs_access');
  try {
    const probe = loadBpfModule().probe();
    const checks: DoctorCheck[] = probe.features.map((f) => ({
      name: f.name,
      ok: f.ok,
      // Missing with no fallback blocks the agent; present, only these are indispensable.
      required: f.ok ? INDISPENSABLE.has(f.name) : f.fallback === '',
      detail: f.ok || !f.fallback ? f.detail : `${f.detail}; instead: ${f.fallback}`,
      fix: f.remediation || (f.ok ? '' : 'see the README (kernel features)'),
    }));
    return {
      canRun: probe.ready,
      object: probe.object,
      requiredCapabilities: requiredCapabilities([probe.kernel.major, probe.kernel.minor]),
      checks: [...checks, ...stats],
    };
  } catch (err) {
    const addon: DoctorCheck = {
      name: 'native-addon',
      ok: false,
      required: true,
      detail: `@tidewatch/bpf cannot be loaded: ${(err as Error).message.split('\n')[0]}`,
      fix: 'run "npm run setup" (builds the BPF objects and the addon)',
    };
    const checks = [addon, ...own];
    return {
      canRun: false,
      object: 'unknown',
      requiredCapabilities: requiredCapabilities(),
      checks,
    };
  }
}

export function renderDoctor(r: DoctorReport): string {
  const w = Math.max(...r.checks.map((c) => c.name.length), 7);
  const lines = [`${'FEATURE'.padEnd(w)}  STATUS    NEEDED    DETAIL`];
  for (const c of r.checks) {
    const status = c.ok ? 'ok' : c.required ? 'MISSING' : 'missing';
    lines.push(
      `${c.name.padEnd(w)}  ${status.padEnd(8)}  ${(c.required ? 'required' : 'optional').padEnd(8)}  ${c.detail}`,
    );
  }
  lines.push('', `BPF object for this kernel: ${r.object}`);
  lines.push(
    `Capabilities this kernel needs: ${r.requiredCapabilities.join(' ')}` +
      (r.requiredCapabilities.includes('CAP_BPF')
        ? ' (docker/tidewatch-agent.service)'
        : ' (kernel < 5.8: use the CAP_SYS_ADMIN variant of docker/tidewatch-agent.service)'),
  );
  const todo = r.checks.filter((c) => !c.ok);
  if (todo.length > 0) {
    lines.push('', 'What to do:');
    for (const c of todo) lines.push(`  ${c.name}: ${c.fix}`);
  }
  lines.push(
    '',
    r.canRun
      ? 'The agent can run on this host.'
      : 'The agent cannot run on this host until the required items are fixed.',
  );
  return lines.join('\n') + '\n';
}

/** `doctor`: exit 0 when the agent can run, 3 when it cannot. */
export function doctorCommand(opts: { json?: boolean }, report = gatherDoctor()): number {
  if (opts.json) process.stdout.write(JSON.stringify(report, null, 2) + '\n');
  else process.stdout.write(renderDoctor(report));
  return report.canRun ? EXIT.OK : EXIT.KERNEL;
}
