import { isIPv4 } from 'node:net';
import type { Endpoint } from './network';

/** One VLAN tag: 0x8100 (802.1Q) or 0x88a8 (802.1ad outer tag). */
export interface VlanTag {
  tpid: 0x8100 | 0x88a8;
  id: number;
}

export interface UdpFrameOptions {
  srcMac: string;
  dstMac: string;
  /** Outermost first. */
  tags?: VlanTag[];
  src: string;
  dst: string;
  sport: number;
  dport: number;
  /** UDP payload bytes. */
  size: number;
}

function mac(m: string): Buffer {
  return Buffer.from(m.replace(/:/g, ''), 'hex');
}

function ipv6Bytes(addr: string): Buffer {
  const [head, tail = ''] = addr.split('::');
  const h = head ? head.split(':') : [];
  const t = tail ? tail.split(':') : [];
  const groups = addr.includes('::')
    ? [...h, ...Array(8 - h.length - t.length).fill('0'), ...t]
    : h;
  const out = Buffer.alloc(16);
  groups.forEach((g, i) => out.writeUInt16BE(parseInt(g, 16), i * 2));
  return out;
}

function checksum(buf: Buffer): number {
  let sum = 0;
  for (let i = 0; i < buf.length; i += 2) sum += (buf[i] << 8) | (buf[i + 1] ?? 0);
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
  return ~sum & 0xffff;
}

/**
 * An Ethernet frame carrying one UDP datagram, optionally VLAN-tagged; built
 * by hand so tests can send what the kernel here cannot (no 8021q module).
 */
export function buildUdpFrame(o: UdpFrameOptions): Buffer {
  const v4 = isIPv4(o.src);
  const udp = Buffer.alloc(8 + o.size, 0x75);
  udp.writeUInt16BE(o.sport, 0);
  udp.writeUInt16BE(o.dport, 2);
  udp.writeUInt16BE(8 + o.size, 4);
  udp.writeUInt16BE(0, 6); // checksum not needed for what is measured
  let ip: Buffer;
  if (v4) {
    ip = Buffer.alloc(20);
    ip[0] = 0x45;
    ip.writeUInt16BE(20 + udp.length, 2);
    ip[8] = 64;
    ip[9] = 17;
    Buffer.from(o.src.split('.').map(Number)).copy(ip, 12);
    Buffer.from(o.dst.split('.').map(Number)).copy(ip, 16);
    ip.writeUInt16BE(checksum(ip), 10);
  } else {
    ip = Buffer.alloc(40);
    ip[0] = 0x60;
    ip.writeUInt16BE(udp.length, 4);
    ip[6] = 17;
    ip[7] = 64;
    ipv6Bytes(o.src).copy(ip, 8);
    ipv6Bytes(o.dst).copy(ip, 24);
  }
  const parts: Buffer[] = [mac(o.dstMac), mac(o.srcMac)];
  for (const tag of o.tags ?? []) {
    const t = Buffer.alloc(4);
    t.writeUInt16BE(tag.tpid, 0);
    t.writeUInt16BE(tag.id & 0xfff, 2);
    parts.push(t);
  }
  const type = Buffer.alloc(2);
  type.writeUInt16BE(v4 ? 0x0800 : 0x86dd, 0);
  parts.push(type, ip, udp);
  return Buffer.concat(parts);
}

const SEND_FRAMES = `
import socket, sys
ifname, frame, count = sys.argv[1], bytes.fromhex(sys.argv[2]), int(sys.argv[3])
s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
s.bind((ifname, 0))
for _ in range(count):
    s.send(frame)
print('sent', count)
`;

/** Sends one raw frame `count` times out of an endpoint's interface (AF_PACKET). */
export async function sendFrames(from: Endpoint, frame: Buffer, count: number): Promise<void> {
  await from.netns.exec('python3', [
    '-c',
    SEND_FRAMES,
    from.ifname,
    frame.toString('hex'),
    String(count),
  ]);
}
