import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  CONFIG,
  FLOWS_BITS,
  DIRECTIONS,
  ERROR_KEYS,
  ERROR_NAMES,
  EVENT_KINDS,
  FAMILIES,
  ICMP_PORT_UNREACH,
  MAX_IFACES,
  PROTOCOLS,
  TCP_STAT_KEYS,
  snakeCase,
} from './layout';

// tidewatch.h is the kernel↔user contract; layout.ts only names its numbers.
// This parses the header itself, so an enum changed on one side fails here.
const HEADER = readFileSync(join(__dirname, 'tidewatch.h'), 'utf8');

/** enum NAME { A = 0, B = 1, ... } of the header, as constant → value. */
function cEnum(name: string): Map<string, number> {
  const m = new RegExp(`enum ${name} \\{([^}]*)\\}`).exec(HEADER);
  if (!m) throw new Error(`enum ${name} not in tidewatch.h`);
  const out = new Map<string, number>();
  for (const e of m[1].replace(/\/\*[\s\S]*?\*\//g, '').matchAll(/(\w+)\s*=\s*(\d+)/g))
    out.set(e[1], Number(e[2]));
  return out;
}

/** The header's constants with `prefix`, in value order, without *_MAX. */
function names(name: string, prefix: string): string[] {
  const e = cEnum(name);
  return [...e.entries()]
    .filter(([k]) => k.startsWith(prefix) && !k.endsWith('_MAX'))
    .sort((a, b) => a[1] - b[1])
    .map(([k, v], i) => {
      if (v !== i) throw new Error(`${k} = ${v}: the ${name} values must run 0, 1, 2, …`);
      return k.slice(prefix.length);
    });
}

const upper = (keys: readonly string[]) => keys.map((k) => snakeCase(k).toUpperCase());

describe('layout.ts against tidewatch.h', () => {
  it('directions, families and protocol classes', () => {
    expect(names('tw_direction', 'TW_DIR_')).toEqual(upper(DIRECTIONS));
    expect(names('tw_family', 'TW_FAM_')).toEqual(upper(FAMILIES));
    expect(names('tw_proto_class', 'TW_PROTO_')).toEqual(upper(PROTOCOLS));
    expect(cEnum('tw_direction').get('TW_DIR_MAX')).toBe(DIRECTIONS.length);
    expect(cEnum('tw_family').get('TW_FAM_MAX')).toBe(FAMILIES.length);
    expect(cEnum('tw_proto_class').get('TW_PROTO_MAX')).toBe(PROTOCOLS.length);
  });

  it('the sport of an ICMP port unreachable quoting UDP: type | code << 8', () => {
    const e = cEnum('tw_icmp_port_unreach');
    expect(e.get('TW_ICMP_PORT_UNREACH')).toBe(ICMP_PORT_UNREACH.icmp);
    expect(e.get('TW_ICMPV6_PORT_UNREACH')).toBe(ICMP_PORT_UNREACH.icmpv6);
    expect(ICMP_PORT_UNREACH).toEqual({ icmp: 3 | (3 << 8), icmpv6: 1 | (4 << 8) });
  });

  it('kernel error counters, every one of them (TW_ERR_TP_LAYOUT included)', () => {
    expect(names('tw_error_key', 'TW_ERR_')).toEqual(upper(ERROR_KEYS));
    expect(cEnum('tw_error_key').get('TW_ERR_MAX')).toBe(ERROR_KEYS.length);
    expect(ERROR_NAMES.tpLayout).toBe('tp_layout');
    expect(Object.values(ERROR_NAMES)).toEqual(
      names('tw_error_key', 'TW_ERR_').map((n) => n.toLowerCase()),
    );
  });

  it('TCP counters', () => {
    expect(names('tw_tcp_stat_key', 'TW_TCP_')).toEqual(upper(TCP_STAT_KEYS));
    expect(cEnum('tw_tcp_stat_key').get('TW_TCP_STAT_MAX')).toBeGreaterThanOrEqual(
      TCP_STAT_KEYS.length,
    );
  });

  it('config keys (…Offset is the header’s _OFF)', () => {
    const header = Object.fromEntries(
      [...cEnum('tw_config_key')].filter(([k]) => k !== 'TW_CFG_MAX'),
    );
    const ours = Object.fromEntries(
      Object.entries(CONFIG).map(([k, v]) => [
        `TW_CFG_${snakeCase(k)
          .toUpperCase()
          .replace(/_OFFSET$/, '_OFF')}`,
        v,
      ]),
    );
    expect(ours).toEqual(header);
    expect(cEnum('tw_config_key').get('TW_CFG_MAX')).toBeGreaterThan(
      Math.max(...Object.values(CONFIG)),
    );
  });

  it('bits of the flow records config word (TW_FLOWS_*)', () => {
    const bits = Object.fromEntries(
      [...HEADER.matchAll(/#define TW_FLOWS_(\w+) (\d+)/g)].map(([, k, v]) => [k, Number(v)]),
    );
    expect(bits).toEqual({ TABLE_B: FLOWS_BITS.tableB, ON: FLOWS_BITS.on });
  });

  it('event kinds and the interface slots', () => {
    const kinds = Object.fromEntries(
      [...cEnum('tw_event_kind')].map(([k, v]) => [v, k.replace('TW_EV_CONN_', '').toLowerCase()]),
    );
    expect(EVENT_KINDS).toEqual(kinds);
    expect(Number(/#define TW_MAX_IFACES (\d+)/.exec(HEADER)?.[1])).toBe(MAX_IFACES);
  });
});
