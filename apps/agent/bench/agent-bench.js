#!/usr/bin/env node
// npm run bench:agent — the Tidewatch agent against `tcpdump -w /dev/null`, side
// by side on the same traffic between the root namespace and a test namespace
// over a veth (offloads off, 198.18.201.0/30):
//   iperf3 TCP at line rate, then small UDP packets (64-byte payload) at the
//   highest rate iperf3 reaches; for each: nothing attached (baseline), the
//   agent (real collector, 1 s windows, streaming to a gRPC server in this
//   process), tcpdump. The three modes are interleaved over BENCH_ROUNDS rounds
//   (default 3, the order rotated each round) and medians are reported, each
//   round's ratio against that round's own baseline.
// Then memory: the agent with its default 10 s windows while 10,000 distinct
// UDP flows arrive per window (BENCH_FLOWS), its memory sampled each second
// after the first windows (RSS split into anonymous and file-backed, private
// and shared from /proc/PID/smaps_rollup; its V8 heap through bench/heap-probe.js,
// and the live heap after a full collection at the end), and the windows checked
// for exactness (every packet the interface counted is in them, no flow record
// left out, no window sampled). BENCH_ONLY=memory runs the memory part alone;
// BENCH_NODE_FLAGS replaces the node flags the agent runs with (to compare).
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
const ROUNDS = Number(process.env.BENCH_ROUNDS || 3);
const FLOWS = Number(process.env.BENCH_FLOWS || 10000);
const MEMORY_SECONDS = Number(process.env.BENCH_MEMORY_SECONDS || 60);
// BENCH_ONLY=memory: the memory run alone (no throughput rounds).
const ONLY = process.env.BENCH_ONLY || '';
// Node flags and environment the agent runs with: its launchers' (src/health/launch-flags.ts, as
// the systemd unit gives them). BENCH_NODE_FLAGS replaces both, to compare: those node flags ('' for
// none) and only the bench's own environment (e.g. BENCH_NODE_FLAGS=--jitless MALLOC_ARENA_MAX=1).
const LAUNCH = require('../dist/health/launch-flags.js');
const NODE_FLAGS = (process.env.BENCH_NODE_FLAGS ?? LAUNCH.LAUNCH_NODE_FLAGS.join(' '))
  .split(' ')
  .filter(Boolean);
const AGENT_ENV =
  process.env.BENCH_NODE_FLAGS === undefined
    ? { ...process.env, ...LAUNCH.LAUNCH_ENV }
    : { ...process.env };
// BENCH_CPU_BUDGET: the memory run's --cpu-budget (percent of a core; default the agent's 5).
const CPU_BUDGET = process.env.BENCH_CPU_BUDGET;
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
  // No IPv6 on the test link: no neighbour discovery packets before the agent attaches,
  // so the interface's counters from before the agent starts are the ground truth.
  quiet('sysctl', ['-qw', `net.ipv6.conf.${HOST_IF}.disable_ipv6=1`]);
  quiet('ip', ['netns', 'exec', NS, 'sysctl', '-qw', `net.ipv6.conf.${PEER_IF}.disable_ipv6=1`]);
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

async function iperfOnce(kind) {
  // A port of its own: other benchmarks on this machine may hold iperf3's default 5201.
  const port = String(20000 + Math.floor(Math.random() * 20000));
  const server = spawn('iperf3', ['-s', '-1', '-B', HOST_IP, '-p', port], { stdio: 'ignore' });
  await sleep(400);
  const args = [
    'netns',
    'exec',
    NS,
    'iperf3',
    '-c',
    HOST_IP,
    '-p',
    port,
    '-t',
    String(SECONDS),
    '-J',
  ];
  if (kind === 'udp') args.push('-u', '-b', '0', '-l', '64');
  let out;
  try {
    out = JSON.parse(
      execFileSync('ip', args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }),
    );
  } catch (err) {
    out = err.stdout ? JSON.parse(err.stdout) : { error: err.message };
  } finally {
    server.kill();
  }
  const end = out.end;
  const sum = kind === 'udp' ? end?.sum : end?.sum_received;
  if (out.error || !sum) throw new Error(`iperf3 ${kind}: ${out.error ?? 'no result'}`);
  return { bps: sum.bits_per_second, sentPackets: kind === 'udp' ? sum.packets : undefined };
}

/** iperf3 on a loaded shared machine sometimes fails to connect: up to three tries. */
async function iperf(kind) {
  for (let attempt = 1; ; attempt++) {
    try {
      return await iperfOnce(kind);
    } catch (err) {
      if (attempt === 3) throw err;
      process.stderr.write(`${err.message}; retrying\n`);
      await sleep(1000);
    }
  }
}

function ingestServer() {
  const v1 = loadTidewatchV1();
  const server = new grpc.Server();
  const arrivals = [];
  const hellos = [];
  server.addService(v1.Ingest.service, {
    Stream: (call) => {
      call.on('data', (msg) => {
        if (msg.hello) hellos.push(Date.now());
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
      err ? reject(err) : resolve({ server, port, arrivals, hellos }),
    ),
  );
}

/**
 * The agent, started and attached: its Hello reaches the server only after it
 * has attached to the interface (Agent.start), so traffic sent from then on
 * is all counted. (A fixed wait was too short on a loaded machine: the
 * packets sent before the attach were missing from the windows.)
 */
async function startAgent(
  ingest,
  stateDir,
  window = '1',
  nodeArgs = [],
  env = AGENT_ENV,
  extraArgs = [],
) {
  const { port, hellos } = ingest;
  const hellosBefore = hellos.length;
  const child = spawn(
    process.execPath,
    [
      ...NODE_FLAGS,
      ...nodeArgs,
      BIN,
      'run',
      '--interfaces',
      HOST_IF,
      '--server',
      `127.0.0.1:${port}`,
      '--window',
      window,
      '--state-dir',
      stateDir,
      '--log-level',
      'warn',
      ...extraArgs,
    ],
    { stdio: ['ignore', 'ignore', 'pipe'], env },
  );
  let err = '';
  child.stderr.on('data', (d) => (err += d));
  child.stderrText = () => err;
  const t0 = Date.now();
  while (hellos.length === hellosBefore) {
    if (child.exitCode !== null) throw new Error(`agent exited: ${err}`);
    if (Date.now() - t0 > 120_000) throw new Error(`agent did not reach the server: ${err}`);
    await sleep(50);
  }
  child.startSeconds = (Date.now() - t0) / 1000;
  return child;
}

/**
 * Every window the agent closed: those the server received, plus those still
 * in its spool when it stopped (counted, not yet acknowledged: on a loaded
 * machine the last ones can miss the agent's 5 s drain at shutdown).
 */
function windowsOf(arrivals, stateDir) {
  const seen = new Set(arrivals.map((a) => Number(a.batch.sequence)));
  const out = [...arrivals];
  const dir = path.join(stateDir, 'spool');
  for (const f of fs.existsSync(dir) ? fs.readdirSync(dir) : []) {
    if (!/^\d+\.json$/.test(f)) continue;
    const batch = JSON.parse(fs.readFileSync(path.join(dir, f), 'utf8'));
    if (!seen.has(Number(batch.sequence))) out.push({ at: Infinity, batch, spooled: true });
  }
  return out;
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

async function run(kind, tool) {
  const before = counters();
  let pid;
  let child;
  let tcpdumpErr = '';
  let grpcServer;
  let stateDir;
  let cpu0 = 0;
  if (tool === 'agent') {
    grpcServer = await ingestServer();
    stateDir = fs.mkdtempSync(path.join(os.tmpdir(), 'twab-'));
    child = await startAgent(grpcServer, stateDir);
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
  const row = { kind, tool, mbps: result.bps / 1e6 };
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
    const windows = windowsOf(grpcServer.arrivals, stateDir);
    row.spooledAtStop = windows.filter((w) => w.spooled).length;
    const all = seenByAgent(windows);
    const during = seenByAgent(grpcServer.arrivals.slice(arrivalsStart));
    row.bpfSeconds = during.bpfSeconds;
    row.seen = all.packets;
    row.truth = counters().packets - before.packets;
    row.dropped = 0;
    grpcServer.server.forceShutdown();
    fs.rmSync(stateDir, { recursive: true, force: true });
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

const median = (xs) => {
  const v = xs.filter((x) => x !== undefined).sort((p, q) => p - q);
  if (v.length === 0) return undefined;
  const m = Math.floor(v.length / 2);
  return v.length % 2 ? v[m] : (v[m - 1] + v[m]) / 2;
};

/** One row per traffic × tool: medians over the rounds (ratios per round first). */
function summarize(rounds) {
  const out = [];
  for (const kind of ['tcp', 'udp']) {
    for (const tool of ['none', 'agent', 'tcpdump']) {
      const rs = rounds.filter((r) => r.kind === kind && r.tool === tool);
      const pick = (f) => median(rs.map(f));
      out.push({
        kind,
        tool,
        rounds: rs.length,
        mbps: pick((r) => r.mbps),
        vsBaseline: pick((r) => r.vsBaseline),
        cpuSeconds: pick((r) => r.cpuSeconds),
        bpfSeconds: pick((r) => r.bpfSeconds),
        peakRssMb: pick((r) => r.peakRssMb),
        seenShare: pick((r) => (r.seen === undefined ? undefined : r.seen / r.truth)),
        dropped: pick((r) => r.dropped),
        latencyMs: pick((r) => r.latencyMs?.median),
        latencyMaxMs: rs.length ? Math.max(...rs.map((r) => r.latencyMs?.max ?? 0)) : undefined,
      });
    }
  }
  return out;
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
      `| ${r.kind} | ${r.tool} | ${fmt(r.mbps, 0)} | ${fmt(r.vsBaseline, 3)} | ${fmt(r.cpuSeconds)} | ${fmt(r.bpfSeconds, 3)} | ${fmt(r.peakRssMb, 0)} | ${r.seenShare === undefined ? '—' : `${(100 * r.seenShare).toFixed(2)} %`} | ${fmt(r.dropped, 0)} | ${r.latencyMs === undefined ? '—' : `${r.latencyMs}/${r.latencyMaxMs}`} |`,
    );
  }
  return lines.join('\n');
}

/**
 * The process's resident memory by kind: anonymous (heap, stacks, malloc — the
 * agent's own), file-backed (the node binary and shared libraries, shared with
 * other processes mapping the same files), and private vs shared pages
 * (/proc/PID/smaps_rollup).
 */
function memoryOf(pid) {
  const st = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (text, k) => Number(new RegExp(`^${k}:\\s+(\\d+) kB`, 'm').exec(text)?.[1] ?? 0);
  const roll = fs.readFileSync(`/proc/${pid}/smaps_rollup`, 'utf8');
  const mb = (text, k) => kb(text, k) / 1024;
  return {
    rss: mb(st, 'VmRSS'),
    anon: mb(st, 'RssAnon'),
    file: mb(st, 'RssFile'),
    shmem: mb(st, 'RssShmem'),
    private: mb(roll, 'Private_Clean') + mb(roll, 'Private_Dirty'),
    shared: mb(roll, 'Shared_Clean') + mb(roll, 'Shared_Dirty'),
    pss: mb(roll, 'Pss'),
  };
}

/** The agent's V8 heap each second, and its live heap after the forced collection. */
function heapOf(file) {
  const lines = fs.existsSync(file)
    ? fs
        .readFileSync(file, 'utf8')
        .split('\n')
        .filter(Boolean)
        .map((l) => JSON.parse(l))
    : [];
  return {
    ticks: lines.filter((l) => l.kind === 'tick'),
    live: lines.filter((l) => l.kind === 'live').pop(),
  };
}

const MB = 1024 * 1024;

/**
 * FLOWS distinct UDP flows per 10 s window (one packet each to ports
 * 20000.., from the namespace), for MEMORY_SECONDS: the agent's memory each
 * second once the first two windows are behind it, its V8 heap (bench/heap-probe.js
 * preloaded), and its windows' totals. Exactness: every UDP packet sent is counted
 * in the windows, no flow record is left out and no window is sampled.
 */
async function memory() {
  const before = counters();
  const grpcServer = await ingestServer();
  const stateDir = fs.mkdtempSync(path.join(os.tmpdir(), 'twab-'));
  const heapFile = path.join(stateDir, 'heap.jsonl');
  const snapshot = Boolean(process.env.BENCH_HEAP_SNAPSHOT);
  const child = await startAgent(
    grpcServer,
    stateDir,
    '10',
    snapshot
      ? ['--heapsnapshot-signal=SIGUSR2']
      : ['--expose-gc', '-r', path.join(__dirname, 'heap-probe.js')],
    { ...AGENT_ENV, BENCH_HEAP_FILE: heapFile },
    CPU_BUDGET ? ['--cpu-budget', CPU_BUDGET] : [],
  );
  const idle = memoryOf(child.pid);
  const gen = `
const s = require('dgram').createSocket('udp4');
const t0 = Date.now(); let i = 0, sent = 0;
// Paced by the clock, not by timer ticks (late on a loaded machine): FLOWS packets per 10 s.
const t = setInterval(() => {
  const due = Math.floor(((Date.now() - t0) * ${FLOWS}) / 10000);
  for (; sent < due; sent++) s.send(Buffer.alloc(16), 20000 + (i++ % ${FLOWS}), '${HOST_IP}');
}, 10);
setTimeout(() => { clearInterval(t); setTimeout(() => { console.log(sent); s.close(); }, 200); }, ${MEMORY_SECONDS * 1000});`;
  const sender = spawn('ip', ['netns', 'exec', NS, process.execPath, '-e', gen], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let out = '';
  sender.stdout.on('data', (d) => (out += d));
  const samples = [];
  const started = Date.now();
  while (sender.exitCode === null) {
    await sleep(1000);
    if (Date.now() - started > 25_000 && sender.exitCode === null)
      samples.push({ at: Date.now(), ...memoryOf(child.pid) });
    // BENCH_HEAP_SNAPSHOT=1: one heap snapshot mid-run, written to the agent's working directory.
    if (snapshot && samples.length === 5) child.kill('SIGUSR2');
  }
  const sent = Number(out.trim());
  await sleep(11_000); // the window holding the last packets closes
  const peak = peakRssMb(child.pid);
  // The live heap: a full collection in the agent, after the last window is measured.
  if (!snapshot) {
    child.kill('SIGUSR2');
    await sleep(1000);
  }
  const exitWait = new Promise((r) => child.on('close', r));
  child.kill('SIGTERM');
  await exitWait;
  grpcServer.server.forceShutdown();
  const truth = counters().packets - before.packets;
  const heap = heapOf(heapFile);
  const from = samples[0]?.at ?? Infinity;
  const to = samples[samples.length - 1]?.at ?? -Infinity;
  const steadyHeap = heap.ticks.filter((t) => t.at >= from && t.at <= to);
  let udpIn = 0;
  const left = {};
  let sampled = false;
  const cpu = [];
  const windows = windowsOf(grpcServer.arrivals, stateDir);
  fs.rmSync(stateDir, { recursive: true, force: true }); // the spool and heap file are read
  const seen = seenByAgent(windows).packets;
  for (const { batch } of windows) {
    for (const t of batch.traffic) {
      if (
        t.iface === HOST_IF &&
        t.protocol === 'PROTOCOL_UDP' &&
        t.direction === 'DIRECTION_INGRESS'
      )
        udpIn += Number(t.packets);
    }
    for (const d of batch.health?.recordsDropped ?? [])
      left[d.reason] = (left[d.reason] ?? 0) + Number(d.count);
    sampled ||= batch.flowsSampled;
    if (batch.health) cpu.push(Number(batch.health.cpuPercent));
  }
  const steady = (k) => median(samples.map((m) => m[k]));
  return {
    flowsPerWindow: FLOWS,
    seconds: MEMORY_SECONDS,
    nodeFlags: NODE_FLAGS,
    mallocArenaMax: AGENT_ENV.MALLOC_ARENA_MAX,
    // The agent's own heap settings (health/heap-tuning.ts), unless TIDEWATCH_COMPACT_HEAP=0.
    compactHeap: process.env.TIDEWATCH_COMPACT_HEAP !== '0',
    cpuBudgetPercent: Number(CPU_BUDGET ?? 5),
    sent,
    udpIngressCounted: udpIn,
    interfacePackets: truth,
    agentPackets: seen,
    // Every packet the interface counted is in the windows, and every flow record is in them too.
    exact: seen === truth && Object.keys(left).length === 0 && !sampled,
    recordsLeftOut: left,
    flowsSampled: sampled,
    windowCpuPercent: { median: median(cpu), max: Math.max(...cpu) },
    spooledAtStop: windows.filter((w) => w.spooled).length,
    sequences: windows.map((w) => Number(w.batch.sequence)).sort((a, b) => a - b),
    agentWarnings: child.stderrText().split('\n').filter(Boolean).slice(-20),
    startSeconds: child.startSeconds,
    idleMb: idle,
    steadyRssMb: steady('rss'),
    steadyMaxRssMb: Math.max(...samples.map((m) => m.rss)),
    steadyAnonMb: steady('anon'),
    steadyFileMb: steady('file'),
    steadyShmemMb: steady('shmem'),
    steadyPrivateMb: steady('private'),
    steadySharedMb: steady('shared'),
    steadyPssMb: steady('pss'),
    peakRssMb: peak,
    steadyUsedHeapMb: median(steadyHeap.map((t) => t.usedHeap / MB)),
    steadyTotalHeapMb: median(steadyHeap.map((t) => t.totalHeap / MB)),
    steadyArrayBuffersMb: median(steadyHeap.map((t) => t.arrayBuffers / MB)),
    liveHeapMb: heap.live ? heap.live.usedHeap / MB : undefined,
  };
}

function memoryLine(mem) {
  const f = (v) => (v === undefined ? '—' : v.toFixed(1));
  return (
    `Memory, ${mem.flowsPerWindow} flows per 10 s window for ${mem.seconds}s (compact heap ${mem.compactHeap ? 'on' : 'off'}, CPU budget ${mem.cpuBudgetPercent} %, node ${mem.nodeFlags.join(' ') || 'no flags'}, MALLOC_ARENA_MAX ${mem.mallocArenaMax ?? 'unset'}): ` +
    `steady RSS ${f(mem.steadyRssMb)} MB (max ${f(mem.steadyMaxRssMb)}; anonymous ${f(mem.steadyAnonMb)}, file-backed ${f(mem.steadyFileMb)}, shmem ${f(mem.steadyShmemMb)}; ` +
    `private ${f(mem.steadyPrivateMb)}, shared ${f(mem.steadySharedMb)}, PSS ${f(mem.steadyPssMb)}), peak RSS ${f(mem.peakRssMb)} MB; ` +
    `started in ${f(mem.startSeconds)} s, idle before traffic RSS ${f(mem.idleMb.rss)} (anonymous ${f(mem.idleMb.anon)}, file-backed ${f(mem.idleMb.file)}); ` +
    `V8 heap in use ${f(mem.steadyUsedHeapMb)} of ${f(mem.steadyTotalHeapMb)} MB, array buffers ${f(mem.steadyArrayBuffersMb)} MB, live heap after a full GC ${f(mem.liveHeapMb)} MB; ` +
    `packets counted ${mem.agentPackets} of ${mem.interfacePackets} on the interface (UDP in ${mem.udpIngressCounted}, ${mem.sent} sent; ${mem.spooledAtStop} windows still spooled at stop); records left out ${JSON.stringify(mem.recordsLeftOut)}; sampled ${mem.flowsSampled}; ` +
    `window CPU % median ${f(mem.windowCpuPercent.median)}, max ${f(mem.windowCpuPercent.max)}; exact ${mem.exact}`
  );
}

function loadAverage() {
  return os
    .loadavg()
    .map((l) => l.toFixed(2))
    .join(' ');
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
  const loadBefore = loadAverage();
  const out = path.join(__dirname, 'results');
  fs.mkdirSync(out, { recursive: true });
  if (ONLY === 'memory') {
    const mem = await memory();
    console.log(
      `\nTidewatch agent memory, kernel ${os.release()}, ${os.cpus().length} CPUs, load average before/after ${loadBefore} / ${loadAverage()}\n`,
    );
    console.log(memoryLine(mem));
    fs.writeFileSync(
      path.join(out, `agent-bench-memory-${Date.now()}.json`),
      JSON.stringify({ load: { before: loadBefore, after: loadAverage() }, memory: mem }, null, 2),
    );
    return;
  }
  const rounds = [];
  const orders = [
    ['none', 'agent', 'tcpdump'],
    ['agent', 'tcpdump', 'none'],
    ['tcpdump', 'none', 'agent'],
  ];
  for (let round = 0; round < ROUNDS; round++) {
    for (const kind of ['tcp', 'udp']) {
      const rows = {};
      for (const tool of orders[round % orders.length]) rows[tool] = await run(kind, tool);
      for (const tool of ['none', 'agent', 'tcpdump']) {
        rows[tool].vsBaseline = rows[tool].mbps / rows.none.mbps;
        rows[tool].round = round + 1;
        rounds.push(rows[tool]);
      }
      process.stderr.write(
        `round ${round + 1}/${ROUNDS} ${kind}: ${['none', 'agent', 'tcpdump'].map((t) => `${t} ${rows[t].mbps.toFixed(0)}`).join(', ')} Mbit/s\n`,
      );
    }
  }
  const mem = await memory();
  const rows = summarize(rounds);
  console.log(
    `\nTidewatch agent vs tcpdump -w /dev/null, ${SECONDS}s runs, medians of ${ROUNDS} interleaved rounds, kernel ${os.release()}, ${os.cpus().length} CPUs, load average before/after ${loadBefore} / ${loadAverage()}\n`,
  );
  console.log(table(rows));
  console.log(`\n${memoryLine(mem)}`);
  fs.writeFileSync(
    path.join(out, `agent-bench-${Date.now()}.json`),
    JSON.stringify({ rounds, medians: rows, memory: mem }, null, 2),
  );
}

main().catch((err) => {
  console.error(`bench:agent: ${err.message}`);
  process.exitCode = 1;
});
