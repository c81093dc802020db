import type {
  AbnormalConnection__Output,
  PortStat__Output,
  Talker__Output,
} from '@tidewatch/proto';
import type { FlowRecord, ProtocolName } from '../collector/port';
import { addressHex } from '../collector/address-interner';
import type { Masker } from '../masking/masker';
import { DIRECTION_ENUM, PROTOCOL_ENUM, protocolOf } from './proto-enums';
import { connectionKey, type ServerEndpoint } from './server-port';

export interface FlowSummaryOptions {
  topN: number;
  /** Empty: nothing is abnormal. */
  portAllowlist: ReadonlySet<number>;
  masker: Masker;
}

export interface FlowSummary {
  ports: PortStat__Output[];
  talkers: Talker__Output[];
  abnormal: AbnormalConnection__Output[];
}

interface PortAcc {
  port: number;
  protocol: ProtocolName;
  packets: number;
  bytes: number;
  connections: number;
}

/**
 * A packet crossing two watched interfaces (both ends of a veth, a bridge and
 * its port) shows up in two records. For ports and talkers each direction of a
 * connection counts once: the interface that saw the most of it.
 */
function dedupeAcrossInterfaces(records: FlowRecord[]): FlowRecord[] {
  const best = new Map<string, FlowRecord>();
  for (const r of records) {
    const key = `${r.ipProto}|${addressHex(r.saddr)}:${r.sport}>${addressHex(r.daddr)}:${r.dport}`;
    const prev = best.get(key);
    if (!prev || r.bytes > prev.bytes) best.set(key, r);
  }
  return [...best.values()];
}

function topBy<T>(items: T[], n: number, score: (t: T) => number): T[] {
  return [...items].sort((a, b) => score(b) - score(a)).slice(0, n);
}

export function summarizeFlows(
  records: FlowRecord[],
  servers: Map<string, ServerEndpoint>,
  opts: FlowSummaryOptions,
): FlowSummary {
  const ports = new Map<string, PortAcc>();
  const talkers = new Map<string, Talker__Output>();
  const abnormal = new Map<string, AbnormalConnection__Output>();
  const countedConnections = new Set<string>();
  // Masked once per address Buffer of this window (the collector shares one per
  // distinct address): not twice per record.
  const maskedOf = new Map<Buffer, string>();
  const mask = (b: Buffer): string => {
    let m = maskedOf.get(b);
    if (m === undefined) maskedOf.set(b, (m = opts.masker.maskBytes(b)));
    return m;
  };

  for (const r of dedupeAcrossInterfaces(records)) {
    const protocol = protocolOf(r.ipProto, r.family);
    if (r.family !== 'other') {
      const src = mask(r.saddr);
      const dst = mask(r.daddr);
      const tk = `${protocol}|${src}|${dst}`;
      const t = talkers.get(tk) ?? {
        src,
        dst,
        protocol: PROTOCOL_ENUM[protocol],
        packets: 0,
        bytes: 0,
      };
      t.packets += r.packets;
      t.bytes += r.bytes;
      talkers.set(tk, t);
    }
    const ckey = connectionKey(r);
    const server = servers.get(ckey);
    if (!server) continue;
    const pk = `${protocol}|${server.port}`;
    const acc = ports.get(pk) ?? {
      port: server.port,
      protocol,
      packets: 0,
      bytes: 0,
      connections: 0,
    };
    acc.packets += r.packets;
    acc.bytes += r.bytes;
    const towardServer = addressHex(r.daddr) === server.addr && r.dport === server.port;
    // TCP: a connection is a SYN toward the server; UDP: a flow seen in the window.
    const isNewConnection =
      protocol === 'tcp' ? towardServer && r.syn > 0 : protocol === 'udp' && towardServer;
    if (isNewConnection && !countedConnections.has(ckey)) {
      countedConnections.add(ckey);
      acc.connections += 1;
      if (opts.portAllowlist.size > 0 && !opts.portAllowlist.has(server.port)) {
        // Ingress toward the server means someone connected to this host.
        const peer = mask(r.direction === 'ingress' ? r.saddr : r.daddr);
        const ak = `${protocol}|${server.port}|${peer}|${r.direction}`;
        const a = abnormal.get(ak) ?? {
          peer,
          port: server.port,
          protocol: PROTOCOL_ENUM[protocol],
          connections: 0,
          direction: DIRECTION_ENUM[r.direction],
        };
        a.connections += 1;
        abnormal.set(ak, a);
      }
    }
    ports.set(pk, acc);
  }

  const all = [...ports.values()];
  const chosen = new Set([
    ...topBy(all, opts.topN, (p) => p.bytes),
    ...topBy(
      all.filter((p) => p.connections > 0),
      opts.topN,
      (p) => p.connections,
    ),
  ]);
  const isAbnormal = (p: number) => opts.portAllowlist.size > 0 && !opts.portAllowlist.has(p);
  return {
    ports: [...chosen]
      .sort((a, b) => b.bytes - a.bytes || a.port - b.port)
      .map((p) => ({
        port: p.port,
        protocol: PROTOCOL_ENUM[p.protocol],
        packets: p.packets,
        bytes: p.bytes,
        connections: p.connections,
        abnormal: isAbnormal(p.port),
      })),
    talkers: topBy([...talkers.values()], opts.topN, (t) => t.bytes),
    abnormal: [...abnormal.values()].sort((a, b) => b.connections - a.connections),
  };
}

/** A flow as exports and `top` show it: addresses already masked. */
export interface FlowRow {
  iface: string;
  direction: string;
  family: string;
  protocol: ProtocolName;
  src: string;
  sport: number;
  dst: string;
  dport: number;
  packets: number;
  bytes: number;
}

export function topFlows(records: FlowRecord[], n: number, masker: Masker): FlowRow[] {
  return topBy(dedupeAcrossInterfaces(records), n, (r) => r.bytes).map((r) => ({
    iface: r.iface,
    direction: r.direction,
    family: r.family,
    protocol: protocolOf(r.ipProto, r.family),
    src: r.family === 'other' ? '' : masker.maskBytes(r.saddr),
    sport: r.sport,
    dst: r.family === 'other' ? '' : masker.maskBytes(r.daddr),
    dport: r.dport,
    packets: r.packets,
    bytes: r.bytes,
  }));
}
