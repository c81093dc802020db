import type { Batch } from '@tidewatch/proto';
import { execFileSync } from 'node:child_process';
import { hash, randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { ApiTokensService } from '../src/auth/api-tokens.service';
import { EnrollmentService } from '../src/enrollment/enrollment.service';
import { ReportSchedulerService } from '../src/reports/report-scheduler.service';
import type { RunningServer } from '../src/server';
import { GroundTruth, makeBatch } from './fixtures/windows';
import { AgentStream, ingestClient } from './support/agent-client';
import { bearer, login, TEST_ACTOR, tokenFor } from './support/auth';
import { createTestDatabase, TestDatabase } from './support/database';
import { startTestServer } from './support/server';

// Ground truth: the windows this file ingests through the real gRPC path
// (summed with BigInt by GroundTruth), and the JSON report the API answers for
// the same period. The PDF (read back with poppler's pdftotext) must show the
// same figures in both languages, embed its CJK font as a subset (pdffonts),
// and the CSV must carry a BOM and neutralise formula cells. Generation and
// download are audited with the digest; the scheduled daily report is driven
// with a clock the test sets; a changed byte in a kept report is detected.

jest.setTimeout(180_000);

const DAY = 86_400_000;
const HOUR = 3_600_000;
const WINDOW_MS = 30_000;
/** Today's UTC midnight; the traffic is from yesterday 10:00–12:00. */
const TODAY = Math.floor(Date.now() / DAY) * DAY;
const YESTERDAY = TODAY - DAY;
const FIRST = YESTERDAY + 10 * HOUR;
const WINDOWS = (2 * HOUR) / WINDOW_MS;
const HOSTS = [
  { agentId: randomUUID(), hostname: 'db-1', labels: { env: 'prod' }, seed: 11 },
  // A hostname a spreadsheet would run as a formula: the CSV must neutralise it.
  {
    agentId: randomUUID(),
    hostname: '=HYPERLINK("http://198.18.0.1")',
    labels: { env: 'test' },
    seed: 22,
  },
];
const LISTENING: Batch['listening'] = {
  known: true,
  ports: [
    { protocol: 'PROTOCOL_TCP', port: 22, loopbackOnly: false },
    { protocol: 'PROTOCOL_TCP', port: 3389, loopbackOnly: false },
    { protocol: 'PROTOCOL_TCP', port: 8443, loopbackOnly: false },
    { protocol: 'PROTOCOL_TCP', port: 445, loopbackOnly: true },
  ],
};
const EVIL_USER = '@SUM(1+1)';

let db: TestDatabase;
let server: RunningServer;
let work: string;
const truth = new GroundTruth();
/** The fixed period the on-demand reports compare over: yesterday 00:00 until after the set-up. */
let from: string;
let to: string;
let anomalyId = '';

const en = (v: string | number | bigint) =>
  new Intl.NumberFormat('en-US', { maximumFractionDigits: 0 }).format(
    typeof v === 'string' ? BigInt(v) : v,
  );
const en2 = (v: number) => new Intl.NumberFormat('en-US', { maximumFractionDigits: 2 }).format(v);

async function get(pathAndQuery: string, token: string | null) {
  const res = await fetch(`http://127.0.0.1:${server.httpPort}/api/v1/${pathAndQuery}`, {
    headers: token ? bearer(token) : {},
  });
  return {
    status: res.status,
    type: res.headers.get('content-type') ?? '',
    digest: res.headers.get('x-report-digest'),
    body: Buffer.from(await res.arrayBuffer()),
  };
}

async function send(method: string, p: string, token: string, body?: unknown) {
  const res = await fetch(`http://127.0.0.1:${server.httpPort}/api/v1/${p}`, {
    method,
    headers: { ...bearer(token), 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  return { status: res.status, body: text ? (JSON.parse(text) as Record<string, unknown>) : {} };
}

async function until(cond: () => Promise<boolean>, ms: number, what: string): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await cond())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

function pdfText(pdf: Buffer, name: string): string {
  const file = path.join(work, `${name}.pdf`);
  writeFileSync(file, pdf);
  return execFileSync('pdftotext', ['-layout', file, '-'], { encoding: 'utf8' });
}

function pdfFonts(pdf: Buffer, name: string): string {
  const file = path.join(work, `${name}.pdf`);
  writeFileSync(file, pdf);
  return execFileSync('pdffonts', [file], { encoding: 'utf8' });
}

interface AuditItem {
  sequence: string;
  action: string;
  target: string | null;
  outcome: string;
  actor: string | null;
  details: Record<string, unknown> | string | null;
}

async function auditEntries(action: string): Promise<AuditItem[]> {
  const r = await send(
    'GET',
    `audit?action=${action}&limit=200`,
    await tokenFor(server, 'auditadmin'),
  );
  expect(r.status).toBe(200);
  return (r.body.items as AuditItem[]).map((e) => ({
    ...e,
    details:
      typeof e.details === 'string'
        ? (JSON.parse(e.details) as Record<string, unknown>)
        : e.details,
  }));
}

beforeAll(async () => {
  work = mkdtempSync(path.join(tmpdir(), 'tw-reports-'));
  db = await createTestDatabase();
  server = await startTestServer(db.url, { INGEST_MAX_IN_FLIGHT_PER_STREAM: '64' });
  const { token } = await server.app.get(EnrollmentService).create('reports-e2e', HOUR, 5);
  for (const h of HOSTS) {
    const stream = new AgentStream(ingestClient(server.grpcPort));
    await stream.hello({
      agentId: h.agentId,
      hostname: h.hostname,
      agentVersion: '0.1.0',
      kernelRelease: '4.19.90-kylin',
      labels: h.labels,
      enrollmentToken: token,
    });
    const batches = Array.from({ length: WINDOWS }, (_, i) => ({
      ...makeBatch(h.seed, i + 1, FIRST + i * WINDOW_MS, WINDOW_MS),
      ...(h.seed === 11 ? { listening: LISTENING } : {}),
    }));
    batches.forEach((b) => truth.add(h.agentId, b));
    await stream.sendAndAwaitAck(batches, 60_000);
    await stream.close();
  }
  // The detectors run after the windows are stored: wait for what the report reads from them.
  await until(
    async () =>
      (await db.query(`SELECT 1 FROM listening_ports WHERE agent_id = $1`, [HOSTS[0].agentId]))
        .length === LISTENING.ports!.length,
    30_000,
    'the listening ports',
  );
  const op = await tokenFor(server, 'operator');
  // Handled once detection has seen the last window (a later window would raise it anew).
  const lastEnd = new Date(FIRST + WINDOWS * WINDOW_MS).toISOString();
  await until(
    async () => {
      const r = await send('GET', `anomalies?agentId=${HOSTS[0].agentId}&type=abnormal_port`, op);
      const a = ((r.body.items as { id: string; lastSeen: string }[]) ?? [])[0];
      anomalyId = a?.lastSeen === lastEnd ? a.id : '';
      return anomalyId !== '';
    },
    60_000,
    'the abnormal_port anomaly, through the last window',
  );
  expect((await send('POST', `anomalies/${anomalyId}/acknowledge`, op, {})).status).toBe(200);
  expect((await send('POST', `anomalies/${anomalyId}/resolve`, op, {})).status).toBe(200);
  // Two failed sign-ins, one of them by a name a spreadsheet would run.
  expect(
    (await login(server.httpPort, { username: EVIL_USER, password: 'wrong-one-1' })).status,
  ).toBe(401);
  expect(
    (await login(server.httpPort, { username: 'nobody', password: 'wrong-one-2' })).status,
  ).toBe(401);
  await tokenFor(server, 'viewer');
  await tokenFor(server, 'auditadmin');
  await tokenFor(server, 'sysadmin');
  await new Promise((r) => setTimeout(r, 5));
  from = new Date(YESTERDAY).toISOString();
  to = new Date().toISOString();
  await new Promise((r) => setTimeout(r, 5));
}, 150_000);

afterAll(async () => {
  await server?.close();
  await db?.drop();
  if (work) rmSync(work, { recursive: true, force: true });
});

interface ReportJson {
  lang: string;
  total: { packets: string; bytes: string };
  protocols: { protocol: string; packets: string; bytes: string; sharePercent: number }[];
  directions: { direction: string; bytes: string }[];
  rates: { direction: string; peakBitsPerSecond: number; avgBitsPerSecond: number }[];
  topPorts: { port: number; protocol: string; bytes: string; abnormal: boolean }[];
  topTalkers: { src: string; dst: string; bytes: string }[];
  connections: Record<string, string | number>;
  coverage: {
    hostsInScope: number;
    hostsReporting: number;
    coveragePercent: number;
    hosts: { hostname: string; windows: string; coveragePercent: number }[];
  };
  highRiskPorts: {
    exposed: { hostname: string; port: number; protocol: string; loopbackOnly: boolean }[];
  };
  anomalies: {
    total: number;
    acknowledged: number;
    resolved: number;
    items: {
      id: string;
      type: string;
      hostname: string | null;
      secondsToAcknowledge: number | null;
      secondsToResolve: number | null;
    }[];
  };
  audit: {
    operatorActions: number;
    operatorActionsByAction: Record<string, number>;
    failedSignIns: number;
    failedSignInsByUser: Record<string, number>;
    chain: { ok: boolean; checked: number; lastCheckpoint: { sequence: string } | null };
  };
}

const q = (extra = '') =>
  `reports/traffic?from=${encodeURIComponent(from)}&to=${encodeURIComponent(to)}${extra}`;

it('JSON: the figures equal what was ingested, for the fleet, a label and a host', async () => {
  const op = await tokenFor(server, 'operator');
  const f = new Date(from);
  const t = new Date(to);
  for (const [scope, agents] of [
    ['', undefined],
    ['&labels=env%3Dprod', [HOSTS[0].agentId]],
    [`&agentId=${HOSTS[1].agentId}`, [HOSTS[1].agentId]],
  ] as const) {
    const r = await get(q(`${scope}&format=json&lang=en`), op);
    expect(r.status).toBe(200);
    expect(r.type).toMatch(/^application\/json/);
    const d = JSON.parse(r.body.toString('utf8')) as ReportJson;
    const sum = truth.summary(f, t, agents as string[] | undefined);
    expect(d.total).toEqual(sum.total);
    const perProto: Record<string, bigint> = {};
    for (const [k, v] of Object.entries(sum.items)) {
      const p = k.split('/')[0];
      perProto[p] = (perProto[p] ?? 0n) + BigInt(v.bytes);
    }
    expect(Object.fromEntries(d.protocols.map((p) => [p.protocol, p.bytes]))).toEqual(
      Object.fromEntries(Object.entries(perProto).map(([k, v]) => [k, v.toString()])),
    );
    const ports = truth.ports(f, t, agents as string[] | undefined);
    for (const p of d.topPorts) expect(p.bytes).toBe(ports[`${p.port}/${p.protocol}`].bytes);
    const c = truth.connections(f, t, agents as string[] | undefined);
    expect(d.connections).toMatchObject(c);
    const n = (agents ?? HOSTS).length;
    expect(d.coverage.hostsInScope).toBe(n);
    expect(d.coverage.hostsReporting).toBe(n);
    for (const h of d.coverage.hosts) expect(h.windows).toBe(String(WINDOWS));
  }
  const d = JSON.parse((await get(q('&format=json'), op)).body.toString('utf8')) as ReportJson;
  expect(d.lang).toBe('zh-CN');
  // Host 1 reported 22, 3389, 8443 and 445 on loopback only: the high-risk ones are listed,
  // with the loopback flag as the agent reported it; 8443 is not high-risk.
  expect(
    d.highRiskPorts.exposed.map(
      (e) => `${e.hostname} ${e.protocol}/${e.port}${e.loopbackOnly ? ' loopback' : ''}`,
    ),
  ).toEqual(['db-1 tcp/22', 'db-1 tcp/445 loopback', 'db-1 tcp/3389']);
  // A port last seen well before the period (closed since) is not exposed in it.
  const [{ last }] = await db.query<{ last: Date }>(
    `SELECT last_seen AS last FROM listening_ports WHERE agent_id = $1 AND port = 3389`,
    [HOSTS[0].agentId],
  );
  await db.query(
    `UPDATE listening_ports SET last_seen = $2::timestamptz - interval '1 hour' WHERE agent_id = $1 AND port = 3389`,
    [HOSTS[0].agentId, from],
  );
  const closed = JSON.parse((await get(q('&format=json'), op)).body.toString('utf8')) as ReportJson;
  expect(closed.highRiskPorts.exposed.map((e) => e.port)).toEqual([22, 445]);
  await db.query(`UPDATE listening_ports SET last_seen = $2 WHERE agent_id = $1 AND port = 3389`, [
    HOSTS[0].agentId,
    last,
  ]);
  // The abnormal_port incident, acknowledged then resolved, with its handling times.
  expect(d.anomalies.total).toBeGreaterThanOrEqual(1);
  expect(d.anomalies.resolved).toBeGreaterThanOrEqual(1);
  const handled = d.anomalies.items.find((a) => a.id === anomalyId)!;
  expect(handled.secondsToAcknowledge).toBeGreaterThan(0);
  expect(handled.secondsToResolve!).toBeGreaterThanOrEqual(handled.secondsToAcknowledge!);
  expect(d.audit.failedSignIns).toBe(2);
  expect(d.audit.failedSignInsByUser).toEqual({ [EVIL_USER]: 1, nobody: 1 });
  // The operator's sign-in, acknowledge and resolve (its report requests come after `to`).
  expect(d.audit.operatorActionsByAction).toEqual({
    'auth.login': 1,
    'anomaly.acknowledged': 1,
    'anomaly.resolved': 1,
  });
  expect(d.audit.operatorActions).toBe(3);
  expect(d.audit.chain.ok).toBe(true);
  expect(d.audit.chain.checked).toBeGreaterThan(0);
  expect(d.audit.chain.lastCheckpoint).not.toBeNull();
});

it('PDF: pdftotext finds the JSON figures in zh-CN and en; the CJK font is an embedded subset', async () => {
  const op = await tokenFor(server, 'operator');
  const d = JSON.parse(
    (await get(q('&format=json&lang=en'), op)).body.toString('utf8'),
  ) as ReportJson;
  const figures = [
    en(d.total.bytes),
    en(d.total.packets),
    ...d.protocols.map((p) => en(p.bytes)),
    ...d.directions.map((p) => en(p.bytes)),
    ...d.topPorts.map((p) => en(p.bytes)),
    ...d.topTalkers.map((p) => en(p.bytes)),
    ...d.topTalkers.map((p) => p.src),
    ...d.rates.map((r) => en2(r.peakBitsPerSecond)),
    ...d.rates.map((r) => en2(r.avgBitsPerSecond)),
    en(String(d.connections.openedClient)),
    en(String(d.connections.openedServer)),
    en(String(d.connections.retransmits)),
    en(String(d.connections.closed)),
    en2(d.coverage.coveragePercent),
    EVIL_USER,
    'db-1',
    '3389',
  ];
  for (const lang of ['zh-CN', 'en'] as const) {
    const r = await get(q(`&format=pdf&lang=${lang}`), op);
    expect(r.status).toBe(200);
    expect(r.type).toBe('application/pdf');
    expect(r.body.subarray(0, 5).toString('latin1')).toBe('%PDF-');
    const text = pdfText(r.body, `report-${lang}`);
    const missing = figures.filter((f) => !text.includes(f));
    expect({ lang, missing }).toEqual({ lang, missing: [] });
    if (lang === 'zh-CN') {
      expect(text).toContain('网络流量合规报告');
      expect(text).toContain('高危端口暴露');
      expect(text).toContain('审计链校验');
      expect(text).not.toContain('Network traffic compliance report');
    } else {
      expect(text).toContain('Network traffic compliance report');
      expect(text).toContain('High-risk ports exposed');
      expect(text).not.toContain('网络流量合规报告');
    }
    const fonts = pdfFonts(r.body, `fonts-${lang}`);
    // name                      type         encoding    emb sub uni object ID
    const line = fonts.split('\n').find((l) => l.includes('WenQuanYiMicroHei'));
    expect(line).toBeDefined();
    expect(line).toMatch(/^[A-Z]{6}\+WenQuanYiMicroHei\s/);
    expect(line!.split(/\s+/).slice(-5, -2)).toEqual(['yes', 'yes', 'yes']);
  }
});

it('CSV: UTF-8 with a BOM, the same figures, formula cells neutralised', async () => {
  const r = await get(q('&format=csv&lang=zh-CN'), await tokenFor(server, 'viewer'));
  expect(r.status).toBe(200);
  expect(r.type).toBe('text/csv; charset=utf-8');
  expect([...r.body.subarray(0, 3)]).toEqual([0xef, 0xbb, 0xbf]);
  const text = r.body.toString('utf8').slice(1);
  expect(text.startsWith('网络流量合规报告\r\n')).toBe(true);
  const sum = truth.summary(new Date(from), new Date(to));
  expect(text).toContain(`,${sum.total.packets},${sum.total.bytes},100\r\n`);
  // The hostname and the user name start with = and @: prefixed with ' so they stay text.
  expect(text).toContain(`"'=HYPERLINK(""http://198.18.0.1"")",${WINDOWS},`);
  expect(text).toContain(`'${EVIL_USER},1\r\n`);
  const cells = text.split(/\r\n/).flatMap((l) => l.split(','));
  expect(cells.filter((c) => /^"?[=+\-@]/.test(c))).toEqual([]);
});

it('roles: operator, viewer and their API tokens read reports; the others get 403; schedules are the sysadmin’s', async () => {
  expect((await get(q(), null)).status).toBe(401);
  for (const role of ['operator', 'viewer'] as const)
    expect({ role, status: (await get(q(), await tokenFor(server, role))).status }).toEqual({
      role,
      status: 200,
    });
  for (const role of ['sysadmin', 'secadmin', 'auditadmin'] as const)
    expect({ role, status: (await get(q(), await tokenFor(server, role))).status }).toEqual({
      role,
      status: 403,
    });
  const tokens = server.app.get(ApiTokensService);
  for (const role of ['viewer', 'operator'] as const) {
    const { token } = await tokens.create(TEST_ACTOR, { name: `reports-${role}`, role });
    const r = await get(q('&format=pdf&lang=en'), token);
    expect({ role, status: r.status, type: r.type }).toEqual({
      role,
      status: 200,
      type: 'application/pdf',
    });
  }
  const schedule = { formats: ['pdf'], lang: 'en' };
  expect(
    (await send('PUT', 'reports/schedules/x', await tokenFor(server, 'operator'), schedule)).status,
  ).toBe(403);
  expect((await send('GET', 'reports/schedules', await tokenFor(server, 'viewer'))).status).toBe(
    403,
  );
  expect(
    (
      await send('PUT', 'reports/schedules/x', await tokenFor(server, 'sysadmin'), {
        formats: ['doc'],
      })
    ).status,
  ).toBe(400);
});

it('every generation is audited with the digest of the bytes sent', async () => {
  const viewer = await tokenFor(server, 'viewer');
  const r = await get(q('&format=pdf&lang=zh-CN'), viewer);
  expect(r.status).toBe(200);
  const digest = hash('sm3', r.body, 'hex');
  expect(r.digest).toBe(`sm3:${digest}`);
  const entries = await auditEntries('report.generated');
  const mine = entries.find((e) => (e.details as Record<string, unknown>)?.digest === digest);
  expect(mine).toMatchObject({
    outcome: 'success',
    target: 'report:on-demand',
    details: { format: 'pdf', lang: 'zh-CN', digestAlg: 'sm3', bytes: r.body.length, from, to },
  });
});

it('the scheduled daily report is made once at its hour, kept, downloaded (audited) and verified; a changed byte is detected', async () => {
  const sys = await tokenFor(server, 'sysadmin');
  const put = await send('PUT', 'reports/schedules/daily-fleet', sys, {
    formats: ['pdf', 'json'],
    lang: 'zh-CN',
    hour: 1,
  });
  expect(put.status).toBe(200);
  expect(put.body).toMatchObject({
    name: 'daily-fleet',
    formats: ['pdf', 'json'],
    hour: 1,
    enabled: true,
  });
  expect((await auditEntries('report.schedule_changed'))[0]).toMatchObject({
    target: 'report-schedule:daily-fleet',
    outcome: 'success',
  });
  const scheduler = server.app.get(ReportSchedulerService);
  // Before 01:00 nothing is due; at 01:30 yesterday is reported, once.
  expect(await scheduler.tick(new Date(TODAY + 30 * 60_000))).toEqual([]);
  const made = await scheduler.tick(new Date(TODAY + 90 * 60_000));
  expect(made.map((m) => [m.format, m.from, m.to, m.scheduleName])).toEqual([
    ['pdf', new Date(YESTERDAY).toISOString(), new Date(TODAY).toISOString(), 'daily-fleet'],
    ['json', new Date(YESTERDAY).toISOString(), new Date(TODAY).toISOString(), 'daily-fleet'],
  ]);
  expect(await scheduler.tick(new Date(TODAY + 2 * HOUR))).toEqual([]);

  const viewer = await tokenFor(server, 'viewer');
  const list = await send('GET', 'reports/stored', viewer);
  expect(list.status).toBe(200);
  expect((list.body.items as { id: string }[]).map((i) => i.id).sort()).toEqual(
    made.map((m) => m.id).sort(),
  );
  const json = made.find((m) => m.format === 'json')!;
  const pdf = made.find((m) => m.format === 'pdf')!;
  // The kept JSON report has the ingested figures of yesterday.
  const dl = await get(`reports/stored/${json.id}`, viewer);
  expect(dl.status).toBe(200);
  const doc = JSON.parse(dl.body.toString('utf8')) as ReportJson;
  expect(doc.total).toEqual(truth.summary(new Date(YESTERDAY), new Date(TODAY)).total);
  // Generation and download each recorded with the digest of these very bytes.
  const digest = hash('sm3', dl.body, 'hex');
  expect(dl.digest).toBe(`sm3:${digest}`);
  const generated = (await auditEntries('report.generated')).find(
    (e) => e.target === `report:${json.id}`,
  );
  expect(generated).toMatchObject({
    actor: 'schedule:daily-fleet',
    outcome: 'success',
    details: { digest, digestAlg: 'sm3', stored: true, schedule: 'daily-fleet', format: 'json' },
  });
  const downloaded = (await auditEntries('report.downloaded')).find(
    (e) => e.target === `report:${json.id}`,
  );
  expect(downloaded).toMatchObject({ outcome: 'success', details: { digest } });

  const pdfBytes = (await get(`reports/stored/${pdf.id}`, viewer)).body;
  expect(pdfText(pdfBytes, 'scheduled')).toContain(en(doc.total.bytes));
  const ok = await send(
    'GET',
    `reports/stored/${pdf.id}/verify`,
    await tokenFor(server, 'auditadmin'),
  );
  expect(ok.body).toMatchObject({ ok: true, digest: hash('sm3', pdfBytes, 'hex') });

  // One byte changed in the kept PDF, and its digest column "fixed" to match: the database refuses
  // it; the table's owner, lifting that trigger, can — and the audit trail still knows.
  const tamper = `UPDATE reports SET content = set_byte(content, 200, (get_byte(content, 200) + 1) % 256) WHERE id = $1`;
  await expect(db.query(tamper, [pdf.id])).rejects.toThrow(
    `kept reports are not changed: UPDATE of content refused (report ${pdf.id})`,
  );
  await db.query(`ALTER TABLE reports DISABLE TRIGGER reports_keep_as_made`);
  let content: Buffer;
  try {
    await db.query(tamper, [pdf.id]);
    [{ content }] = await db.query<{ content: Buffer }>(
      `SELECT content FROM reports WHERE id = $1`,
      [pdf.id],
    );
    await db.query(`UPDATE reports SET digest = $2 WHERE id = $1`, [
      pdf.id,
      hash('sm3', content, 'hex'),
    ]);
  } finally {
    await db.query(`ALTER TABLE reports ENABLE ALWAYS TRIGGER reports_keep_as_made`);
  }
  const bad = await send('GET', `reports/stored/${pdf.id}/verify`, viewer);
  expect(bad.status).toBe(200);
  expect(bad.body).toMatchObject({
    ok: false,
    digest: hash('sm3', content, 'hex'),
    auditedDigest: hash('sm3', pdfBytes, 'hex'),
  });
  expect(String(bad.body.reason)).toMatch(/changed/);
  expect((await auditEntries('report.verified'))[0]).toMatchObject({
    target: `report:${pdf.id}`,
    outcome: 'failure',
  });
});

it('fails closed: when the trail cannot record it, no report is sent, kept or downloaded (503)', async () => {
  const viewer = await tokenFor(server, 'viewer');
  const sys = await tokenFor(server, 'sysadmin');
  expect(
    (await send('PUT', 'reports/schedules/blocked', sys, { formats: ['csv'], hour: 0 })).status,
  ).toBe(200);
  const [kept] = await db.query<{ id: string }>(`SELECT id::text FROM reports ORDER BY id LIMIT 1`);
  expect(kept).toBeDefined();
  await db.query(
    `ALTER TABLE audit_entries ADD CONSTRAINT test_unwritable
       CHECK (action NOT IN ('report.generated', 'report.downloaded')) NOT VALID`,
  );
  try {
    const r = await get(q('&format=pdf'), viewer);
    expect(r.status).toBe(503);
    expect(r.type).toMatch(/^application\/json/);
    expect(JSON.parse(r.body.toString('utf8'))).toMatchObject({ error: 'AuditUnavailableError' });
    expect((await get(`reports/stored/${kept.id}`, viewer)).status).toBe(503);
    const scheduler = server.app.get(ReportSchedulerService);
    expect(await scheduler.tick(new Date(TODAY + 90 * 60_000))).toEqual([]);
    expect(await db.query(`SELECT id FROM reports WHERE schedule_name = 'blocked'`)).toEqual([]);
  } finally {
    await db.query('ALTER TABLE audit_entries DROP CONSTRAINT test_unwritable');
  }
  // Once the trail is writable again the next tick makes it.
  const made = await server.app.get(ReportSchedulerService).tick(new Date(TODAY + 91 * 60_000));
  expect(made.map((m) => [m.scheduleName, m.format])).toEqual([['blocked', 'csv']]);
});
