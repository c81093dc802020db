import { spawnSync } from 'node:child_process';
import { parseEnvironment } from '../src/config/environment';
import { ReportRetentionService } from '../src/reports/report-retention.service';
import { ReportsService, StoredReportView } from '../src/reports/reports.service';
import type { RunningServer } from '../src/server';
import { tokenFor } from './support/auth';
import { assertBuilt, BIN } from './support/child-server';
import { createTestDatabase, TestDatabase } from './support/database';
import { getJson, startTestServer } from './support/server';

// Ground truth: three kept reports made through the real generation path, one of
// them then dated 201 days back in the table. With REPORT_RETENTION_DAYS=200 the
// sweep removes exactly that one, with a report.purged entry naming its digest in
// the chained trail; the others stay; nothing younger than 180 days leaves, even
// when the server's clock says otherwise; a retention under 180 stops the server.

const DAY = 86_400_000;
const SERVER_ACTOR = { actor: 'test', source: 'test' };

let db: TestDatabase;
let server: RunningServer;
let reports: StoredReportView[];

const ids = async () =>
  (await db.query<{ id: string }>(`SELECT id::text FROM reports ORDER BY id`)).map((r) => r.id);

const purgedEntries = () =>
  db.query<{ target: string; actor: string | null; outcome: string; details: string }>(
    `SELECT target, actor, outcome, details FROM audit_entries WHERE action = 'report.purged' ORDER BY sequence`,
  );

beforeAll(async () => {
  db = await createTestDatabase();
  server = await startTestServer(db.url, { REPORT_RETENTION_DAYS: '200' });
  const svc = server.app.get(ReportsService);
  const to = new Date(Math.floor(Date.now() / DAY) * DAY);
  const from = new Date(to.getTime() - DAY);
  reports = [];
  for (const format of ['csv', 'json', 'csv'] as const) {
    const r = await svc.generateStored({ from, to, lang: 'en' }, format, null, SERVER_ACTOR);
    if (!r) throw new Error('report not stored');
    reports.push(r);
  }
  // The first one was made 201 days ago, as far as the table knows.
  await db.query(`UPDATE reports SET created_at = now() - interval '201 days' WHERE id = $1`, [
    reports[0].id,
  ]);
  // 190 days: past the audit minimum, within the configured 200.
  await db.query(`UPDATE reports SET created_at = now() - interval '190 days' WHERE id = $1`, [
    reports[1].id,
  ]);
});

afterAll(async () => {
  await server?.close();
  await db?.drop();
});

it('purges the report past REPORT_RETENTION_DAYS with an audit entry, and keeps the younger ones', async () => {
  const retention = server.app.get(ReportRetentionService);
  expect(retention.retentionDays).toBe(200);
  expect(await retention.purge()).toEqual([reports[0].id]);
  expect(await ids()).toEqual([reports[1].id, reports[2].id]);

  const entries = await purgedEntries();
  expect(entries).toHaveLength(1);
  expect(entries[0]).toMatchObject({
    target: `report:${reports[0].id}`,
    actor: null,
    outcome: 'success',
  });
  expect(JSON.parse(entries[0].details)).toMatchObject({
    format: 'csv',
    lang: 'en',
    digestAlg: reports[0].digestAlg,
    digest: reports[0].digest,
    from: reports[0].from,
    to: reports[0].to,
    retentionDays: 200,
  });

  // The purge left the chain whole.
  const verify = await getJson<{ ok: boolean }>(
    server.httpPort,
    '/api/v1/audit/verify?mode=full',
    await tokenFor(server, 'auditadmin'),
  );
  expect(verify.status).toBe(200);
  expect(verify.body.ok).toBe(true);

  // Nothing more to purge: no new entry.
  expect(await retention.purge()).toEqual([]);
  expect(await purgedEntries()).toHaveLength(1);
});

it('never deletes a report younger than 180 days: the database refuses, whatever the clock says', async () => {
  const retention = server.app.get(ReportRetentionService);
  // A server clock 200 days fast: every report looks past retention. The 190-day-old one may
  // go, the newest may not (the database's clock and its 180 days decide), in the same batch.
  await expect(retention.purge(new Date(Date.now() + 200 * DAY))).rejects.toThrow(
    /reports younger than 180 days are kept/,
  );
  // The batch rolled back as a whole: the older report is still there, no entry was added.
  expect(await ids()).toEqual([reports[1].id, reports[2].id]);
  expect(await purgedEntries()).toHaveLength(1);

  await expect(db.query(`DELETE FROM reports WHERE id = $1`, [reports[2].id])).rejects.toThrow(
    /reports younger than 180 days are kept: DELETE refused/,
  );
  await expect(db.query(`TRUNCATE reports`)).rejects.toThrow(/TRUNCATE refused/);
  expect(await ids()).toEqual([reports[1].id, reports[2].id]);
});

it('refuses a retention under 180 days, or not a number, at start with a clear error', () => {
  expect(() => parseEnvironment({ DATABASE_URL: db.url, REPORT_RETENTION_DAYS: '179' })).toThrow(
    'REPORT_RETENTION_DAYS must be at least 180 (the audit trail',
  );
  expect(parseEnvironment({ DATABASE_URL: db.url }).reportRetentionDays).toBe(400);
  assertBuilt();
  for (const [value, message] of [
    ['90', /REPORT_RETENTION_DAYS must be at least 180 .*got 90/],
    ['a year', /REPORT_RETENTION_DAYS must be an integer, got "a year"/],
  ] as const) {
    const r = spawnSync(process.execPath, [BIN, 'serve'], {
      env: { ...process.env, DATABASE_URL: db.url, REPORT_RETENTION_DAYS: value },
      encoding: 'utf8',
      timeout: 30_000,
    });
    expect(r.status).not.toBe(0);
    expect(r.stderr).toMatch(message);
  }
});
