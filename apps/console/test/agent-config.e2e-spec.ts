import { randomUUID } from 'node:crypto';
import { BrowserContext, Page } from 'playwright-core';
import { Client } from 'pg';
import { expectAccessible } from './support/a11y';
import { AgentStream } from './support/agent';
import { expectNoRawKeys, openPage, screenshot, signIn, textOf } from './support/browser';
import { apiSignIn, createUser, enrollmentToken } from './support/processes';
import { ConsoleStack } from './support/stack';

// The agent configuration pages in a real browser against the real server and PostgreSQL, with
// two test agents on real gRPC streams. Ground truth: the configuration each agent receives is
// what was typed into the page, merged as the server documents (defaults ← fleet ← labels ←
// host); the drift table says what the agent answered.

jest.setTimeout(240_000);

const ZONE = 'Asia/Shanghai';
const SYSADMIN = {
  username: 'cfg-e2e-sysadmin',
  password: 'sysadmin horse staple battery 51',
  role: 'sysadmin',
};
const SECADMIN = {
  username: 'cfg-e2e-secadmin',
  password: 'secadmin battery horse staple 52',
  role: 'secadmin',
};
const VIEWER = {
  username: 'cfg-e2e-viewer',
  password: 'viewer staple battery horse 53',
  role: 'viewer',
};
/** The server defaults the test starts it with, as the wire carries them. */
const DEFAULTS = {
  windowSeconds: 10,
  topN: 20,
  portAllowlist: [] as number[],
  masking: 'MASKING_UNSPECIFIED',
  maxFlowsPerWindow: 0,
  cpuBudgetPercent: 0,
};

const stack = new ConsoleStack();
const tokens: Record<string, string> = {};
/** zone=a: the label layer's host. */
const inZone = {
  agentId: randomUUID(),
  hostname: 'cfg-zone-a',
  stream: null as unknown as AgentStream,
};
/** zone=b: no label layer reaches it. */
const other = {
  agentId: randomUUID(),
  hostname: 'cfg-zone-b',
  stream: null as unknown as AgentStream,
};

const api = (path: string, role: string) =>
  fetch(`http://127.0.0.1:${stack.server.httpPort}${path}`, {
    headers: { authorization: `Bearer ${tokens[role]}` },
  });

async function trail(action: string): Promise<[string, string, string][]> {
  const c = new Client({ connectionString: stack.db.url });
  await c.connect();
  try {
    const r = await c.query<{ actor: string; target: string; outcome: string }>(
      `SELECT actor, target, outcome FROM audit_entries WHERE action = $1 ORDER BY sequence`,
      [action],
    );
    return r.rows.map((x) => [x.actor, x.target, x.outcome]);
  } finally {
    await c.end();
  }
}

beforeAll(async () => {
  await stack.start(ZONE, {
    AUTH_TOTP_ROLES: '',
    AUTH_LOGIN_RATE_PER_MINUTE: '1000',
    AGENT_WINDOW_SECONDS: '10',
    AGENT_TOP_N: '20',
  });
  const token = enrollmentToken(stack.db.url, 2);
  for (const [h, labels] of [
    [inZone, { zone: 'a' }],
    [other, { zone: 'b' }],
  ] as const) {
    h.stream = new AgentStream(stack.server.grpcPort);
    await h.stream.hello({
      agentId: h.agentId,
      hostname: h.hostname,
      labels,
      agentVersion: '0.1.0',
      kernelRelease: '4.19.90-kylin',
      capabilities: [],
      enrollmentToken: token,
    });
    // Welcome carried version 1 (the defaults): applied, as an agent does.
    expect(h.stream.configs).toEqual([{ ...DEFAULTS, version: 1 }]);
    h.stream.configApplied(1, true);
  }
  const users = [SYSADMIN, SECADMIN, VIEWER];
  for (const u of users) createUser(stack.db.url, u);
  for (const u of users) tokens[u.role] = await apiSignIn(stack.server.httpPort, u);
});

afterAll(async () => {
  inZone.stream?.close();
  other.stream?.close();
  await stack.stop();
});

const open = (page: Page, at: string, locale: string) =>
  openPage(page, `${stack.consoleApp.url}${at}`, locale);

async function signedIn(user: typeof SYSADMIN, locale: string, at: string) {
  const ctx = await stack.browser.newContext();
  const page = await ctx.newPage();
  await signIn(
    page,
    `${stack.consoleApp.url}/${locale}/sign-in?next=${encodeURIComponent(`/${locale}${at}`)}`,
    user,
  );
  expect(new URL(page.url()).pathname).toBe(`/${locale}${at.split('?')[0]}`);
  return { ctx, page };
}

/** Waits until the status line `testId` says `expected`, then checks it says exactly that. */
async function said(page: Page, testId: string, expected: string) {
  await page.getByTestId(testId).filter({ hasText: expected }).waitFor();
  expect(await textOf(page, testId)).toBe(expected);
}

/** Reloads the drift page until the host's row is in the `inSync` state asked for. */
async function driftRow(page: Page, at: string, locale: string, inSync: boolean | null) {
  const row = page.locator(`tr[data-agent-id="${inZone.agentId}"]`);
  for (let i = 0; i < 100; i++) {
    await open(page, at, locale);
    const n = await row.count();
    if (
      inSync === null
        ? n === 0
        : n === 1 && (await row.getAttribute('data-in-sync')) === String(inSync)
    )
      return row;
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`drift row never reached ${inSync}`);
}

describe('agent configuration (sysadmin)', () => {
  let ctx: BrowserContext;
  let page: Page;
  beforeAll(async () => {
    ({ ctx, page } = await signedIn(SYSADMIN, 'en', '/admin/agent-config'));
  });
  afterAll(async () => ctx?.close());

  it('adds a label layer in the page: the zone=a agent receives exactly those values', async () => {
    expect(await page.getByTestId('nav-agent-config').count()).toBe(1);
    // The system administrator edits settings, not the masking.
    expect(await page.getByTestId('masking-fleet').count()).toBe(0);
    // 0 is the agent's own default for these two, shown as words rather than a bare 0.
    const defaultCell = (f: string) => page.locator(`tr[data-field="${f}"] td`).first().innerText();
    expect(await defaultCell('maxFlowsPerWindow')).toBe('agent default');
    expect(await defaultCell('cpuBudgetPercent')).toBe('agent default');
    await page.locator('#layer-key').fill('zone');
    await page.locator('#layer-value').fill('a');
    await page.locator('#layer-priority').fill('10');
    await page.locator('#layer-windowSeconds').fill('15');
    await page.locator('#layer-topN').fill('40');
    await page.locator('#layer-portAllowlist').fill('443, 22');
    await page.getByTestId('layer-submit').click();
    await said(page, 'layer-message', 'Saved: 1 host gets a new configuration.');
    const row = page.locator('tr[data-layer="zone=a"]');
    await row.waitFor();
    expect(await row.getByTestId('layer-hosts').innerText()).toBe('1');

    const pushed = await inZone.stream.config((c) => c.version === 2, 'the zone=a config');
    expect(pushed).toEqual({
      ...DEFAULTS,
      version: 2,
      windowSeconds: 15,
      topN: 40,
      portAllowlist: [22, 443],
    });
    const layers = (await (await api('/api/v1/agent-config/labels', 'sysadmin')).json()) as {
      items: unknown[];
    };
    expect(layers.items).toEqual([
      expect.objectContaining({ key: 'zone', value: 'a', priority: 10, topN: 40, hosts: 1 }),
    ]);
    // zone=b had nothing from it: Welcome's configuration is still its only one.
    expect(other.stream.configs).toHaveLength(1);
    await expectNoRawKeys(page);
    await screenshot(page, 'agent-config-layers-en');
    await expectAccessible(page, 'agent-config-layers', 'en');
    expect(await trail('agent_config.layer_changed')).toEqual([
      [SYSADMIN.username, 'label:zone=a', 'success'],
    ]);
  });

  it('the drift table shows the agent out of sync until it answers ConfigApplied, then in sync', async () => {
    const onlyOut = '/en/admin/agent-config/drift?outOfSync=true';
    let row = await driftRow(page, onlyOut, 'en', false);
    expect(await row.getByTestId('drift-desired').innerText()).toBe('2');
    expect(await row.getByTestId('drift-running').innerText()).toBe('1');
    expect(await row.getByTestId('drift-last').innerText()).toBe('applied version 1');
    // zone=b runs what it should: not in the out-of-sync list.
    expect(await page.locator(`tr[data-agent-id="${other.agentId}"]`).count()).toBe(0);
    expect(await page.locator('#drift-out-of-sync').isChecked()).toBe(true);
    await expectNoRawKeys(page);
    await screenshot(page, 'agent-config-drift-en');
    await expectAccessible(page, 'agent-config-drift', 'en');

    inZone.stream.configApplied(2, false, 'window 15: refused by policy');
    const refused = async () =>
      (await row.getByTestId('drift-last').innerText()) ===
      'refused version 2: window 15: refused by policy';
    for (let i = 0; i < 100 && !(await refused()); i++) {
      await new Promise((r) => setTimeout(r, 200));
      row = await driftRow(page, onlyOut, 'en', false);
    }
    expect(await refused()).toBe(true);

    inZone.stream.configApplied(2, true);
    await driftRow(page, onlyOut, 'en', null);
    row = await driftRow(page, '/en/admin/agent-config/drift', 'en', true);
    expect(await row.getByTestId('drift-running').innerText()).toBe('2');
    expect(await row.getByTestId('drift-in-sync').innerText()).toBe('in sync');
    // The filter is the URL's: the form's checkbox leads there.
    await page.locator('#drift-out-of-sync').check();
    await Promise.all([
      page.waitForURL((u) => u.searchParams.get('outOfSync') === 'true'),
      page.getByTestId('drift-filter-submit').click(),
    ]);
  });

  it('edits the layer and the fleet default, then deletes the layer: pushed each time', async () => {
    await open(page, '/en/admin/agent-config', 'en');
    await Promise.all([
      page.waitForURL((u) => u.searchParams.get('edit') === 'zone=a'),
      page.locator('tr[data-layer="zone=a"]').getByTestId('layer-edit').click(),
    ]);
    expect(await page.locator('#layer-topN').inputValue()).toBe('40');
    await page.locator('#layer-topN').fill('41');
    await page.getByTestId('layer-submit').click();
    await said(page, 'layer-message', 'Saved: 1 host gets a new configuration.');
    expect(await inZone.stream.config((c) => c.version === 3, 'the edited layer')).toMatchObject({
      topN: 41,
      windowSeconds: 15,
    });

    // The fleet default reaches both; zone=a's own window still wins on its host.
    await page.locator('#fleet-windowSeconds').fill('20');
    await page.locator('#fleet-maxFlowsPerWindow').fill('5000');
    await page.getByTestId('fleet-submit').click();
    await said(page, 'fleet-message', 'Saved: 2 hosts get a new configuration.');
    expect(await other.stream.config((c) => c.version === 2, 'the fleet config')).toEqual({
      ...DEFAULTS,
      version: 2,
      windowSeconds: 20,
      maxFlowsPerWindow: 5000,
    });
    expect(await inZone.stream.config((c) => c.version === 4, 'fleet over zone=a')).toEqual({
      ...DEFAULTS,
      version: 4,
      windowSeconds: 15,
      topN: 41,
      portAllowlist: [22, 443],
      maxFlowsPerWindow: 5000,
    });
    await said(page, 'fleet-windowSeconds', '20');

    await page.locator('tr[data-layer="zone=a"]').getByTestId('layer-delete').click();
    await page.getByTestId('label-layers-none').waitFor();
    expect(await inZone.stream.config((c) => c.version === 5, 'zone=a deleted')).toEqual({
      ...DEFAULTS,
      version: 5,
      windowSeconds: 20,
      maxFlowsPerWindow: 5000,
    });
    expect(other.stream.configs).toHaveLength(2);
  });

  it("sets the host's own override, which wins over the fleet layer", async () => {
    const at = `/en/admin/agent-config/hosts/${inZone.agentId}`;
    await open(page, at, 'en');
    expect(await textOf(page, 'host-from-windowSeconds')).toBe('fleet layer');
    expect(await textOf(page, 'host-from-topN')).toBe('server default');
    await page.locator('#host-topN').fill('7');
    await page.getByTestId('host-submit').click();
    await said(page, 'host-message', 'Host override saved.');
    expect(await inZone.stream.config((c) => c.version === 6, 'the host override')).toEqual({
      ...DEFAULTS,
      version: 6,
      windowSeconds: 20,
      topN: 7,
      maxFlowsPerWindow: 5000,
    });
    await open(page, at, 'en');
    expect(await textOf(page, 'host-from-topN')).toBe('host override');
    expect(await textOf(page, 'host-in-sync')).toBe('out of sync');
    await expectNoRawKeys(page);
    await screenshot(page, 'agent-config-host-en');
    await expectAccessible(page, 'agent-config-host', 'en');
  });

  it('shows the same pages in Chinese', async () => {
    await open(page, '/zh-CN/admin/agent-config', 'zh-CN');
    expect(await page.locator('h1').innerText()).toBe('代理配置');
    expect(await page.locator('tr[data-field="cpuBudgetPercent"] td').first().innerText()).toBe(
      '代理默认值',
    );
    expect(await page.getByTestId('label-layers-none').innerText()).toBe('尚无标签层。');
    await expectNoRawKeys(page);
    await screenshot(page, 'agent-config-layers-zh-CN');
    await expectAccessible(page, 'agent-config-layers', 'zh-CN');

    await open(page, '/zh-CN/admin/agent-config/drift?outOfSync=true', 'zh-CN');
    const row = page.locator(`tr[data-agent-id="${inZone.agentId}"]`);
    expect(await row.getByTestId('drift-in-sync').innerText()).toBe('不同步');
    expect(await row.getByTestId('drift-last').innerText()).toBe('已应用版本 2');
    await expectNoRawKeys(page);
    await screenshot(page, 'agent-config-drift-zh-CN');
    await expectAccessible(page, 'agent-config-drift', 'zh-CN');

    await open(page, `/zh-CN/admin/agent-config/hosts/${inZone.agentId}`, 'zh-CN');
    expect(await textOf(page, 'host-from-topN')).toBe('主机覆盖');
    await expectNoRawKeys(page);
    await screenshot(page, 'agent-config-host-zh-CN');
    await expectAccessible(page, 'agent-config-host', 'zh-CN');
  });
});

describe('agent configuration (secadmin)', () => {
  it('changes the fleet masking in the page; both agents receive it; settings stay read-only', async () => {
    const { ctx, page } = await signedIn(SECADMIN, 'zh-CN', '/admin/agent-config');
    expect(await page.getByTestId('nav-agent-config').count()).toBe(1);
    expect(await page.getByTestId('fleet-form').count()).toBe(0);
    expect(await page.getByTestId('layer-form').count()).toBe(0);
    await page.locator('#masking-fleet').selectOption('pseudonymize');
    await page.getByTestId('masking-fleet-submit').click();
    await said(page, 'masking-fleet-message', '已保存：2 台主机获得新配置。');
    await said(page, 'fleet-masking', '假名化');
    for (const h of [inZone, other]) {
      expect(
        await h.stream.config((c) => c.masking === 'MASKING_PSEUDONYMIZE', 'the masking'),
      ).toMatchObject({ masking: 'MASKING_PSEUDONYMIZE' });
    }
    // The host override kept its own values: only the masking moved.
    expect(inZone.stream.configs[inZone.stream.configs.length - 1]).toEqual({
      ...DEFAULTS,
      version: 7,
      windowSeconds: 20,
      topN: 7,
      maxFlowsPerWindow: 5000,
      masking: 'MASKING_PSEUDONYMIZE',
    });
    expect(await trail('agent_config.layer_masking_changed')).toEqual([
      [SECADMIN.username, 'fleet', 'success'],
    ]);
    await screenshot(page, 'agent-config-layers-secadmin-zh-CN');
    await expectAccessible(page, 'agent-config-layers-secadmin', 'zh-CN');
    await ctx.close();
  });
});

describe('agent configuration (sysadmin, afterwards)', () => {
  it('removes the host override in the page: the host follows its layers again', async () => {
    const at = `/admin/agent-config/hosts/${inZone.agentId}`;
    const { ctx, page } = await signedIn(SYSADMIN, 'en', at);
    await open(page, `/en${at}`, 'en');
    expect(await textOf(page, 'host-from-topN')).toBe('host override');
    await page.getByTestId('host-clear').click();
    await said(
      page,
      'host-clear-message',
      'Host override removed: the host follows its layers again.',
    );
    expect(await inZone.stream.config((c) => c.version === 8, 'no override')).toEqual({
      ...DEFAULTS,
      version: 8,
      windowSeconds: 20,
      maxFlowsPerWindow: 5000,
      masking: 'MASKING_PSEUDONYMIZE',
    });
    await said(page, 'host-from-topN', 'server default');
    expect(await page.getByTestId('host-clear').count()).toBe(0);
    await ctx.close();
  });
});

describe('a viewer', () => {
  it('has neither link nor page; the server refuses', async () => {
    const { ctx, page } = await signedIn(VIEWER, 'zh-CN', '/fleet');
    for (const at of [
      '/zh-CN/admin/agent-config',
      '/zh-CN/admin/agent-config/drift',
      `/zh-CN/admin/agent-config/hosts/${inZone.agentId}`,
    ]) {
      await open(page, at, 'zh-CN');
      expect(await page.getByTestId('nav-agent-config').count()).toBe(0);
      expect(await page.getByTestId('api-problem').locator('h1').innerText()).toBe('无权查看');
    }
    for (const path of [
      '/api/v1/agent-config/fleet',
      '/api/v1/agent-config/labels',
      '/api/v1/agent-config/drift',
      `/api/v1/hosts/${inZone.agentId}/config`,
    ]) {
      expect([path, (await api(path, 'viewer')).status]).toEqual([path, 403]);
    }
    await ctx.close();
  });
});
