// The one mapping between the short names everyone else uses (the kernel
// side's classes, the agent's /metrics labels, the REST API, fleet-sim) and
// the tidewatch.v1 enum values and numbers. test/names.spec.ts checks it
// against ingest.proto itself, so neither side can drift silently.
import type { Direction__Output } from './generated/tidewatch/v1/Direction';
import type { Family__Output } from './generated/tidewatch/v1/Family';
import type { Protocol__Output } from './generated/tidewatch/v1/Protocol';
import type { MaskingMode__Output } from './generated/tidewatch/v1/MaskingMode';

/** Short names in proto number order, from 1 (0 is *_UNSPECIFIED). */
export const DIRECTION_NAMES = ['ingress', 'egress'] as const;
export const FAMILY_NAMES = ['ipv4', 'ipv6', 'other'] as const;
export const PROTOCOL_NAMES = ['tcp', 'udp', 'icmp', 'icmpv6', 'other'] as const;
export const MASKING_NAMES = ['none', 'truncate', 'pseudonymize'] as const;

export type DirectionName = (typeof DIRECTION_NAMES)[number];
export type FamilyName = (typeof FAMILY_NAMES)[number];
export type ProtocolName = (typeof PROTOCOL_NAMES)[number];
export type MaskingName = (typeof MASKING_NAMES)[number];

type Wire<P extends string, N extends string> = { readonly [K in N]: `${P}_${Uppercase<K>}` };

/** Wire value of each short name: DIRECTION_INGRESS, PROTOCOL_ICMPV6, MASKING_NONE, … */
function wire<P extends string, N extends string>(prefix: P, names: readonly N[]): Wire<P, N> {
  return Object.fromEntries(names.map((n) => [n, `${prefix}_${n.toUpperCase()}`])) as Wire<P, N>;
}

// `satisfies`: each derived value must be one the generated proto types know.
export const DIRECTION_WIRE = wire('DIRECTION', DIRECTION_NAMES) satisfies Record<
  DirectionName,
  Direction__Output
>;
export const FAMILY_WIRE = wire('FAMILY', FAMILY_NAMES) satisfies Record<
  FamilyName,
  Family__Output
>;
export const PROTOCOL_WIRE = wire('PROTOCOL', PROTOCOL_NAMES) satisfies Record<
  ProtocolName,
  Protocol__Output
>;
export const MASKING_WIRE = wire('MASKING', MASKING_NAMES) satisfies Record<
  MaskingName,
  MaskingMode__Output
>;

/** Wire values by number (index = the proto number, the code stored in SQL tables). */
export const DIRECTION_CODES: readonly Direction__Output[] = [
  'DIRECTION_UNSPECIFIED',
  ...DIRECTION_NAMES.map((n) => DIRECTION_WIRE[n]),
];
export const FAMILY_CODES: readonly Family__Output[] = [
  'FAMILY_UNSPECIFIED',
  ...FAMILY_NAMES.map((n) => FAMILY_WIRE[n]),
];
export const PROTOCOL_CODES: readonly Protocol__Output[] = [
  'PROTOCOL_UNSPECIFIED',
  ...PROTOCOL_NAMES.map((n) => PROTOCOL_WIRE[n]),
];
export const MASKING_CODES: readonly MaskingMode__Output[] = [
  'MASKING_UNSPECIFIED',
  ...MASKING_NAMES.map((n) => MASKING_WIRE[n]),
];

function reverse<N extends string>(map: { readonly [K in N]: string }): (
  w: string | null | undefined,
) => N | undefined {
  const back = new Map<string, N>(Object.entries(map).map(([n, w]) => [w as string, n as N]));
  return (w) => (w === null || w === undefined ? undefined : back.get(w));
}

/** Short name of a wire value; undefined for *_UNSPECIFIED and values this build does not know. */
export const directionName = reverse(DIRECTION_WIRE);
export const familyName = reverse(FAMILY_WIRE);
export const protocolName = reverse(PROTOCOL_WIRE);
export const maskingName = reverse(MASKING_WIRE);
