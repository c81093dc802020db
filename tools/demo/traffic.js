#!/usr/bin/env node
/*
 * The demo fleet's traffic, run inside one demo namespace (`npm start -- --demo`, tools/demo/fleet.js):
 * it serves a few TCP and UDP ports of its role and, towards its peers, keeps up a mix of TCP
 * requests, UDP datagrams and pings (ICMP and ICMPv6), over IPv4 and IPv6 alike. A host given
 * `scanEverySeconds` also runs a vertical port scan of one peer now and then (40 closed ports at
 * once: over the server's port_scan threshold), the first within seconds of starting.
 *
 * Usage: traffic.js '<json>' with {listen: {tcp: [ports], udp: [ports]}, peers: [{name, ipv4,
 * ipv6, tcp: [ports], udp: [ports]}], scanEverySeconds?}. Traffic goes only to the peers'
 * addresses (198.18.0.0/15, fd00::/8). SIGTERM or SIGINT: stops at once.
 */
'use strict';

const dgram = require('node:dgram');
const net = require('node:net');
const { spawn } = require('node:child_process');

const plan = JSON.parse(process.argv[2] || '{}');
const peers = plan.peers || [];
const timers = new Set();
const children = new Set();
let stopping = false;

const pick = (xs) => xs[Math.floor(Math.random() * xs.length)];
const between = (lo, hi) => lo + Math.floor(Math.random() * (hi - lo + 1));
const address = (peer) => (Math.random() < 0.5 ? peer.ipv4 : peer.ipv6);

/** Runs `fn` every `lo`..`hi` ms (a fresh random delay each time) until stopped. */
function every(lo, hi, fn, firstMs = between(lo, hi)) {
  const arm = (ms) => {
    const t = setTimeout(() => {
      timers.delete(t);
      if (stopping) return;
      try {
        fn();
      } catch (err) {
        console.error(`demo traffic: ${err.message}`);
      }
      arm(between(lo, hi));
    }, ms);
    timers.add(t);
  };
  arm(firstMs);
}

// Servers: TCP answers what it read with a reply of a random size; UDP echoes.
const servers = [];
for (const port of plan.listen?.tcp || []) {
  const s = net.createServer((c) => {
    c.on('data', () => {});
    c.on('end', () => c.end(Buffer.alloc(between(100, 20_000), 0x72)));
    c.on('error', () => {});
  });
  s.listen({ port, host: '::', ipv6Only: false });
  servers.push(s);
}
for (const port of plan.listen?.udp || []) {
  const s = dgram.createSocket({ type: 'udp6', ipv6Only: false });
  s.on('message', (msg, from) => s.send(msg, from.port, from.address));
  s.on('error', () => {});
  s.bind(port, '::');
  servers.push(s);
}

function tcpRequest() {
  const peer = pick(peers);
  if (!peer?.tcp?.length) return;
  const c = net.connect({ host: address(peer), port: pick(peer.tcp) });
  c.setTimeout(5000);
  c.on('connect', () => c.end(Buffer.alloc(between(50, 4000), 0x71)));
  c.on('data', () => {});
  c.on('timeout', () => c.destroy());
  c.on('error', () => {});
}

function udpBurst() {
  const peer = pick(peers);
  if (!peer?.udp?.length) return;
  const to = address(peer);
  const s = dgram.createSocket(net.isIPv6(to) ? 'udp6' : 'udp4');
  s.on('error', () => s.close());
  const port = pick(peer.udp);
  let left = between(1, 8);
  const next = () => {
    if (left-- <= 0 || stopping) return setTimeout(() => s.close(), 500);
    s.send(Buffer.alloc(between(40, 1200), 0x75), port, to, next);
  };
  next();
}

function pingPeer() {
  const peer = pick(peers);
  if (!peer) return;
  const to = address(peer);
  const p = spawn(
    'ping',
    [net.isIPv6(to) ? '-6' : '-4', '-c', '3', '-i', '0.3', '-W', '1', '-q', to],
    {
      stdio: 'ignore',
    },
  );
  children.add(p);
  p.on('exit', () => children.delete(p));
  p.on('error', () => children.delete(p));
}

/** One connection attempt to each of 40 ports where the peer listens on none, all at once. */
function portScan() {
  const peer = pick(peers);
  if (!peer) return;
  const to = address(peer);
  const base = between(20_000, 30_000);
  for (let i = 0; i < 40; i++) {
    const c = net.connect({ host: to, port: base + i });
    c.setTimeout(3000);
    c.on('connect', () => c.destroy());
    c.on('timeout', () => c.destroy());
    c.on('error', () => {});
  }
  console.log(`demo traffic: port scan of ${peer.name} (${to}, ports ${base}-${base + 39})`);
}

if (peers.length > 0) {
  every(100, 600, tcpRequest, 1000);
  every(200, 900, udpBurst, 1000);
  every(2000, 6000, pingPeer, 1500);
  if (plan.scanEverySeconds) {
    const s = plan.scanEverySeconds * 1000;
    every(s / 2, s, portScan, 5000);
  }
}

/**
 * Exits only once every ping it started has been reaped: a child left running when this process
 * exits is re-parented to PID 1, which on some hosts never reaps it (a zombie that outlives the demo).
 */
function stop() {
  if (stopping) return;
  stopping = true;
  for (const t of timers) clearTimeout(t);
  for (const s of servers) s.close();
  const reaped = [...children].map(
    (p) =>
      new Promise((resolve) => {
        p.once('exit', resolve);
        p.kill('SIGKILL');
      }),
  );
  Promise.all(reaped).then(() => process.exit(0));
  setTimeout(() => process.exit(0), 5000).unref();
}
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
console.log(`demo traffic: ${peers.map((p) => p.name).join(', ')} as peers`);
