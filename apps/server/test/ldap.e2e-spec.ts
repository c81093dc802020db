import { writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { LdapAccess } from '../src/auth/ldap/ldap-access';
import {
  LdapBadCredentialsError,
  LdapNoRoleError,
  LdapUnavailableError,
} from '../src/auth/ldap/ldap-directory';
import { LdapSettings, parseLdapSettings } from '../src/auth/ldap/ldap-settings';
import { slapdMissing, SUFFIX, TestSlapd } from './support/slapd';

// LDAP sign-in against a real OpenLDAP (Debian's slapd) that this file starts on loopback
// ports with its own config dir and certificates, over LDAPS and over StartTLS. The
// ground truth is the directory this file loads: who is in which group, with which
// password; then it changes the groups with ldapmodify and the re-check must see it.

// A loaded CI machine starts a server (migrations, scrypt) slower than jest's 5 s default.
jest.setTimeout(60_000);

const missing = slapdMissing();
const describeLdap = missing ? describe.skip : describe;
if (missing) console.warn(`LDAP tests skipped: ${missing}`);

const PEOPLE = `ou=people,${SUFFIX}`;
const GROUPS = `ou=groups,${SUFFIX}`;
const SERVICE_DN = `cn=tidewatch,ou=services,${SUFFIX}`;
const dn = (uid: string) => `uid=${uid},${PEOPLE}`;
const group = (cn: string) => `cn=${cn},${GROUPS}`;

const USERS: Record<string, string> = {
  alice: 'alice-pw-1',
  bob: 'bob-pw-22',
  carol: 'carol-pw-333',
  dave: 'dave-pw-4444',
  'star*user': 'star-pw-5',
  zhangwei: '密码-张伟-6',
};

function person(uid: string): string {
  return [
    `dn: ${dn(uid)}`,
    'objectClass: inetOrgPerson',
    `uid: ${uid}`,
    `cn: ${uid}`,
    `sn: ${uid}`,
    `userPassword: ${USERS[uid]}`,
    '',
  ].join('\n');
}

function groupOf(cn: string, members: string[]): string {
  return [
    `dn: ${group(cn)}`,
    'objectClass: groupOfNames',
    `cn: ${cn}`,
    ...members.map((m) => `member: ${dn(m)}`),
    '',
  ].join('\n');
}

let slapd: TestSlapd;
let base: Record<string, string>;

/** Settings as the server would parse them from its environment. */
function settings(extra: Record<string, string> = {}): LdapSettings {
  return parseLdapSettings({ ...base, ...extra }) as LdapSettings;
}

describeLdap('LDAP sign-in against a real slapd', () => {
  beforeAll(async () => {
    slapd = new TestSlapd();
    await slapd.start();
    slapd.add(
      [
        `dn: ${SUFFIX}\nobjectClass: dcObject\nobjectClass: organization\ndc: tidewatch\no: Tidewatch test bank\n`,
        `dn: ${PEOPLE}\nobjectClass: organizationalUnit\nou: people\n`,
        `dn: ${GROUPS}\nobjectClass: organizationalUnit\nou: groups\n`,
        `dn: ou=services,${SUFFIX}\nobjectClass: organizationalUnit\nou: services\n`,
        `dn: ${SERVICE_DN}\nobjectClass: person\ncn: tidewatch\nsn: service\nuserPassword: service-pw\n`,
        ...Object.keys(USERS).map(person),
        groupOf('tw-secadmins', ['alice', 'dave']),
        groupOf('tw-auditors', ['dave']),
        groupOf('tw-operators', ['bob', 'star*user', 'zhangwei']),
        // groupOfNames needs a member: one that is nobody (as directories often do)
        groupOf('tw-viewers', ['placeholder']),
        groupOf('payroll', ['carol']),
      ].join('\n'),
    );
    const passwordFile = path.join(slapd.dir, 'bind-password');
    writeFileSync(passwordFile, 'service-pw\n', { mode: 0o600 });
    const rolesFile = path.join(slapd.dir, 'group-roles.json');
    writeFileSync(
      rolesFile,
      JSON.stringify({
        // Case and spacing as an operator might type them: DNs are compared normalized.
        [`CN=TW-SecAdmins, OU=Groups,${SUFFIX.toUpperCase()}`]: 'secadmin',
        [group('tw-auditors')]: 'auditadmin',
        [group('tw-operators')]: 'operator',
        [group('tw-viewers')]: 'viewer',
      }),
    );
    base = {
      LDAP_URL: slapd.ldapsUrl,
      LDAP_TLS_CA_FILE: slapd.caFile,
      LDAP_BIND_DN: SERVICE_DN,
      LDAP_BIND_PASSWORD_FILE: passwordFile,
      LDAP_USER_BASE: PEOPLE,
      LDAP_GROUP_BASE: GROUPS,
      LDAP_GROUP_ROLES_FILE: rolesFile,
      LDAP_RECHECK_SECONDS: '900',
    };
  }, 60_000);

  afterAll(async () => {
    await slapd?.remove();
  });

  it.each([
    ['LDAPS', () => ({})],
    ['StartTLS', () => ({ LDAP_URL: slapd.ldapUrl, LDAP_STARTTLS: 'true' })],
  ])('signs in over %s with the role of the mapped group', async (_, extra) => {
    const ldap = new LdapAccess(settings(extra()));
    const a = await ldap.signIn('alice', USERS.alice);
    expect(a).toEqual({
      identity: { username: 'alice', dn: dn('alice'), groups: [group('tw-secadmins')] },
      role: 'secadmin',
      group: group('tw-secadmins'),
    });
    expect((await ldap.signIn('zhangwei', USERS.zhangwei)).role).toBe('operator');
  });

  it('one answer for a wrong password, an empty password and an unknown user', async () => {
    const ldap = new LdapAccess(settings());
    for (const [user, pw] of [
      ['alice', 'wrong'],
      ['alice', ''],
      ['nobody', 'x'],
      ['', 'x'],
    ]) {
      await expect(ldap.signIn(user, pw)).rejects.toEqual(
        new LdapBadCredentialsError('bad user name or password'),
      );
    }
  });

  it('escapes the typed name: filter syntax matches nothing, a literal * still signs its owner in', async () => {
    const ldap = new LdapAccess(settings());
    // Unescaped, each of these would match alice (or everyone) and bind with alice's password.
    for (const user of ['*', 'al*', 'alice)(uid=*', '*)(|(uid=alice', 'alice\\']) {
      await expect(ldap.signIn(user, USERS.alice)).rejects.toBeInstanceOf(LdapBadCredentialsError);
    }
    expect((await ldap.signIn('star*user', USERS['star*user'])).identity.dn).toBe(dn('star*user'));
  });

  it('refuses a user whose groups give no role, or two different roles', async () => {
    const ldap = new LdapAccess(settings());
    await expect(ldap.signIn('carol', USERS.carol)).rejects.toEqual(
      new LdapNoRoleError('carol: no group of the user maps to a role'),
    );
    await expect(ldap.signIn('dave', USERS.dave)).rejects.toEqual(
      new LdapNoRoleError(
        "dave: the user's groups map to several roles (auditadmin, secadmin); one role per user",
      ),
    );
  });

  it('takes the group mapping from LDAP_GROUP_ROLES in the environment as well', async () => {
    const ldap = new LdapAccess(
      settings({
        LDAP_GROUP_ROLES_FILE: '',
        LDAP_GROUP_ROLES: JSON.stringify({ [group('payroll')]: 'viewer' }),
      }),
    );
    expect((await ldap.signIn('carol', USERS.carol)).role).toBe('viewer');
    await expect(ldap.signIn('alice', USERS.alice)).rejects.toBeInstanceOf(LdapNoRoleError);
  });

  it('the re-check sees a user taken out of the group, moved to another role, or deleted', async () => {
    const ldap = new LdapAccess(settings());
    const signedIn = await ldap.signIn('bob', USERS.bob);
    expect(signedIn.role).toBe('operator');
    const checkedAt = new Date();
    expect(ldap.due(checkedAt, new Date(checkedAt.getTime() + 899_999))).toBe(false);
    expect(ldap.due(checkedAt, new Date(checkedAt.getTime() + 900_000))).toBe(true);
    expect(await ldap.recheck(dn('bob'), 'operator')).toMatchObject({ ok: true, role: 'operator' });

    slapd.modify(
      `dn: ${group('tw-operators')}\nchangetype: modify\ndelete: member\nmember: ${dn('bob')}\n`,
    );
    expect(await ldap.recheck(dn('bob'), 'operator')).toEqual({
      ok: false,
      reason: 'no group of the user maps to a role',
    });
    await expect(ldap.signIn('bob', USERS.bob)).rejects.toBeInstanceOf(LdapNoRoleError);

    slapd.modify(
      `dn: ${group('tw-viewers')}\nchangetype: modify\nadd: member\nmember: ${dn('bob')}\n`,
    );
    expect(await ldap.recheck(dn('bob'), 'operator')).toEqual({
      ok: false,
      reason: 'the directory groups now give role viewer, not operator',
    });
    expect((await ldap.signIn('bob', USERS.bob)).role).toBe('viewer');

    slapd.modify(`dn: ${dn('bob')}\nchangetype: delete\n`);
    expect(await ldap.recheck(dn('bob'), 'viewer')).toEqual({
      ok: false,
      reason: 'the directory entry is gone',
    });
  });

  it('verifies the directory certificate, and refuses a bad service account, as unavailable', async () => {
    const rogue = new LdapAccess(settings({ LDAP_TLS_CA_FILE: slapd.pki.file('rogue.crt') }));
    await expect(rogue.signIn('alice', USERS.alice)).rejects.toBeInstanceOf(LdapUnavailableError);
    const rogueStartTls = new LdapAccess(
      settings({
        LDAP_URL: slapd.ldapUrl,
        LDAP_STARTTLS: 'true',
        LDAP_TLS_CA_FILE: slapd.pki.file('rogue.crt'),
      }),
    );
    await expect(rogueStartTls.signIn('alice', USERS.alice)).rejects.toBeInstanceOf(
      LdapUnavailableError,
    );
    const wrongPw = path.join(slapd.dir, 'wrong-password');
    writeFileSync(wrongPw, 'not-the-service-pw');
    const badService = new LdapAccess(settings({ LDAP_BIND_PASSWORD_FILE: wrongPw }));
    await expect(badService.signIn('alice', USERS.alice)).rejects.toThrow(
      new RegExp(`refused the service account ${SERVICE_DN}`),
    );
    // And a directory that is down (a loopback port nobody listens on) is unavailable too.
    const down = new LdapAccess(settings({ LDAP_URL: 'ldaps://127.0.0.1:9' }));
    await expect(down.signIn('alice', USERS.alice)).rejects.toBeInstanceOf(LdapUnavailableError);
  });
});
