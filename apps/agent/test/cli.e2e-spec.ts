import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCli } from './fixtures/cli';

jest.setTimeout(60_000);

// The built CLI, as an operator runs it: clear messages and the documented exit codes.
describe('tidewatch-agent CLI: input errors and exit codes', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'tw-cli-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('--help lists the commands and exit codes (0)', async () => {
    const r = await runCli(['--help']);
    expect(r.code).toBe(0);
    for (const word of ['run', 'doctor', 'top', 'export', 'Exit codes:'])
      expect(r.stdout).toContain(word);
    for (const cmd of ['run', 'doctor', 'top', 'export']) {
      expect((await runCli([cmd, '--help'])).code).toBe(0);
    }
  });

  it('bad config file: names the key and the file, exit 2', async () => {
    const file = join(dir, 'bad.yaml');
    writeFileSync(file, 'windowSeconds: -3\nmasking:\n  mode: scramble\n');
    const r = await runCli(['run', '--config', file, '--state-dir', dir]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/config key windowSeconds: .*\(from config file .*bad\.yaml\)/);
    expect(r.stderr).toMatch(/config key masking\.mode: /);
  });

  it('bad environment and bad flags: exit 2', async () => {
    const env = await runCli(['run', '--state-dir', dir], {
      env: { TIDEWATCH_METRICS_LISTEN: 'nowhere' },
    });
    expect(env.code).toBe(2);
    expect(env.stderr).toMatch(/metricsListen: expected HOST:PORT.*TIDEWATCH_METRICS_LISTEN/);
    const flag = await runCli(['run', '--bogus-flag']);
    expect(flag.code).toBe(2);
    expect(flag.stderr).toMatch(/unknown option '--bogus-flag'/);
    const format = await runCli(['export', '--format', 'xml', '-o', join(dir, 'x')]);
    expect(format.code).toBe(2);
  });

  it('--enrollment-token is refused (argv is readable by every user), pointing at the file option, exit 2', async () => {
    const r = await runCli([
      'run',
      '--server',
      '127.0.0.1:1',
      '--enrollment-token',
      'twe_secret',
      '--state-dir',
      dir,
    ]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/--enrollment-token is not accepted: .*\/proc\/PID\/cmdline/);
    expect(r.stderr).toContain('--enrollment-token-file FILE');
    expect(r.stderr).toContain('TIDEWATCH_ENROLLMENT_TOKEN_FILE');
    expect(r.stderr).not.toContain('twe_secret');
    const help = await runCli(['run', '--help']);
    expect(help.stdout).toContain('--enrollment-token-file <file>');
    expect(help.stdout).not.toMatch(/--enrollment-token </);
  });

  it('unknown interface: says which and what exists, exit 2', async () => {
    const r = await runCli(['run', '--interfaces', 'tw-nope0', '--state-dir', dir]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/unknown interface tw-nope0 .*present: .*lo/);
  });

  it('missing capability: names it and the set this kernel needs, exit 3', async () => {
    // Root without any capability, as a mis-deployed unit would run.
    const r = await runCli(['run', '--interfaces', 'lo', '--state-dir', dir], {
      prefix: ['setpriv', '--inh-caps=-all', '--bounding-set=-all', '--'],
    });
    expect(r.code).toBe(3);
    expect(r.stderr).toMatch(
      /missing capability CAP_BPF, CAP_NET_ADMIN, CAP_PERFMON: kernel \d+\.\d+ needs/,
    );
    const doctor = await runCli(['doctor', '--json'], {
      prefix: ['setpriv', '--inh-caps=-all', '--bounding-set=-all', '--'],
    });
    expect(doctor.code).toBe(3);
    const report = JSON.parse(doctor.stdout) as {
      requiredCapabilities: string[];
      canRun: boolean;
      checks: Array<{ name: string; ok: boolean; fix: string }>;
    };
    expect(report.canRun).toBe(false);
    expect(report.requiredCapabilities).toEqual(['CAP_BPF', 'CAP_NET_ADMIN', 'CAP_PERFMON']);
    expect(report.checks.find((c) => c.name === 'capabilities')).toMatchObject({ ok: false });
  });

  it('doctor prints a table and says the agent can run here (exit 0)', async () => {
    const r = await runCli(['doctor']);
    expect(r.stdout).toMatch(/FEATURE\s+STATUS\s+NEEDED\s+DETAIL/);
    expect(r.stdout).toMatch(/capabilities\s+ok\s+required\s/);
    expect(r.stdout).toContain('Capabilities this kernel needs: CAP_BPF CAP_NET_ADMIN CAP_PERFMON');
    expect(r.stdout).toMatch(/BPF object for this kernel: (modern|legacy)/);
    expect(r.stdout).toContain('The agent can run on this host.');
    expect(r.code).toBe(0);
  });
});
