// Enum names of the wire contract <-> the smallint codes stored in the tables
// (the proto enum numbers, so that a database row reads like the wire). The
// mapping itself is @tidewatch/proto's (names.ts), shared with agent and fleet-sim.
import { DIRECTION_NAMES, FAMILY_NAMES, PROTOCOL_NAMES } from '@tidewatch/proto';

export {
  DIRECTION_CODES as DIRECTIONS,
  FAMILY_CODES as FAMILIES,
  PROTOCOL_CODES as PROTOCOLS,
} from '@tidewatch/proto';

/** The short names the REST API uses: ingress, ipv4, tcp, … ("unspecified" for 0). */
export const API_DIRECTIONS = ['unspecified', ...DIRECTION_NAMES] as const;
export const API_FAMILIES = ['unspecified', ...FAMILY_NAMES] as const;
export const API_PROTOCOLS = ['unspecified', ...PROTOCOL_NAMES] as const;

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
