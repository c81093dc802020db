import { writeFileSync } from 'node:fs';
import * as path from 'node:path';
import type { RunningServer } from '../src/server';
import { bearer, login, tokenFor } from './support/auth';
import { createTestDatabase, TestDatabase } from './support/database';
import { startTestServer } from './support/server';
import { slapdMissing, SUFFIX, TestSlapd } from './support/slapd';

// POST /api/v1/auth/login for directory users, end to end: the real server and PostgreSQL,
// a real slapd this file starts (LDAPS, its own CA). The ground truth is the directory:
// who is in which group with which password, then a group change made with ldapmodify —
// and the user's next request once the re-check is due (its last check moved back in the
// database by the re-check interval, instead of waiting 15 minutes).

jest.setTimeout(60_000);

const missing = slapdMissing();
const describeLdap = missing ? describe.skip : describe;
if (missing) console.warn(`LDAP sign-in tests skipped: ${missing}`);

const PEOPLE = `ou=people,${SUFFIX}`;
const GROUPS = `ou=groups,${SUFFIX}`;
const dn = (uid: string) => `uid=${uid},${PEOPLE}`;
const group = (cn: string) => `cn=${cn},${GROUPS}`;
const PASSWORDS: Record<string, string> = {
  bob: 'bob-directory-pw',
  eve: 'eve-directory-pw',
  sam: 'sam-directory-pw',
};
const RECHECK_SECONDS = 600;

let slapd: TestSlapd;
let db: TestDatabase;
let server: RunningServer;

async function get(path: string, token: string): Promise<number> {
  const res = await fetch(`http://127.0.0.1:${server.httpPort}${path}`, { headers: bearer(token) });
  await res.arrayBuffer();
  return res.status;
}

describeLdap('sign-in with a directory account', () => {
  beforeAll(async () => {
    slapd = new TestSlapd();
    await slapd.start();
    const person = (uid: string) =>
      `dn: ${dn(uid)}\nobjectClass: inetOrgPerson\nuid: ${uid}\ncn: ${uid}\nsn: ${uid}\nuserPassword: ${PASSWORDS[uid]}\n`;
    slapd.add(
      [
        `dn: ${SUFFIX}\nobjectClass: dcObject\nobjectClass: organization\ndc: tidewatch\no: Test bank\n`,
        `dn: ${PEOPLE}\nobjectClass: organizationalUnit\nou: people\n`,
        `dn: ${GROUPS}\nobjectClass: organizationalUnit\nou: groups\n`,
        person('bob'),
        person('eve'),
        person('sam'),
        `dn: ${group('tw-secadmins')}\nobjectClass: groupOfNames\ncn: tw-secadmins\nmember: ${dn('sam')}\n`,
        `dn: ${group('tw-operators')}\nobjectClass: groupOfNames\ncn: tw-operators\nmember: ${dn('bob')}\nmember: ${dn('eve')}\n`,
        `dn: ${group('tw-viewers')}\nobjectClass: groupOfNames\ncn: tw-viewers\nmember: uid=placeholder,${PEOPLE}\n`,
      ].join('\n'),
    );
    const roles = path.join(slapd.dir, 'roles.json');
    writeFileSync(
      roles,
      JSON.stringify({
        [group('tw-operators')]: 'operator',
        [group('tw-viewers')]: 'viewer',
        [group('tw-secadmins')]: 'secadmin',
      }),
    );
    db = await createTestDatabase();
    server = await startTestServer(db.url, {
      LDAP_URL: slapd.ldapsUrl,
      LDAP_TLS_CA_FILE: slapd.caFile,
      LDAP_USER_BASE: PEOPLE,
      LDAP_GROUP_BASE: GROUPS,
      LDAP_GROUP_ROLES_FILE: roles,
      LDAP_RECHECK_SECONDS: String(RECHECK_SECONDS),
      // The test directory lets only bound users read: its root is the service account here.
      LDAP_BIND_DN: `cn=admin,${SUFFIX}`,
      LDAP_BIND_PASSWORD_FILE: slapd.rootPasswordFile(),
    });
  });

  afterAll(async () => {
    await server?.close();
    await db?.drop();
    await slapd?.remove();
  });

  it('signs a directory user in with the role of their group; the users row says ldap', async () => {
    const r = await login(server.httpPort, { username: 'bob', password: PASSWORDS.bob });
    expect(r.status).toBe(200);
    expect(r.body).toMatchObject({
      user: { username: 'bob', role: 'operator' },
      mustChangePassword: false,
    });
    const [u] = await db.query<{
      source: string;
      role: string;
      password_hash: string | null;
      ldap_dn: string;
    }>(`SELECT source, role, password_hash, ldap_dn FROM users WHERE username = 'bob'`);
    expect(u).toEqual({
      source: 'ldap',
      role: 'operator',
      password_hash: null,
      ldap_dn: dn('bob'),
    });
    expect(await get('/api/v1/hosts', r.body.accessToken as string)).toBe(200);
  });

  it('answers a wrong password, an unknown user and filter syntax alike (401), audited', async () => {
    for (const [username, password] of [
      ['bob', 'wrong'],
      ['nobody', 'x'],
      ['*', PASSWORDS.bob],
      ['b*', PASSWORDS.bob],
    ]) {
      const r = await login(server.httpPort, { username, password });
      expect({ username, status: r.status }).toEqual({ username, status: 401 });
    }
    const rows = await db.query<{ actor: string; reason: string }>(
      `SELECT actor, reason FROM audit_entries WHERE action = 'auth.login' AND outcome = 'failure' ORDER BY sequence`,
    );
    expect(rows).toEqual([
      { actor: 'bob', reason: 'wrong password' },
      { actor: 'nobody', reason: 'unknown user' },
      { actor: '*', reason: 'unknown user' },
      { actor: 'b*', reason: 'unknown user' },
    ]);
  });

  it('a user taken out of the group loses access at the first request once the re-check is due', async () => {
    const r = await login(server.httpPort, { username: 'eve', password: PASSWORDS.eve });
    expect(r.status).toBe(200);
    const token = r.body.accessToken as string;
    expect(await get('/api/v1/hosts', token)).toBe(200);

    slapd.modify(
      `dn: ${group('tw-operators')}\nchangetype: modify\ndelete: member\nmember: ${dn('eve')}\n`,
    );
    // Checked moments ago: the directory is not asked before the interval is over.
    expect(await get('/api/v1/hosts', token)).toBe(200);
    // The interval passes (moved in the database, not waited for).
    await db.query(
      `UPDATE users SET ldap_checked_at = ldap_checked_at - make_interval(secs => $1) WHERE username = 'eve'`,
      [RECHECK_SECONDS],
    );
    expect(await get('/api/v1/hosts', token)).toBe(401);
    expect(await get('/api/v1/hosts', token)).toBe(401);
    const sessions = await db.query<{ revoked_reason: string }>(
      `SELECT s.revoked_reason FROM sessions s JOIN users u ON u.id = s.user_id WHERE u.username = 'eve'`,
    );
    expect(sessions).toEqual([
      { revoked_reason: 'directory: no group of the user maps to a role' },
    ]);
    const audit = await db.query<{ outcome: string; reason: string }>(
      `SELECT outcome, reason FROM audit_entries WHERE action = 'auth.ldap.recheck' AND actor = 'eve'`,
    );
    expect(audit).toEqual([{ outcome: 'denied', reason: 'no group of the user maps to a role' }]);
    // And signing in again is refused while the directory gives no role.
    expect(
      (await login(server.httpPort, { username: 'eve', password: PASSWORDS.eve })).status,
    ).toBe(401);
  });

  it('a directory administrator must enrol TOTP before anything else, like a local one', async () => {
    const r = await login(server.httpPort, { username: 'sam', password: PASSWORDS.sam });
    expect(r.status).toBe(200);
    expect(r.body).toMatchObject({ user: { username: 'sam', role: 'secadmin' } });
    const token = r.body.accessToken as string;
    expect(await get('/api/v1/users', token)).toBe(403);
    const [denied] = await db.query<{ reason: string }>(
      `SELECT reason FROM audit_entries WHERE action = 'auth.forbidden' AND actor = 'sam'`,
    );
    expect(denied.reason).toBe('TOTP enrolment required for this role');
    const me = await fetch(`http://127.0.0.1:${server.httpPort}/api/v1/auth/me`, {
      headers: bearer(token),
    });
    expect(await me.json()).toMatchObject({ totpRequired: true, totpEnrolled: false });
  });

  it("the security administrator's group mapping: audited, and in force at the next request", async () => {
    const secadmin = await tokenFor(server, 'secadmin');
    const put = (body: unknown, token = secadmin) =>
      fetch(`http://127.0.0.1:${server.httpPort}/api/v1/auth/ldap/group-roles`, {
        method: 'PUT',
        headers: { ...bearer(token), 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });
    const before = await fetch(`http://127.0.0.1:${server.httpPort}/api/v1/auth/ldap/group-roles`, {
      headers: bearer(secadmin),
    });
    const env = [
      { group: group('tw-operators'), role: 'operator' },
      { group: group('tw-secadmins'), role: 'secadmin' },
      { group: group('tw-viewers'), role: 'viewer' },
    ];
    expect(await before.json()).toEqual({
      ldapEnabled: true,
      mappings: env,
      source: 'environment',
      updatedAt: null,
      updatedBy: null,
    });
    const bobIn = await login(server.httpPort, { username: 'bob', password: PASSWORDS.bob });
    expect(bobIn.status).toBe(200);
    const bob = bobIn.body.accessToken as string;
    expect(await get('/api/v1/hosts', bob)).toBe(200);

    // Not a DN, one group twice with two roles, an unknown role, an operator: refused.
    expect((await put({ mappings: [{ group: 'tw-operators', role: 'viewer' }] })).status).toBe(400);
    expect(
      (
        await put({
          mappings: [
            { group: group('tw-operators'), role: 'viewer' },
            { group: group('TW-Operators').toUpperCase(), role: 'operator' },
          ],
        })
      ).status,
    ).toBe(400);
    expect((await put({ mappings: [{ group: group('x'), role: 'root' }] })).status).toBe(400);
    expect((await put({ mappings: [] }, await tokenFor(server, 'sysadmin'))).status).toBe(403);

    // The operators' group now gives viewer.
    const next = [
      { group: group('tw-operators'), role: 'viewer' },
      { group: group('tw-secadmins'), role: 'secadmin' },
    ];
    const changed = await put({ mappings: next });
    expect(changed.status).toBe(200);
    expect(await changed.json()).toMatchObject({ source: 'stored', mappings: next });
    const audit = await db.query<{ outcome: string; details: string | object }>(
      `SELECT outcome, details FROM audit_entries WHERE action = 'auth.ldap_group_roles_changed'`,
    );
    expect(audit.length).toBe(1);
    const details = audit[0].details;
    expect(typeof details === 'string' ? JSON.parse(details) : details).toEqual({
      from: env,
      to: next,
      directoryUsersRechecked: 3,
    });
    // Bob's next request asks the directory again (no waiting for the interval): the role changed.
    expect(await get('/api/v1/hosts', bob)).toBe(401);
    const [recheck] = await db.query<{ reason: string }>(
      `SELECT reason FROM audit_entries WHERE action = 'auth.ldap.recheck' AND actor = 'bob'`,
    );
    expect(recheck.reason).toBe('the directory groups now give role viewer, not operator');
    const again = await login(server.httpPort, { username: 'bob', password: PASSWORDS.bob });
    expect(again.status).toBe(200);
    expect(again.body).toMatchObject({ user: { username: 'bob', role: 'viewer' } });
    expect(await get('/api/v1/users', again.body.accessToken as string)).toBe(403);
    const [stored] = await db.query<{ value: unknown }>(
      `SELECT value FROM security_settings WHERE name = 'ldap_group_roles'`,
    );
    expect(stored.value).toEqual(next);
  });

  it('a directory that does not answer signs nobody in (503)', async () => {
    await slapd.stop();
    const r = await login(server.httpPort, { username: 'bob', password: PASSWORDS.bob });
    expect(r.status).toBe(503);
  });
});
