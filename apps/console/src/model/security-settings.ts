import type { Schemas } from '../api/client';

// The security administrator's run-time settings (GET/PUT /api/v1/auth/policy and
// /api/v1/auth/ldap/group-roles), as the server's OpenAPI document describes them.

export type SignInPolicy = Schemas['SignInPolicyDto'];
export type SignInPolicyView = Schemas['SignInPolicyView'];
export type GroupRole = Schemas['GroupRoleDto'];
export type GroupRolesView = Schemas['GroupRolesView'];

export type PolicyField = keyof SignInPolicy;
export type NumericPolicyField = Exclude<PolicyField, 'totpRoles'>;

/** The numeric fields in the order the form shows them (the spec checks them against the DTO). */
export const POLICY_NUMBERS: readonly NumericPolicyField[] = [
  'passwordMinLength',
  'passwordHistory',
  'passwordMaxAgeDays',
  'lockoutThreshold',
  'lockoutWindowMinutes',
  'lockoutMinutes',
];

export type PolicyBounds = Record<NumericPolicyField, { min: number; max: number }>;

type Bound = { minimum?: unknown; maximum?: unknown };
type OpenApiDocument = { components: { schemas: object } };

/** Each number's bounds as the server's OpenAPI document states them (SignInPolicyDto). */
export function policyBounds(spec: OpenApiDocument): PolicyBounds {
  const schemas = spec.components.schemas as Record<string, { properties?: Record<string, Bound> }>;
  const props = schemas.SignInPolicyDto?.properties ?? {};
  const out = {} as PolicyBounds;
  for (const k of POLICY_NUMBERS) {
    const { minimum, maximum } = props[k] ?? {};
    if (typeof minimum !== 'number' || typeof maximum !== 'number') {
      throw new Error(`the server's OpenAPI document gives no bounds for ${k}`);
    }
    out[k] = { min: minimum, max: maximum };
  }
  return out;
}

/** A field as typed: a whole number is sent as one, anything else as typed (the server says why). */
export function policyNumber(typed: string): number | string {
  const s = typed.trim();
  return /^-?\d+$/.test(s) ? Number(s) : s;
}

/** The message(s) of a 400 answer: class-validator gives a list, a domain error one string. */
export function problemMessages(body: unknown): string[] {
  const m = (body as { message?: unknown } | null | undefined)?.message;
  if (Array.isArray(m)) return m.map(String).filter((s) => s !== '');
  return typeof m === 'string' && m !== '' ? [m] : [];
}

/**
 * The server's messages put beside the field they name ("passwordMinLength must not be less
 * than 8", "mappings.2.group must be a DN"): a message that starts with the name of one of
 * `fields` goes to it, any other to `other`. The server's words are kept as they are.
 */
export function messagesByField<F extends string>(
  messages: readonly string[],
  fields: readonly F[],
): { byField: Partial<Record<F, string[]>>; other: string[] } {
  const byField: Partial<Record<F, string[]>> = {};
  const other: string[] = [];
  for (const m of messages) {
    const first = m.split(/\s/, 1)[0];
    const f = fields.find((k) => k === first);
    if (f) (byField[f] ??= []).push(m);
    else other.push(m);
  }
  return { byField, other };
}

/** The row (and field) a group-mapping message names: "mappings.2.group must be a DN" → 2. */
export function mappingRowOf(message: string): number | null {
  const m = /^mappings\.(\d+)\./.exec(message);
  return m ? Number(m[1]) : null;
}

/** A TOTP secret (base32) in groups of four, as an authenticator app's manual entry reads it. */
export function groupedSecret(secret: string): string {
  return (secret.replace(/\s+/g, '').match(/.{1,4}/g) ?? []).join(' ');
}
