import { ChildProcess, execFileSync, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Client } from 'pg';

// The real parts the browser test runs against: PostgreSQL, the built server (a child process,
// like `npx tidewatch-server`) and the built console (`server.mjs`: `next start` plus the live feed). Nothing is stubbed.

/** apps/console, found upwards from this file: the e2e runs it from source, bench:console from bench/dist. */
function consoleRoot(): string {
  for (let dir = __dirname; ; dir = path.dirname(dir)) {
    if (existsSync(path.join(dir, 'server.mjs')) && existsSync(path.join(dir, 'next.config.ts')))
      return dir;
    if (path.dirname(dir) === dir) throw new Error(`apps/console not found above ${__dirname}`);
  }
}
export const CONSOLE_ROOT = consoleRoot();
const ROOT = path.resolve(CONSOLE_ROOT, '..', '..');
// TIDEWATCH_SERVER_ROOT: another build of the server (e.g. a clean checkout's) for local runs.
const SERVER_ROOT = process.env.TIDEWATCH_SERVER_ROOT || path.join(ROOT, 'apps', 'server');
const SERVER_BIN = path.join(SERVER_ROOT, 'bin', 'tidewatch-server.js');
// The console's own server (server.mjs: Next.js plus the live feed's WebSocket forwarding).
const CONSOLE_SERVER = path.join(CONSOLE_ROOT, 'server.mjs');
const PG_ADMIN_URL = process.env.TEST_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';

export function assertBuilt(): void {
  const missing = [
    path.join(SERVER_ROOT, 'dist', 'main.js'),
    path.join(CONSOLE_ROOT, '.next', 'BUILD_ID'),
  ].filter((f) => !existsSync(f));
  if (missing.length) {
    throw new Error(`not built (${missing.join(', ')}): run \`npm run build\` before this test`);
  }
}

export interface TestDatabase {
  url: string;
  drop(): Promise<void>;
}

/** A fresh database with a random name; fails (never skips) when PostgreSQL is unreachable. */
export async function createTestDatabase(): Promise<TestDatabase> {
  const name = `tw_console_${randomBytes(6).toString('hex')}`;
  const admin = new Client({ connectionString: PG_ADMIN_URL });
  try {
    await admin.connect();
  } catch (err) {
    throw new Error(
      `PostgreSQL is required and not reachable at ${PG_ADMIN_URL}: ${(err as Error).message}`,
    );
  }
  await admin.query(`CREATE DATABASE ${name}`);
  await admin.end();
  const url = new URL(PG_ADMIN_URL);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    async drop() {
      const a = new Client({ connectionString: PG_ADMIN_URL });
      await a.connect();
      await a.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await a.end();
    },
  };
}

export interface Child {
  proc: ChildProcess;
  output: () => string;
}

function waitFor(
  proc: ChildProcess,
  what: string,
  test: (out: string) => RegExpMatchArray | null,
  ms: number,
) {
  let out = '';
  return new Promise<{ match: RegExpMatchArray; output: () => string }>((resolve, reject) => {
    // A child that never got ready is stopped here: the caller has no handle on it to stop.
    const timer = setTimeout(() => {
      proc.kill('SIGTERM');
      reject(new Error(`${what} did not start:\n${out}`));
    }, ms);
    const onData = (c: Buffer) => {
      out += c.toString();
      const m = test(out);
      if (m) {
        clearTimeout(timer);
        resolve({ match: m, output: () => out });
      }
    };
    proc.stdout?.on('data', onData);
    proc.stderr?.on('data', (c: Buffer) => (out += c.toString()));
    proc.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`${what} exited with ${code} before it was ready:\n${out}`));
    });
  });
}

/**
 * The audit settings the server refuses to start without: a signing key made with
 * `tidewatch-server audit keygen` (as an operator would) and a checkpoint file, in a temporary
 * directory removed by `cleanup`.
 */
export function auditEnv(): { env: Record<string, string>; cleanup: () => void } {
  const dir = mkdtempSync(path.join(tmpdir(), 'tw-console-audit-'));
  const key = path.join(dir, 'signing-key.pem');
  execFileSync(process.execPath, [SERVER_BIN, 'audit', 'keygen', '--out', key], {
    env: { ...process.env, LOG_LEVEL: 'warn' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  return {
    env: {
      AUDIT_SIGNING_KEY_FILE: key,
      AUDIT_CHECKPOINT_FILE: path.join(dir, 'checkpoints.jsonl'),
      AUDIT_SYSLOG: 'off',
    },
    cleanup: () => rmSync(dir, { recursive: true, force: true }),
  };
}

export async function startServer(
  databaseUrl: string,
  extra: Record<string, string> = {},
): Promise<Child & { httpPort: number; grpcPort: number }> {
  const proc = spawn(process.execPath, [SERVER_BIN, 'serve'], {
    env: {
      ...process.env,
      DATABASE_URL: databaseUrl,
      HTTP_HOST: '127.0.0.1',
      HTTP_PORT: '0',
      GRPC_HOST: '127.0.0.1',
      GRPC_PORT: '0',
      LOG_LEVEL: 'info',
      ...extra,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const { match, output } = await waitFor(
    proc,
    'tidewatch-server',
    (out) => out.match(/"event":"listening".*?"httpPort":(\d+).*?"grpcPort":(\d+)/),
    60_000,
  );
  return { proc, output, httpPort: Number(match[1]), grpcPort: Number(match[2]) };
}

/** `tidewatch-server enroll create`: a one-use enrollment token, as an operator makes one. */
export function enrollmentToken(databaseUrl: string, uses: number): string {
  return execFileSync(
    process.execPath,
    [
      SERVER_BIN,
      'enroll',
      'create',
      '--name',
      `console-e2e-${Date.now()}`,
      '--expires',
      '1h',
      '--uses',
      String(uses),
    ],
    {
      env: { ...process.env, DATABASE_URL: databaseUrl, LOG_LEVEL: 'warn' },
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  ).trim();
}

/** `tidewatch-server users create` with the password from a file (no forced change). */
export function createUser(
  databaseUrl: string,
  user: { username: string; password: string; role: string },
): void {
  const dir = mkdtempSync(path.join(tmpdir(), 'tw-console-e2e-'));
  const file = path.join(dir, 'password');
  writeFileSync(file, `${user.password}\n`, { mode: 0o600 });
  try {
    execFileSync(
      process.execPath,
      [
        SERVER_BIN,
        'users',
        'create',
        '--username',
        user.username,
        '--role',
        user.role,
        '--password-file',
        file,
      ],
      {
        env: { ...process.env, DATABASE_URL: databaseUrl, LOG_LEVEL: 'warn' },
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Signs `user` in through the server's REST API; its session token (fails unless 200). */
export async function apiSignIn(
  httpPort: number,
  user: { username: string; password: string },
): Promise<string> {
  const res = await fetch(`http://127.0.0.1:${httpPort}/api/v1/auth/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ username: user.username, password: user.password }),
  });
  if (res.status !== 200) {
    throw new Error(`sign-in of ${user.username}: ${res.status} ${await res.text()}`);
  }
  return ((await res.json()) as { accessToken: string }).accessToken;
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

export async function startConsole(
  apiUrl: string,
  timeZone: string,
): Promise<Child & { url: string }> {
  const port = await freePort();
  const proc = spawn(process.execPath, [CONSOLE_SERVER, '-p', String(port), '-H', '127.0.0.1'], {
    cwd: CONSOLE_ROOT,
    env: {
      ...process.env,
      TIDEWATCH_API_URL: apiUrl,
      TIDEWATCH_TIME_ZONE: timeZone,
      NEXT_TELEMETRY_DISABLED: '1',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const { output } = await waitFor(
    proc,
    'the console',
    (out) => out.match(/Ready in|✓ Ready/),
    60_000,
  );
  return { proc, output, url: `http://127.0.0.1:${port}` };
}

export function stop(child: Child | undefined): Promise<void> {
  return new Promise((resolve) => {
    if (!child || child.proc.exitCode !== null || child.proc.signalCode !== null) return resolve();
    child.proc.once('exit', () => resolve());
    child.proc.kill('SIGTERM');
  });
}
