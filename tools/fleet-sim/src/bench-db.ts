import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import * as path from 'node:path';
import { Client } from 'pg';

// The benches' PostgreSQL and server CLI: each bench makes its own database, migrates it with
// the server's own migrations (`tidewatch-server migrate run`) and drops it at the end.

const ROOT = path.resolve(__dirname, '..', '..', '..');
/** The server's CLI, built (npm run build -w @tidewatch/server). */
export const SERVER_BIN = path.join(ROOT, 'apps', 'server', 'bin', 'tidewatch-server.js');
/** The maintenance database the benches create and drop theirs from. */
export const PG_URL = process.env.BENCH_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';

/** A new, empty database named `${prefix}_<random>`: its name and URL. */
export async function createDatabase(
  admin: Client,
  prefix: string,
): Promise<{ name: string; url: string }> {
  const name = `${prefix}_${randomBytes(4).toString('hex')}`;
  await admin.query(`CREATE DATABASE ${name}`);
  const url = new URL(PG_URL);
  url.pathname = `/${name}`;
  return { name, url: url.toString() };
}

/** Runs the server's CLI against the database at `databaseUrl`; its standard output, trimmed. */
export function serverCli(databaseUrl: string, ...args: string[]): string {
  return execFileSync(process.execPath, [SERVER_BIN, ...args], {
    env: { ...process.env, DATABASE_URL: databaseUrl },
    encoding: 'utf8',
  }).trim();
}
