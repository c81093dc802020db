import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { EnvironmentError, parseEnvironment } from './environment';

const URL = 'postgres://postgres@127.0.0.1:5432/tidewatch';
const auth = (extra: Record<string, string>) =>
  parseEnvironment({ DATABASE_URL: URL, ...extra }).auth;

describe('AUTH_* settings', () => {
  it('defaults: TOTP for the three administrators, 12 characters, 5/15/30 lockout, 15 min / 8 h sessions', () => {
    expect(auth({})).toEqual({
      totpRoles: ['sysadmin', 'secadmin', 'auditadmin'],
      totpKey: null,
      passwordMinLength: 12,
      passwordHistory: 5,
      passwordMaxAgeDays: 90,
      scryptLogN: 17,
      lockoutThreshold: 5,
      lockoutWindowMinutes: 15,
      lockoutMinutes: 30,
      loginRatePerMinute: 20,
      sessionIdleMinutes: 15,
      sessionAbsoluteHours: 8,
      apiTokenDays: 90,
      liveRecheckSeconds: 30,
    });
  });

  it('AUTH_TOTP_ROLES: a list, empty for none, unknown roles refused', () => {
    expect(auth({ AUTH_TOTP_ROLES: 'operator, sysadmin,operator' }).totpRoles).toEqual([
      'operator',
      'sysadmin',
    ]);
    expect(auth({ AUTH_TOTP_ROLES: '' }).totpRoles).toEqual([]);
    expect(() => auth({ AUTH_TOTP_ROLES: 'root' })).toThrow(EnvironmentError);
    expect(() => auth({ AUTH_TOTP_ROLES: 'root' })).toThrow(/AUTH_TOTP_ROLES: unknown role "root"/);
  });

  it('AUTH_TOTP_KEY_FILE: 32 bytes raw, hex or base64; anything else refused', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'tw-auth-env-'));
    try {
      const key = randomBytes(32);
      const file = (name: string, content: string | Buffer) => {
        const f = path.join(dir, name);
        writeFileSync(f, content);
        return f;
      };
      expect(auth({ AUTH_TOTP_KEY_FILE: file('raw', key) }).totpKey).toEqual(key);
      expect(auth({ AUTH_TOTP_KEY_FILE: file('hex', `${key.toString('hex')}\n`) }).totpKey).toEqual(
        key,
      );
      expect(auth({ AUTH_TOTP_KEY_FILE: file('b64', key.toString('base64')) }).totpKey).toEqual(
        key,
      );
      expect(() => auth({ AUTH_TOTP_KEY_FILE: file('short', 'abc') })).toThrow(
        /must hold a 32-byte key/,
      );
      expect(() => auth({ AUTH_TOTP_KEY_FILE: path.join(dir, 'missing') })).toThrow(/cannot read/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it.each([
    [{ AUTH_PASSWORD_MIN_LENGTH: '6' }, /AUTH_PASSWORD_MIN_LENGTH must be between 8 and 256/],
    [{ AUTH_SCRYPT_LOG_N: '10' }, /AUTH_SCRYPT_LOG_N must be between 14 and 20/],
    [{ AUTH_SESSION_IDLE_MINUTES: 'soon' }, /AUTH_SESSION_IDLE_MINUTES must be an integer/],
    [{ AUTH_API_TOKEN_DAYS: '1000' }, /AUTH_API_TOKEN_DAYS must be between 1 and 730/],
  ])('refuses %j', (src, message) => {
    expect(() => auth(src)).toThrow(message);
  });
});
