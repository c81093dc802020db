import { hash } from 'node:crypto';
import type { Batch } from '@tidewatch/proto';
import { Client } from 'pg';
import { BrowserContext, Page, Request } from 'playwright-core';
import { formatBitRate } from '../src/format/units';
import { expectAccessible } from './support/a11y';
import { AgentStream } from './support/agent';
import { expectNoRawKeys, openPage, screenshot, signIn, textOf } from './support/browser';
import { apiSignIn, createUser, enrollmentToken } from './support/processes';
import { ConsoleStack } from './support/stack';
import { WINDOW_MS, zeroWindow } from './fixtures/windows';

// The fleet list asks for its visible rows' figures in batches (GET /traffic/sparklines), never
// row by row; every row shows exactly its host's figures; a host whose windows counted nothing
// draws a labelled zero baseline. A kept report verifies in the reports page against the audit
// trail, and a tampered one does not. Real server, PostgreSQL, gRPC agents, Debian's chromium.

jest.setTimeout(300_000);

const ZONE = 'Asia/Shanghai';
const HOSTS = 60;
const agentId = (i: number) => `7b2d3c1f-6e5b-4d4c-9b3a-${String(i).padStart(12, '0')}`;
const hostname = (i: number) => `fleet-${String(i).padStart(2, '0')}`;
/** Host 2's windows counted nothing; host 4 said Hello and sent no window; host 5 lost two batches. */
const ZERO = 2;
const SILENT = 4;
const GAP = 5;
const T0 = Math.floor(Date.now() / 60_000) * 60_000 - 30 * 60_000;
const FROM = new Date(T0).toISOString();
const TO = new Date(T0 + 120_000).toISOString();
const RANGE = `from=${encodeURIComponent(FROM)}&to=${encodeURIComponent(TO)}`;

/** One window of `bytes` bytes (one ingress TCP row), nothing else counted. */
function window(sequence: number, slot: number, bytes: number): Batch {
  const w = zeroWindow(sequence, T0 + slot * WINDOW_MS);
  return {
    ...w,
    traffic: [
      {
        iface: 'eth0',
        direction: 'DIRECTION_INGRESS',
        family: 'FAMILY_IPV4',
        protocol: 'PROTOCOL_TCP',
        packets: bytes ? 100 : 0,
        bytes,
      },
    ],
  };
}
/** Host i's last window: 125,000 × (i + 1) bytes in 10 s = (i + 1) × 100 kbit/s. */
const lastBytes = (i: number) => (i === ZERO ? 0 : 125_000 * (i + 1));

const VIEWER = { username: 'batch-viewer', password: 'viewer staple horse battery 51' };
const SYSADMIN = { username: 'batch-sysadmin', password: 'sysadmin horse staple battery 52' };
const AUDITOR = { username: 'batch-auditor', password: 'auditor battery horse staple 53' };

const stack = new ConsoleStack();
let context: BrowserContext;
const tokens: Record<string, Record<string, string>> = {};

const api = (path: string, headers: Record<string, string>, init: RequestInit = {}) =>
  fetch(`http://127.0.0.1:${stack.server.httpPort}${path}`, {
    ...init,
    headers: { ...headers, ...(init.headers as Record<string, string>) },
  });

beforeAll(async () => {
  await stack.start(ZONE, { AUTH_TOTP_ROLES: '' });
  const token = enrollmentToken(stack.db.url, HOSTS);
  for (let i = 0; i < HOSTS; i++) {
    const s = new AgentStream(stack.server.grpcPort);
    const hello = {
      agentId: agentId(i),
      hostname: hostname(i),
      labels: { env: 'prod' },
      agentVersion: '0.1.0',
      kernelRelease: '4.19.90-kylin',
      capabilities: [],
    };
    await s.hello({ ...hello, enrollmentToken: token });
    if (i !== SILENT) await s.send([window(1, 0, lastBytes(i) / 2), window(2, 1, lastBytes(i))]);
    s.close();
    if (i === GAP) {
      // Its spool overflowed: batches 3 and 4 never arrive, 5 does (lostBatches 2).
      const again = new AgentStream(stack.server.grpcPort);
      await again.hello({ ...hello, agentCredential: s.credential, oldestSequence: 5 });
      await again.send([window(5, 2, lastBytes(i))]);
      again.close();
    }
  }
  const users = [
    [VIEWER, 'viewer'],
    [SYSADMIN, 'sysadmin'],
    [AUDITOR, 'auditadmin'],
  ] as const;
  for (const [u, role] of users) createUser(stack.db.url, { ...u, role });
  for (const [u, role] of users) {
    tokens[role] = { authorization: `Bearer ${await apiSignIn(stack.server.httpPort, u)}` };
  }
  context = await stack.browser.newContext();
  const page = await context.newPage();
  await signIn(page, `${stack.consoleApp.url}/en/sign-in?next=%2Fen%2Ffleet`, VIEWER);
  await page.close();
});

afterAll(async () => {
  await context?.close();
  await stack.stop();
});

const WORDS = {
  en: {
    noWindows: 'no windows in range',
    zero: 'zero traffic in every window',
    gap: 'data gap declared',
    none: 'no data',
  },
  'zh-CN': {
    noWindows: '区间内无窗口',
    zero: '各窗口流量均为零',
    gap: '已声明数据缺口',
    none: '无数据',
  },
} as const;

/** The API calls the browser makes (through the console's /api), by path. */
function watchApi(page: Page) {
  const seen: URL[] = [];
  page.on('request', (r: Request) => {
    const u = new URL(r.url());
    if (u.pathname.startsWith('/api/')) seen.push(u);
  });
  return seen;
}

/** The rows in the DOM (the virtualiser's window), once none of them is loading any more. */
async function settledRows(page: Page, loading: string): Promise<number[]> {
  await page.waitForFunction(
    (word) => {
      const rates = [...document.querySelectorAll('[data-testid="current-rate"]')];
      return rates.length > 0 && rates.every((e) => (e as HTMLElement).innerText !== word);
    },
    loading,
    { timeout: 60_000 },
  );
  const ids = await page
    .locator('[data-agent-id]')
    .evaluateAll((rows) => rows.map((r) => r.getAttribute('data-agent-id') ?? ''));
  return ids.map((id) => Number(id.slice(-12)));
}

/** Every row in the DOM shows its own host's name, rate, gap badge and trend. */
async function expectRowsExact(page: Page, locale: 'en' | 'zh-CN', shown: number[]) {
  const w = WORDS[locale];
  for (const i of shown) {
    const row = page.locator(`[data-agent-id="${agentId(i)}"]`);
    const rate =
      i === SILENT ? w.noWindows : formatBitRate(locale, (lastBytes(i) * 8) / (WINDOW_MS / 1000));
    const trend = i === SILENT ? 'none' : i === ZERO ? 'sparkline-zero' : 'sparkline';
    const got = {
      i,
      host: await row.getByRole('link').innerText(),
      rate: await row.getByTestId('current-rate').innerText(),
      gap: await row.locator('.badge.gap').count(),
      trend: (await row.getByTestId('sparkline-none').count())
        ? 'none'
        : await row.locator('svg').getAttribute('data-testid'),
    };
    expect(got).toEqual({ i, host: hostname(i), rate, gap: i === GAP ? 1 : 0, trend });
  }
}

describe.each(['en', 'zh-CN'] as const)('fleet page, %s', (locale) => {
  it('fetches the visible rows in a few batched requests, each row exactly its host', async () => {
    const page = await context.newPage();
    const calls = watchApi(page);
    await openPage(page, `${stack.consoleApp.url}/${locale}/fleet?${RANGE}`, locale);
    expect(await textOf(page, 'fleet-hosts')).toBe(String(HOSTS));
    const loading = locale === 'en' ? 'loading…' : '加载中…';
    const top = await settledRows(page, loading);
    expect(top.slice(0, 6)).toEqual([0, 1, 2, 3, 4, 5]);
    await expectRowsExact(page, locale, top);

    // The zero-traffic row: a visible baseline inside the box, labelled, not the "no data" one.
    const zero = page.locator(`[data-agent-id="${agentId(ZERO)}"] svg`);
    expect(await zero.getAttribute('aria-label')).toContain(WORDS[locale].zero);
    const y = Number(await zero.getByTestId('sparkline-baseline').getAttribute('y1'));
    const height = Number(await zero.getAttribute('height'));
    expect([y > 2, y < height - 2]).toEqual([true, true]);
    expect(
      await page
        .locator(`[data-agent-id="${agentId(SILENT)}"]`)
        .getByTestId('sparkline-none')
        .innerText(),
    ).toBe(WORDS[locale].none);
    await expectNoRawKeys(page);
    await screenshot(page, `fleet-batch-${locale}`);
    await expectAccessible(page, 'fleet-batch', locale);

    // To the end of the list: the rows shown there are asked for in batches too.
    await page.getByTestId('fleet-list').focus();
    await page.keyboard.press('End');
    await page.locator(`[data-agent-id="${agentId(HOSTS - 1)}"]`).waitFor();
    const bottom = await settledRows(page, loading);
    expect(bottom).toContain(HOSTS - 1);
    await expectRowsExact(page, locale, bottom);

    const batches = calls.filter((u) => u.pathname === '/api/v1/traffic/sparklines');
    const asked = batches.flatMap((u) => u.searchParams.getAll('agentId'));
    const rowsShown = new Set([...top, ...bottom]).size;
    // Every row shown was asked for, once, in far fewer requests than rows; no per-row call.
    expect(new Set(asked).size).toBe(asked.length);
    expect([...new Set([...top, ...bottom])].every((i) => asked.includes(agentId(i)))).toBe(true);
    expect(batches.length).toBeGreaterThanOrEqual(1);
    expect(batches.length * 4).toBeLessThanOrEqual(rowsShown);
    expect(
      calls.filter(
        (u) => u.pathname === '/api/v1/traffic/series' || u.pathname.startsWith('/api/v1/hosts/'),
      ),
    ).toEqual([]);
    await page.close();
  });
});

describe('reports page: verify a kept report', () => {
  const SCHEDULE = 'daily-fleet';
  let kept: { id: string; format: string; digestAlg: string; digest: string }[] = [];
  /** What the changed CSV report's bytes hash to now (SM3, as the server hashes them). */
  let tamperedDigest = '';

  beforeAll(async () => {
    // A daily schedule due at 00:00 UTC makes the previous day's reports at the scheduler's
    // next check (once a minute): one JSON and one CSV.
    const put = await api(`/api/v1/reports/schedules/${SCHEDULE}`, tokens.sysadmin, {
      method: 'PUT',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        formats: ['json', 'csv'],
        lang: 'en',
        hour: 0,
        utcOffsetMinutes: 0,
        enabled: true,
      }),
    });
    expect(put.status).toBe(200);
    const deadline = Date.now() + 150_000;
    while (kept.length < 2 && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 1_000));
      kept = (
        (await (await api('/api/v1/reports/stored', tokens.viewer)).json()) as {
          items: typeof kept;
        }
      ).items;
    }
    expect(kept.map((r) => r.format).sort()).toEqual(['csv', 'json']);
    // The CSV one is changed behind the server's back. The database refuses that to the server's
    // role; the table's owner lifts the trigger for it, as the server's reports test does.
    const pg = new Client({ connectionString: stack.db.url });
    await pg.connect();
    try {
      const id = kept.find((r) => r.format === 'csv')!.id;
      await pg.query(`ALTER TABLE reports DISABLE TRIGGER reports_keep_as_made`);
      try {
        await pg.query(`UPDATE reports SET content = content || '\\x0a'::bytea WHERE id = $1`, [
          id,
        ]);
      } finally {
        await pg.query(`ALTER TABLE reports ENABLE ALWAYS TRIGGER reports_keep_as_made`);
      }
      const { rows } = await pg.query<{ content: Buffer }>(
        `SELECT content FROM reports WHERE id = $1`,
        [id],
      );
      tamperedDigest = hash('sm3', rows[0].content, 'hex');
    } finally {
      await pg.end();
    }
  });

  /** The report.generated audit entry of report `id`: its sequence and the digest it recorded. */
  async function generatedEntry(id: string) {
    const res = await api(
      `/api/v1/audit?action=report.generated&target=${encodeURIComponent(`report:${id}`)}`,
      tokens.auditadmin,
    );
    const items = (
      (await res.json()) as {
        items: { sequence: string; details: { digest: string; digestAlg: string } }[];
      }
    ).items;
    expect(items.length).toBe(1);
    const { digest, digestAlg } = items[0].details;
    return { sequence: items[0].sequence, digest, digestAlg };
  }

  it.each(['en', 'zh-CN'] as const)(
    '%s: shows the match, the tampered mismatch, both digests and the entry',
    async (locale) => {
      const page = await context.newPage();
      await openPage(page, `${stack.consoleApp.url}/${locale}/reports`, locale);
      const words =
        locale === 'en'
          ? {
              ok: 'Digest matches the audit trail',
              bad: 'Digest does NOT match the audit trail',
              entry: (n: string) => `Audit entry #${n} recorded`,
            }
          : {
              ok: '摘要与审计记录一致',
              bad: '摘要与审计记录不一致',
              entry: (n: string) => `审计条目 #${n} 记录的摘要`,
            };
      for (const r of kept) {
        const row = page.locator(`tr[data-report-id="${r.id}"]`);
        await row.getByTestId('report-verify-button').click();
        const result = row.getByTestId('report-verify-result');
        await result.waitFor({ timeout: 30_000 });
        const entry = await generatedEntry(r.id);
        const tampered = r.format === 'csv';
        const got = {
          format: r.format,
          outcome: await result.getByTestId('report-verify-outcome').innerText(),
          audit: await result.getByTestId('report-verify-audit').innerText(),
          audited: await result.getByTestId('report-verify-audited').innerText(),
        };
        expect(got).toEqual({
          format: r.format,
          outcome: tampered ? words.bad : words.ok,
          audit: `${words.entry(entry.sequence)} ${entry.digestAlg}:${entry.digest}`,
          audited: `${entry.digestAlg}:${entry.digest}`,
        });
        const stored = await result.getByTestId('report-verify-digest').innerText();
        if (tampered) {
          expect([entry.digestAlg, stored]).toEqual(['sm3', `sm3:${tamperedDigest}`]);
          expect(tamperedDigest).not.toBe(entry.digest);
        } else {
          // The untouched report hashes to what the audit trail and the list both recorded.
          expect([stored, r.digest]).toEqual([`${entry.digestAlg}:${entry.digest}`, entry.digest]);
        }
      }
      await expectNoRawKeys(page);
      await screenshot(page, `reports-verify-${locale}`);
      await expectAccessible(page, 'reports-verify', locale);
      await page.close();
    },
  );
});
