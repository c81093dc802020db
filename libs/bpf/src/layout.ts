/**
 * Names for the enums of tidewatch.h, in the header's numeric order. The C
 * header is the contract; these arrays only label its indices, and
 * layout.spec.ts parses the header to hold them to it (a name here is the
 * header's constant in camelCase: TW_ERR_TP_LAYOUT is `tpLayout`).
 */

export const DIRECTIONS = ['ingress', 'egress'] as const;
export type Direction = (typeof DIRECTIONS)[number];

export const FAMILIES = ['ipv4', 'ipv6', 'other'] as const;
export type Family = (typeof FAMILIES)[number];

export const PROTOCOLS = ['tcp', 'udp', 'icmp', 'icmpv6', 'other'] as const;
export type Protocol = (typeof PROTOCOLS)[number];

/** enum tw_config_key */
export const CONFIG = {
  flows: 0,
  kfreeReasonOffset: 2,
  eventsEnabled: 3,
  sockSaddr6Offset: 4,
  retransSportOffset: 5,
  retransSaddr6Offset: 6,
} as const;

/** Bits of tw_config[TW_CFG_FLOWS] (TW_FLOWS_*). */
export const FLOWS_BITS = {
  tableB: 1,
  on: 2,
} as const;

/** enum tw_error_key, in order. */
export const ERROR_KEYS = [
  'flowTableFull',
  'flowUpdate',
  'connTableFull',
  'eventLost',
  'retransTableFull',
  'dropTableFull',
  'parseTruncated',
  'tpLayout',
] as const;
export type ErrorKey = (typeof ERROR_KEYS)[number];

/** camelCase → snake_case: the header's constant in lower case (tpLayout → tp_layout). */
export function snakeCase(key: string): string {
  return key.replace(/[A-Z]/g, (m) => `_${m.toLowerCase()}`);
}

/** The stable name of each kernel error counter (logs, metrics, the wire): flow_table_full, …, tp_layout. */
export const ERROR_NAMES = Object.fromEntries(ERROR_KEYS.map((k) => [k, snakeCase(k)])) as Record<
  ErrorKey,
  string
>;

/** enum tw_tcp_stat_key, in order. */
export const TCP_STAT_KEYS = [
  'openedClient',
  'openedServer',
  'failed',
  'closed',
  'retransmits',
  'drops',
  /** Part of `closed` whose open was not seen (connections older than the load). */
  'closedUnseen',
] as const;
export type TcpStatKey = (typeof TCP_STAT_KEYS)[number];

/**
 * enum tw_icmp_port_unreach: the sport of a flow record that is an ICMP port
 * unreachable quoting a UDP datagram; its dport is the refused port.
 */
export const ICMP_PORT_UNREACH = { icmp: 771, icmpv6: 1025 } as const;

/** TW_MAX_IFACES: slots 1..255 name interfaces, 0 is "not registered". */
export const MAX_IFACES = 256;

/** Rows per interface slot in tw_traffic: direction × family × protocol. */
export const ROWS_PER_SLOT = DIRECTIONS.length * FAMILIES.length * PROTOCOLS.length;

/** tw_conn_event.role */
export const ROLES = ['client', 'server', 'unknown'] as const;
export type Role = (typeof ROLES)[number];

/** enum tw_event_kind */
export const EVENT_KINDS: Record<number, 'closed' | 'failed'> = { 1: 'closed', 2: 'failed' };
