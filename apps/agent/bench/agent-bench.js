#!/usr/bin/env node
// npm run bench:agent — the Tidewatch agent against `tcpdump -w /dev/null`, side
// by side in one run on the same traffic between the root namespace and a test
// namespace over a veth (offloads off, 198.18.201.0/30):
//   iperf3 TCP at line rate, then small UDP packets (64-byte payload) at the
//   highest rate iperf3 reaches; for each: nothing attached (baseline), the
//   agent (real collector, 1 s windows, streaming to a gRPC server in this
//   process), tcpdump.
// Reports CPU seconds (user+system of the process; plus the BPF programs'
// kernel time when kernel.bpf_stats_enabled=1), peak RSS, packets seen vs the
// interface's own counters, packets dropped, throughput vs baseline, and the
// agent's end-to-end latency from a packet to its window arriving at the server.
// Needs root and a built agent (npm run build -w @tidewatch/agent). Not a test.
'use strict';

const { execFileSync, spawn } = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const grpc = require('@grpc/grpc-js');
const { loadTidewatchV1 } = require('@tidewatch/proto');

const SECONDS = Number(process.env.BENCH_SECONDS || 10);
const suffix = Math.random().toString(36).slice(2, 7);
const NS = `twabench-${suffix}`;
const HOST_IF = `twab${suffix}`;
const PEER_IF = `twap${suffix}`;
const HOST_IP = '198.18.201.1';
const PEER_IP = '198.18.201.2';
const CLK_TCK = 100;
const BIN = path.join(__dirname, '..', 'bin', 'tidewatch-agent.js');

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

function sh(cmd, args) {
  return execFileSync(cmd, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
}

function quiet(cmd, args) {
  try {
    sh(cmd, args);
  } catch {
    /* teardown is best effort */
  }
}

function setUp() {
  sh('ip', ['netns', 'add', NS]);
  sh('ip', ['link', 'add', HOST_IF, 'type', 'veth', 'peer', 'name', PEER_IF]);
  sh('ip', ['link', 'set', PEER_IF, 'netns', NS]);
  sh('ip', ['addr', 'add', `${HOST_IP}/30`, 'dev', HOST_IF]);
  sh('ip', ['-n', NS, 'addr', 'add', `${PEER_IP}/30`, 'dev', PEER_IF]);
  for (const [ns, dev] of [
    [null, HOST_IF],
    [NS, PEER_IF],
  ]) {
    const pre = ns ? ['ip', 'netns', 'exec', ns] : [];
    quiet(pre[0] || 'ethtool', [
      ...pre.slice(1),
      ...(ns ? ['ethtool'] : []),
      '-K',
      dev,
      'tso',
      'off',
      'gso',
      'off',
      'gro',
      'off',
    ]);
  }
  sh('ip', ['link', 'set', HOST_IF, 'up']);
  sh('ip', ['-n', NS, 'link', 'set', PEER_IF, 'up']);
  sh('ip', ['-n', NS, 'link', 'set', 'lo', 'up']);
}

function tearDown() {
  quiet('ip', ['link', 'del', HOST_IF]);
  quiet('ip', ['netns', 'del', NS]);
}

function counters() {
  const read = (f) => Number(fs.readFileSync(`/sys/class/net/${HOST_IF}/statistics/${f}`, 'utf8'));
  return { packets: read('rx_packets') + read('tx_packets') };
}

function cpuSeconds(pid) {
  const f = fs.readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
  return (Number(f[11]) + Number(f[12])) / CLK_TCK; // utime + stime
}

function peakRssMb(pid) {
  const m = /VmHWM:\s+(\d+) kB/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) / 1024 : 0;
}

async function iperf(kind) {
  const server = spawn('iperf3', ['-s', '-1', '-B', HOST_IP], { stdio: 'ignore' });
  await sleep(400);
  const args = ['netns', 'exec', NS, 'iperf3', '-c', HOST_IP, '-t', String(SECONDS), '-J'];
  if (kind === 'udp') args.push('-u', '-b', '0', '-l', '64');
  const out = JSON.parse(sh('ip', args));
  server.kill();
  const end = out.end;
  const bps = kind === 'udp' ? end.sum.bits_per_second : end.sum_received.bits_per_second;
  return { bps, sentPackets: kind === 'udp' ? end.sum.packets : undefined };
}

function ingestServer() {
  const v1 = loadTidewatchV1();
  const server = new grpc.Server();
  const arrivals = [];
  server.addService(v1.Ingest.service, {
    Stream: (call) => {
      call.on('data', (msg) => {
        if (msg.hello) call.write({ welcome: { agentId: msg.hello.agentId, highestSequence: 0 } });
        if (msg.batch) {
          arrivals.push({ at: Date.now(), batch: msg.batch });
          call.write({ ack: { sequence: msg.batch.sequence } });
        }
      });
      call.on('error', () => {});
      call.on('end', () => call.end());
    },
  });
  return new Promise((resolve, reject) =>
    server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (err, port) =>
      err ? reject(err) : resolve({ server, port, arrivals }),
    ),
  );
}

async function startAgent(port, stateDir) {
  const child = spawn(
    process.execPath,
    [
      BIN,
      'run',
      '--interfaces',
      HOST_IF,
      '--server',
      `127.0.0.1:${port}`,
      '--window',
      '1',
      '--state-dir',
      stateDir,
      '--log-level',
      'warn',
    ],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  );
  let err = '';
  child.stderr.on('data', (d) => (err += d));
  await sleep(2500);
  if (child.exitCode !== null) throw new Error(`agent exited: ${err}`);
  return child;
}

function seenByAgent(arrivals) {
  let packets = 0;
  let bpfNs = 0;
  for (const a of arrivals) {
    for (const t of a.batch.traffic) if (t.iface === HOST_IF) packets += Number(t.packets);
    bpfNs += Number(a.batch.health?.bpfRunTimeNs ?? 0);
  }
  return { packets, bpfSeconds: bpfNs / 1e9 };
}

async function latency(arrivals) {
  // A burst of pings, then the time until a window holding them reaches the server.
  const samples = [];
  for (let i = 0; i < 5; i++) {
    await sleep(1300 + Math.random() * 700);
    const from = arrivals.length;
    const t0 = Date.now();
    sh('ip', ['netns', 'exec', NS, 'ping', '-c', '1', '-W', '1', HOST_IP]);
    while (Date.now() - t0 < 10_000) {
      const hit = arrivals
        .slice(from)
        .find((a) =>
          a.batch.traffic.some((t) => t.iface === HOST_IF && t.protocol === 'PROTOCOL_ICMP'),
        );
      if (hit) {
        samples.push(hit.at - t0);
        break;
      }
      await sleep(5);
    }
  }
  samples.sort((a, b) => a - b);
  return { median: samples[Math.floor(samples.length / 2)], max: samples[samples.length - 1] };
}

async function run(kind, tool, base) {
  const before = counters();
  let pid;
  let child;
  let tcpdumpErr = '';
  let grpcServer;
  let cpu0 = 0;
  if (tool === 'agent') {
    grpcServer = await ingestServer();
    child = await startAgent(grpcServer.port, fs.mkdtempSync(path.join(os.tmpdir(), 'twab-')));
    pid = child.pid;
  } else if (tool === 'tcpdump') {
    child = spawn('tcpdump', ['-i', HOST_IF, '-w', '/dev/null', '-n'], {
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    child.stderr.on('data', (d) => (tcpdumpErr += d));
    pid = child.pid;
    await sleep(1500);
  }
  const countersStart = counters();
  if (pid) cpu0 = cpuSeconds(pid);
  const arrivalsStart = grpcServer ? grpcServer.arrivals.length : 0;
  const result = await iperf(kind);
  const row = { kind, tool, mbps: result.bps / 1e6, vsBaseline: base ? result.bps / base : 1 };
  if (pid) {
    row.cpuSeconds = cpuSeconds(pid) - cpu0;
    row.peakRssMb = peakRssMb(pid);
  }
  await sleep(2000);
  const truth = counters().packets - (tool === 'agent' ? before.packets : countersStart.packets);
  if (tool === 'agent') {
    row.latencyMs = await latency(grpcServer.arrivals);
    const exitWait = new Promise((r) => child.on('close', r));
    child.kill('SIGTERM');
    await exitWait;
    const all = seenByAgent(grpcServer.arrivals);
    const during = seenByAgent(grpcServer.arrivals.slice(arrivalsStart));
    row.bpfSeconds = during.bpfSeconds;
    row.seen = all.packets;
    row.truth = counters().packets - before.packets;
    row.dropped = 0;
    grpcServer.server.forceShutdown();
  } else if (tool === 'tcpdump') {
    const exitWait = new Promise((r) => child.on('close', r));
    child.kill('SIGINT');
    await exitWait;
    const captured = Number(/(\d+) packets captured/.exec(tcpdumpErr)?.[1] ?? 0);
    row.seen = captured;
    row.truth = truth;
    row.dropped = Number(/(\d+) packets dropped by kernel/.exec(tcpdumpErr)?.[1] ?? 0);
  }
  return row;
}

function table(rows) {
  const fmt = (v, d = 2) =>
    v === undefined ? '—' : typeof v === 'number' ? v.toFixed(d) : String(v);
  const lines = [
    '| traffic | tool | Mbit/s | vs baseline | CPU s (process) | BPF kernel s | peak RSS MB | packets seen / interface | dropped | window latency ms (median/max) |',
    '|---|---|---|---|---|---|---|---|---|---|',
  ];
  for (const r of rows) {
    lines.push(
      `| ${r.kind} | ${r.tool} | ${fmt(r.mbps, 0)} | ${fmt(r.vsBaseline, 3)} | ${fmt(r.cpuSeconds)} | ${fmt(r.bpfSeconds, 3)} | ${fmt(r.peakRssMb, 0)} | ${r.seen === undefined ? '—' : `${r.seen} / ${r.truth}`} | ${fmt(r.dropped, 0)} | ${r.latencyMs ? `${r.latencyMs.median}/${r.latencyMs.max}` : '—'} |`,
    );
  }
  return lines.join('\n');
}

async function main() {
  if (process.getuid() !== 0) throw new Error('bench:agent needs root');
  if (!fs.existsSync(path.join(__dirname, '..', 'dist', 'main.js')))
    throw new Error('build the agent first: npm run build -w @tidewatch/agent');
  const statsFile = '/proc/sys/kernel/bpf_stats_enabled';
  const statsBefore = fs.readFileSync(statsFile, 'utf8').trim();
  fs.writeFileSync(statsFile, '1');
  process.on('exit', () => {
    tearDown();
    try {
      fs.writeFileSync(statsFile, statsBefore);
    } catch {
      /* restored best effort */
    }
  });
  process.on('SIGINT', () => process.exit(130));
  setUp();
  const rows = [];
  for (const kind of ['tcp', 'udp']) {
    const base = await run(kind, 'none');
    rows.push(base);
    rows.push(await run(kind, 'agent', base.mbps * 1e6));
    rows.push(await run(kind, 'tcpdump', base.mbps * 1e6));
  }
  console.log(
    `\nTidewatch agent vs tcpdump -w /dev/null, ${SECONDS}s each, kernel ${os.release()}, ${os.cpus().length} CPUs\n`,
  );
  console.log(table(rows));
  const out = path.join(__dirname, 'results');
  fs.mkdirSync(out, { recursive: true });
  fs.writeFileSync(path.join(out, `agent-bench-${Date.now()}.json`), JSON.stringify(rows, null, 2));
}

main().catch((err) => {
  console.error(`bench:agent: ${err.message}`);
  process.exitCode = 1;
});
