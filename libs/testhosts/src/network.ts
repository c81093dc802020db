import { existsSync, readdirSync } from 'node:fs';
import { randomLinkAddresses, randomMac, randomTag } from './addresses';
import { exec } from './exec';
import { NetNs } from './netns';

/** One end of a link: an interface in a namespace with its addresses. */
export interface Endpoint {
  netns: NetNs;
  ifname: string;
  mac: string;
  ipv4: string;
  ipv6: string;
}

/** A veth pair, and the VLAN sub-interfaces on it when asked for. */
export interface Link {
  a: Endpoint;
  b: Endpoint;
  /** VLAN sub-interfaces (a.ifname.<id> and b.ifname.<id>) with their own addresses. */
  vlan?: { id: number; a: Endpoint; b: Endpoint };
}

export interface LinkOptions {
  /**
   * Also create VLAN sub-interfaces with this 802.1Q id (tags carried in the
   * frame data). Needs CONFIG_VLAN_8021Q; without it use buildUdpFrame().
   */
  vlan?: number;
  /** netem arguments for a's egress, e.g. 'loss 10%'. Needs CONFIG_NET_SCH_NETEM; else see dropIncoming(). */
  netemA?: string;
  /** netem arguments for b's egress. */
  netemB?: string;
}

/** Prefix of every namespace made here: twt-<pid>-<tag>-<label>. */
const NS_PREFIX = 'twt-';

function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Removes namespaces left by test processes that died without cleaning up
 * (their pid is in the name). Their veth pairs go with them.
 */
export async function sweepStaleNamespaces(): Promise<string[]> {
  if (!existsSync('/run/netns')) return [];
  const stale = readdirSync('/run/netns').filter((n) => {
    const m = /^twt-(\d+)-/.exec(n);
    return m !== null && !pidAlive(Number(m[1]));
  });
  for (const n of stale) await exec('ip', ['netns', 'del', n], { allowFailure: true });
  return stale;
}

/** Shell commands that configure one end: quiet IPv6, offloads off, addresses, neighbours. */
function endpointScript(
  ep: Endpoint,
  peer: Endpoint,
  opts: { prefix4: number; offloads: string; up: boolean },
): string {
  const conf = `/proc/sys/net/ipv6/conf/${ep.ifname}`;
  return [
    // No link-local, no DAD, no RA, reports at once: nothing talks on its own.
    `echo 1 > ${conf}/addr_gen_mode`,
    `echo 0 > ${conf}/accept_dad`,
    `echo 0 > ${conf}/accept_ra`,
    `echo 0 > ${conf}/mldv1_unsolicited_report_interval`,
    `echo 0 > ${conf}/mldv2_unsolicited_report_interval`,
    `ethtool -K ${ep.ifname} ${opts.offloads} >/dev/null 2>&1 || true`,
    opts.up ? `ip link set ${ep.ifname} up` : 'true',
    `ip addr add ${ep.ipv4}/${opts.prefix4} dev ${ep.ifname}`,
    `ip -6 addr add ${ep.ipv6}/64 dev ${ep.ifname} nodad`,
    `ip neigh replace ${peer.ipv4} lladdr ${peer.mac} dev ${ep.ifname} nud permanent`,
    `ip -6 neigh replace ${peer.ipv6} lladdr ${peer.mac} dev ${ep.ifname} nud permanent`,
  ].join('\n');
}

/** Runs a step that needs an optional kernel feature, naming it when the kernel lacks it. */
async function kernelFeature<T>(what: string, step: () => Promise<T>): Promise<T> {
  try {
    return await step();
  } catch (err) {
    const msg = (err as Error).message;
    if (
      /Unknown device type|unknown qdisc|Specified qdisc kind is unknown|not supported/i.test(msg)
    ) {
      throw new Error(`this kernel has no ${what}: ${msg}`);
    }
    throw err;
  }
}

function netem(ns: NetNs, ifname: string, args: string): Promise<unknown> {
  return kernelFeature('netem (CONFIG_NET_SCH_NETEM)', () =>
    ns.exec('tc', ['qdisc', 'add', 'dev', ifname, 'root', 'netem', ...args.split(/\s+/)]),
  );
}

const OFFLOADS_OFF = 'tso off gso off gro off tx off rx off';

/**
 * A set of test hosts: namespaces joined by veth pairs, all removed by
 * destroy() (also after a failure). Names carry a random tag, so test files
 * running in parallel do not collide.
 */
export class TestNetwork {
  /** This process's own namespace: the side a collector in the test process can attach to. */
  readonly host = new NetNs(null);
  readonly tag = randomTag();
  private readonly namespaces: string[] = [];
  private readonly hostLinks: string[] = [];
  private linkCount = 0;
  private destroyed = false;

  /** Creates a namespace with lo up. */
  async namespace(label = 'ns'): Promise<NetNs> {
    if (this.destroyed) throw new Error('the test network was destroyed');
    if (this.namespaces.length === 0) await sweepStaleNamespaces();
    const name = `${NS_PREFIX}${process.pid}-${this.tag}-${label}`;
    await exec('ip', ['netns', 'add', name]);
    this.namespaces.push(name);
    const ns = new NetNs(name);
    await ns.exec('ip', ['link', 'set', 'lo', 'up']);
    return ns;
  }

  /**
   * Joins two namespaces (one of them may be `host`, never both) with a veth
   * pair: offloads off, addresses, permanent neighbour entries, IPv6 quiet.
   */
  async link(a: NetNs, b: NetNs, opts: LinkOptions = {}): Promise<Link> {
    if (this.destroyed) throw new Error('the test network was destroyed');
    if (a.isHost && b.isHost) throw new Error('a link needs at least one end in a test namespace');
    const n = this.linkCount++;
    const addr = randomLinkAddresses();
    const ea: Endpoint = {
      netns: a,
      ifname: `tw${this.tag}${n}a`,
      mac: randomMac(),
      ipv4: addr.a4,
      ipv6: addr.a6,
    };
    const eb: Endpoint = {
      netns: b,
      ifname: `tw${this.tag}${n}b`,
      mac: randomMac(),
      ipv4: addr.b4,
      ipv6: addr.b6,
    };
    const where = (ns: NetNs) => (ns.name ? ['netns', ns.name] : []);
    await exec('ip', [
      'link',
      'add',
      ea.ifname,
      ...where(a),
      'address',
      ea.mac,
      'type',
      'veth',
      'peer',
      'name',
      eb.ifname,
      ...where(b),
      'address',
      eb.mac,
    ]);
    if (a.isHost) this.hostLinks.push(ea.ifname);
    if (b.isHost) this.hostLinks.push(eb.ifname);

    // Tags in the frame data (txvlan/rxvlan off) so the TC parser meets real 802.1Q headers.
    const offloads = opts.vlan ? `${OFFLOADS_OFF} txvlan off rxvlan off` : OFFLOADS_OFF;
    await a.sh(endpointScript(ea, eb, { prefix4: 30, offloads, up: true }));
    await b.sh(endpointScript(eb, ea, { prefix4: 30, offloads, up: true }));
    if (opts.netemA) await netem(a, ea.ifname, opts.netemA);
    if (opts.netemB) await netem(b, eb.ifname, opts.netemB);

    const link: Link = { a: ea, b: eb };
    if (opts.vlan) {
      const id = opts.vlan;
      const va = randomLinkAddresses();
      const vea: Endpoint = {
        netns: a,
        ifname: `${ea.ifname}.${id}`,
        mac: ea.mac,
        ipv4: va.a4,
        ipv6: va.a6,
      };
      const veb: Endpoint = {
        netns: b,
        ifname: `${eb.ifname}.${id}`,
        mac: eb.mac,
        ipv4: va.b4,
        ipv6: va.b6,
      };
      for (const [ep, peer, parent] of [
        [vea, veb, ea],
        [veb, vea, eb],
      ] as const) {
        await kernelFeature('VLAN devices (CONFIG_VLAN_8021Q)', () =>
          ep.netns.exec('ip', [
            'link',
            'add',
            'link',
            parent.ifname,
            'name',
            ep.ifname,
            'type',
            'vlan',
            'id',
            String(id),
          ]),
        );
        await ep.netns.sh(
          endpointScript(ep, peer, { prefix4: 30, offloads: OFFLOADS_OFF, up: true }),
        );
      }
      link.vlan = { id, a: vea, b: veb };
    }
    return link;
  }

  /** Removes every namespace and host-side interface made here. Safe to call twice. */
  async destroy(): Promise<void> {
    this.destroyed = true;
    for (const ifname of this.hostLinks.splice(0)) {
      await exec('ip', ['link', 'del', ifname], { allowFailure: true });
    }
    for (const name of this.namespaces.splice(0)) {
      await exec('ip', ['netns', 'del', name], { allowFailure: true });
    }
  }
}
