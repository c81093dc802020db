import { Environment, parseEnvironment } from '../../src/config/environment';
import { testAuditEnv } from './audit';
import { RunningServer, startServer } from '../../src/server';
import { createLogger } from '../../src/logging/logger';

export function testEnv(databaseUrl: string, extra: Record<string, string> = {}): Environment {
  return parseEnvironment({
    DATABASE_URL: databaseUrl,
    HTTP_HOST: '127.0.0.1',
    HTTP_PORT: '0',
    GRPC_HOST: '127.0.0.1',
    GRPC_PORT: '0',
    LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'silent',
    ...testAuditEnv(databaseUrl),
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

export async function getJson<T = Record<string, unknown>>(
  port: number,
  path: string,
): Promise<{ status: number; body: T }> {
  const res = await fetch(`http://127.0.0.1:${port}${path}`);
  const text = await res.text();
  let body: unknown = text;
  try {
    body = JSON.parse(text);
  } catch {
    // not JSON (e.g. /metrics)
  }
  return { status: res.status, body: body as T };
}
