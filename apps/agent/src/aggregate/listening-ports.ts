import { readFileSync } from 'node:fs';
import type { ListeningPort__Output, ListeningSet__Output } from '@tidewatch/proto';
import { PROTOCOL_ENUM } from './proto-enums';

const TABLES = [
  { file: 'tcp', protocol: 'tcp', v6: false },
  { file: 'tcp6', protocol: 'tcp', v6: true },
  { file: 'udp', protocol: 'udp', v6: false },
  { file: 'udp6', protocol: 'udp', v6: true },
] as const;

const TCP_LISTEN = '0A';
const UDP_UNCONNECTED = '07';
export const MAX_LISTENING_PORTS = 512;

/** /proc/net address hex (32-bit words in host byte order) -> is it loopback? */
export function isLoopbackHex(hex: string, v6: boolean): boolean {
  const words = hex.match(/.{8}/g) ?? [];
  const bytes = Buffer.concat(words.map((w) => Buffer.from(w, 'hex').reverse()));
  if (!v6) return bytes[0] === 127;
  if (bytes.subarray(0, 15).every((b) => b === 0) && bytes[15] === 1) return true;
  const mapped =
    bytes.subarray(0, 10).every((b) => b === 0) && bytes[10] === 0xff && bytes[11] === 0xff;
  return mapped && bytes[12] === 127;
}

/** Listening sockets of one /proc/net table's text. */
export function parseProcNet(
  text: string,
  protocol: 'tcp' | 'udp',
  v6: boolean,
): { port: number; loopback: boolean }[] {
  const out: { port: number; loopback: boolean }[] = [];
  for (const line of text.split('\n').slice(1)) {
    const f = line.trim().split(/\s+/);
    if (f.length < 4) continue;
    const [local, remote, state] = [f[1], f[2], f[3]];
    const [addr, portHex] = local.split(':');
    const remotePort = remote.split(':')[1];
    const listening =
      protocol === 'tcp'
        ? state === TCP_LISTEN
        : state === UDP_UNCONNECTED && remotePort === '0000';
    if (!listening || !portHex) continue;
    out.push({ port: parseInt(portHex, 16), loopback: isLoopbackHex(addr, v6) });
  }
  return out;
}

/**
 * The host's listening TCP and UDP ports (of the agent's network namespace),
 * read from the kernel's socket tables. A port is loopback-only when every
 * socket on it is bound to a loopback address.
 */
export function readListening(procNet = '/proc/net'): ListeningSet__Output {
  const ports = new Map<string, { port: number; protocol: 'tcp' | 'udp'; loopbackOnly: boolean }>();
  let readAny = false;
  for (const t of TABLES) {
    let text: string;
    try {
      text = readFileSync(`${procNet}/${t.file}`, 'utf8');
    } catch {
      continue; // no IPv6, say: the other tables still tell
    }
    readAny = true;
    for (const s of parseProcNet(text, t.protocol, t.v6)) {
      const k = `${t.protocol}|${s.port}`;
      const prev = ports.get(k);
      ports.set(k, {
        port: s.port,
        protocol: t.protocol,
        loopbackOnly: (prev?.loopbackOnly ?? true) && s.loopback,
      });
    }
  }
  const all: ListeningPort__Output[] = [...ports.values()]
    .sort((a, b) => a.protocol.localeCompare(b.protocol) || a.port - b.port)
    .map((p) => ({
      port: p.port,
      protocol: PROTOCOL_ENUM[p.protocol],
      loopbackOnly: p.loopbackOnly,
    }));
  return {
    known: readAny,
    ports: all.slice(0, MAX_LISTENING_PORTS),
    truncated: all.length > MAX_LISTENING_PORTS,
  };
}
