import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { EnvironmentError } from '../../config/environment';
import { parseLdapSettings } from './ldap-settings';

const dir = mkdtempSync(path.join(tmpdir(), 'tw-ldap-env-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const file = (name: string, text: string) => {
  const f = path.join(dir, name);
  writeFileSync(f, text);
  return f;
};

const BASE = {
  LDAP_URL: 'ldaps://dc1.bank.example:636',
  LDAP_USER_BASE: 'ou=people,dc=bank,dc=example',
  LDAP_GROUP_ROLES: '{"cn=TW Ops,ou=groups,dc=bank,dc=example":"operator"}',
};

describe('parseLdapSettings', () => {
  it('is off without LDAP_URL, and says so when other LDAP_ settings are there', () => {
    expect(parseLdapSettings({})).toBeNull();
    expect(() => parseLdapSettings({ LDAP_USER_BASE: 'dc=x' })).toThrow(
      new EnvironmentError('LDAP_USER_BASE set without LDAP_URL'),
    );
  });

  it('applies the defaults', () => {
    const s = parseLdapSettings({
      ...BASE,
      LDAP_BIND_DN: 'cn=svc,dc=bank,dc=example',
      LDAP_BIND_PASSWORD_FILE: file('pw', 'p@ss word\n'),
    });
    expect(s).toEqual({
      url: 'ldaps://dc1.bank.example:636',
      startTls: false,
      caFile: null,
      bindDn: 'cn=svc,dc=bank,dc=example',
      bindPassword: 'p@ss word',
      userBase: 'ou=people,dc=bank,dc=example',
      userFilter: '(&(objectClass=inetOrgPerson)(uid={username}))',
      groupBase: 'ou=people,dc=bank,dc=example',
      groupFilter: '(&(objectClass=groupOfNames)(member={dn}))',
      groupRoles: new Map([['cn=tw ops,ou=groups,dc=bank,dc=example', 'operator']]),
      timeoutMs: 5000,
      recheckSeconds: 900,
    });
  });

  it.each([
    [
      { LDAP_URL: 'ldap://dc1:389' },
      /ldap:\/\/ without LDAP_STARTTLS=true: passwords would cross the network in clear/,
    ],
    [{ LDAP_URL: 'ldaps://dc1', LDAP_STARTTLS: 'true' }, /ldaps:\/\/ is TLS already/],
    [{ LDAP_URL: 'http://dc1' }, /must be ldaps:\/\/ or ldap:\/\//],
    [{ LDAP_URL: 'ldaps://dc1/dc=bank' }, /server only/],
    [{ LDAP_BIND_DN: 'cn=svc' }, /LDAP_BIND_DN and LDAP_BIND_PASSWORD_FILE must be set together/],
    [{ LDAP_USER_BASE: '' }, /needs LDAP_USER_BASE/],
    [{ LDAP_USER_FILTER: '(uid=%s)' }, /LDAP_USER_FILTER must contain \{username\}/],
    [{ LDAP_GROUP_FILTER: 'member={dn}' }, /parenthesized/],
    [{ LDAP_GROUP_ROLES: '' }, /needs LDAP_GROUP_ROLES or LDAP_GROUP_ROLES_FILE/],
    [{ LDAP_GROUP_ROLES: '{"cn=x,dc=y":"root"}' }, /maps to unknown role "root"/],
    [{ LDAP_GROUP_ROLES: '["operator"]' }, /must be a JSON object/],
    [
      { LDAP_GROUP_ROLES: '{"cn=x":"viewer","CN=X":"operator"}' },
      /listed twice with different roles/,
    ],
    [{ LDAP_GROUP_ROLES: '{}' }, /maps no group/],
    [{ LDAP_GROUP_ROLES: '{' }, /LDAP_GROUP_ROLES: not JSON/],
    [{ LDAP_RECHECK_SECONDS: '0' }, /LDAP_RECHECK_SECONDS must be between 1 and 86400/],
    [{ LDAP_TLS_CA_FILE: '/nonexistent/ca.pem' }, /LDAP_TLS_CA_FILE: cannot read/],
    [{ LDAP_RECHECK_SECONDS: '901' }, /must not exceed the session idle time \(900 s/],
  ])('refuses %j', (extra, message) => {
    expect(() => parseLdapSettings({ ...BASE, ...extra })).toThrow(message);
  });

  it('reads the mapping from a JSON file, and not from both places', () => {
    const roles = file('roles.json', '{"cn=tw-audit,ou=groups,dc=bank,dc=example":"auditadmin"}');
    const s = parseLdapSettings({ ...BASE, LDAP_GROUP_ROLES: '', LDAP_GROUP_ROLES_FILE: roles });
    expect([...(s?.groupRoles ?? [])]).toEqual([
      ['cn=tw-audit,ou=groups,dc=bank,dc=example', 'auditadmin'],
    ]);
    expect(() => parseLdapSettings({ ...BASE, LDAP_GROUP_ROLES_FILE: roles })).toThrow(/not both/);
  });

  it('re-checks within the session idle time: by default exactly that often', () => {
    expect(parseLdapSettings(BASE, 300)?.recheckSeconds).toBe(300);
    expect(parseLdapSettings({ ...BASE, LDAP_RECHECK_SECONDS: '60' }, 300)?.recheckSeconds).toBe(
      60,
    );
    expect(() => parseLdapSettings({ ...BASE, LDAP_RECHECK_SECONDS: '301' }, 300)).toThrow(
      /LDAP_RECHECK_SECONDS \(301\) must not exceed the session idle time \(300 s/,
    );
  });

  it('takes ldap:// with StartTLS', () => {
    const s = parseLdapSettings({ ...BASE, LDAP_URL: 'ldap://dc1:389', LDAP_STARTTLS: 'true' });
    expect(s).toMatchObject({ url: 'ldap://dc1:389', startTls: true });
  });
});
