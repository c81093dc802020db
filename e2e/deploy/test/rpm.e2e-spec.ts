// RPMs for Kylin V10 (RPM-based): built here with Debian's rpmbuild from the built checkout by
// deploy/rpm/build.js, then read back with rpm itself (file list, attributes, scriptlets,
// requires), unpacked with rpm2cpio, and the unpacked programs run: the package holds every
// module they load. The systemd units are checked by systemd-analyze verify. Nothing is
// installed on this machine (no rpm -i: Debian's rpm database is not the system's).
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describeWhere } from '@tidewatch/testhosts';
import { createTestDatabase, postgresMissing } from './fixtures/database';
import { assertBuilt, cleanEnv, Proc, repoPath, run, runOk } from './fixtures/repo';
import { SYSTEMD_ANALYZE, verifyUnit } from './fixtures/systemd';

/** The operator's command: node deploy/rpm/build.js APP --out DIR, which prints each .rpm built. */
function build(app: 'agent' | 'server', outDir: string): string[] {
  const out = runOk(
    process.execPath,
    [repoPath('deploy', 'rpm', 'build.js'), app, '--out', outDir],
    {
      timeoutMs: 900_000,
    },
  );
  return out.split('\n').filter((l) => l.endsWith('.rpm'));
}

const missing = ['/usr/bin/rpmbuild', '/usr/bin/rpm2cpio', '/usr/bin/cpio']
  .filter((p) => !existsSync(p))
  .map((p) => `${p} missing (Debian package rpm)`);

interface FileRow {
  path: string;
  flags: string;
  mode: string;
  user: string;
  group: string;
  link: string;
}

function files(rpmFile: string): FileRow[] {
  const out = runOk('rpm', [
    '-qp',
    '--qf',
    '[%{FILENAMES}\t%{FILEFLAGS:fflags}\t%{FILEMODES:perms}\t%{FILEUSERNAME}\t%{FILEGROUPNAME}\t%{FILELINKTOS}\n]',
    rpmFile,
  ]);
  return out
    .split('\n')
    .filter(Boolean)
    .map((l) => {
      const [path, flags, mode, user, group, link] = l.split('\t');
      return { path, flags, mode, user, group, link };
    });
}

/** `rpm -qp --scripts` split into its scriptlets by name (preinstall, postinstall, ...). */
function scriptlets(rpmFile: string): Record<string, string> {
  const out: Record<string, string> = {};
  let current = '';
  for (const line of runOk('rpm', ['-qp', '--scripts', rpmFile]).split('\n')) {
    const m = /^(\w+) scriptlet \(using \/bin\/sh\):$/.exec(line);
    if (m) {
      current = m[1];
      out[current] = '';
    } else if (current) out[current] += `${line}\n`;
  }
  return out;
}

function unpack(rpmFile: string, into: string): void {
  const cpio = run('sh', ['-c', 'rpm2cpio "$1" | cpio -idm --quiet', 'sh', rpmFile], { cwd: into });
  if (cpio.code !== 0) throw new Error(`unpacking ${rpmFile}: ${cpio.stderr}`);
}

describeWhere('RPM packages (rpmbuild, rpm -qp, rpm2cpio)', missing, () => {
  let out: string;
  let root: string;
  const rpms: Record<'agent' | 'server', string> = { agent: '', server: '' };

  beforeAll(() => {
    assertBuilt();
    out = mkdtempSync(join(tmpdir(), 'tw-rpms-'));
    root = mkdtempSync(join(tmpdir(), 'tw-rpmroot-'));
    for (const app of ['agent', 'server'] as const) {
      const built = build(app, out);
      expect(built).toHaveLength(1);
      rpms[app] = built[0];
      unpack(rpms[app], root);
    }
  }, 900_000);

  afterAll(() => {
    if (out) rmSync(out, { recursive: true, force: true });
    if (root) rmSync(root, { recursive: true, force: true });
  });

  it('names, versions and architectures: the agent is per-arch (native addon), the server noarch', () => {
    const version = (
      JSON.parse(readFileSync(repoPath('apps', 'agent', 'package.json'), 'utf8')) as {
        version: string;
      }
    ).version;
    const q = (f: string) => runOk('rpm', ['-qp', '--qf', '%{NAME} %{VERSION} %{ARCH}', f]);
    expect(q(rpms.agent)).toBe(
      `tidewatch-agent ${version} ${process.arch === 'x64' ? 'x86_64' : process.arch}`,
    );
    expect(q(rpms.server)).toBe(`tidewatch-server ${version} noarch`);
  });

  it('agent: its files — unit, the < 5.8 drop-in (a ghost link, made in %post), config, addon, BPF objects', () => {
    const rows = files(rpms.agent);
    const by = new Map(rows.map((r) => [r.path, r]));
    const pick = (p: string) => {
      const r = by.get(p);
      return r
        ? { p, flags: r.flags, mode: r.mode, owner: `${r.user}:${r.group}`, link: r.link }
        : { p, missing: true };
    };
    expect([
      pick('/usr/lib/systemd/system/tidewatch-agent.service'),
      pick('/usr/share/tidewatch/kernel-lt-5.8.conf'),
      pick('/etc/systemd/system/tidewatch-agent.service.d/kernel-lt-5.8.conf'),
      pick('/etc/tidewatch/agent.yaml'),
      pick('/usr/bin/tidewatch-agent'),
    ]).toEqual([
      {
        p: '/usr/lib/systemd/system/tidewatch-agent.service',
        flags: '',
        mode: '-rw-r--r--',
        owner: 'root:root',
        link: '',
      },
      {
        p: '/usr/share/tidewatch/kernel-lt-5.8.conf',
        flags: '',
        mode: '-rw-r--r--',
        owner: 'root:root',
        link: '',
      },
      {
        p: '/etc/systemd/system/tidewatch-agent.service.d/kernel-lt-5.8.conf',
        flags: 'g',
        mode: 'lrwxrwxrwx',
        owner: 'root:root',
        link: '/usr/share/tidewatch/kernel-lt-5.8.conf',
      },
      {
        p: '/etc/tidewatch/agent.yaml',
        flags: 'cn',
        mode: '-rw-r-----',
        owner: 'root:tidewatch',
        link: '',
      },
      {
        p: '/usr/bin/tidewatch-agent',
        flags: '',
        mode: 'lrwxrwxrwx',
        owner: 'root:root',
        link: '/opt/tidewatch/agent/apps/agent/bin/tidewatch-agent.js',
      },
    ]);
    const paths = rows.map((r) => r.path);
    for (const p of [
      '/opt/tidewatch/agent/apps/agent/dist/main.js',
      '/opt/tidewatch/agent/libs/bpf/native/build/Release/tidewatch.node',
      '/opt/tidewatch/agent/libs/bpf/build/tidewatch.bpf.o',
      '/opt/tidewatch/agent/libs/bpf/build/tidewatch.modern.bpf.o',
      '/opt/tidewatch/agent/libs/proto/proto',
      '/opt/tidewatch/agent/node_modules/@grpc/grpc-js/package.json',
    ])
      expect({ p, in: paths.includes(p) }).toEqual({ p, in: true });
    // Only what runs: no sources, tests, or the build's intermediate objects.
    expect(
      paths.filter(
        (p) =>
          /\/(src|test)\/.*\.ts$|\.spec\.|obj\.target|\.bpf\.c$/.test(p) &&
          !p.includes('/node_modules/'),
      ),
    ).toEqual([]);
    // No other app's code or devDependencies.
    expect(
      paths.filter((p) =>
        /\/apps\/(server|console)\/|node_modules\/(jest|typescript|nx|next)\//.test(p),
      ),
    ).toEqual([]);
    // The packaged unit and drop-in are the repo's.
    expect(readFileSync(join(root, 'usr/lib/systemd/system/tidewatch-agent.service'), 'utf8')).toBe(
      readFileSync(repoPath('docker', 'tidewatch-agent.service'), 'utf8'),
    );
    expect(readFileSync(join(root, 'usr/share/tidewatch/kernel-lt-5.8.conf'), 'utf8')).toBe(
      readFileSync(repoPath('docker', 'tidewatch-agent.kernel-lt-5.8.conf'), 'utf8'),
    );
  });

  it('agent: requires node >= 20, coreutils with env -S (the bin’s shebang) and the addon’s libraries, nothing bundled is announced', () => {
    const req = runOk('rpm', ['-qp', '--requires', rpms.agent])
      .trim()
      .split('\n')
      .filter((l) => !l.startsWith('rpmlib('));
    expect([...new Set(req)].sort()).toEqual(
      [
        '/bin/sh',
        'coreutils >= 8.30',
        'libbpf.so.1()(64bit)',
        'libelf.so.1()(64bit)',
        'nodejs >= 20',
        'shadow-utils',
        'systemd',
      ].sort(),
    );
    expect(runOk('rpm', ['-qp', '--provides', rpms.agent]).trim().split('\n')).toEqual([
      expect.stringMatching(/^tidewatch-agent = /),
      expect.stringMatching(/^tidewatch-agent\(x86-64\) = |^tidewatch-agent\(\w+\) = /),
    ]);
  });

  it('agent scriptlets: a dedicated user; %post links the drop-in where CAP_BPF is missing and runs doctor without failing', () => {
    const s = scriptlets(rpms.agent);
    expect(Object.keys(s).sort()).toEqual([
      'postinstall',
      'postuninstall',
      'preinstall',
      'preuninstall',
    ]);
    for (const [name, body] of Object.entries(s)) {
      expect({ name, sh: run('sh', ['-n'], { input: body }).code }).toEqual({ name, sh: 0 });
      expect({ name, last: body.trim().split('\n').pop() }).toEqual({ name, last: 'exit 0' });
    }
    expect(s.preinstall).toMatch(
      /useradd -r -g tidewatch -d \/var\/lib\/tidewatch -s \/sbin\/nologin .* tidewatch$/m,
    );
    expect(s.postinstall).toMatch(/cap_last_cap/);
    expect(s.postinstall).toMatch(/-lt 39/);
    expect(s.postinstall).toMatch(
      /\/usr\/bin\/node \/opt\/tidewatch\/agent\/apps\/agent\/bin\/tidewatch-agent\.js doctor \|\| \\\n\s+echo /,
    );
    expect(s.preuninstall).toMatch(/systemctl --no-reload disable --now tidewatch-agent\.service/);
    expect(s.postuninstall).toMatch(/try-restart tidewatch-agent\.service/);
  });

  it('agent %post, run as written against a stand-in /proc value: drop-in linked below capability 39, removed at 39+', () => {
    // The scriptlet's own text with only its two host paths pointed into a scratch directory.
    const dir = mkdtempSync(join(tmpdir(), 'tw-post-'));
    try {
      const post = scriptlets(rpms.agent)
        .postinstall.replaceAll('/etc/systemd/system', join(dir, 'etc'))
        .replaceAll('/proc/sys/kernel/cap_last_cap', join(dir, 'cap_last_cap'))
        .replaceAll(
          '/usr/bin/node /opt/tidewatch/agent',
          `${process.execPath} ${join(root, 'opt/tidewatch/agent')}`,
        );
      runOk('mkdir', ['-p', join(dir, 'etc', 'tidewatch-agent.service.d')]);
      const link = join(dir, 'etc', 'tidewatch-agent.service.d', 'kernel-lt-5.8.conf');
      writeFileSync(join(dir, 'cap_last_cap'), '37\n'); // 4.19's last capability is CAP_AUDIT_READ (37)
      const old = run('sh', ['-s', '1'], { input: post, env: cleanEnv() });
      expect(old.code).toBe(0);
      expect(old.stdout).toMatch(/has no CAP_BPF: using the CAP_SYS_ADMIN drop-in/);
      expect(run('readlink', [link]).stdout.trim()).toBe('/usr/share/tidewatch/kernel-lt-5.8.conf');
      // doctor ran from the package and printed its table.
      expect(old.stdout).toMatch(/tidewatch-agent: doctor/);
      expect(old.stdout).toMatch(/BPF object/i);
      writeFileSync(join(dir, 'cap_last_cap'), '40\n');
      const modern = run('sh', ['-s', '1'], { input: post, env: cleanEnv() });
      expect(modern.code).toBe(0);
      expect(existsSync(link)).toBe(false);
      // A doctor that fails (here: no node at that path) is printed, and the install still succeeds.
      const broken = run('sh', ['-s', '1'], {
        input: post.replaceAll(process.execPath, join(dir, 'no-node')),
        env: cleanEnv(),
      });
      expect(broken.code).toBe(0);
      expect(broken.stdout).toMatch(
        /doctor says the agent cannot run here yet .* installed anyway/,
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('agent: the unpacked package runs (every module it loads is in it): doctor --json', () => {
    const r = run(
      process.execPath,
      [join(root, 'opt/tidewatch/agent/apps/agent/bin/tidewatch-agent.js'), 'doctor', '--json'],
      {
        env: cleanEnv(),
        cwd: root,
      },
    );
    expect([0, 3]).toContain(r.code);
    const report = JSON.parse(r.stdout) as Record<string, unknown>;
    expect(Object.keys(report).length).toBeGreaterThan(0);
  });

  it('server: its files, config 0640 root:tidewatch-server, a user, no capability; the unpacked server answers --help', () => {
    const rows = files(rpms.server);
    const by = new Map(rows.map((r) => [r.path, r]));
    expect(by.get('/etc/tidewatch/server.env')).toMatchObject({
      flags: 'cn',
      mode: '-rw-r-----',
      user: 'root',
      group: 'tidewatch-server',
    });
    expect(by.get('/usr/lib/systemd/system/tidewatch-server.service')).toMatchObject({
      mode: '-rw-r--r--',
    });
    expect(by.get('/usr/bin/tidewatch-server')).toMatchObject({
      link: '/opt/tidewatch/server/apps/server/bin/tidewatch-server.js',
    });
    expect(by.has('/opt/tidewatch/server/apps/server/dist/main.js')).toBe(true);
    expect(rows.filter((r) => /\/apps\/(agent|console)\/|\.node$|\.bpf\.o$/.test(r.path))).toEqual(
      [],
    );
    const s = scriptlets(rpms.server);
    expect(Object.keys(s).sort()).toEqual([
      'postinstall',
      'postuninstall',
      'preinstall',
      'preuninstall',
    ]);
    for (const [name, body] of Object.entries(s))
      expect({ name, sh: run('sh', ['-n'], { input: body }).code }).toEqual({ name, sh: 0 });
    expect(s.preinstall).toMatch(/useradd -r -g tidewatch-server .* tidewatch-server$/m);
    expect(s.postinstall).toMatch(/audit keygen --out \/etc\/tidewatch\/audit-signing-key\.pem/);
    const env = readFileSync(join(root, 'etc/tidewatch/server.env'), 'utf8');
    expect(new URL(/^DATABASE_URL=(.*)$/m.exec(env)![1]).password).toBe('');
    const help = runOk(
      process.execPath,
      [join(root, 'opt/tidewatch/server/apps/server/bin/tidewatch-server.js'), '--help'],
      { env: cleanEnv() },
    );
    expect(help).toMatch(/migrate/);
  });

  describeWhere('the unpacked server against PostgreSQL', [postgresMissing()], () => {
    it('migrates an empty database and gets ready (every module serve loads is in the package)', async () => {
      const db = await createTestDatabase();
      const dir = mkdtempSync(join(tmpdir(), 'tw-rpmsrv-'));
      const bin = join(root, 'opt/tidewatch/server/apps/server/bin/tidewatch-server.js');
      const key = join(dir, 'audit.pem');
      runOk(process.execPath, [bin, 'audit', 'keygen', '--out', key], { env: cleanEnv() });
      const server = new Proc(
        'packaged server',
        process.execPath,
        [bin, 'serve'],
        cleanEnv({
          DATABASE_URL: db.url,
          AUDIT_SIGNING_KEY_FILE: key,
          AUDIT_CHECKPOINT_FILE: join(dir, 'checkpoints.jsonl'),
          AUDIT_SYSLOG: 'off',
          HTTP_HOST: '127.0.0.1',
          HTTP_PORT: '0',
          GRPC_HOST: '127.0.0.1',
          GRPC_PORT: '0',
        }),
      );
      try {
        const { httpPort } = JSON.parse(await server.line(/"event":"listening"/, 120_000)) as {
          httpPort: number;
        };
        expect((await fetch(`http://127.0.0.1:${httpPort}/readyz`)).status).toBe(200);
        expect(await server.stop('SIGTERM')).toBe(0);
      } finally {
        await server.stop('SIGKILL');
        await db.drop();
        rmSync(dir, { recursive: true, force: true });
      }
    });
  });
});

describeWhere(
  'systemd units (systemd-analyze verify)',
  existsSync(SYSTEMD_ANALYZE) ? [] : [`${SYSTEMD_ANALYZE} missing`],
  () => {
    const agentUnit = repoPath('docker', 'tidewatch-agent.service');
    const dropIn = repoPath('docker', 'tidewatch-agent.kernel-lt-5.8.conf');

    it('verify complains about a broken unit (so its silence below means something)', () => {
      const dir = mkdtempSync(join(tmpdir(), 'tw-bad-unit-'));
      try {
        writeFileSync(
          join(dir, 'bad.service'),
          '[Service]\nExecStart=/usr/bin/node\nCapabilityBoundingSet=CAP_BPF\nNoSuchKey=1\n',
        );
        expect(verifyUnit(join(dir, 'bad.service')).complaints).toMatch(/Unknown key 'NoSuchKey'/);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    });

    it('agent unit: no complaint; systemd reads exactly CAP_BPF, CAP_NET_ADMIN, CAP_PERFMON as user tidewatch', () => {
      const v = verifyUnit(agentUnit);
      expect({ code: v.code, complaints: v.complaints }).toEqual({ code: 0, complaints: '' });
      expect({
        user: v.props.User,
        bounding: v.props.CapabilityBoundingSet,
        ambient: v.props.AmbientCapabilities,
      }).toEqual({
        user: 'tidewatch',
        bounding: 'cap_bpf cap_net_admin cap_perfmon',
        ambient: 'cap_bpf cap_net_admin cap_perfmon',
      });
      expect(readFileSync(agentUnit, 'utf8')).toMatch(/^NoNewPrivileges=yes$/m);
    });

    it('agent unit with the < 5.8 drop-in: exactly CAP_SYS_ADMIN and CAP_NET_ADMIN (the list is replaced, not added to)', () => {
      const v = verifyUnit(agentUnit, [dropIn]);
      expect({ code: v.code, complaints: v.complaints }).toEqual({ code: 0, complaints: '' });
      expect({
        bounding: v.props.CapabilityBoundingSet,
        ambient: v.props.AmbientCapabilities,
      }).toEqual({
        bounding: 'cap_net_admin cap_sys_admin',
        ambient: 'cap_net_admin cap_sys_admin',
      });
    });

    it('server unit: no complaint; user tidewatch-server with no capability at all', () => {
      const v = verifyUnit(repoPath('docker', 'tidewatch-server.service'));
      expect({ code: v.code, complaints: v.complaints }).toEqual({ code: 0, complaints: '' });
      expect({
        user: v.props.User,
        bounding: v.props.CapabilityBoundingSet,
        ambient: v.props.AmbientCapabilities,
      }).toEqual({
        user: 'tidewatch-server',
        bounding: '',
        ambient: undefined,
      });
    });
  },
);
