import { randomTag } from './addresses';
import type { NetNs } from './netns';

export interface DropRule {
  /** Drop TCP segments arriving for this local port... */
  tcpPort: number;
  /** ...with this probability, in percent (nft numgen random). */
  percent: number;
}

/** A drop rule in place: how many it dropped, and its removal. */
export interface DropHandle {
  dropped(): Promise<number>;
  remove(): Promise<void>;
}

/**
 * Randomly drops incoming TCP segments in a namespace with nftables (for
 * kernels without netem): the peer retransmits. Each call makes its own
 * table, so its counter is its own; the namespace's removal removes it too.
 */
export async function dropIncoming(ns: NetNs, rule: DropRule): Promise<DropHandle> {
  const table = `tidewatch_${rule.tcpPort}_${randomTag()}`;
  await ns.exec('nft', ['-f', '-'], {
    input: [
      `table inet ${table} {`,
      '  chain input {',
      '    type filter hook input priority 0; policy accept;',
      `    tcp dport ${rule.tcpPort} numgen random mod 100 < ${rule.percent} counter drop`,
      '  }',
      '}',
    ].join('\n'),
  });
  return {
    async dropped() {
      const { stdout } = await ns.exec('nft', ['list', 'table', 'inet', table]);
      return Number(/counter packets (\d+)/.exec(stdout)?.[1] ?? 0);
    },
    async remove() {
      await ns.exec('nft', ['delete', 'table', 'inet', table], { allowFailure: true });
    },
  };
}

/** TCP MIB of a namespace (/proc/net/snmp "Tcp:" lines) as name → value. */
export async function tcpMib(ns: NetNs): Promise<Record<string, number>> {
  const { stdout } = await ns.exec('cat', ['/proc/net/snmp']);
  const lines = stdout.split('\n').filter((l) => l.startsWith('Tcp:'));
  const names = lines[0].split(/\s+/).slice(1);
  const values = lines[1].split(/\s+/).slice(1).map(Number);
  return Object.fromEntries(names.map((n, i) => [n, values[i]]));
}

/**
 * ICMP destination unreachables the namespace's kernel sent (Icmp OutDestUnreachs
 * of /proc/net/snmp, Icmp6OutDestUnreachs of /proc/net/snmp6).
 */
export async function destUnreachablesSent(ns: NetNs, family: 4 | 6): Promise<number> {
  if (family === 6) {
    const { stdout } = await ns.exec('cat', ['/proc/net/snmp6']);
    const m = /^Icmp6OutDestUnreachs\s+(\d+)$/m.exec(stdout);
    if (!m) throw new Error('no Icmp6OutDestUnreachs in /proc/net/snmp6');
    return Number(m[1]);
  }
  const { stdout } = await ns.exec('cat', ['/proc/net/snmp']);
  const lines = stdout.split('\n').filter((l) => l.startsWith('Icmp:'));
  const names = lines[0].split(/\s+/).slice(1);
  const values = lines[1].split(/\s+/).slice(1).map(Number);
  return values[names.indexOf('OutDestUnreachs')];
}

/**
 * Lets the namespace's kernel answer every datagram to a closed port with an
 * ICMP port unreachable: by default it sends about one a second per destination
 * (net.ipv4.icmp_ratelimit, net.ipv6.icmp.ratelimit, both per namespace).
 */
export async function unlimitIcmpErrors(ns: NetNs): Promise<void> {
  await ns.exec('sysctl', ['-q', '-w', 'net.ipv4.icmp_ratelimit=0', 'net.ipv6.icmp.ratelimit=0']);
}
