// Enum names of the wire contract <-> the smallint codes stored in the tables
// (the proto enum numbers, so that a database row reads like the wire).

export const DIRECTIONS = [
  'DIRECTION_UNSPECIFIED',
  'DIRECTION_INGRESS',
  'DIRECTION_EGRESS',
] as const;
export const FAMILIES = [
  'FAMILY_UNSPECIFIED',
  'FAMILY_IPV4',
  'FAMILY_IPV6',
  'FAMILY_OTHER',
] as const;
export const PROTOCOLS = [
  'PROTOCOL_UNSPECIFIED',
  'PROTOCOL_TCP',
  'PROTOCOL_UDP',
  'PROTOCOL_ICMP',
  'PROTOCOL_ICMPV6',
  'PROTOCOL_OTHER',
] as const;

/** The short names the REST API uses: ingress, ipv4, tcp, … ("unspecified" for 0). */
export const API_DIRECTIONS = ['unspecified', 'ingress', 'egress'] as const;
export const API_FAMILIES = ['unspecified', 'ipv4', 'ipv6', 'other'] as const;
export const API_PROTOCOLS = ['unspecified', 'tcp', 'udp', 'icmp', 'icmpv6', 'other'] as const;

export type ApiDirection = (typeof API_DIRECTIONS)[number];
export type ApiFamily = (typeof API_FAMILIES)[number];
export type ApiProtocol = (typeof API_PROTOCOLS)[number];

/** Code of a wire enum value (a name, or a number when the value is not in our .proto); -1 if unknown. */
export function wireCode(
  names: readonly string[],
  value: string | number | null | undefined,
): number {
  if (value === null || value === undefined) return 0;
  if (typeof value === 'number')
    return Number.isInteger(value) && value >= 0 && value < names.length ? value : -1;
  return names.indexOf(value);
}

export function apiName<T extends readonly string[]>(names: T, code: number): T[number] {
  return names[code] ?? names[0];
}
