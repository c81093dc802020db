import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import jsQR from 'jsqr';
import { authenticator } from 'otplib';
import { BrowserContext, Page } from 'playwright-core';
import { PNG } from 'pngjs';
import { expectAccessible } from './support/a11y';
import {
  Credentials,
  expectNavLinksUnbroken,
  expectNoRawKeys,
  expectOneLineEach,
  openPage,
  screenshot,
  textOf as text,
} from './support/browser';
import { createUser } from './support/processes';
import { ConsoleStack } from './support/stack';

// The security administrator's pages in a real browser (Debian's chromium) against the real
// server and PostgreSQL, with the server's default TOTP roles (the three administrators): the
// sign-in policy, the LDAP group mapping, role changes, and TOTP enrolment and sign-in. What the
// pages did is read back from the server's API and its audit trail.

jest.setTimeout(180_000);

const ZONE = 'Asia/Shanghai';
const SECADMIN = { username: 'sec-e2e-secadmin', password: 'secadmin staple horse 61' };
const AUDITOR = { username: 'sec-e2e-auditor', password: 'auditor staple horse 62' };
const SYSADMIN = { username: 'sec-e2e-sysadmin', password: 'sysadmin staple horse 63' };
const OPERATOR = { username: 'sec-e2e-operator', password: 'operator staple horse 64' };
const VIEWER = { username: 'sec-e2e-viewer', password: 'viewer staple horse 65' };

let keyDir: string | undefined;
const stack = new ConsoleStack();
/** The secadmin's browser, signed in with password and TOTP once the first test has run. */
let secadmin: BrowserContext;
/** Bearer headers for the test's own API calls, by user name. */
const bearer: Record<string, Record<string, string>> = {};

const api = (pathAndQuery: string, headers: Record<string, string>, init: RequestInit = {}) =>
  fetch(`http://127.0.0.1:${stack.server.httpPort}${pathAndQuery}`, {
    ...init,
    headers: { 'content-type': 'application/json', ...headers },
  });
const json = async <T>(res: Promise<Response>): Promise<T> => (await (await res).json()) as T;
const login = (user: Credentials, totp?: string) =>
  api('/api/v1/auth/login', {}, { method: 'POST', body: JSON.stringify({ ...user, totp }) });
const asBearer = (token: string) => ({ authorization: `Bearer ${token}` });

/** The current TOTP step (30 s), as the server counts them. */
const stepNow = () => Math.floor(Date.now() / 30_000);
/** Waits for a step later than `step`: a code is accepted once, only later steps after it. */
async function stepAfter(step: number): Promise<void> {
  while (stepNow() <= step) await new Promise((r) => setTimeout(r, 250));
}
/** A six-digit code the secret does not give now nor one step either side. */
function wrongCode(secret: string): string {
  for (let n = 0; ; n++) {
    const c = String((Number(authenticator.generate(secret)) + 1 + n * 7919) % 1_000_000).padStart(
      6,
      '0',
    );
    if (authenticator.checkDelta(c, secret) === null) return c;
  }
}

/**
 * What the enrolment's QR code says, read as a camera would: the code as the browser drew it
 * (a screenshot of it), decoded by jsQR; null when it does not read as a QR code.
 */
async function scannedQr(page: Page): Promise<string | null> {
  const qr = page.getByTestId('totp-qr');
  expect(await qr.getAttribute('role')).toBe('img');
  const png = PNG.sync.read(await qr.screenshot());
  const rgba = new Uint8ClampedArray(png.data.buffer, png.data.byteOffset, png.data.length);
  return jsQR(rgba, png.width, png.height)?.data ?? null;
}

/** The audit trail's entries for `action` on `target` (oldest first), as the auditor reads it. */
async function audited(action: string, target: string) {
  const body = await json<{
    items: {
      actor: string;
      outcome: string;
      reason: string | null;
      details: Record<string, unknown> | null;
    }[];
  }>(
    api(
      `/api/v1/audit?action=${action}&target=${encodeURIComponent(target)}`,
      bearer[AUDITOR.username],
    ),
  );
  return body.items.reverse();
}

beforeAll(async () => {
  keyDir = mkdtempSync(path.join(tmpdir(), 'tw-console-totp-'));
  const keyFile = path.join(keyDir, 'totp.key');
  writeFileSync(keyFile, randomBytes(32).toString('hex'), { mode: 0o600 });
  await stack.start(ZONE, {
    AUTH_TOTP_KEY_FILE: keyFile,
    // The failures on purpose below are not what the rate limit is about.
    AUTH_LOGIN_RATE_PER_MINUTE: '1000',
  });
  for (const [u, role] of [
    [SECADMIN, 'secadmin'],
    [AUDITOR, 'auditadmin'],
    [SYSADMIN, 'sysadmin'],
    [OPERATOR, 'operator'],
    [VIEWER, 'viewer'],
  ] as const) {
    createUser(stack.db.url, { ...u, role });
  }
  // The audit administrator enrols TOTP through the API (its session is then complete).
  const a = await json<{ accessToken: string }>(login(AUDITOR));
  bearer[AUDITOR.username] = asBearer(a.accessToken);
  const enrolled = await json<{ secret: string }>(
    api('/api/v1/auth/totp/enroll', bearer[AUDITOR.username], { method: 'POST' }),
  );
  const confirmed = await api('/api/v1/auth/totp/confirm', bearer[AUDITOR.username], {
    method: 'POST',
    body: JSON.stringify({ code: authenticator.generate(enrolled.secret) }),
  });
  expect(confirmed.status).toBe(200);
  bearer[VIEWER.username] = asBearer(
    (await json<{ accessToken: string }>(login(VIEWER))).accessToken,
  );
  secadmin = await stack.browser.newContext();
});

afterAll(async () => {
  await secadmin?.close();
  await stack.stop();
  if (keyDir) rmSync(keyDir, { recursive: true, force: true });
});

const open = (page: Page, pathAndQuery: string, locale: string) =>
  openPage(page, `${stack.consoleApp.url}${pathAndQuery}`, locale);

/** Fills the sign-in form (the code only when given) and presses the button. */
async function fillSignIn(page: Page, user: Credentials, totp?: string): Promise<void> {
  await page.locator('input[name="username"]').fill(user.username);
  await page.locator('input[name="password"]').fill(user.password);
  await page.locator('input[name="totp"]').fill(totp ?? '');
  await page.locator('button[type="submit"]').click();
}

/** The secadmin's session token (the console's cookie), for the test's own API calls. */
async function secadminBearer(): Promise<Record<string, string>> {
  const c = (await secadmin.cookies()).find((k) => k.name === 'tidewatch_session');
  if (!c) throw new Error('the secadmin is not signed in');
  return asBearer(c.value);
}

describe('TOTP', () => {
  it('a secadmin is sent to enrol, enrols in the page, then signs in with password and code only', async () => {
    const page = await secadmin.newPage();
    await page.goto(`${stack.consoleApp.url}/en/sign-in?next=%2Fen%2Fadmin%2Fsign-in-policy`);
    await fillSignIn(page, SECADMIN);
    await page.waitForURL((u) => u.pathname === '/en/account');
    expect(new URL(page.url()).searchParams.get('next')).toBe('/en/admin/sign-in-policy');
    expect(await text(page, 'totp-due')).toBe(
      'Your role signs in with a one-time code, and you have not enrolled one yet: until you do, only your account page is open to you. My account',
    );
    expect(await text(page, 'totp-state')).toBe('Not enrolled yet, and your role requires it.');
    // Until enrolled, the server keeps this session to the sign-in routes.
    expect((await api('/api/v1/auth/policy', await secadminBearer())).status).toBe(403);

    await page.getByTestId('totp-begin').click();
    const grouped = await text(page, 'totp-secret');
    expect(grouped).toMatch(/^([A-Z2-7]{4} )+[A-Z2-7]{1,4}$/);
    const secret = grouped.replace(/ /g, '');
    const shownUri = await text(page, 'totp-uri');
    const uri = new URL(shownUri);
    expect([uri.protocol, uri.searchParams.get('secret'), uri.searchParams.get('issuer')]).toEqual([
      'otpauth:',
      secret,
      'Tidewatch',
    ]);
    // The QR code beside them is the same address, exactly (the code below is from its secret).
    expect(await scannedQr(page)).toBe(shownUri);
    expect(await page.getByTestId('totp-qr').getAttribute('aria-label')).toBe(
      'QR code of the otpauth address, for the authenticator app',
    );
    await expectNoRawKeys(page);
    await screenshot(page, 'account-totp-en');
    await expectAccessible(page, 'account-totp', 'en');

    // A wrong code: the server's words; a right one completes the enrolment.
    await page.locator('#totp-code').fill(wrongCode(secret));
    await page.getByTestId('totp-confirm').click();
    await page.getByTestId('totp-message').filter({ hasText: 'refused' }).waitFor();
    expect(await text(page, 'totp-message')).toBe(
      'The server refused: the code does not match the new secret',
    );
    const confirmStep = stepNow();
    await page.locator('#totp-code').fill(authenticator.generate(secret));
    await page.getByTestId('totp-confirm').click();
    await page.getByTestId('totp-done').waitFor();
    await Promise.all([
      page.waitForURL((u) => u.pathname === '/en/admin/sign-in-policy'),
      page.getByTestId('totp-continue').click(),
    ]);
    expect(
      await json<{ totpEnrolled: boolean }>(api('/api/v1/auth/me', await secadminBearer())),
    ).toMatchObject({ totpEnrolled: true, totpRequired: true });
    expect(
      (await audited('user.totp_enrolled', SECADMIN.username)).map((e) => [e.outcome, e.reason]),
    ).toEqual([
      ['failure', 'wrong code'],
      ['success', null],
    ]);

    expect(await page.getByTestId('totp-due').count()).toBe(0);
    await open(page, '/en/account', 'en');
    expect(await text(page, 'totp-state')).toBe(
      'Enrolled: each sign-in asks for the code your authenticator shows. A lost authenticator is reset by a security administrator.',
    );
    await Promise.all([
      page.waitForURL((u) => u.pathname === '/en/sign-in'),
      page.getByTestId('signed-in-user').getByRole('button').click(),
    ]);

    // Without the code, and with a wrong one, the sign-in is refused in the same words.
    for (const code of [undefined, wrongCode(secret)]) {
      await fillSignIn(page, SECADMIN, code);
      await page.getByTestId('sign-in-message').waitFor();
      expect(await text(page, 'sign-in-message')).toBe(
        'Wrong username, password or one-time code.',
      );
      expect(new URL(page.url()).pathname).toBe('/en/sign-in');
      await page.reload();
    }
    await stepAfter(confirmStep);
    await fillSignIn(page, SECADMIN, authenticator.generate(secret));
    await page.waitForURL((u) => u.pathname === '/en/admin/users');
    expect(await text(page, 'signed-in-user')).toContain(SECADMIN.username);
    const logins = (await audited('auth.login', SECADMIN.username)).map((e) => [
      e.outcome,
      e.reason,
      (e.details as { secondFactor?: string } | null)?.secondFactor ?? null,
    ]);
    expect(logins).toEqual([
      ['success', null, 'none'],
      ['failure', 'code missing', null],
      ['failure', 'wrong or reused code', null],
      ['success', null, 'totp'],
    ]);
    await page.close();
  });

  it('zh-CN: a viewer enrols TOTP on the account page', async () => {
    const ctx = await stack.browser.newContext();
    const page = await ctx.newPage();
    await page.goto(`${stack.consoleApp.url}/zh-CN/sign-in`);
    await fillSignIn(page, VIEWER);
    await page.waitForURL((u) => u.pathname === '/zh-CN/fleet');
    await Promise.all([
      page.waitForURL((u) => u.pathname === '/zh-CN/account'),
      page.getByTestId('nav-account').click(),
    ]);
    expect(await text(page, 'account-who')).toBe(`当前登录：${VIEWER.username}，只读用户。`);
    await page.getByTestId('totp-begin').click();
    const secret = (await text(page, 'totp-secret')).replace(/ /g, '');
    const scanned = await scannedQr(page);
    expect(scanned).toBe(await text(page, 'totp-uri'));
    expect(new URL(scanned ?? '').searchParams.get('secret')).toBe(secret);
    expect(await page.getByTestId('totp-qr').getAttribute('aria-label')).toBe(
      '供身份验证器应用扫描的 otpauth 地址二维码',
    );
    await expectNoRawKeys(page);
    await screenshot(page, 'account-totp-zh-CN');
    await expectAccessible(page, 'account-totp', 'zh-CN');
    await page.locator('#totp-code').fill('12345');
    await page.getByTestId('totp-confirm').click();
    expect(await text(page, 'totp-message')).toBe('请输入身份验证器显示的 6 位数字。');
    await page.locator('#totp-code').fill(authenticator.generate(secret));
    await page.getByTestId('totp-confirm').click();
    await page.getByTestId('totp-done').waitFor();
    expect(await text(page, 'totp-done')).toBe(
      '动态验证码已绑定：登录时请输入身份验证器显示的验证码。',
    );
    expect(
      await json<{ totpEnrolled: boolean }>(api('/api/v1/auth/me', bearer[VIEWER.username])),
    ).toMatchObject({ totpEnrolled: true, totpRequired: false });
    await ctx.close();
  });
});

type Policy = Record<string, unknown> & { totpRoles: string[] };

describe('sign-in policy (secadmin)', () => {
  it('en: the server refuses out-of-bounds fields beside each field, then saves a change', async () => {
    const page = await secadmin.newPage();
    await open(page, '/en/admin/sign-in-policy', 'en');
    expect(await page.getByTestId('nav-sign-in-policy').count()).toBe(1);
    const before = await json<Policy>(api('/api/v1/auth/policy', await secadminBearer()));
    expect(before).toMatchObject({ source: 'environment', passwordMinLength: 12 });
    expect(await text(page, 'policy-source')).toBe(
      "From the server's environment (AUTH_* variables): not changed here yet.",
    );
    expect(await page.locator('#policy-passwordMinLength').inputValue()).toBe(
      String(before.passwordMinLength),
    );
    expect(await page.locator('#policy-passwordMinLength-hint').innerText()).toBe('8 to 256');

    // Out of bounds and not a number: the server's own words, beside the fields they name.
    await page.locator('#policy-passwordMinLength').fill('4');
    await page.locator('#policy-lockoutMinutes').fill('abc');
    await page.getByTestId('policy-save').click();
    await page.getByTestId('policy-passwordMinLength-error').waitFor();
    expect(await text(page, 'policy-passwordMinLength-error')).toBe(
      'passwordMinLength must not be less than 8',
    );
    expect(await text(page, 'policy-lockoutMinutes-error')).toContain(
      'lockoutMinutes must be an integer number',
    );
    expect(await page.locator('#policy-passwordMinLength').getAttribute('aria-invalid')).toBe(
      'true',
    );
    expect(await text(page, 'policy-message')).toBe(
      'The server refused: see the fields marked above',
    );
    await expectNoRawKeys(page);
    await screenshot(page, 'sign-in-policy-refused-en');
    await expectAccessible(page, 'sign-in-policy-refused', 'en');

    // The administrator roles keep TOTP: refused, in the server's words, beside the roles.
    await page.locator('#policy-passwordMinLength').fill('14');
    await page.locator('#policy-lockoutMinutes').fill(String(before.lockoutMinutes));
    await page.getByTestId('policy-totpRoles').getByLabel('Security administrator').uncheck();
    await page.getByTestId('policy-save').click();
    await page.getByTestId('policy-totpRoles-error').waitFor();
    expect(await text(page, 'policy-totpRoles-error')).toBe(
      'totpRoles must include the administrator roles sysadmin, secadmin and auditadmin (missing: secadmin)',
    );
    expect((await json<Policy>(api('/api/v1/auth/policy', await secadminBearer()))).source).toBe(
      'environment',
    );

    await page.getByTestId('policy-totpRoles').getByLabel('Security administrator').check();
    await page.getByTestId('policy-totpRoles').getByLabel('Operator').check();
    await page.locator('#policy-passwordHistory').fill('7');
    await page.locator('#policy-lockoutThreshold').fill('8');
    await page.getByTestId('policy-save').click();
    await page.getByTestId('policy-message').filter({ hasText: 'saved' }).waitFor();
    expect(await text(page, 'policy-message')).toBe('Policy saved: it is in force now.');
    const after = await json<Policy>(api('/api/v1/auth/policy', await secadminBearer()));
    expect(after).toEqual({
      ...before,
      passwordMinLength: 14,
      passwordHistory: 7,
      lockoutThreshold: 8,
      totpRoles: ['sysadmin', 'secadmin', 'auditadmin', 'operator'],
      source: 'stored',
      updatedAt: after.updatedAt,
      updatedBy: SECADMIN.username,
    });
    // The page fetched again: who changed it, and when, in the console's zone.
    await page.getByTestId('policy-source').filter({ hasText: 'Set by' }).waitFor();
    expect(await text(page, 'policy-source')).toMatch(
      new RegExp(
        `^Set by ${SECADMIN.username} on \\d\\d/\\d\\d/\\d{4}, \\d\\d:\\d\\d:\\d\\d GMT\\+8\\.$`,
      ),
    );
    const entries = await audited('auth.policy_changed', 'sign-in policy');
    expect(entries.map((e) => [e.actor, e.outcome])).toEqual([
      [SECADMIN.username, 'denied'],
      [SECADMIN.username, 'success'],
    ]);
    expect(entries[1].details).toEqual({
      from: {
        passwordMinLength: before.passwordMinLength,
        passwordHistory: before.passwordHistory,
        lockoutThreshold: before.lockoutThreshold,
        totpRoles: before.totpRoles,
      },
      to: {
        passwordMinLength: 14,
        passwordHistory: 7,
        lockoutThreshold: 8,
        totpRoles: ['sysadmin', 'secadmin', 'auditadmin', 'operator'],
      },
      firstChange: true,
    });
    await screenshot(page, 'sign-in-policy-en');
    await expectAccessible(page, 'sign-in-policy', 'en');
    await page.close();
  });

  it('zh-CN: the page shows the stored policy in Chinese', async () => {
    const page = await secadmin.newPage();
    await open(page, '/zh-CN/admin/sign-in-policy', 'zh-CN');
    expect(await page.locator('h1').innerText()).toBe('登录策略');
    expect(await page.locator('label[for="policy-passwordMinLength"]').innerText()).toBe(
      '密码最短长度（字符）',
    );
    expect(await page.locator('#policy-passwordMinLength').inputValue()).toBe('14');
    expect(await page.locator('#policy-passwordMaxAgeDays-hint').innerText()).toBe(
      '0 至 3650；0 表示永不过期',
    );
    expect(await text(page, 'policy-source')).toMatch(
      new RegExp(
        `^由 ${SECADMIN.username} 于 \\d{4}/\\d\\d/\\d\\d \\d\\d:\\d\\d:\\d\\d GMT\\+8 设置。$`,
      ),
    );
    await expectNoRawKeys(page);
    await expectNavLinksUnbroken(page);
    await screenshot(page, 'sign-in-policy-zh-CN');
    await expectAccessible(page, 'sign-in-policy', 'zh-CN');
    await page.close();
  });
});

describe('LDAP group mapping (secadmin)', () => {
  const OPS = 'CN=TW-Ops, OU=Groups, DC=Bank, DC=Example';
  const AUDIT = 'cn=tw-audit,ou=groups,dc=bank,dc=example';
  it('en: adds mappings, a group that is no DN is refused at its row, saves; the API has them; CSV', async () => {
    const page = await secadmin.newPage();
    await open(page, '/en/admin/ldap-roles', 'en');
    expect(await page.getByTestId('nav-ldap-roles').count()).toBe(1);
    expect(await text(page, 'ldap-disabled')).toContain('LDAP is not set up on this server');
    expect(await text(page, 'group-role-none')).toBe('No group is mapped to a role.');
    for (const [group, role] of [
      [OPS, 'operator'],
      ['tw-no-dn', 'viewer'],
      [AUDIT, 'auditadmin'],
    ]) {
      await page.locator('#group-dn').fill(group);
      await page.locator('#group-role').selectOption(role);
      await page.getByTestId('group-role-add-submit').click();
    }
    expect(await text(page, 'group-role-unsaved')).toBe('Changes not saved yet.');
    await page.getByTestId('group-role-save').click();
    await page.getByTestId('group-role-error').waitFor();
    const refusedRow = page.locator('tr', { has: page.getByTestId('group-role-error') });
    expect(await refusedRow.getAttribute('data-group')).toBe('tw-no-dn');
    expect(await text(page, 'group-role-error')).toBe('mappings.1.group must be a DN');
    expect(
      await json<{ mappings: unknown[] }>(
        api('/api/v1/auth/ldap/group-roles', await secadminBearer()),
      ),
    ).toMatchObject({ mappings: [], source: 'environment' });
    await screenshot(page, 'ldap-roles-refused-en');
    await expectAccessible(page, 'ldap-roles-refused', 'en');

    await refusedRow.getByTestId('group-role-remove').click();
    await page.getByTestId('group-role-save').click();
    await page.getByTestId('group-role-message').filter({ hasText: 'saved' }).waitFor();
    expect(await text(page, 'group-role-message')).toBe('Mapping saved.');
    const expected = [
      { group: AUDIT, role: 'auditadmin' },
      { group: 'cn=tw-ops,ou=groups,dc=bank,dc=example', role: 'operator' },
    ];
    expect(
      await json<{ mappings: unknown[] }>(
        api('/api/v1/auth/ldap/group-roles', await secadminBearer()),
      ),
    ).toMatchObject({ mappings: expected, source: 'stored', updatedBy: SECADMIN.username });
    // The table shows what the server keeps (one canonical DN form, sorted).
    expect(
      await page
        .locator('tr[data-group]')
        .evaluateAll((rows) =>
          rows.map((r) => [
            r.getAttribute('data-group'),
            (r.querySelector('select') as HTMLSelectElement).value,
          ]),
        ),
    ).toEqual(expected.map((m) => [m.group, m.role]));
    expect(
      (await audited('auth.ldap_group_roles_changed', 'ldap group mapping')).map((e) => [
        e.actor,
        e.outcome,
        e.details?.to,
      ]),
    ).toEqual([[SECADMIN.username, 'success', expected]]);

    const [d] = await Promise.all([
      page.waitForEvent('download'),
      page.getByTestId('group-role-csv').click(),
    ]);
    expect(d.suggestedFilename()).toBe('tidewatch-ldap-group-roles.csv');
    const dir = mkdtempSync(path.join(tmpdir(), 'tw-console-csv-'));
    try {
      const file = path.join(dir, 'mapping.csv');
      await d.saveAs(file);
      expect(readFileSync(file, 'utf8')).toBe(
        `\ufeffgroup,role\r\n"${AUDIT}",auditadmin\r\n"cn=tw-ops,ou=groups,dc=bank,dc=example",operator\r\n`,
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
    await expectNoRawKeys(page);
    await screenshot(page, 'ldap-roles-en');
    await expectAccessible(page, 'ldap-roles', 'en');
    await page.close();
  });

  it('zh-CN: the stored mapping in Chinese', async () => {
    const page = await secadmin.newPage();
    await open(page, '/zh-CN/admin/ldap-roles', 'zh-CN');
    expect(await page.locator('h1').innerText()).toBe('LDAP 组与角色');
    expect(await page.locator('tr[data-group]').count()).toBe(2);
    expect(await page.locator(`tr[data-group="${AUDIT}"] select option:checked`).innerText()).toBe(
      '审计管理员',
    );
    await expectNoRawKeys(page);
    await screenshot(page, 'ldap-roles-zh-CN');
    await expectAccessible(page, 'ldap-roles', 'zh-CN');
    await page.close();
  });
});

describe('role change (secadmin)', () => {
  const roleOf = async (username: string) =>
    (await json<{ role: string }>(api(`/api/v1/users/${username}`, await secadminBearer()))).role;

  it('en: changes a role; a change the separation of administrator roles forbids is refused in words', async () => {
    const page = await secadmin.newPage();
    await open(page, '/en/admin/users', 'en');
    const op = page.locator(`tr[data-username="${OPERATOR.username}"]`);
    await op.getByTestId('user-role-select').selectOption('viewer');
    await op.getByTestId('user-role-submit').click();
    await op.getByTestId('user-role-message').filter({ hasText: 'now' }).waitFor();
    expect(await op.getByTestId('user-role-message').innerText()).toBe(
      `${OPERATOR.username} is now Viewer; their sessions have ended.`,
    );
    await op.getByTestId('user-role-name').filter({ hasText: 'Viewer' }).waitFor();
    expect(await roleOf(OPERATOR.username)).toBe('viewer');
    expect(
      (await audited('user.role_changed', OPERATOR.username)).map((e) => [
        e.actor,
        e.outcome,
        e.details,
      ]),
    ).toEqual([[SECADMIN.username, 'success', { from: 'operator', to: 'viewer' }]]);

    const sys = page.locator(`tr[data-username="${SYSADMIN.username}"]`);
    await sys.getByTestId('user-role-select').selectOption('secadmin');
    await sys.getByTestId('user-role-submit').click();
    await sys.getByTestId('user-role-message').filter({ hasText: 'refused' }).waitFor();
    expect(await sys.getByTestId('user-role-message').innerText()).toBe(
      `The server refused: "${SYSADMIN.username}" has held sysadmin; the administrator roles are held by different users (create a separate account for secadmin)`,
    );
    expect(await roleOf(SYSADMIN.username)).toBe('sysadmin');
    expect(
      (await audited('user.role_changed', SYSADMIN.username)).map((e) => [e.outcome, e.reason]),
    ).toEqual([['denied', 'second administrator role']]);
    await expectNoRawKeys(page);
    await screenshot(page, 'users-role-en');
    await expectAccessible(page, 'users-role', 'en');
    await page.close();
  });

  it('zh-CN: the role select in Chinese; short cells on one line on a 1024-pixel screen', async () => {
    const page = await secadmin.newPage();
    await page.setViewportSize({ width: 1024, height: 768 });
    await open(page, '/zh-CN/admin/users', 'zh-CN');
    const op = page.locator(`tr[data-username="${OPERATOR.username}"]`);
    expect(await op.getByTestId('user-role-name').innerText()).toBe('只读用户');
    expect(await op.getByTestId('user-role-select').getAttribute('aria-label')).toBe(
      `${OPERATOR.username} 的角色`,
    );
    // Nobody changes their own role: the secadmin's own row has no select.
    expect(
      await page
        .locator(`tr[data-username="${SECADMIN.username}"]`)
        .getByTestId('user-role-select')
        .count(),
    ).toBe(0);
    // The short headers and values (角色, 来源, 动态验证码, a role's name, 本地, 是) read on one
    // line each: a squeezed column would break them between any two characters.
    const list = page.getByTestId('user-list');
    await expectOneLineEach(list.locator('thead th'));
    expect(await list.locator('thead th').allInnerTexts()).toEqual(
      expect.arrayContaining(['角色', '来源', '动态验证码']),
    );
    for (const id of ['user-role-name', 'user-source', 'user-totp']) {
      await expectOneLineEach(list.getByTestId(id));
    }
    await expectNoRawKeys(page);
    await screenshot(page, 'users-role-zh-CN');
    await expectAccessible(page, 'users-role', 'zh-CN');
    await page.close();
  });
});

describe('a viewer', () => {
  it.each(['zh-CN', 'en'])(
    '%s: has neither links nor pages; the server refuses',
    async (locale) => {
      const ctx = await stack.browser.newContext();
      const page = await ctx.newPage();
      await page.goto(`${stack.consoleApp.url}/${locale}/sign-in`);
      await fillSignIn(page, VIEWER);
      await page.waitForURL((u) => u.pathname === `/${locale}/fleet`);
      for (const id of ['nav-sign-in-policy', 'nav-ldap-roles', 'nav-users']) {
        expect([id, await page.getByTestId(id).count()]).toEqual([id, 0]);
      }
      expect(await page.getByTestId('nav-account').count()).toBe(1);
      for (const p of ['sign-in-policy', 'ldap-roles']) {
        await open(page, `/${locale}/admin/${p}`, locale);
        expect(await page.getByTestId('api-problem').locator('h1').innerText()).toBe(
          locale === 'en' ? 'Not allowed' : '无权查看',
        );
      }
      await ctx.close();
      const v = bearer[VIEWER.username];
      const refused = await Promise.all([
        api('/api/v1/auth/policy', v),
        api('/api/v1/auth/policy', v, { method: 'PUT', body: '{}' }),
        api('/api/v1/auth/ldap/group-roles', v),
        api('/api/v1/auth/ldap/group-roles', v, {
          method: 'PUT',
          body: JSON.stringify({ mappings: [] }),
        }),
        api(`/api/v1/users/${OPERATOR.username}`, v, {
          method: 'PATCH',
          body: JSON.stringify({ role: 'operator' }),
        }),
      ]);
      expect(refused.map((r) => r.status)).toEqual([403, 403, 403, 403, 403]);
    },
  );
});
