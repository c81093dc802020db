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
  /** The object put through this kernel's verifier (doctor only; absent from gatherDoctor()). */
  load?: ObjectLoad;
}

/** One BPF object loaded (and unloaded) through the running kernel's verifier. */
export interface ObjectLoad {
  object: string;
  path: string;
  ok: boolean;
  /** The refusal's first line; '' when it loaded. */
  error: string;
  /** The verifier's (or libbpf's) last lines on a refusal. */
  log: string[];
  fix: string;
  /** When the modern object was refused: whether the legacy one loads. */
  fallback?: { object: string; ok: boolean; error: string };
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
    const checks = [addonMissing(err), ...own];
    return {
      canRun: false,
      object: 'unknown',
      requiredCapabilities: requiredCapabilities(),
      checks,
    };
  }
}

type Bpf = typeof import('@tidewatch/bpf');

/**
 * gatherDoctor() plus the one check that proves the agent can load here: the
 * object it would use goes through the running kernel's verifier (every
 * program, tracepoints included; nothing attached) and is unloaded again.
 */
export async function gatherDoctorWithLoad(
  object: 'auto' | 'legacy' | 'modern' = 'auto',
  report = gatherDoctor(),
): Promise<DoctorReport> {
  if (report.object === 'unknown') return report; // the addon itself is missing: said already
  let verifyObject: Bpf['verifyObject'];
  let verifierReason: Bpf['verifierReason'];
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports -- lazy, like loadBpfModule
    ({ verifyObject, verifierReason } = require('@tidewatch/bpf') as Bpf);
  } catch (err) {
    return { ...report, canRun: false, checks: [...report.checks, addonMissing(err)] };
  }
  const r = await verifyObject(object === 'auto' ? (report.object as 'legacy' | 'modern') : object);
  const load: ObjectLoad = {
    object: r.object,
    path: r.path,
    ok: r.ok,
    error: r.error,
    log: r.log,
    fix: r.remediation,
  };
  if (!r.ok && r.object === 'modern') {
    const legacy = await verifyObject('legacy');
    load.fallback = { object: 'legacy', ok: legacy.ok, error: legacy.error };
    load.fix = legacy.ok
      ? 'the legacy object loads here: set bpf.object: legacy in the config file, and report this output'
      : 'neither object loads on this kernel: report this output (kernel release and the lines above)';
  }
  const file = r.path.split('/').pop();
  const check: DoctorCheck = {
    name: 'verifier',
    ok: r.ok,
    required: true,
    detail: r.ok
      ? `the ${r.object} object (${file}) loaded through this kernel's verifier, every program incl. tracepoints, and was unloaded`
      : `this kernel refused the ${r.object} object (${file}): ${r.error.replace(/^cannot load BPF object \S+: /, '')}` +
        (r.log.length ? `; the kernel said: ${verifierReason(r.log)}` : ''),
    fix: load.fix,
  };
  return {
    ...report,
    object: r.object,
    canRun: report.canRun && r.ok,
    checks: [...report.checks, check],
    load,
  };
}

function addonMissing(err: unknown): DoctorCheck {
  return {
    name: 'native-addon',
    ok: false,
    required: true,
    detail: `@tidewatch/bpf cannot be loaded: ${(err as Error).message.split('\n')[0]}`,
    fix: 'run "npm run setup" (builds the BPF objects and the addon)',
  };
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
  if (r.load && !r.load.ok) {
    lines.push(
      '',
      `The kernel refused ${r.load.path}: ${r.load.error.split(': ').slice(1).join(': ')}`,
    );
    if (r.load.log.length) {
      lines.push("Last lines of the kernel's verifier (or libbpf):");
      for (const l of r.load.log) lines.push(`  ${l}`);
    }
    if (r.load.fallback) {
      lines.push(
        r.load.fallback.ok
          ? `The ${r.load.fallback.object} object loads on this kernel.`
          : `The ${r.load.fallback.object} object is refused too: ${r.load.fallback.error}`,
      );
    }
  }
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

/**
 * `doctor`: exit 0 when the agent can run, 3 when it cannot. Loads the
 * object the agent would use (or --object) through the kernel's verifier.
 */
export async function doctorCommand(
  opts: { json?: boolean; object?: 'auto' | 'legacy' | 'modern' },
  report?: DoctorReport,
): Promise<number> {
  report ??= await gatherDoctorWithLoad(opts.object ?? 'auto');
  if (opts.json) process.stdout.write(JSON.stringify(report, null, 2) + '\n');
  else process.stdout.write(renderDoctor(report));
  return report.canRun ? EXIT.OK : EXIT.KERNEL;
}
