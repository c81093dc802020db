import type { Batch } from '@tidewatch/proto';
import { BrowserContext, Page } from 'playwright-core';
import { expectAccessible } from './support/a11y';
import { AgentStream } from './support/agent';
import { expectNoRawKeys, openPage, screenshot, signIn, textOf } from './support/browser';
import { createUser, enrollmentToken } from './support/processes';
import { ConsoleStack } from './support/stack';
import { sums, trafficWindow, WINDOW_MS } from './fixtures/windows';

// The host page's comparison with a past period and its brush-zoom, in a real browser against
// the real server and PostgreSQL, filled over real gRPC by one test agent: windows now and the
// same windows' slots one day earlier. Every figure asserted is the exact sum of what it sent.

jest.setTimeout(240_000);

const ZONE = 'Asia/Shanghai';
const DAY_MS = 86_400_000;
const H = {
  agentId: '6f1c2b0e-5d4a-4c3b-8a29-0000000000c1',
  hostname: 'pay-gw-03',
  labels: { env: 'prod' },
};
// Whole minutes, half an hour ago: it and the day before lie inside raw retention (7 days).
const T0 = Math.floor(Date.now() / 60_000) * 60_000 - 30 * 60_000;
const SPAN = 120_000;
const FROM = new Date(T0).toISOString();
const TO = new Date(T0 + SPAN).toISOString();
const RANGE = `from=${encodeURIComponent(FROM)}&to=${encodeURIComponent(TO)}`;

// Now: windows 4 and 5 missing. A day earlier: other figures (k + 20), windows 3, 4 and 9..11
// missing, so the compared lines have a gap inside and one at the end.
const NOW_SLOTS = [0, 1, 2, 3, 6, 7, 8, 9, 10, 11];
const PAST_SLOTS = [0, 1, 2, 5, 6, 7, 8];
const pastBatches = PAST_SLOTS.map((k, i) =>
  trafficWindow(i + 1, T0 - DAY_MS + k * WINDOW_MS, k + 20),
);
const nowBatches = NOW_SLOTS.map((k, i) =>
  trafficWindow(pastBatches.length + i + 1, T0 + k * WINDOW_MS, k),
);
/** The windows starting in [from, to): a window belongs to the instant it starts. */
const inside = (batches: Batch[], from: number, to: number) =>
  batches.filter((b) => Number(b.windowStartMs) >= from && Number(b.windowStartMs) < to);

const USER = {
  username: 'host-detail-viewer',
  password: 'compare horse battery staple 47',
  role: 'viewer',
};

const stack = new ConsoleStack();
let context: BrowserContext;

const count = (locale: string, n: bigint) => new Intl.NumberFormat(locale).format(n);
const when = (locale: string, ms: number) =>
  `${new Intl.DateTimeFormat(locale, { timeZone: ZONE, year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', second: '2-digit', hourCycle: 'h23' }).format(new Date(ms))} GMT+8`;
/** The change from `before` to `now`, to 1/10,000 (truncated), signed, as the page shows it. */
const change = (locale: string, now: bigint, before: bigint) =>
  new Intl.NumberFormat(locale, {
    style: 'percent',
    maximumFractionDigits: 1,
    signDisplay: 'exceptZero',
  }).format(Number(((now - before) * 10_000n) / before) / 10_000);

beforeAll(async () => {
  await stack.start(ZONE, { AUTH_TOTP_ROLES: '' });
  const s = new AgentStream(stack.server.grpcPort);
  await s.hello({
    ...H,
    agentVersion: '0.1.0',
    kernelRelease: '4.19.90-kylin',
    capabilities: [],
    enrollmentToken: enrollmentToken(stack.db.url, 1),
  });
  await s.send([...pastBatches, ...nowBatches]);
  s.close();
  createUser(stack.db.url, USER);
  context = await stack.browser.newContext();
  const page = await context.newPage();
  await signIn(page, `${stack.consoleApp.url}/en/sign-in?next=%2Fen%2Ffleet`, USER);
  expect(new URL(page.url()).pathname).toBe('/en/fleet');
  await page.close();
});

afterAll(async () => {
  await context?.close();
  await stack.stop();
});

/** The page's four totals and their compared figures, as exact sums of `now` and `before`. */
async function expectTotals(page: Page, locale: string, now: Batch[], before: Batch[]) {
  const n = sums(now);
  const b = sums(before);
  const figures = [
    ['total-bytes', n.bytes, b.bytes],
    ['total-packets', n.packets, b.packets],
    ['bytes-ingress', n.ingressBytes, b.ingressBytes],
    ['bytes-egress', n.egressBytes, b.egressBytes],
  ] as const;
  for (const [id, cur, prev] of figures) {
    expect([id, await textOf(page, id)]).toEqual([id, count(locale, cur)]);
    expect([id, await textOf(page, `prev-${id}`)]).toEqual([id, count(locale, prev)]);
    expect([id, await textOf(page, `change-${id}`)]).toEqual([id, change(locale, cur, prev)]);
  }
}

describe.each([
  ['en', 'Same period yesterday'],
  ['zh-CN', '昨日同期'],
])('%s', (locale, yesterday) => {
  let page: Page;
  beforeAll(async () => {
    page = await context.newPage();
  });
  afterAll(() => page.close());

  it('compares with the same period yesterday: exact totals, dashed lines with their gaps', async () => {
    await openPage(page, `${stack.consoleApp.url}/${locale}/hosts/${H.agentId}?${RANGE}`, locale);
    expect(await page.getByTestId('compare-period').count()).toBe(0);
    expect(await page.getByTestId('prev-total-bytes').count()).toBe(0);
    // The control is a link that keeps the range.
    const link = page.getByTestId('compare-bar').getByRole('link', { name: yesterday });
    await Promise.all([
      page.waitForURL((u) => u.searchParams.get('compare') === '1d'),
      link.click(),
    ]);
    expect(new URL(page.url()).searchParams.get('from')).toBe(FROM);
    await page.getByTestId('prev-total-bytes').waitFor();
    expect(await link.getAttribute('aria-current')).toBe('true');

    await expectTotals(page, locale, nowBatches, pastBatches);
    const period = await textOf(page, 'compare-period');
    expect(period).toContain(when(locale, T0 - DAY_MS));
    expect(period).toContain(when(locale, T0 - DAY_MS + SPAN));
    const chart = page.getByTestId('rate-chart');
    expect(await chart.getAttribute('data-compare-lines')).toBe('2');
    // Yesterday's missing windows (30-50 s) and its end (90-120 s), moved onto today's axis.
    expect(JSON.parse((await chart.getAttribute('data-compare-gaps')) ?? 'null')).toEqual([
      { from: T0 + 30_000, to: T0 + 50_000 },
      { from: T0 + 90_000, to: T0 + 120_000 },
    ]);
    expect(JSON.parse((await chart.getAttribute('data-gaps')) ?? 'null')).toEqual([
      { from: T0 + 40_000, to: T0 + 60_000 },
    ]);
    await page.locator('[data-testid="rate-chart"] canvas').first().waitFor();
    await expectNoRawKeys(page);
    expect(await page.locator('body').innerText()).not.toMatch(/\bhost\.compare\./);
    await screenshot(page, `host-compare-${locale}`);
    await expectAccessible(page, 'host-compare', locale);
  });

  it('zooms out to twice the range around its centre, keeping the comparison', async () => {
    await openPage(
      page,
      `${stack.consoleApp.url}/${locale}/hosts/${H.agentId}?${RANGE}&compare=1d`,
      locale,
    );
    const href = await page.getByTestId('zoom-out').getAttribute('href');
    const u = new URL(href ?? '', stack.consoleApp.url);
    expect([u.searchParams.get('from'), u.searchParams.get('to')]).toEqual([
      new Date(T0 - SPAN / 2).toISOString(),
      new Date(T0 + SPAN + SPAN / 2).toISOString(),
    ]);
    expect(u.searchParams.get('compare')).toBe('1d');
  });

  it('a drag over the chart opens the dragged range, with its exact totals', async () => {
    await openPage(
      page,
      `${stack.consoleApp.url}/${locale}/hosts/${H.agentId}?${RANGE}&compare=1d`,
      locale,
    );
    const canvas = page.locator('[data-testid="rate-chart"] canvas').first();
    await canvas.waitFor();
    const box = await canvas.boundingBox();
    if (!box) throw new Error('the rate chart has no box');
    const y = box.y + box.height / 2;
    await page.mouse.move(box.x + box.width * 0.35, y);
    await page.mouse.down();
    await page.mouse.move(box.x + box.width * 0.65, y, { steps: 12 });
    await Promise.all([
      page.waitForURL((u) => u.searchParams.get('from') !== FROM),
      page.mouse.up(),
    ]);
    const url = new URL(page.url());
    const from = Date.parse(url.searchParams.get('from') ?? '');
    const to = Date.parse(url.searchParams.get('to') ?? '');
    expect(url.searchParams.get('compare')).toBe('1d');
    expect(url.pathname).toBe(`/${locale}/hosts/${H.agentId}`);
    // Inside the range the chart showed, narrower, in whole seconds.
    expect(from).toBeGreaterThanOrEqual(T0);
    expect(to).toBeLessThanOrEqual(T0 + SPAN);
    expect(to - from).toBeLessThan(SPAN);
    expect([from % 1000, to % 1000]).toEqual([0, 0]);
    const nowIn = inside(nowBatches, from, to);
    const pastIn = inside(pastBatches, from - DAY_MS, to - DAY_MS);
    // A drag over the middle of the chart holds some windows of both periods, not all.
    expect(nowIn.length).toBeGreaterThan(0);
    expect(nowIn.length).toBeLessThan(nowBatches.length);
    expect(pastIn.length).toBeGreaterThan(0);

    await page.locator('[data-testid="range-shown"]', { hasText: when(locale, from) }).waitFor();
    expect(await textOf(page, 'range-shown')).toContain(when(locale, to));
    await page.getByTestId('prev-total-bytes').waitFor();
    await expectTotals(page, locale, nowIn, pastIn);
    const period = await textOf(page, 'compare-period');
    expect(period).toContain(when(locale, from - DAY_MS));
    expect(period).toContain(when(locale, to - DAY_MS));
  });
});
