import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

export interface NetInterface {
  name: string;
  ifindex: number;
  mtu: number;
  up: boolean;
  loopback: boolean;
}

const IFF_UP = 0x1;
const IFF_LOOPBACK = 0x8;

function readNumber(file: string, radix = 10): number {
  try {
    return parseInt(readFileSync(file, 'utf8').trim(), radix) || 0;
  } catch {
    return 0;
  }
}

/** Interfaces of this network namespace, from /sys/class/net. */
export function listInterfaces(sysNet = '/sys/class/net'): NetInterface[] {
  let names: string[];
  try {
    names = readdirSync(sysNet);
  } catch {
    return [];
  }
  return names.sort().map((name) => {
    const dir = join(sysNet, name);
    const flags = readNumber(join(dir, 'flags'), 16);
    return {
      name,
      ifindex: readNumber(join(dir, 'ifindex')),
      mtu: readNumber(join(dir, 'mtu')),
      up: (flags & IFF_UP) !== 0,
      loopback: (flags & IFF_LOOPBACK) !== 0 || name === 'lo',
    };
  });
}

export function isGlob(pattern: string): boolean {
  return /[*?[]/.test(pattern);
}

export function globToRegExp(pattern: string): RegExp {
  let re = '';
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i];
    if (c === '*') re += '.*';
    else if (c === '?') re += '.';
    else if (c === '[') {
      const end = pattern.indexOf(']', i + 1);
      if (end < 0) re += '\\[';
      else {
        re += `[${pattern
          .slice(i + 1, end)
          .replace(/^!/, '^')
          .replace(/\\/g, '\\\\')}]`;
        i = end;
      }
    } else re += c.replace(/[.+^${}()|\\]/g, '\\$&');
  }
  return new RegExp(`^${re}$`);
}

export interface Selection {
  include: string[];
  exclude: string[];
}

/**
 * Which interfaces to watch: those matching a name or glob of `include`, or,
 * with no include list, every interface that is up and not loopback; minus
 * `exclude`. A named (non-glob) interface is watched even while down.
 */
export function selectInterfaces(all: NetInterface[], sel: Selection): NetInterface[] {
  const inc = sel.include.map(globToRegExp);
  const exc = sel.exclude.map(globToRegExp);
  return all.filter((i) => {
    if (exc.some((r) => r.test(i.name))) return false;
    if (inc.length === 0) return i.up && !i.loopback;
    return inc.some((r) => r.test(i.name));
  });
}

/** Literal names in the include list that do not exist. */
export function missingNamedInterfaces(all: NetInterface[], include: string[]): string[] {
  const names = new Set(all.map((i) => i.name));
  return include.filter((p) => !isGlob(p) && !names.has(p));
}
