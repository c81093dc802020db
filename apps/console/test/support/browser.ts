import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { Browser, chromium, Locator, Page } from 'playwright-core';
import { CONSOLE_ROOT } from './processes';

// What every browser test of the console does the same way: Debian's chromium (never a
// downloaded browser), sign-in through the form, opening a page, the untranslated-key check and
// the screenshots kept as test artifacts.

export interface Credentials {
  username: string;
  password: string;
}

/** Debian's chromium, headless, driven by playwright-core. */
export function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: '/usr/bin/chromium',
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
}

/**
 * Signs in through the form, as a person would, and waits for the page it leads to.
 * `url` (the sign-in page's address) is opened first unless it is empty.
 */
export async function signIn(page: Page, url: string, user: Credentials): Promise<void> {
  if (url) await page.goto(url);
  await page.locator('input[name="username"]').fill(user.username);
  await page.locator('input[name="password"]').fill(user.password);
  await Promise.all([
    page.waitForURL((u) => !u.pathname.endsWith('/sign-in')),
    page.locator('button[type="submit"]').click(),
  ]);
}

/** Opens `url`, expecting a 200 and the page's language to be `locale`. */
export async function openPage(page: Page, url: string, locale: string): Promise<void> {
  const res = await page.goto(url);
  expect(res?.status()).toBe(200);
  expect(await page.getAttribute('html', 'lang')).toBe(locale);
}

/** The first element with this test id, as the user reads it. */
export const textOf = (page: Page, testId: string): Promise<string> =>
  page.getByTestId(testId).first().innerText();

/** The page's visible text has no untranslated key of the catalogs' namespaces. */
export async function expectNoRawKeys(page: Page): Promise<void> {
  const body = await page.locator('body').innerText();
  expect(
    body.match(/\b(app|reports|table|range|errors|admin|security|account)\.[a-zA-Z][\w.]*/g),
  ).toBeNull();
}

/**
 * Each element `items` matches reads on one line box: its text is not broken within it (a
 * squeezed zh-CN label breaks between any two characters). For elements holding text only.
 */
export async function expectOneLineEach(items: Locator): Promise<void> {
  const lines = await items.evaluateAll((els) =>
    els.map((el) => {
      const range = document.createRange();
      range.selectNodeContents(el);
      return { text: el.textContent ?? '', lines: range.getClientRects().length };
    }),
  );
  expect(lines.length).toBeGreaterThan(0);
  expect(lines.filter((l) => l.lines !== 1)).toEqual([]);
}

/** Every link of the top navigation reads on one line (a crowded bar wraps between links, never within one). */
export const expectNavLinksUnbroken = (page: Page): Promise<void> =>
  expectOneLineEach(page.locator('.topbar nav a'));

// Every page as the browser drew it, kept as a test artifact (apps/console/test-artifacts/).
export const ARTIFACTS = path.join(CONSOLE_ROOT, 'test-artifacts');
export async function screenshot(page: Page, name: string): Promise<void> {
  mkdirSync(ARTIFACTS, { recursive: true });
  await page.screenshot({ path: path.join(ARTIFACTS, `${name}.png`), fullPage: true });
}
