import type {
  PortSweep__Output,
  ScanStats__Output,
  ServerPortSyns__Output,
  SourceFanout__Output,
} from '@tidewatch/proto';
// A constant of @tidewatch/bpf's JS (its addon loads on first use, not here); doctor's
// `typeof import()` makes the module-boundary rule call every static import lazy.
// eslint-disable-next-line @nx/enforce-module-boundaries
import { ICMP_PORT_UNREACH } from '@tidewatch/bpf';
import { TCP_FLAG, type FlowRecord } from '../collector/port';
import { addressHex } from '../collector/address-interner';
import type { Masker } from '../masking/masker';
import { PROTOCOL_ENUM } from './proto-enums';
import { connectionKey, type ServerEndpoint } from './server-port';
import type { Attempt, RecentFailures, ScanMemory } from './scan-memory';

/** Bounds of one window's scan figures (top entries kept, the rest summed and flagged). */
export interface ScanBounds {
  sources: number;
  sweeps: number;
  synPorts: number;
}

export const DEFAULT_SCAN_BOUNDS: ScanBounds = { sources: 64, sweeps: 64, synPorts: 64 };

type Outcome = 'answered' | 'refused' | 'unanswered';

interface SourceAcc {
  src: Buffer;
  protocol: 'tcp' | 'udp';
  /** (destination hex:port) -> best outcome seen (answered > refused > unanswered). */
  pairs: Map<string, Outcome>;
  /** destination hex -> ports tried on it. */
  byDst: Map<string, { addr: Buffer; ports: Set<number> }>;
  /**
   * port -> how many destinations were tried on it (its distinct pairs; the
   * destinations themselves are those of byDst whose ports hold it). A count,
   * not a set per port: a source sweeping 10,000 ports would hold 10,000 sets.
   */
  byPort: Map<number, number>;
}

interface SweepAcc {
  port: number;
  protocol: 'tcp' | 'udp';
  dsts: Set<string>;
  /** source hex -> how many destinations it tried on this port (its distinct pairs with it). */
  bySrc: Map<string, { addr: Buffer; dsts: number }>;
}

interface SynAcc {
  port: number;
  syns: number;
  attempts: number;
  halfOpen: number;
  refused: number;
  sources: Set<string>;
}

const RANK: Record<Outcome, number> = { unanswered: 0, refused: 1, answered: 2 };

const dirKey = (r: FlowRecord) =>
  `${r.ipProto}|${addressHex(r.saddr)}:${r.sport}>${addressHex(r.daddr)}:${r.dport}`;
const reverseKey = (r: FlowRecord) =>
  `${r.ipProto}|${addressHex(r.daddr)}:${r.dport}>${addressHex(r.saddr)}:${r.sport}`;

/** Each direction of a 5-tuple once, whichever watched interface saw the most of it. */
function onePerDirection(records: FlowRecord[]): Map<string, FlowRecord> {
  const best = new Map<string, FlowRecord>();
  for (const r of records) {
    if (r.ipProto !== 6 && r.ipProto !== 17) continue;
    const k = dirKey(r);
    const prev = best.get(k);
    // OR the flags: one interface may have seen the SYN, another the rest.
    if (prev) {
      const keep = r.packets > prev.packets ? r : prev;
      best.set(k, {
        ...keep,
        syn: Math.max(prev.syn, r.syn),
        tcpFlags: prev.tcpFlags | r.tcpFlags,
      });
    } else best.set(k, r);
  }
  return best;
}

/**
 * The ICMP port unreachables of the window, each as "sender>receiver:port"
 * (hex addresses, the refused UDP port): the kernel programs record the
 * quoted datagram's destination port of each (libs/bpf, tw_icmp_port_unreach).
 */
function portUnreachables(records: FlowRecord[]): Set<string> {
  const out = new Set<string>();
  for (const r of records) {
    const marker =
      r.ipProto === 1 ? ICMP_PORT_UNREACH.icmp : r.ipProto === 58 ? ICMP_PORT_UNREACH.icmpv6 : -1;
    if (r.sport === marker) out.add(`${addressHex(r.saddr)}>${addressHex(r.daddr)}:${r.dport}`);
  }
  return out;
}

/**
 * What scan, sweep and SYN-flood detectors need from one window, computed
 * from the drained flow records: an attempt is a TCP record toward the
 * server side carrying a SYN, or a UDP record toward the server side. Its
 * outcome comes from what came back: for TCP, SYN-ACK = answered, RST =
 * refused; for UDP, a datagram back = answered, an ICMP port unreachable from
 * the destination for that port = refused; nothing = unanswered. Counting is
 * over raw addresses; only names are masked.
 */
export function scanStats(
  records: FlowRecord[],
  servers: Map<string, ServerEndpoint>,
  masker: Masker,
  bounds: ScanBounds = DEFAULT_SCAN_BOUNDS,
  /** Failures remembered across windows (recent_* figures); this window ended at nowMs. */
  memory?: { store: ScanMemory; nowMs: number },
): ScanStats__Output {
  const flows = onePerDirection(records);
  const unreachable = portUnreachables(records);
  const sources = new Map<string, SourceAcc>();
  const sweeps = new Map<string, SweepAcc>();
  const syns = new Map<number, SynAcc>();

  for (const r of flows.values()) {
    const server = servers.get(connectionKey(r));
    if (!server) continue;
    const towardServer = addressHex(r.daddr) === server.addr && r.dport === server.port;
    if (!towardServer) continue;
    const tcp = r.ipProto === 6;
    if (tcp && r.syn === 0) continue; // a connection older than the window: no attempt here
    const back = flows.get(reverseKey(r));
    let outcome: Outcome;
    if (tcp) {
      if (back && back.syn > 0) outcome = 'answered';
      else if (back && (back.tcpFlags & TCP_FLAG.RST) !== 0) outcome = 'refused';
      else outcome = 'unanswered';
    } else if (back) outcome = 'answered';
    else if (unreachable.has(`${addressHex(r.daddr)}>${addressHex(r.saddr)}:${r.dport}`))
      outcome = 'refused';
    else outcome = 'unanswered';

    const protocol = tcp ? 'tcp' : 'udp';
    const srcHex = addressHex(r.saddr);
    const dstHex = addressHex(r.daddr);
    const sk = `${protocol}|${srcHex}`;
    const s = sources.get(sk) ?? {
      src: r.saddr,
      protocol,
      pairs: new Map<string, Outcome>(),
      byDst: new Map(),
      byPort: new Map(),
    };
    sources.set(sk, s);
    const pk = `${dstHex}:${r.dport}`;
    const prev = s.pairs.get(pk);
    const newPair = prev === undefined;
    if (newPair || RANK[outcome] > RANK[prev]) s.pairs.set(pk, outcome);
    const d = s.byDst.get(dstHex) ?? { addr: r.daddr, ports: new Set<number>() };
    d.ports.add(r.dport);
    s.byDst.set(dstHex, d);
    if (newPair) s.byPort.set(r.dport, (s.byPort.get(r.dport) ?? 0) + 1);

    const wk = `${protocol}|${r.dport}`;
    let w = sweeps.get(wk);
    if (!w) sweeps.set(wk, (w = { port: r.dport, protocol, dsts: new Set(), bySrc: new Map() }));
    w.dsts.add(dstHex);
    let ws = w.bySrc.get(srcHex);
    if (!ws) w.bySrc.set(srcHex, (ws = { addr: r.saddr, dsts: 0 }));
    if (newPair) ws.dsts++;

    if (tcp) {
      const y = syns.get(r.dport) ?? {
        port: r.dport,
        syns: 0,
        attempts: 0,
        halfOpen: 0,
        refused: 0,
        sources: new Set<string>(),
      };
      y.syns += r.syn;
      y.attempts += 1;
      if (outcome === 'refused') y.refused += 1;
      else if ((r.tcpFlags & TCP_FLAG.ACK) === 0) y.halfOpen += 1; // the client never ACKed
      y.sources.add(srcHex);
      syns.set(r.dport, y);
    }
  }

  if (memory) memory.store.record(attemptsOf(sources), memory.nowMs);
  const fanouts = [...sources.entries()].map(([key, s]) =>
    fanoutOf(s, masker, memory?.store.recent(key)),
  );
  // The largest fan-outs, counting what the memory holds: a slow scanner
  // tries little in any one window.
  const size = (f: SourceFanout__Output) =>
    Math.max(f.pairs, f.recentTopDestinationFailed, f.recentTopPortFailed);
  fanouts.sort((a, b) => size(b.f) - size(a.f) || a.f.src.localeCompare(b.f.src));
  const kept = fanouts.slice(0, bounds.sources).map((x) => x.f);
  const rest = fanouts.slice(bounds.sources).map((x) => x.f);
  const other: SourceFanout__Output | null =
    rest.length === 0
      ? null
      : rest.reduce<SourceFanout__Output>(
          (acc, f) => ({
            ...acc,
            pairs: acc.pairs + f.pairs,
            destinations: acc.destinations + f.destinations,
            ports: acc.ports + f.ports,
            refused: acc.refused + f.refused,
            unanswered: acc.unanswered + f.unanswered,
          }),
          emptyFanout(),
        );

  // Ordered on the raw figures first; only the sweeps kept are masked.
  const sweepList = [...sweeps.values()].sort(
    (a, b) => b.dsts.size - a.dsts.size || a.port - b.port,
  );
  const keptSweeps: PortSweep__Output[] = sweepList.slice(0, bounds.sweeps).map((w) => {
    let top: { addr: Buffer; dsts: number } | undefined;
    for (const v of w.bySrc.values()) if (!top || v.dsts > top.dsts) top = v;
    return {
      port: w.port,
      protocol: PROTOCOL_ENUM[w.protocol],
      destinations: w.dsts.size,
      sources: w.bySrc.size,
      topSource: top ? masker.maskBytes(top.addr) : '',
      topSourceDestinations: top?.dsts ?? 0,
    };
  });
  const allSyns: ServerPortSyns__Output[] = [...syns.values()].map((y) => ({
    port: y.port,
    syns: y.syns,
    attempts: y.attempts,
    halfOpen: y.halfOpen,
    refused: y.refused,
    sources: y.sources.size,
  }));
  allSyns.sort((a, b) => b.syns - a.syns || a.port - b.port);

  return {
    sources: kept,
    sweeps: keptSweeps,
    syns: allSyns.slice(0, bounds.synPorts),
    sourcesTotal: sources.size,
    sourcesTruncated: rest.length > 0,
    otherSources: other,
    sweepsTruncated: sweepList.length > bounds.sweeps,
    synsTruncated: allSyns.length > bounds.synPorts,
    recentSeconds: memory?.store.seconds ?? 0,
  };
}

/** Each source's pairs of this window, failed or answered, for the memory. */
function* attemptsOf(sources: Map<string, SourceAcc>): Generator<Attempt> {
  for (const [source, s] of sources) {
    for (const [pair, outcome] of s.pairs) {
      const colon = pair.lastIndexOf(':');
      yield {
        source,
        dst: pair.slice(0, colon),
        port: Number(pair.slice(colon + 1)),
        failed: outcome !== 'answered',
      };
    }
  }
}

function emptyFanout(): SourceFanout__Output {
  return {
    src: '',
    protocol: 'PROTOCOL_UNSPECIFIED',
    pairs: 0,
    destinations: 0,
    ports: 0,
    refused: 0,
    unanswered: 0,
    topDestination: '',
    topDestinationPorts: 0,
    topPort: 0,
    topPortDestinations: 0,
    topDestinationRefused: 0,
    topPortFailed: 0,
    recentTopDestination: '',
    recentTopDestinationFailed: 0,
    recentTopPort: 0,
    recentTopPortFailed: 0,
  };
}

function fanoutOf(
  s: SourceAcc,
  masker: Masker,
  recent: RecentFailures | undefined,
): { f: SourceFanout__Output } {
  let refused = 0;
  let unanswered = 0;
  for (const o of s.pairs.values()) {
    if (o === 'refused') refused++;
    else if (o === 'unanswered') unanswered++;
  }
  let topDst: { hex: string; addr: Buffer; ports: Set<number> } | undefined;
  for (const [hex, d] of s.byDst) {
    if (!topDst || d.ports.size > topDst.ports.size) topDst = { hex, ...d };
  }
  let topDstFailed = 0;
  if (topDst) {
    for (const p of topDst.ports) {
      const o = s.pairs.get(`${topDst.hex}:${p}`);
      if (o !== 'answered') topDstFailed++;
    }
  }
  let topPort: [number, number] | undefined;
  for (const e of s.byPort) if (!topPort || e[1] > topPort[1]) topPort = e;
  let topPortFailed = 0;
  if (topPort) {
    const port = topPort[0];
    for (const [hex, d] of s.byDst)
      if (d.ports.has(port) && s.pairs.get(`${hex}:${port}`) !== 'answered') topPortFailed++;
  }
  return {
    f: {
      src: masker.maskBytes(s.src),
      protocol: PROTOCOL_ENUM[s.protocol],
      pairs: s.pairs.size,
      destinations: s.byDst.size,
      ports: s.byPort.size,
      refused,
      unanswered,
      topDestination: topDst ? masker.maskBytes(topDst.addr) : '',
      topDestinationPorts: topDst?.ports.size ?? 0,
      topPort: topPort?.[0] ?? 0,
      topPortDestinations: topPort?.[1] ?? 0,
      topDestinationRefused: topDstFailed,
      topPortFailed,
      recentTopDestination: recent?.topDestination
        ? masker.maskBytes(Buffer.from(recent.topDestination, 'hex'))
        : '',
      recentTopDestinationFailed: recent?.topDestinationFailed ?? 0,
      recentTopPort: recent?.topPort ?? 0,
      recentTopPortFailed: recent?.topPortFailed ?? 0,
    },
  };
}
