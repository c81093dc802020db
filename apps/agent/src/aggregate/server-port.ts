import { TCP_FLAG, type FlowRecord } from '../collector/port';
import { addressHex } from '../collector/address-interner';

/** Where a connection listens: the server's address and port. */
export interface ServerEndpoint {
  addr: string; // hex of the raw bytes (internal only, never emitted)
  port: number;
  /** How it was decided, for tests and debugging. */
  by: 'syn' | 'learned' | 'port-range';
}

const keyOf = new WeakMap<FlowRecord, string>();

/**
 * Direction-free identity of a connection: protocol + both endpoints, sorted.
 * Remembered per record (a window's close asks for it three times per record:
 * server side, ports, scan figures); records are not changed after the drain.
 */
export function connectionKey(f: FlowRecord): string {
  let key = keyOf.get(f);
  if (key === undefined) {
    const a = `${addressHex(f.saddr)}:${f.sport}`;
    const b = `${addressHex(f.daddr)}:${f.dport}`;
    key = `${f.ipProto}|${a < b ? `${a}|${b}` : `${b}|${a}`}`;
    keyOf.set(f, key);
  }
  return key;
}

const EPHEMERAL_MIN = 32768; // Linux net.ipv4.ip_local_port_range default lower bound

/** Guess when no SYN tells: a well-known port, else the non-ephemeral one, else the lower. */
export function guessServerPort(sport: number, dport: number): 'src' | 'dst' {
  const wk = (p: number) => p > 0 && p < 1024;
  if (wk(sport) !== wk(dport)) return wk(sport) ? 'src' : 'dst';
  const eph = (p: number) => p >= EPHEMERAL_MIN;
  if (eph(sport) !== eph(dport)) return eph(sport) ? 'dst' : 'src';
  return sport <= dport ? 'src' : 'dst';
}

/**
 * Decides the listening side of each TCP/UDP connection in a window.
 *
 * TCP: the client sends the first SYN, the server answers SYN-ACK, so among
 * the records of one connection that carry a SYN, the earliest first packet
 * travels client → server, and a record whose flags show SYN without any ACK
 * is client → server outright. Decisions are remembered, so that later windows
 * of a long connection (no SYN any more) still credit the right port. Without
 * a SYN ever seen (agent started mid-connection, UDP) the port ranges decide.
 */
export class ServerPortResolver {
  private learned = new Map<string, ServerEndpoint>();

  constructor(private readonly capacity = 65536) {}

  resolve(records: FlowRecord[]): Map<string, ServerEndpoint> {
    const byConn = new Map<string, FlowRecord[]>();
    for (const r of records) {
      if (r.ipProto !== 6 && r.ipProto !== 17) continue;
      const key = connectionKey(r);
      const list = byConn.get(key);
      if (list) list.push(r);
      else byConn.set(key, [r]);
    }
    const out = new Map<string, ServerEndpoint>();
    for (const [key, list] of byConn) {
      const fromSyn = list[0].ipProto === 6 ? this.fromSyn(list) : undefined;
      if (fromSyn) {
        this.remember(key, fromSyn);
        out.set(key, fromSyn);
        continue;
      }
      const known = this.learned.get(key);
      if (known) {
        out.set(key, { ...known, by: 'learned' });
        continue;
      }
      const r = list[0];
      const side = guessServerPort(r.sport, r.dport);
      out.set(key, {
        addr: addressHex(side === 'src' ? r.saddr : r.daddr),
        port: side === 'src' ? r.sport : r.dport,
        by: 'port-range',
      });
    }
    return out;
  }

  private fromSyn(list: FlowRecord[]): ServerEndpoint | undefined {
    const withSyn = list.filter((r) => r.syn > 0);
    if (withSyn.length === 0) return undefined;
    const pureSyn = withSyn.find((r) => (r.tcpFlags & TCP_FLAG.ACK) === 0);
    let client = pureSyn;
    if (!client) {
      const sameTuple = (a: FlowRecord, b: FlowRecord) =>
        a.sport === b.sport && a.saddr.equals(b.saddr);
      const directions = new Set(withSyn.map((r) => `${addressHex(r.saddr)}:${r.sport}`));
      // One direction alone with SYN+ACK flags is ambiguous (SYN then ACKs, or SYN-ACK).
      if (directions.size < 2) return undefined;
      const earliest = withSyn.reduce((a, b) => (b.firstSeenNs < a.firstSeenNs ? b : a));
      client = withSyn.find((r) => sameTuple(r, earliest));
    }
    if (!client) return undefined;
    return { addr: addressHex(client.daddr), port: client.dport, by: 'syn' };
  }

  private remember(key: string, ep: ServerEndpoint): void {
    if (this.learned.size >= this.capacity) {
      // Oldest first: Map iteration order is insertion order.
      const oldest = this.learned.keys().next().value;
      if (oldest !== undefined) this.learned.delete(oldest);
    }
    this.learned.delete(key);
    this.learned.set(key, ep);
  }
}
