import type { Endpoint } from './network';

export type IpFamily = 4 | 6;

function addressOf(ep: Endpoint, family: IpFamily): string {
  return family === 4 ? ep.ipv4 : ep.ipv6;
}

// Receiver: counts datagrams, prints "ready", then "received N" when it has
// `count` or when no datagram came for two seconds after the first one. No
// clock runs before the first datagram: a sender that takes long to start
// (an emulated guest) is not mistaken for loss; sendUdp bounds the wait.
const UDP_SINK = `
const dgram = require('dgram');
const [fam, addr, port, count] = process.argv.slice(1);
const s = dgram.createSocket({ type: fam === '6' ? 'udp6' : 'udp4', recvBufferSize: 4 << 20 });
let n = 0; let idle;
const done = () => { console.log('received ' + n); s.close(); };
const arm = () => { clearTimeout(idle); idle = setTimeout(done, 2000); };
s.on('message', () => { n++; if (n >= Number(count)) { clearTimeout(idle); done(); } else arm(); });
s.bind(Number(port), addr, () => { console.log('ready'); });
`;

// Sender: `count` datagrams of `size` bytes, from consecutive source ports
// when `spread` is set (one flow each), else from one socket.
const UDP_SOURCE = `
const dgram = require('dgram');
const [fam, dst, port, count, size, spread, srcPort] = process.argv.slice(1);
const type = fam === '6' ? 'udp6' : 'udp4';
const payload = Buffer.alloc(Number(size), 0x74);
let i = 0; let shared = null;
const one = (cb) => {
  if (spread === '1') {
    const s = dgram.createSocket(type);
    s.send(payload, Number(port), dst, (e) => { s.close(); cb(e); });
  } else {
    if (!shared) { shared = dgram.createSocket(type); if (srcPort !== '0') shared.bind(Number(srcPort)); }
    shared.send(payload, Number(port), dst, cb);
  }
};
const next = (e) => {
  if (e) { console.error(e.message); process.exit(1); }
  if (i++ >= Number(count)) { if (shared) shared.close(); console.log('sent'); return; }
  // Pace lightly so the receiver's socket buffer never overflows.
  if (i % 64 === 0) setTimeout(() => one(next), 1); else one(next);
};
next();
`;

export interface UdpOptions {
  family: IpFamily;
  count: number;
  /** UDP payload bytes (default 100). */
  size?: number;
  port?: number;
  /** Each datagram from a new socket, hence a new source port and a new flow. */
  spread?: boolean;
}

/**
 * Sends exactly `count` UDP datagrams from `from` to `to` and waits until the
 * receiver has them all. Resolves with the number received.
 */
export async function sendUdp(from: Endpoint, to: Endpoint, o: UdpOptions): Promise<number> {
  const port = String(o.port ?? 40000 + Math.floor(Math.random() * 20000));
  const sink = to.netns.nodeBackground(UDP_SINK, [
    String(o.family),
    addressOf(to, o.family),
    port,
    String(o.count),
  ]);
  try {
    await sink.waitFor('ready');
    await from.netns.node(UDP_SOURCE, [
      String(o.family),
      addressOf(to, o.family),
      port,
      String(o.count),
      String(o.size ?? 100),
      o.spread ? '1' : '0',
      '0',
    ]);
    const res = await sink.wait(15_000);
    const m = /received (\d+)/.exec(res.stdout);
    return m ? Number(m[1]) : 0;
  } finally {
    await sink.kill();
  }
}

export interface PingOptions {
  family: IpFamily;
  count: number;
  /** ICMP payload bytes (ping -s, default 56). */
  size?: number;
}

/** `count` echo requests from `from` to `to` (and as many replies). Resolves with replies received. */
export async function ping(from: Endpoint, to: Endpoint, o: PingOptions): Promise<number> {
  const res = await from.netns.exec(
    'ping',
    [
      `-${o.family}`,
      '-c',
      String(o.count),
      '-i',
      '0.01',
      '-W',
      '2',
      '-q',
      '-s',
      String(o.size ?? 56),
      addressOf(to, o.family),
    ],
    { allowFailure: true },
  );
  const m = /(\d+) received/.exec(res.stdout);
  return m ? Number(m[1]) : 0;
}

// Server: accepts connections, reads each to the end, answers `reply` bytes, closes.
const TCP_SERVER = `
const net = require('net');
const [addr, port, reply] = process.argv.slice(1);
let accepted = 0;
const srv = net.createServer((c) => {
  accepted++;
  c.on('data', () => {});
  c.on('end', () => c.end(Buffer.alloc(Number(reply), 0x72)));
  c.on('error', () => {});
});
srv.listen(Number(port), addr, () => console.log('ready'));
process.on('SIGTERM', () => { console.log('accepted ' + accepted); process.exit(0); });
process.stdin.resume();
`;

// Client: `count` connections one after the other: connect, send, half-close,
// read the reply, close. Prints "ok N" / "failed N".
const TCP_CLIENT = `
const net = require('net');
const [addr, port, count, send] = process.argv.slice(1);
let ok = 0, failed = 0, i = 0;
const one = () => {
  if (i++ >= Number(count)) { console.log('ok ' + ok); console.log('failed ' + failed); return; }
  const c = net.connect({ host: addr, port: Number(port) });
  c.on('connect', () => c.end(Buffer.alloc(Number(send), 0x71)));
  c.on('data', () => {});
  c.on('close', (hadError) => { if (hadError) failed++; else ok++; setImmediate(one); });
  c.on('error', () => {});
};
one();
`;

export interface TcpOptions {
  family: IpFamily;
  /** Connections, one after the other (default 1). */
  count?: number;
  port?: number;
  /** Bytes the client sends on each connection (default 100). */
  send?: number;
  /** Bytes the server answers (default 100). */
  reply?: number;
}

export interface TcpResult {
  ok: number;
  failed: number;
  port: number;
}

/**
 * Opens `count` TCP connections from `client` to a server on `server`, each
 * sending, answering and closing cleanly. Resolves when all are closed.
 */
export async function tcpConnections(
  client: Endpoint,
  server: Endpoint,
  o: TcpOptions,
): Promise<TcpResult> {
  const port = o.port ?? 20000 + Math.floor(Math.random() * 20000);
  const srv = server.netns.nodeBackground(TCP_SERVER, [
    addressOf(server, o.family),
    String(port),
    String(o.reply ?? 100),
  ]);
  try {
    await srv.waitFor('ready');
    const res = await connect(client, server, { ...o, port });
    return res;
  } finally {
    await srv.kill();
  }
}

/**
 * Connects to `to` on a port (with or without a listener) `count` times;
 * without a listener every attempt is refused and counts as failed.
 */
export async function connect(
  from: Endpoint,
  to: Endpoint,
  o: TcpOptions & { port: number },
): Promise<TcpResult> {
  const res = await from.netns.node(
    TCP_CLIENT,
    [addressOf(to, o.family), String(o.port), String(o.count ?? 1), String(o.send ?? 100)],
    { timeoutMs: 60_000 },
  );
  const ok = Number(/ok (\d+)/.exec(res.stdout)?.[1] ?? 0);
  const failed = Number(/failed (\d+)/.exec(res.stdout)?.[1] ?? 0);
  return { ok, failed, port: o.port };
}

// Bulk: one connection carrying `bytes` from client to server.
const TCP_SINK = `
const net = require('net');
const [addr, port] = process.argv.slice(1);
let total = 0;
const srv = net.createServer((c) => { c.on('data', (d) => (total += d.length)); c.on('end', () => { c.end(); console.log('got ' + total); srv.close(); }); });
srv.listen(Number(port), addr, () => console.log('ready'));
`;
const TCP_PUMP = `
const net = require('net');
const [addr, port, bytes] = process.argv.slice(1);
let local = 0;
const c = net.connect({ host: addr, port: Number(port) }, () => {
  local = c.localPort;
  c.end(Buffer.alloc(Number(bytes), 0x62));
});
c.on('data', () => {});
c.on('close', () => console.log('done ' + local));
`;

export interface BulkResult {
  received: number;
  clientPort: number;
  serverPort: number;
}

/** One TCP connection carrying `bytes` from client to server (e.g. across netem loss). */
export async function tcpBulk(
  client: Endpoint,
  server: Endpoint,
  o: { family: IpFamily; bytes: number; port?: number },
): Promise<BulkResult> {
  const port = o.port ?? 20000 + Math.floor(Math.random() * 20000);
  const sink = server.netns.nodeBackground(TCP_SINK, [addressOf(server, o.family), String(port)]);
  try {
    await sink.waitFor('ready');
    const res = await client.netns.node(
      TCP_PUMP,
      [addressOf(server, o.family), String(port), String(o.bytes)],
      { timeoutMs: 120_000 },
    );
    const out = await sink.wait(30_000);
    return {
      received: Number(/got (\d+)/.exec(out.stdout)?.[1] ?? 0),
      clientPort: Number(/done (\d+)/.exec(res.stdout)?.[1] ?? 0),
      serverPort: port,
    };
  } finally {
    await sink.kill();
  }
}

// Raw ARP requests through an AF_PACKET socket: exact, independent of the
// neighbour table (which holds permanent entries and so never asks itself).
const ARP_SCRIPT = `
import socket, struct, sys
ifname, smac, sip, tip, count = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4], int(sys.argv[5])
mac = bytes.fromhex(smac.replace(':', ''))
s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
s.bind((ifname, 0))
frame = b'\\xff' * 6 + mac + b'\\x08\\x06' + struct.pack('!HHBBH', 1, 0x0800, 6, 4, 1) + mac + socket.inet_aton(sip) + b'\\x00' * 6 + socket.inet_aton(tip)
for _ in range(count):
    s.send(frame)
print('sent', count)
`;

/**
 * Sends `count` ARP requests from `from` asking for `to`'s IPv4 address (42
 * bytes each; the peer answers each one).
 */
export async function sendArp(from: Endpoint, to: Endpoint, count: number): Promise<void> {
  await from.netns.exec('python3', [
    '-c',
    ARP_SCRIPT,
    from.ifname,
    from.mac,
    from.ipv4,
    to.ipv4,
    String(count),
  ]);
}

// Scanner: one connection attempt to every port at once; prints "ok N failed M" once all settled.
const PORT_SCAN = `
const net = require('net');
const [addr, list] = process.argv.slice(1);
const ports = JSON.parse(list);
let left = ports.length, ok = 0, failed = 0;
for (const port of ports) {
  const c = net.connect({ host: addr, port });
  c.setTimeout(3000);
  const done = (good) => { good ? ok++ : failed++; c.destroy(); if (--left === 0) console.log('ok ' + ok + ' failed ' + failed); };
  c.on('connect', () => done(true));
  c.on('error', () => done(false));
  c.on('timeout', () => done(false));
}
`;

/**
 * A vertical port scan: one TCP connection attempt from `from` to each of
 * `ports` on `to`, all at once. Resolves with how many were accepted and how
 * many failed (refused, or no answer within 3 s).
 */
export async function scanPorts(
  from: Endpoint,
  to: Endpoint,
  o: { family: IpFamily; ports: number[] },
): Promise<{ ok: number; failed: number }> {
  const res = await from.netns.node(PORT_SCAN, [addressOf(to, o.family), JSON.stringify(o.ports)], {
    timeoutMs: 30_000,
  });
  const m = /ok (\d+) failed (\d+)/.exec(res.stdout);
  if (!m) throw new Error(`port scan printed ${res.stdout} ${res.stderr}`);
  return { ok: Number(m[1]), failed: Number(m[2]) };
}

// Prober: one datagram to every port, from one socket (one source port), paced lightly.
const UDP_PROBE = `
const dgram = require('dgram');
const [fam, addr, list] = process.argv.slice(1);
const ports = JSON.parse(list);
const s = dgram.createSocket(fam === '6' ? 'udp6' : 'udp4');
let i = 0;
const next = (e) => {
  if (e) { console.error(e.message); process.exit(1); }
  if (i >= ports.length) { s.close(); console.log('sent ' + i); return; }
  const port = ports[i++];
  setTimeout(() => s.send(Buffer.from('tidewatch probe'), port, addr, next), 2);
};
next();
`;

/**
 * A UDP port scan: one datagram from `from` to each of `ports` on `to`, all
 * from one source port. Resolves with the number sent.
 */
export async function probeUdpPorts(
  from: Endpoint,
  to: Endpoint,
  o: { family: IpFamily; ports: number[] },
): Promise<number> {
  const res = await from.netns.node(UDP_PROBE, [
    String(o.family),
    addressOf(to, o.family),
    JSON.stringify(o.ports),
  ]);
  const m = /sent (\d+)/.exec(res.stdout);
  if (!m) throw new Error(`udp probe printed ${res.stdout} ${res.stderr}`);
  return Number(m[1]);
}
