import { ChildProcess, execFileSync, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import * as path from 'node:path';
import { testAuditEnv } from './audit';

export const SERVER_ROOT = path.resolve(__dirname, '..', '..');
export const BIN = path.join(SERVER_ROOT, 'bin', 'tidewatch-server.js');

export function assertBuilt(): void {
  if (!existsSync(path.join(SERVER_ROOT, 'dist', 'main.js'))) {
    throw new Error(
      'apps/server/dist is missing: run `npm run build -w @tidewatch/server` before these tests',
    );
  }
}

export interface ChildServer {
  proc: ChildProcess;
  httpPort: number;
  grpcPort: number;
  output: () => string;
}

/** The built server as a separate process (so that it can be SIGKILLed), on ephemeral ports. */
export function spawnServer(
  databaseUrl: string,
  extra: Record<string, string> = {},
): Promise<ChildServer> {
  assertBuilt();
  const proc = spawn(process.execPath, [BIN, 'serve'], {
    env: {
      ...process.env,
      DATABASE_URL: databaseUrl,
      HTTP_HOST: '127.0.0.1',
      HTTP_PORT: '0',
      GRPC_HOST: '127.0.0.1',
      GRPC_PORT: '0',
      LOG_LEVEL: 'info',
      ...testAuditEnv(databaseUrl),
      ...extra,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`server did not start:\n${out}`)), 30_000);
    const onData = (chunk: Buffer) => {
      out += chunk.toString();
      for (const line of out.split('\n')) {
        if (!line.includes('"event":"listening"')) continue;
        const m = JSON.parse(line) as { httpPort: number; grpcPort: number };
        clearTimeout(timer);
        proc.stdout?.off('data', onData);
        proc.stdout?.on('data', (c: Buffer) => (out += c.toString()));
        resolve({ proc, httpPort: m.httpPort, grpcPort: m.grpcPort, output: () => out });
        return;
      }
    };
    proc.stdout?.on('data', onData);
    proc.stderr?.on('data', (c: Buffer) => (out += c.toString()));
    proc.on('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`server exited with ${code} before listening:\n${out}`));
    });
  });
}

export function killed(proc: ChildProcess): Promise<void> {
  return new Promise((resolve) => {
    if (proc.exitCode !== null || proc.signalCode !== null) return resolve();
    proc.once('exit', () => resolve());
  });
}

/** Runs the built server's CLI against `databaseUrl`; its trimmed stdout (stderr dropped). */
export function serverCli(databaseUrl: string): (...args: string[]) => string {
  return (...args) =>
    execFileSync(process.execPath, [BIN, ...args], {
      env: { ...process.env, DATABASE_URL: databaseUrl },
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'ignore'],
    }).trim();
}
