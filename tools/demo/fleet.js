/*
 * The demo fleet of `npm start -- --demo`: three network namespaces standing in for hosts (web,
 * app, db), joined pairwise by veth pairs (198.19.254.0/24 and fd00:7464::/32), each with an
 * uplink veth to this namespace (198.19.255.0/24) that carries only its agent's gRPC stream,
 * relayed here to the server's own gRPC address (which stays on 127.0.0.1). Each host gets its
 * own hostname (a UTS namespace), its own agent watching its links to the others, and the
 * traffic of tools/demo/traffic.js; `app` scans a peer now and then.
 *
 * Names carry this process's pid (namespaces twdemo-<pid>-<host>, host-side uplinks
 * twd<pid>u<n>: the `tw*` the local agent leaves alone), so a demo killed without cleaning up
 * is swept by the next one. teardown() closes the relays and deletes the namespaces, which
 * takes their veths and the agents' TC filters with them; nothing is pinned.
 */
'use strict';

const { spawnSync } = require('node:child_process');
const fs = require('node:fs');
const net = require('node:net');
const path = require('node:path');

const TRAFFIC = path.join(__dirname, 'traffic.js');
const PREFIX = 'twdemo-';
const HOSTS = [
  { name: 'web', listen: { tcp: [80, 443], udp: [] } },
  { name: 'app', listen: { tcp: [8080], udp: [514] }, scanEverySeconds: 45 },
  { name: 'db', listen: { tcp: [5432], udp: [53] } },
];

function ip(args, { allowFailure = false } = {}) {
  const r = spawnSync('ip', args, { encoding: 'utf8' });
  if (r.status !== 0 && !allowFailure) {
    throw new Error(`ip ${args.join(' ')} failed: ${(r.stderr || r.stdout).trim()}`);
  }
  return r.stdout;
}

function alive(pid) {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return err.code === 'EPERM';
  }
}

/** Namespaces of this demo's pid, or (pid omitted) of demos whose process is gone. */
function demoNamespaces(pid) {
  let names = [];
  try {
    names = fs.readdirSync('/run/netns');
  } catch {
    return [];
  }
  return names.filter((n) => {
    const m = /^twdemo-(\d+)-/.exec(n);
    return m !== null && (pid === undefined ? !alive(Number(m[1])) : Number(m[1]) === pid);
  });
}

/** Removes what a killed demo left (its namespaces, and with them its veths). */
function sweepStale() {
  for (const n of demoNamespaces()) ip(['netns', 'del', n], { allowFailure: true });
}

/** In a namespace: lo up, one end's addresses, IPv6 without DAD. */
function configure(ns, ifname, v4, v6) {
  const x = (args) => ip(['-n', ns, ...args]);
  x(['link', 'set', ifname, 'up']);
  x(['addr', 'add', v4, 'dev', ifname]);
  if (v6) x(['-6', 'addr', 'add', v6, 'dev', ifname, 'nodad']);
}

/**
 * Makes the fleet. `grpcPort` is the server's gRPC port on 127.0.0.1; each host's agent is
 * given `<uplink address>:<grpcPort>`, relayed here.
 */
async function create({ grpcPort, grpcHost = '127.0.0.1' }) {
  sweepStale();
  const pid = process.pid;
  const fleet = { hosts: [], relays: [], sockets: new Set(), pid };
  try {
    HOSTS.forEach((spec, i) => {
      const ns = `${PREFIX}${pid}-${spec.name}`;
      ip(['netns', 'add', ns]);
      ip(['-n', ns, 'link', 'set', 'lo', 'up']);
      const up = `twd${pid}u${i}`;
      const gw = `198.19.255.${4 * i + 1}`;
      ip(['link', 'add', up, 'type', 'veth', 'peer', 'name', 'uplink', 'netns', ns]);
      ip(['link', 'set', up, 'up']);
      ip(['addr', 'add', `${gw}/30`, 'dev', up]);
      configure(ns, 'uplink', `198.19.255.${4 * i + 2}/30`);
      fleet.hosts.push({
        ...spec,
        ns,
        hostname: `demo-${spec.name}`,
        server: `${gw}:${grpcPort}`,
        gateway: gw,
        interfaces: [],
        addresses: {},
      });
    });
    // Pairwise links: host i's end is named after the peer (to-app), and so on.
    let k = 0;
    for (let i = 0; i < fleet.hosts.length; i++) {
      for (let j = i + 1; j < fleet.hosts.length; j++, k++) {
        const [a, b] = [fleet.hosts[i], fleet.hosts[j]];
        const [ea, eb] = [`to-${b.name}`, `to-${a.name}`];
        ip(['-n', a.ns, 'link', 'add', ea, 'type', 'veth', 'peer', 'name', eb, 'netns', b.ns]);
        configure(a.ns, ea, `198.19.254.${4 * k + 1}/30`, `fd00:7464:0:${k}::1/64`);
        configure(b.ns, eb, `198.19.254.${4 * k + 2}/30`, `fd00:7464:0:${k}::2/64`);
        a.interfaces.push(ea);
        b.interfaces.push(eb);
        a.addresses[b.name] = { ipv4: `198.19.254.${4 * k + 2}`, ipv6: `fd00:7464:0:${k}::2` };
        b.addresses[a.name] = { ipv4: `198.19.254.${4 * k + 1}`, ipv6: `fd00:7464:0:${k}::1` };
      }
    }
    for (const h of fleet.hosts) {
      fleet.relays.push(await relay(fleet, h.gateway, grpcPort, grpcHost));
    }
  } catch (err) {
    await teardown(fleet);
    throw err;
  }
  return fleet;
}

/** Forwards host:port (an uplink address, reachable from one namespace only) to the server. */
function relay(fleet, host, port, target) {
  const server = net.createServer((down) => {
    const up = net.connect({ host: target, port });
    for (const s of [down, up]) {
      fleet.sockets.add(s);
      s.on('close', () => fleet.sockets.delete(s));
      s.on('error', () => {
        down.destroy();
        up.destroy();
      });
    }
    down.pipe(up).pipe(down);
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve(server));
  });
}

/** The argv prefix that runs a command as the demo host: its namespace and its hostname. */
function wrap(host) {
  return [
    'ip',
    'netns',
    'exec',
    host.ns,
    'unshare',
    '--uts',
    'sh',
    '-c',
    `hostname ${host.hostname} && exec "$@"`,
    'sh',
  ];
}

/** The agent config of a demo host: its server (the relay), its labels. */
function agentConfig(host) {
  return { server: { address: host.server }, labels: { demo: 'true', role: host.name } };
}

/** traffic.js's argument for a host: what it serves and its peers' addresses and ports. */
function trafficPlan(fleet, host) {
  return JSON.stringify({
    listen: host.listen,
    scanEverySeconds: host.scanEverySeconds,
    peers: fleet.hosts
      .filter((p) => p !== host)
      .map((p) => ({ name: p.hostname, ...host.addresses[p.name], ...p.listen })),
  });
}

/** Closes the relays, deletes the namespaces (their veths, addresses and TC filters go too). */
async function teardown(fleet) {
  for (const s of fleet.sockets) s.destroy();
  await Promise.all(fleet.relays.map((r) => new Promise((resolve) => r.close(() => resolve()))));
  fleet.relays = [];
  teardownSync(fleet.pid);
}

/** The synchronous part, also for process exit: every namespace of this demo, and its uplinks. */
function teardownSync(pid = process.pid) {
  for (const n of demoNamespaces(pid)) ip(['netns', 'del', n], { allowFailure: true });
  for (let i = 0; i < HOSTS.length; i++) {
    if (fs.existsSync(`/sys/class/net/twd${pid}u${i}`)) {
      ip(['link', 'del', `twd${pid}u${i}`], { allowFailure: true });
    }
  }
}

module.exports = { create, teardown, teardownSync, wrap, agentConfig, trafficPlan, TRAFFIC };
