import { readFileSync } from 'node:fs';
import path from 'node:path';
import {
  groupedSecret,
  mappingRowOf,
  messagesByField,
  POLICY_NUMBERS,
  policyBounds,
  policyNumber,
  problemMessages,
} from './security-settings';

// The server's OpenAPI document (as the console's build read it) is the source of the fields.
const spec = JSON.parse(
  readFileSync(path.resolve(__dirname, '../api/generated/openapi.json'), 'utf8'),
) as { components: { schemas: Record<string, { required: string[] }> } };

describe('security settings', () => {
  it('the form has every field of the policy DTO, numbers then the TOTP roles', () => {
    expect([...POLICY_NUMBERS, 'totpRoles'].sort()).toEqual(
      [...spec.components.schemas.SignInPolicyDto.required].sort(),
    );
  });
  it('takes the bounds of each number from the server document', () => {
    const b = policyBounds(spec);
    expect(b.passwordMinLength).toEqual({ min: 8, max: 256 });
    expect(b.lockoutMinutes).toEqual({ min: 1, max: 10_080 });
    expect(Object.keys(b).sort()).toEqual([...POLICY_NUMBERS].sort());
  });
  it('sends a whole number as a number, anything else as typed', () => {
    expect(policyNumber(' 12 ')).toBe(12);
    expect(policyNumber('-3')).toBe(-3);
    expect(policyNumber('1.5')).toBe('1.5');
    expect(policyNumber('')).toBe('');
  });
  it("reads the server's messages from a validation answer and from a domain error", () => {
    expect(problemMessages({ message: ['a b', 'c d'] })).toEqual(['a b', 'c d']);
    expect(problemMessages({ message: 'totpRoles must include …' })).toEqual([
      'totpRoles must include …',
    ]);
    expect(problemMessages(null)).toEqual([]);
  });
  it('puts each message beside the field it names, the rest apart', () => {
    const { byField, other } = messagesByField(
      [
        'passwordMinLength must not be less than 8',
        'passwordMinLength must be an integer number',
        'totpRoles must include the administrator roles',
        'property extra should not exist',
        'lockoutMinutesX must be …',
      ],
      ['passwordMinLength', 'totpRoles', 'lockoutMinutes'] as const,
    );
    expect(byField).toEqual({
      passwordMinLength: [
        'passwordMinLength must not be less than 8',
        'passwordMinLength must be an integer number',
      ],
      totpRoles: ['totpRoles must include the administrator roles'],
    });
    expect(other).toEqual(['property extra should not exist', 'lockoutMinutesX must be …']);
  });
  it('finds the mapping row a message names', () => {
    expect(mappingRowOf('mappings.2.group must be a DN')).toBe(2);
    expect(mappingRowOf('group "x" is listed twice with different roles')).toBeNull();
  });
  it('groups a TOTP secret in fours', () => {
    expect(groupedSecret('JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP')).toBe(
      'JBSW Y3DP EHPK 3PXP JBSW Y3DP EHPK 3PXP',
    );
    expect(groupedSecret('ABCDEF')).toBe('ABCD EF');
  });
});
