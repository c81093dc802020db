// `doctor` on the running kernel tells the truth: it puts the object the agent
// would use through this kernel's verifier (and unloads it), names what it
// uses and what falls back, gives only advice this kernel can take, and on a
// refusal says so with the verifier's own last lines and what to do. The
// expectations come from the kernel version (ring buffer 5.8, batch map ops
// 5.6, gso_segs and kernel.bpf_stats_enabled 5.1, drop reasons 5.17), so the
// same file proves doctor on this host and, via tools/kernel-tests, on 4.19
// and 5.10.
import { execFileSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { release, tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCli } from './fixtures/cli';
import { describeKernel } from './fixtures/kernel';

jest.setTimeout(300_000);

const [MAJOR, MINOR] = release()
  .split('.')
  .map((x) => parseInt(x, 10));
const atLeast = (major: number, minor: number) =>
  MAJOR > major || (MAJOR === major && MINOR >= minor);
const KERNEL = `${MAJOR}.${MINOR}`;
const PICKED = atLeast(5, 8) ? 'modern' : 'legacy';
const OTHER = PICKED === 'modern' ? 'legacy' : 'modern';
// Doctor loads objects through an emulated guest's verifier: generous, failure-only bound.
const SLOW = { timeoutMs: 240_000 };

interface Report {
  canRun: boolean;
  object: string;
  requiredCapabilities: string[];
  checks: { name: string; ok: boolean; required: boolean; detail: string; fix: string }[];
  load?: {
    object: string;
    path: string;
    ok: boolean;
    error: string;
    log: string[];
    fix: string;
    fallback?: { object: string; ok: boolean; error: string };
  };
}

function check(r: Report, name: string) {
  const c = r.checks.find((x) => x.name === name);
  if (!c) throw new Error(`doctor has no ${name} check: ${r.checks.map((x) => x.name).join(', ')}`);
  return c;
}

describeKernel(`doctor on Linux ${KERNEL}`, () => {
  it(`names what it uses and falls back to, having loaded the ${PICKED} object through the verifier`, async () => {
    const r = await runCli(['doctor', '--json'], SLOW);
    expect({ code: r.code, stderr: r.stderr }).toEqual({ code: 0, stderr: '' });
    const report = JSON.parse(r.stdout) as Report;
    expect(report.canRun).toBe(true);
    expect(report.object).toBe(PICKED);
    expect(report.load).toMatchObject({ object: PICKED, ok: true, error: '', log: [] });
    expect(check(report, 'verifier')).toMatchObject({ ok: true, required: true });
    expect(check(report, 'verifier').detail).toContain(
      PICKED === 'modern' ? 'tidewatch.modern.bpf.o' : 'tidewatch.bpf.o',
    );
    expect(report.requiredCapabilities).toEqual(
      atLeast(5, 8)
        ? ['CAP_BPF', 'CAP_NET_ADMIN', 'CAP_PERFMON']
        : ['CAP_SYS_ADMIN', 'CAP_NET_ADMIN'],
    );

    // What this kernel has, and what is used instead where it lacks it.
    for (const [name, since, instead] of [
      ['ring-buffer', atLeast(5, 8), 'perf buffer'],
      ['batch-map-ops', atLeast(5, 6), 'key by key'],
      ['gso-segs', atLeast(5, 1), 'one packet per skb'],
      ['drop-reasons', atLeast(5, 17), 'reason "unknown"'],
    ] as const) {
      const c = check(report, name);
      expect({ name, ok: c.ok }).toEqual({ name, ok: since });
      if (!since) expect(c.detail).toContain(`instead: `);
      if (!since) expect(c.detail).toContain(instead);
    }
    const btf = existsSync('/sys/kernel/btf/vmlinux');
    expect(check(report, 'btf').ok).toBe(btf);
    if (!btf) expect(check(report, 'btf').detail).toContain('none needed');

    // JIT: as the sysctl says (the guests run once with it off).
    const jit = readFileSync('/proc/sys/net/core/bpf_jit_enable', 'utf8').trim();
    expect(check(report, 'jit').ok).toBe(jit !== '0');
    if (jit === '0') expect(check(report, 'jit').detail).toContain('interpreted');

    // Advice fits the kernel: no sysctl it does not have.
    const stats = check(report, 'bpf_stats');
    if (!atLeast(5, 1)) {
      expect(existsSync('/proc/sys/kernel/bpf_stats_enabled')).toBe(false);
      expect(stats.ok).toBe(false);
      expect(stats.detail).toContain('5.1');
      expect(stats.fix).not.toContain('sysctl');
    } else {
      const on = readFileSync('/proc/sys/kernel/bpf_stats_enabled', 'utf8').trim() === '1';
      expect(stats.ok).toBe(on);
      expect(stats.fix).toBe(on ? '' : 'sysctl -w kernel.bpf_stats_enabled=1');
    }
    const advice = report.checks.map((c) => c.fix).join('\n');
    if (!atLeast(5, 1)) expect(advice).not.toContain('bpf_stats_enabled');
  });

  if (atLeast(5, 8)) {
    it(`loads the ${OTHER} object too (the fallback) with --object ${OTHER}`, async () => {
      const r = await runCli(['doctor', '--json', '--object', OTHER], SLOW);
      expect(r.code).toBe(0);
      const report = JSON.parse(r.stdout) as Report;
      expect(report.load).toMatchObject({ object: OTHER, ok: true });
      expect(check(report, 'verifier').ok).toBe(true);
    });
  } else {
    it(`says the kernel refuses the ${OTHER} object (no ring buffer before 5.8) and that the ${PICKED} one loads`, async () => {
      const r = await runCli(['doctor', '--json', '--object', OTHER], SLOW);
      expect(r.code).toBe(3);
      const report = JSON.parse(r.stdout) as Report;
      expect(report.canRun).toBe(false);
      expect(report.load).toMatchObject({
        object: OTHER,
        ok: false,
        fallback: { object: PICKED, ok: true, error: '' },
      });
      expect(report.load!.log.join('\n')).toContain("map 'tw_events': failed to create");
      expect(report.load!.fix).toContain('bpf.object: legacy');
      expect(check(report, 'verifier')).toMatchObject({ ok: false, required: true });
    });
  }

  it("reports a verifier refusal with the verifier's last lines and what to do (exit 3)", async () => {
    // A program every verifier refuses, where the agent's objects would be.
    const dir = mkdtempSync(join(tmpdir(), 'tw-doctor-'));
    try {
      const multiarch = execFileSync('clang', ['-print-multiarch'], { encoding: 'utf8' }).trim();
      const obj = join(dir, 'refused.o');
      execFileSync('clang', [
        '-O2',
        '-target',
        'bpf',
        `-I/usr/include/${multiarch}`,
        '-c',
        join(__dirname, 'fixtures', 'refused.bpf.c'),
        '-o',
        obj,
      ]);
      copyFileSync(obj, join(dir, 'tidewatch.bpf.o'));
      copyFileSync(obj, join(dir, 'tidewatch.modern.bpf.o'));
      const env = { TIDEWATCH_BPF_OBJECT_DIR: dir };
      const r = await runCli(['doctor', '--json'], { ...SLOW, env });
      expect(r.code).toBe(3);
      const report = JSON.parse(r.stdout) as Report;
      expect(report.canRun).toBe(false);
      expect(report.load).toMatchObject({ object: PICKED, ok: false });
      // The kernel's own words: the unchecked packet read.
      expect(report.load!.log.join('\n')).toMatch(/invalid access to packet/);
      expect(report.load!.error).toContain('verifier rejected');
      expect(report.load!.fix).toMatch(/report this output/);
      const v = check(report, 'verifier');
      expect(v).toMatchObject({ ok: false, required: true });
      expect(v.detail).toContain(`refused the ${PICKED} object`);

      const text = await runCli(['doctor'], { ...SLOW, env });
      expect(text.code).toBe(3);
      expect(text.stdout).toContain(
        `The kernel refused ${join(dir, report.load!.path.split('/').pop()!)}`,
      );
      expect(text.stdout).toContain("Last lines of the kernel's verifier");
      expect(text.stdout).toMatch(/^ {2}invalid access to packet/m);
      expect(text.stdout).toMatch(/What to do:\n(.*\n)* {2}verifier: .*report this output/);
      expect(text.stdout).toContain('The agent cannot run on this host');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
