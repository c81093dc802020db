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
  // The first one was made 201 days ago, as far as the table knows; 190 days for the second:
  // past the audit minimum, within the configured 200. The table refuses a backdated
  // created_at (below), so the test, as the table's owner, lifts that trigger to age them.
  await db.query(`ALTER TABLE reports DISABLE TRIGGER reports_keep_as_made`);
  try {
    for (const [report, days] of [
      [reports[0], 201],
      [reports[1], 190],
    ] as const) {
      await db.query(
        `UPDATE reports SET created_at = now() - $2::int * interval '1 day' WHERE id = $1`,
        [report.id, days],
      );
    }
  } finally {
    await db.query(`ALTER TABLE reports ENABLE ALWAYS TRIGGER reports_keep_as_made`);
  }
});

afterAll(async () => {
  await server?.close();
  await db?.drop();
});

const row = async (id: string) =>
  (
    await db.query<{
      created_at: Date;
      digest: string;
      content: Buffer;
      schedule_name: string | null;
    }>(`SELECT created_at, digest, content, schedule_name FROM reports WHERE id = $1`, [id])
  )[0];

it('refuses to backdate a kept report or change its bytes, whoever may UPDATE the table', async () => {
  const young = reports[2];
  const before = await row(young.id);
  const refused = [
    [`UPDATE reports SET created_at = now() - interval '400 days' WHERE id = $1`, 'created_at'],
    [`UPDATE reports SET content = 'x'::bytea, digest = 'forged' WHERE id = $1`, 'content, digest'],
    [
      `UPDATE reports SET period_from = period_from - interval '1 day' WHERE id = $1`,
      'period_from',
    ],
    [`UPDATE reports SET schedule_name = 'other' WHERE id = $1`, 'schedule_name'],
  ] as const;
  // The superuser this test connects as (the trigger holds unless it is disabled)...
  for (const [sql, columns] of refused) {
    await expect(db.query(sql, [young.id])).rejects.toThrow(
      `kept reports are not changed: UPDATE of ${columns} refused (report ${young.id})`,
    );
  }
  // ...in replica mode too (ENABLE ALWAYS)...
  await db.query('BEGIN');
  await db.query('SET LOCAL session_replication_role = replica');
  await expect(
    db.query(`UPDATE reports SET created_at = now() - interval '400 days' WHERE id = $1`, [
      young.id,
    ]),
  ).rejects.toThrow('UPDATE of created_at refused');
  await db.query('ROLLBACK');
  // ...and a role granted UPDATE and DELETE on it, which then cannot delete it either.
  const role = `tw_report_writer_${db.name.slice(-6)}`;
  await db.query(`CREATE ROLE ${role}`);
  try {
    await db.query(`GRANT SELECT, UPDATE, DELETE ON reports TO ${role}`);
    await db.query('BEGIN');
    await db.query(`SET LOCAL ROLE ${role}`);
    await expect(
      db.query(`UPDATE reports SET created_at = now() - interval '400 days' WHERE id = $1`, [
        young.id,
      ]),
    ).rejects.toMatchObject({
      code: '42501',
      message: expect.stringContaining('UPDATE of created_at refused'),
    });
    await db.query('ROLLBACK');
    await db.query('BEGIN');
    await db.query(`SET LOCAL ROLE ${role}`);
    await expect(db.query(`DELETE FROM reports WHERE id = $1`, [young.id])).rejects.toThrow(
      'reports younger than 180 days are kept: DELETE refused',
    );
    await db.query('ROLLBACK');
  } finally {
    await db.query(`DROP OWNED BY ${role}`);
    await db.query(`DROP ROLE ${role}`);
  }
  expect(await row(young.id)).toEqual(before);
  // An UPDATE that changes nothing is no change.
  await db.query(`UPDATE reports SET digest = digest WHERE id = $1`, [young.id]);
  expect(await row(young.id)).toEqual(before);
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

it('lets a deleted schedule leave its kept reports, changed only in schedule_name', async () => {
  await db.query(
    `INSERT INTO report_schedules (name, formats, lang) VALUES ('gone', '{csv}', 'en')`,
  );
  const to = new Date(Math.floor(Date.now() / DAY) * DAY);
  const kept = await server.app
    .get(ReportsService)
    .generateStored(
      { from: new Date(to.getTime() - DAY), to, lang: 'en' },
      'csv',
      'gone',
      SERVER_ACTOR,
    );
  if (!kept) throw new Error('report not stored');
  const before = await row(kept.id);
  expect(before.schedule_name).toBe('gone');
  await db.query(`DELETE FROM report_schedules WHERE name = 'gone'`);
  expect(await row(kept.id)).toEqual({ ...before, schedule_name: null });
  // Only to NULL: naming it after another schedule is a change like any other.
  await expect(
    db.query(`UPDATE reports SET schedule_name = 'gone' WHERE id = $1`, [kept.id]),
  ).rejects.toThrow('UPDATE of schedule_name refused');
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
