import { escapeFilterValue, fillFilter, isPlausibleUsername, normalizeDn } from './ldap-filter';

describe('escapeFilterValue (RFC 4515)', () => {
  it.each([
    ['alice', 'alice'],
    ['*', '\\2a'],
    ['alice)(uid=*', 'alice\\29\\28uid=\\2a'],
    ['a\\b', 'a\\5cb'],
    ['nul\0', 'nul\\00'],
    ['*)(|(objectClass=*', '\\2a\\29\\28|\\28objectClass=\\2a'],
    ['张伟', '张伟'],
  ])('%j -> %j', (raw, escaped) => {
    expect(escapeFilterValue(raw)).toBe(escaped);
  });
});

describe('fillFilter', () => {
  it('puts escaped values into every placeholder', () => {
    expect(
      fillFilter('(&(objectClass=user)(|(sAMAccountName={username})(mail={username})))', {
        username: 'a*',
      }),
    ).toBe('(&(objectClass=user)(|(sAMAccountName=a\\2a)(mail=a\\2a)))');
    expect(fillFilter('(member={dn})', { dn: 'cn=Smith\\, J,ou=x' })).toBe(
      '(member=cn=Smith\\5c, J,ou=x)',
    );
  });

  it('refuses a placeholder it has no value for', () => {
    expect(() => fillFilter('(uid={user})', { username: 'a' })).toThrow(/\{user\} has no value/);
  });
});

describe('normalizeDn', () => {
  it.each([
    ['CN=TW-Admins, OU=Groups,DC=Bank,DC=CN', 'cn=tw-admins,ou=groups,dc=bank,dc=cn'],
    ['cn = a , ou = b', 'cn=a,ou=b'],
    ['cn=Smith\\2C J,ou=x', 'cn=smith\\2c j,ou=x'],
    ['cn=Smith\\, J,ou=x', 'cn=smith\\2c j,ou=x'],
    ['cn=\\41bc,ou=x', 'cn=abc,ou=x'],
  ])('%j -> %j', (dn, norm) => {
    expect(normalizeDn(dn)).toBe(norm);
  });
});

describe('isPlausibleUsername', () => {
  it.each([
    ['alice', true],
    ['', false],
    ['a'.repeat(257), false],
    ['bad\nname', false],
    ['Zhang.Wei@bank.example', true],
  ])('%j -> %s', (name, ok) => {
    expect(isPlausibleUsername(name)).toBe(ok);
  });
});
