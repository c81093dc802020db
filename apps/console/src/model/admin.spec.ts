import { readFileSync } from 'node:fs';
import path from 'node:path';
import {
  AdminUser,
  ApiToken,
  EnrollmentToken,
  enrollmentState,
  ROLES,
  TOKEN_ROLES,
  tokenState,
  userStates,
} from './admin';

// The server's OpenAPI document (as the console's build read it) is the source of the roles.
const spec = JSON.parse(
  readFileSync(path.resolve(__dirname, '../api/generated/openapi.json'), 'utf8'),
) as { components: { schemas: Record<string, { properties: { role: { enum: string[] } } }> } };
const roles = (schema: string) => spec.components.schemas[schema].properties.role.enum;

const user: AdminUser = {
  id: 'u1',
  username: 'li.wei',
  role: 'operator',
  source: 'local',
  mustChangePassword: false,
  passwordChangedAt: null,
  disabledAt: null,
  lockedUntil: null,
  totpEnrolled: false,
  createdAt: '2026-12-01T00:00:00.000Z',
  createdBy: null,
  lastLoginAt: null,
};

describe('administration', () => {
  it('offers exactly the roles the server takes, users and API tokens each', () => {
    expect([...ROLES]).toEqual(roles('CreateUserDto'));
    expect([...TOKEN_ROLES]).toEqual(roles('CreateApiTokenDto'));
  });
  it('a user is active, or every state that applies', () => {
    expect(userStates(user)).toEqual(['active']);
    expect(
      userStates({
        ...user,
        disabledAt: '2026-12-01T01:00:00Z',
        lockedUntil: '2026-12-01T02:00:00Z',
        mustChangePassword: true,
      }),
    ).toEqual(['disabled', 'locked', 'mustChange']);
  });
  it('a token is revoked, expired or active', () => {
    const tok: ApiToken = {
      id: 't1',
      name: 'reports',
      role: 'viewer',
      createdBy: 'sec',
      createdAt: '2026-12-01T00:00:00Z',
      expiresAt: '2026-12-02T00:00:00Z',
      revokedAt: null,
      lastUsedAt: null,
      lastUsedFrom: null,
    };
    expect(tokenState(tok, new Date('2026-12-01T12:00:00Z'))).toBe('active');
    expect(tokenState(tok, new Date('2026-12-02T00:00:00Z'))).toBe('expired');
    expect(tokenState({ ...tok, revokedAt: '2026-12-01T01:00:00Z' }, new Date(0))).toBe('revoked');
  });
  it('an enrollment token is revoked, expired, used up or active', () => {
    const e: EnrollmentToken = {
      id: 'e1',
      name: 'rollout',
      createdAt: '2026-12-01T00:00:00Z',
      expiresAt: '2026-12-02T00:00:00Z',
      maxUses: 2,
      uses: 1,
      revokedAt: null,
    };
    const noon = new Date('2026-12-01T12:00:00Z');
    expect(enrollmentState(e, noon)).toBe('active');
    expect(enrollmentState({ ...e, uses: 2 }, noon)).toBe('usedUp');
    expect(enrollmentState({ ...e, maxUses: null, uses: 99 }, noon)).toBe('active');
    expect(enrollmentState({ ...e, expiresAt: null }, new Date('2030-01-01T00:00:00Z'))).toBe(
      'active',
    );
    expect(enrollmentState(e, new Date('2026-12-02T00:00:00Z'))).toBe('expired');
    expect(enrollmentState({ ...e, revokedAt: '2026-12-01T01:00:00Z' }, noon)).toBe('revoked');
  });
});
