// npm run bench:console — how fast the console's two heaviest pages become useful, in Debian's
// chromium (playwright-core, executablePath) against the real server, PostgreSQL and console:
//   1. a fresh database, migrated by the built server; BENCH_HOSTS (1,000) hosts with 30 days of
//      1 h rollups and the last hour's 1 min / last 20 minutes' raw traffic generated straight
//      into its tables (apps/server/bench/history.js, shared with bench:reports);
//   2. the built console (server.mjs) talking to the server through a timing proxy in this
//      process, so every API request the pages make (server components and the browser's) is
//      timed; a viewer signs in through the form;
//   3. per locale, the fleet page (default range, 15 min) and one host's page over 30 days, one
//      unmeasured warm-up load then BENCH_RUNS (5) measured loads each, in new tabs: median, p95.
// Prints a table and JSON (also written to bench/results/). Needs `npm run build`. Not a test.
import { createRequire } from 'node:module';
import { randomUUID } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import path from 'node:path';
import { Client } from 'pg';
import { chromium, Page } from 'playwright-core';
import {
  assertBuilt,
  auditEnv,
  Child,
  CONSOLE_ROOT,
  createTestDatabase,
  createUser,
  startConsole,
  startServer,
  stop,
  TestDatabase,
} from '../test/support/processes';

const ROOT = path.resolve(CONSOLE_ROOT, '..', '..');
// The server's built files and the shared generator, loaded at run time as bench:reports does:
// the console itself may import only the shared contracts.
const load = createRequire(__filename);
const { partitionDdl } = load(path.join(ROOT, 'apps/server/dist/storage/partitions.js')) as {
  partitionDdl: (table: string, start: Date, unit: 'day' | 'month', rollup: boolean) => string;
};
type Generator = (db: Client, ids: string[], ...rest: unknown[]) => Promise<Record<string, number>>;
const history = load(path.join(ROOT, 'apps/server/bench/history.js')) as {
  insertHosts: (db: Client, ids: string[], enrolledAt: Date) => Promise<void>;
  generateHistory: Generator;
  generateRecentTraffic: Generator;
};

const HOSTS = Number(process.env.BENCH_HOSTS ?? 1_000);
const RUNS = Number(process.env.BENCH_RUNS ?? 5);
const LOCALES = (process.env.BENCH_LOCALES ?? 'zh-CN,en').split(',');
/** Lighthouse's quiet window: no long task for this long after the meaningful paint. */
const QUIET_MS = 5_000;
const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const VIEWER = {
  username: 'bench-viewer',
  password: 'bench horse battery staple 47',
  role: 'viewer',
};
const log = (m: string) => process.stderr.write(`bench:console: ${m}\n`);

const pct = (xs: number[], p: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length ? s[Math.min(s.length - 1, Math.ceil((p / 100) * s.length) - 1)] : NaN;
};
/** Median and p95 (nearest rank) of the runs that reached the milestone; `missed` the others. */
const stats = (raw: (number | undefined)[]) => {
  const xs = raw.filter((x): x is number => typeof x === 'number' && Number.isFinite(x));
  return {
    median: +pct(xs, 50).toFixed(1),
    p95: +pct(xs, 95).toFixed(1),
    missed: raw.length - xs.length,
  };
};

interface ApiCall {
  route: string;
  from: 'browser' | 'console server';
  status: number;
  ms: number;
  at: number;
}

/**
 * The console's TIDEWATCH_API_URL: forwards everything to the server, timing each request from
 * its arrival to the end of the server's answer; the live feed's upgrade is piped through.
 */
function timingProxy(
  serverPort: number,
): Promise<{ url: string; calls: ApiCall[]; close: () => void }> {
  const calls: ApiCall[] = [];
  const route = (url: string) => {
    const u = new URL(url, 'http://x');
    const by = u.searchParams.get('by') ?? u.searchParams.get('groupBy');
    return u.pathname.replace(/[0-9a-f]{8}-[0-9a-f-]{27}/g, '{agentId}') + (by ? ` (${by})` : '');
  };
  const server = http.createServer((req, res) => {
    const t0 = performance.now();
    const up = http.request(
      {
        host: '127.0.0.1',
        port: serverPort,
        method: req.method,
        path: req.url,
        headers: req.headers,
      },
      (answer) => {
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(res);
        answer.on('end', () =>
          calls.push({
            route: `${req.method} ${route(req.url ?? '/')}`,
            // The console forwards the browser's own User-Agent on its /api proxy.
            from: /Chrome/.test(req.headers['user-agent'] ?? '') ? 'browser' : 'console server',
            status: answer.statusCode ?? 0,
            ms: performance.now() - t0,
            at: t0,
          }),
        );
      },
    );
    up.on('error', () => res.destroy());
    req.pipe(up);
  });
  server.on('upgrade', (req, socket, head) => {
    const up = net.connect(serverPort, '127.0.0.1', () => {
      const lines = [`${req.method} ${req.url} HTTP/${req.httpVersion}`];
      for (let i = 0; i < req.rawHeaders.length; i += 2)
        lines.push(`${req.rawHeaders[i]}: ${req.rawHeaders[i + 1]}`);
      up.write(`${lines.join('\r\n')}\r\n\r\n`);
      up.write(head);
      up.pipe(socket);
      socket.pipe(up);
    });
    const end = () => {
      up.destroy();
      socket.destroy();
    };
    up.on('error', end);
    socket.on('error', end);
  });
  return new Promise((resolve) =>
    server.listen(0, '127.0.0.1', () =>
      resolve({
        url: `http://127.0.0.1:${(server.address() as net.AddressInfo).port}`,
        calls,
        close: () => {
          server.closeAllConnections();
          server.close();
        },
      }),
    ),
  );
}

/** What the page records about itself, from before its first script (an init script). */
interface Probe {
  marks: Record<string, number>;
  longTasks: [number, number][];
}

// Runs in the page. Marks are performance.now() of the mutation (or frame) that met each
// condition, i.e. milliseconds since navigation start.
function installProbe() {
  const p: Probe = { marks: {}, longTasks: [] };
  (window as unknown as { __tw: Probe }).__tw = p;
  const mark = (k: string) => {
    if (p.marks[k] === undefined) p.marks[k] = performance.now();
  };
  try {
    new PerformanceObserver((list) => {
      for (const e of list.getEntries()) p.longTasks.push([e.startTime, e.startTime + e.duration]);
    }).observe({ type: 'longtask', buffered: true });
  } catch {
    // no long-task timing: TTI falls back to the meaningful paint
  }
  for (const type of ['keydown', 'mousemove'])
    document.addEventListener(type, () => (p.marks[`${type}At`] ??= performance.now()), true);
  const check = () => {
    const rows = [...document.querySelectorAll('.fleet-row')];
    if (rows.length) mark('firstRow');
    // A host row is complete when its sparkline is drawn: its series has arrived.
    if (rows.some((r) => r.querySelector('svg'))) mark('firstRowComplete');
    if (rows.length && rows.every((r) => r.querySelector('svg'))) mark('rowsComplete');
    const last = document.querySelector(
      `.fleet-row[aria-rowindex="${(window as unknown as { __twLast?: number }).__twLast ?? -1}"]`,
    );
    if (last && p.marks.keydownAt !== undefined) {
      mark('lastRow');
      if (last.querySelector('svg')) mark('lastRowComplete');
    }
    if (document.querySelector('[data-testid="total-bytes"]')) mark('totals');
    const chart = document.querySelector('.chart');
    const canvas = chart?.querySelector('canvas');
    if (canvas && p.marks.chartCanvas === undefined) {
      mark('chartCanvas');
      // The second frame after the canvas exists: ECharts drew in the first, it was painted.
      requestAnimationFrame(() => requestAnimationFrame(() => mark('chartPainted')));
    }
    if (chart && canvas && p.marks.mousemoveAt !== undefined) {
      const tip = [...chart.querySelectorAll('div')].find(
        (d) =>
          !d.contains(canvas) && getComputedStyle(d).display !== 'none' && d.textContent?.trim(),
      );
      if (tip) mark('tooltip');
    }
  };
  new MutationObserver(check).observe(document, {
    childList: true,
    subtree: true,
    characterData: true,
    attributes: true,
    attributeFilter: ['style'],
  });
}

interface Load {
  marks: Record<string, number>;
  /** Fleet rows in the DOM at the end, and the text of those still without a sparkline. */
  rows: number;
  pending: (string | null)[];
  ttfb: number;
  fcp: number;
  dcl: number;
  tti: number;
  longTaskMs: number;
  calls: ApiCall[];
}

/** One load of `url` in a new tab: waits for `meaningful`, then for the quiet window. */
async function measure(
  page: Page,
  url: string,
  meaningful: string,
  later: string[],
  proxyCalls: ApiCall[],
): Promise<Load> {
  const first = proxyCalls.length;
  const t0 = performance.now();
  await page.goto(url, { waitUntil: 'commit', timeout: 120_000 });
  await page.waitForFunction(
    ([k, quiet, later]) => {
      const p = (window as unknown as { __tw?: Probe }).__tw;
      if (!p || p.marks[k] === undefined) return false;
      // The later milestones (every row on screen complete) too, given up on after 60 s.
      const reached = later.filter((m) => p.marks[m] !== undefined);
      if (reached.length < later.length && performance.now() < 60_000) return false;
      const lastEnd = Math.max(
        p.marks[k],
        ...reached.map((m) => p.marks[m]),
        ...p.longTasks.map((t) => t[1]),
      );
      return performance.now() - lastEnd >= quiet;
    },
    [meaningful, QUIET_MS, later] as [string, number, string[]],
    { timeout: 180_000, polling: 100 },
  );
  const r = await page.evaluate(() => {
    const p = (window as unknown as { __tw: Probe }).__tw;
    const nav = performance.getEntriesByType('navigation')[0] as PerformanceNavigationTiming;
    const fcp = performance.getEntriesByName('first-contentful-paint')[0]?.startTime ?? NaN;
    const rows = [...document.querySelectorAll('.fleet-row')];
    return {
      rows: rows.length,
      pending: rows.filter((row) => !row.querySelector('svg')).map((row) => row.textContent),
      marks: { ...p.marks },
      longTasks: p.longTasks,
      ttfb: nav.responseStart,
      dcl: nav.domContentLoadedEventEnd,
      fcp,
    };
  });
  const fmp = r.marks[meaningful];
  // Interactive: the meaningful paint is there, the document is parsed, and the main thread has
  // been free of long tasks (≥ 50 ms) for QUIET_MS since the last one ended.
  const tti = Math.max(fmp, r.dcl, ...r.longTasks.map((t) => t[1]));
  // The navigation's requests: those that arrived from just before goto until now.
  const calls = proxyCalls.slice(first).filter((c) => c.at >= t0 - 1);
  return {
    marks: r.marks,
    rows: r.rows,
    pending: r.pending,
    ttfb: r.ttfb,
    fcp: r.fcp,
    dcl: r.dcl,
    tti,
    longTaskMs: r.longTasks.reduce((n, t) => n + t[1] - t[0], 0),
    calls,
  };
}

/** The fleet list answering the keyboard: End on the focused list until the last host's row. */
async function fleetKeyboard(page: Page): Promise<{ lastRow: number; lastRowComplete: number }> {
  await page.evaluate((n) => ((window as unknown as { __twLast: number }).__twLast = n), HOSTS + 1);
  await page.locator('[data-testid="fleet-list"]').focus();
  await page.keyboard.press('End');
  await page.waitForFunction(
    () => (window as unknown as { __tw: Probe }).__tw.marks.lastRowComplete !== undefined,
    undefined,
    { timeout: 60_000 },
  );
  const m = await page.evaluate(() => (window as unknown as { __tw: Probe }).__tw.marks);
  return { lastRow: m.lastRow - m.keydownAt, lastRowComplete: m.lastRowComplete - m.keydownAt };
}

/** The host chart answering the pointer: moving over its middle until ECharts' tooltip shows. */
async function hostTooltip(page: Page): Promise<number> {
  const box = await page.locator('.chart canvas').first().boundingBox();
  if (!box) throw new Error('the rate chart has no box');
  await page.mouse.move(box.x + box.width / 2, box.y + box.height / 2);
  await page.waitForFunction(
    () => (window as unknown as { __tw: Probe }).__tw.marks.tooltip !== undefined,
    undefined,
    { timeout: 30_000 },
  );
  const m = await page.evaluate(() => (window as unknown as { __tw: Probe }).__tw.marks);
  return m.tooltip - m.mousemoveAt;
}

interface Seen {
  route: string;
  /** Fetch start to the answer's end, as the browser saw it (through the console's /api). */
  ms: number;
  /** Fetch start to the request's leaving: queued for a connection (6 per origin), connecting. */
  queuedMs: number;
}

/** The browser's own Resource Timing of its API requests, before and after the input probe. */
function browserTimings(page: Page): Promise<Seen[]> {
  return page.evaluate(() => {
    const m = (window as unknown as { __tw: Probe }).__tw.marks;
    const input = m.keydownAt ?? m.mousemoveAt ?? Infinity;
    return (performance.getEntriesByType('resource') as PerformanceResourceTiming[])
      .filter((e) => e.name.includes('/api/v1/'))
      .map((e) => ({
        route: `${e.startTime < input ? 'load' : 'after input'}: ${new URL(e.name).pathname.replace(/[0-9a-f]{8}-[0-9a-f-]{27}/g, '{agentId}')}`,
        ms: e.responseEnd - e.startTime,
        queuedMs: (e.requestStart || e.startTime) - e.startTime,
      }));
  });
}

function seenTable(loads: { seen: Seen[] }[]) {
  const by = new Map<string, Seen[]>();
  for (const l of loads) for (const x of l.seen) by.set(x.route, [...(by.get(x.route) ?? []), x]);
  return [...by.entries()]
    .map(([route, xs]) => ({
      request: route,
      perLoad: +(xs.length / loads.length).toFixed(1),
      ...stats(xs.map((x) => x.ms)),
      queuedMedian: stats(xs.map((x) => x.queuedMs)).median,
    }))
    .sort((a, b) => a.request.localeCompare(b.request));
}

function apiTable(loads: Load[]) {
  const by = new Map<string, { from: string; ms: number[]; perLoad: number }>();
  for (const l of loads)
    for (const c of l.calls) {
      const k = `${c.from}: ${c.route}`;
      const e = by.get(k) ?? { from: c.from, ms: [], perLoad: 0 };
      e.ms.push(c.ms);
      by.set(k, e);
    }
  return [...by.entries()]
    .map(([k, e]) => ({
      request: k,
      perLoad: +(e.ms.length / loads.length).toFixed(1),
      ...stats(e.ms),
    }))
    .sort((a, b) => a.request.localeCompare(b.request));
}

async function main() {
  assertBuilt();
  let db: TestDatabase | undefined;
  let audit: ReturnType<typeof auditEnv> | undefined;
  let server: (Child & { httpPort: number }) | undefined;
  let consoleApp: Child | undefined;
  let proxy: Awaited<ReturnType<typeof timingProxy>> | undefined;
  let pg: Client | undefined;
  let browser: Awaited<ReturnType<typeof chromium.launch>> | undefined;
  try {
    db = await createTestDatabase();
    audit = auditEnv();
    // Hosts stay online through the runs; the viewer's sign-ins are not rate limited.
    server = await startServer(db.url, {
      ...audit.env,
      AUTH_TOTP_ROLES: '',
      AUTH_LOGIN_RATE_PER_MINUTE: '1000',
      OFFLINE_AFTER_SECONDS: '86400',
    });
    pg = new Client({ connectionString: db.url });
    await pg.connect();
    const ids = Array.from({ length: HOSTS }, () => randomUUID());
    const now = Date.now();
    const to = new Date(Math.floor(now / HOUR) * HOUR);
    const from = new Date(to.getTime() - 31 * DAY);
    const t0 = performance.now();
    await history.insertHosts(pg, ids, new Date(from.getTime() - DAY));
    const rows = {
      ...(await history.generateHistory(pg, ids, from, to, { anomalies: HOSTS, log })),
      ...(await history.generateRecentTraffic(pg, ids, now, {
        rawMinutes: 20,
        minuteMinutes: 70,
        partitionDdl,
      })),
    };
    const generateSeconds = +((performance.now() - t0) / 1000).toFixed(1);
    log(`history: ${JSON.stringify(rows)} in ${generateSeconds} s`);
    createUser(db.url, VIEWER);

    proxy = await timingProxy(server.httpPort);
    consoleApp = await startConsole(proxy.url, 'Asia/Shanghai');
    const base = (consoleApp as Child & { url: string }).url;
    browser = await chromium.launch({
      executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium',
      headless: true,
      args: [
        '--no-sandbox',
        '--disable-gpu',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
        '--no-first-run',
      ],
    });
    const context = await browser.newContext({ viewport: { width: 1440, height: 900 } });
    await context.addInitScript(installProbe);
    const signIn = await context.newPage();
    await signIn.goto(`${base}/en/sign-in?next=%2Fen%2Ffleet`);
    await signIn.locator('input[name="username"]').fill(VIEWER.username);
    await signIn.locator('input[name="password"]').fill(VIEWER.password);
    await Promise.all([
      signIn.waitForURL((u) => !u.pathname.endsWith('/sign-in')),
      signIn.locator('button[type="submit"]').click(),
    ]);
    await signIn.close();

    const pages = [
      {
        page: 'fleet',
        path: '/fleet',
        meaningful: 'firstRowComplete',
        later: ['rowsComplete'],
        probe: 'keyboard',
      },
      {
        page: 'host',
        path: `/hosts/${ids[0]}?range=30d`,
        meaningful: 'chartPainted',
        later: [],
        probe: 'tooltip',
      },
    ] as const;
    const results = [];
    for (const locale of LOCALES)
      for (const p of pages) {
        const loads: (Load & { inputMs: Record<string, number>; seen: Seen[] })[] = [];
        for (let i = 0; i <= RUNS; i++) {
          const tab = await context.newPage();
          try {
            const l = await measure(
              tab,
              `${base}/${locale}${p.path}`,
              p.meaningful,
              [...p.later],
              proxy.calls,
            );
            const inputMs =
              p.probe === 'keyboard'
                ? await fleetKeyboard(tab)
                : { tooltip: await hostTooltip(tab) };
            if (i > 0) loads.push({ ...l, inputMs, seen: await browserTimings(tab) });
            log(
              `${locale} ${p.page} ${i === 0 ? 'warm-up' : `run ${i}`}: meaningful ${l.marks[p.meaningful].toFixed(0)} ms, interactive ${l.tti.toFixed(0)} ms, ${l.calls.length} API requests (${l.calls.filter((c) => c.from === 'browser').length} from the browser), ${l.rows} rows, ${l.pending.length} without sparkline ${JSON.stringify(l.pending.slice(0, 2))}`,
            );
          } finally {
            await tab.close();
          }
        }
        const of = (f: (l: (typeof loads)[number]) => number) => stats(loads.map(f));
        const milestones: Record<string, ReturnType<typeof stats>> = {
          ttfb: of((l) => l.ttfb),
          fcp: of((l) => l.fcp),
        };
        for (const k of p.page === 'fleet'
          ? ['firstRow', 'firstRowComplete', 'rowsComplete']
          : ['totals', 'chartCanvas', 'chartPainted'])
          milestones[k] = of((l) => l.marks[k]);
        milestones.tti = of((l) => l.tti);
        milestones.longTaskMs = of((l) => l.longTaskMs);
        for (const k of Object.keys(loads[0].inputMs))
          milestones[`input:${k}`] = of((l) => l.inputMs[k]);
        results.push({
          locale,
          page: p.page,
          url: `/${locale}${p.path.replace(ids[0], '<agentId>')}`,
          runs: loads.length,
          meaningful: p.meaningful,
          milestones,
          api: apiTable(loads),
          browserSaw: seenTable(loads),
          loads: loads.map((l) => ({
            marks: l.marks,
            ttfb: l.ttfb,
            fcp: l.fcp,
            tti: l.tti,
            input: l.inputMs,
            rows: l.rows,
            pending: l.pending,
            requests: l.calls.length,
            browserRequests: l.calls.filter((c) => c.from === 'browser').length,
          })),
        });
      }

    const out = {
      hosts: HOSTS,
      days: 30,
      rows,
      generateSeconds,
      runs: RUNS,
      quietMs: QUIET_MS,
      results,
    };
    for (const r of results) {
      process.stdout.write(
        `\n${r.locale} ${r.page} (${r.url}), ${r.runs} runs, ms from navigation start (median / p95)\n`,
      );
      for (const [k, v] of Object.entries(r.milestones))
        process.stdout.write(`  ${k.padEnd(26)} ${String(v.median).padStart(8)} / ${v.p95}\n`);
      process.stdout.write('  API requests (per load, median / p95 ms)\n');
      for (const a of r.api)
        process.stdout.write(
          `    ${a.request.padEnd(60)} ${String(a.perLoad).padStart(5)}  ${a.median} / ${a.p95}\n`,
        );
      process.stdout.write(
        '  as the browser saw its API requests (per load, median / p95 ms, median queued)\n',
      );
      for (const a of r.browserSaw)
        process.stdout.write(
          `    ${a.request.padEnd(60)} ${String(a.perLoad).padStart(5)}  ${a.median} / ${a.p95}  (${a.queuedMedian})\n`,
        );
    }
    const dir = path.join(ROOT, 'bench', 'results');
    mkdirSync(dir, { recursive: true });
    const file = path.join(dir, `console-${new Date().toISOString().replace(/[:.]/g, '-')}.json`);
    writeFileSync(file, `${JSON.stringify(out, null, 2)}\n`);
    process.stdout.write(`\n${JSON.stringify(out)}\n`);
    log(`written to ${path.relative(ROOT, file)}`);
  } finally {
    await browser?.close().catch(() => undefined);
    await stop(consoleApp);
    proxy?.close();
    await pg?.end().catch(() => undefined);
    await stop(server);
    await db?.drop().catch((e) => log(`could not drop ${db?.url}: ${e}`));
    audit?.cleanup();
  }
}

main().catch((err) => {
  process.stderr.write(`bench:console failed: ${err instanceof Error ? err.stack : err}\n`);
  process.exit(1);
});
