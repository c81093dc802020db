import { randomBytes } from 'node:crypto';
import { rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { Environment, parseEnvironment } from '../../src/config/environment';
import { testAuditEnv } from './audit';
import { RunningServer, startServer } from '../../src/server';
import { createLogger } from '../../src/logging/logger';

let keyFile: string | null = null;

/** A TOTP encryption key for this test process (AUTH_TOTP_KEY_FILE), removed at exit. */
export function testTotpKeyFile(): string {
  if (!keyFile) {
    const file = path.join(
      tmpdir(),
      `tw-test-totp-${process.pid}-${randomBytes(4).toString('hex')}.key`,
    );
    writeFileSync(file, randomBytes(32).toString('hex'), { mode: 0o600 });
    process.once('exit', () => rmSync(file, { force: true }));
    keyFile = file;
  }
  return keyFile;
}

export function testEnv(databaseUrl: string, extra: Record<string, string> = {}): Environment {
  return parseEnvironment({
    DATABASE_URL: databaseUrl,
    HTTP_HOST: '127.0.0.1',
    HTTP_PORT: '0',
    GRPC_HOST: '127.0.0.1',
    GRPC_PORT: '0',
    LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'silent',
    ...testAuditEnv(databaseUrl),
    AUTH_TOTP_KEY_FILE: testTotpKeyFile(),
    ...extra,
  });
}

/** The real server in this process, on ephemeral ports. */
export function startTestServer(
  databaseUrl: string,
  extra: Record<string, string> = {},
): Promise<RunningServer> {
  const env = testEnv(databaseUrl, extra);
  return startServer(env, createLogger(env.logLevel));
}

/** GET with an optional bearer token (see support/auth.ts for getting one). */
export async function getJson<T = Record<string, unknown>>(
  port: number,
  path: string,
  token?: string,
): Promise<{ status: number; body: T }> {
  const res = await fetch(`http://127.0.0.1:${port}${path}`, {
    headers: token ? { authorization: `Bearer ${token}` } : {},
  });
  const text = await res.text();
  let body: unknown = text;
  try {
    body = JSON.parse(text);
  } catch {
    // not JSON (e.g. /metrics)
  }
  return { status: res.status, body: body as T };
}
