import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describeWhere, kernelTestGate } from './kernel-gate';

/** The Debian package `prometheus` installs both. */
export const PROMETHEUS = '/usr/bin/prometheus';
export const PROMTOOL = '/usr/bin/promtool';

/**
 * describe for tests that need the Prometheus tools (and, with `kernel`, root
 * and the kernel; `alsoMissing` for anything else): skipped with the reason
 * where something is missing, except under CI=true, where such tests run and
 * fail instead.
 */
export function describePrometheus(
  name: string,
  fn: () => void,
  opts: { kernel?: boolean; alsoMissing?: string[] } = {},
): void {
  const missing = [PROMETHEUS, PROMTOOL]
    .filter((p) => !existsSync(p))
    .map((p) => `${p} missing (Debian package prometheus)`);
  if (opts.kernel) missing.push(kernelTestGate().reason);
  describeWhere(name, [...missing, ...(opts.alsoMissing ?? [])], fn);
}

/** A promtool subcommand (`check metrics` on stdin, `check config FILE`, ...): exit code and output. */
export function promtool(args: string[], input?: string): { code: number | null; output: string } {
  const r = spawnSync(PROMTOOL, args, { input, encoding: 'utf8' });
  if (r.error) throw new Error(`cannot run ${PROMTOOL}: ${r.error.message}`);
  return { code: r.status, output: `${r.stdout}${r.stderr}`.trim() };
}

/** `promtool check metrics` on a text exposition: its exit code and what it reported. */
export function promtoolCheckMetrics(text: string): { code: number | null; output: string } {
  return promtool(['check', 'metrics'], text);
}

export interface PromSample {
  labels: Record<string, string>;
  value: number;
  /** Unix seconds of the sample. */
  at: number;
}

/** One scrape job: its name and `host:port` targets (path /metrics). */
export interface ScrapeJob {
  job: string;
  targets: string[];
}

async function freePort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', () => r()));
  const port = (s.address() as { port: number }).port;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

/** The configuration start() writes: every job scraped each second. */
export function scrapeConfig(jobs: ScrapeJob[]): string {
  return [
    'global:',
    '  scrape_interval: 1s',
    '  scrape_timeout: 1s',
    'scrape_configs:',
    ...jobs.flatMap((j) => [
      `  - job_name: ${j.job}`,
      '    static_configs:',
      `      - targets: [${j.targets.map((t) => `'${t}'`).join(', ')}]`,
    ]),
    '',
  ].join('\n');
}

/**
 * A real Prometheus server on 127.0.0.1 with its own temporary config and
 * TSDB. start() takes one target (job `tidewatch` by default), a list of
 * jobs, or a whole configuration file's text. stop() kills it and removes the
 * directory; call it in a finally.
 */
export class PrometheusServer {
  readonly dir = mkdtempSync(join(tmpdir(), 'tw-prom-'));
  port = 0;
  log = '';
  private child: ChildProcess | undefined;
  private exited: Promise<void> = Promise.resolve();

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  async start(target: string | ScrapeJob[] | { config: string }, job = 'tidewatch'): Promise<void> {
    this.port = await freePort();
    const config = join(this.dir, 'prometheus.yml');
    const text =
      typeof target === 'string'
        ? scrapeConfig([{ job, targets: [target] }])
        : Array.isArray(target)
          ? scrapeConfig(target)
          : target.config;
    writeFileSync(config, text);
    const child = spawn(
      PROMETHEUS,
      [
        `--config.file=${config}`,
        `--storage.tsdb.path=${join(this.dir, 'data')}`,
        `--web.listen-address=127.0.0.1:${this.port}`,
        '--log.level=warn',
      ],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    this.child = child;
    child.stdout!.on('data', (d: Buffer) => (this.log += d));
    child.stderr!.on('data', (d: Buffer) => (this.log += d));
    this.exited = new Promise((resolve) => child.on('close', () => resolve()));
    let ready = false;
    const poll = setInterval(() => {
      fetch(`${this.url}/-/ready`).then(
        (r) => (ready = r.ok),
        () => undefined,
      );
    }, 100);
    try {
      const deadline = Date.now() + 20_000;
      while (!ready && child.exitCode === null) {
        if (Date.now() > deadline)
          throw new Error(`timed out waiting for Prometheus ready: ${this.log}`);
        await new Promise((r) => setTimeout(r, 20));
      }
    } finally {
      clearInterval(poll);
    }
    if (!ready) throw new Error(`prometheus exited ${child.exitCode}: ${this.log}`);
  }

  /** An instant query through the HTTP API (/api/v1/query), now or at `at` (Unix seconds). */
  async query(promql: string, at?: number): Promise<PromSample[]> {
    const time = at === undefined ? '' : `&time=${at.toFixed(3)}`;
    const res = await fetch(`${this.url}/api/v1/query?query=${encodeURIComponent(promql)}${time}`);
    const body = (await res.json()) as {
      status: string;
      error?: string;
      data?: {
        resultType: string;
        result: { metric: Record<string, string>; value: [number, string] }[];
      };
    };
    if (body.status !== 'success' || body.data?.resultType !== 'vector')
      throw new Error(`query ${promql} failed: ${body.error ?? JSON.stringify(body)}`);
    return body.data.result.map((r) => ({
      labels: r.metric,
      value: Number(r.value[1]),
      at: r.value[0],
    }));
  }

  async stop(): Promise<void> {
    const child = this.child;
    if (child && child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM');
      const t = setTimeout(() => child.kill('SIGKILL'), 10_000);
      await this.exited;
      clearTimeout(t);
    }
    rmSync(this.dir, { recursive: true, force: true });
  }
}
