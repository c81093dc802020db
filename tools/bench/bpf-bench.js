#!/usr/bin/env node
// npm run bench:bpf — the cost of Tidewatch's kernel programs against tcpdump,
// measured side by side in one run on the same traffic:
//   iperf3 TCP between the root namespace and a test namespace over a veth,
//   (1) nothing attached, (2) Tidewatch's TC programs attached, (3) tcpdump -w /dev/null;
//   then small UDP packets at the highest rate iperf3 reaches, (2) and (3) again.
// Reports ns per packet of the TC programs (kernel.bpf_stats_enabled), throughput
// ratios, CPU seconds of tcpdump vs kernel time of the programs, and packets
// tcpdump dropped vs packets Tidewatch counted. Needs root. Not a test.
'use strict';

const { execFileSync, spawn } = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');

const SECONDS = Number(process.env.BENCH_SECONDS || 10);
const REPEAT = Number(process.env.BENCH_REPEAT || 3);
// BENCH_OFFLOADS=off turns TSO/GSO/GRO off on the veth pair (default: on).
const OFFLOADS = process.env.BENCH_OFFLOADS === 'off' ? 'off' : 'on';
const suffix = Math.random().toString(36).slice(2, 7);
const NS = `twbench-${suffix}`;
const HOST_IF = `twb${suffix}`;
const PEER_IF = `twp${suffix}`;
const HOST_IP = '198.18.200.1';
const PEER_IP = '198.18.200.2';
const CLK_TCK = 100;

function sh(cmd, args, opts = {}) {
  return execFileSync(cmd, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], ...opts });
}

function tryRun(cmd, args) {
  try {
    sh(cmd, args);
  } catch {
    /* teardown is best effort: the object may already be gone */
  }
}

function setUp() {
  sh('ip', ['netns', 'add', NS]);
  sh('ip', ['link', 'add', HOST_IF, 'type', 'veth', 'peer', 'name', PEER_IF]);
  sh('ip', ['link', 'set', PEER_IF, 'netns', NS]);
  sh('ip', ['addr', 'add', `${HOST_IP}/30`, 'dev', HOST_IF]);
  sh('ip', ['-n', NS, 'addr', 'add', `${PEER_IP}/30`, 'dev', PEER_IF]);
  sh('ip', ['link', 'set', HOST_IF, 'up']);
  sh('ip', ['-n', NS, 'link', 'set', PEER_IF, 'up']);
  sh('ip', ['-n', NS, 'link', 'set', 'lo', 'up']);
  if (OFFLOADS === 'off') {
    // Every wire packet becomes one skb: the per-packet cost at its worst.
    const off = ['tso', 'off', 'gso', 'off', 'gro', 'off'];
    sh('ethtool', ['-K', HOST_IF, ...off]);
    sh('ip', ['netns', 'exec', NS, 'ethtool', '-K', PEER_IF, ...off]);
  }
}

function tearDown() {
  tryRun('ip', ['link', 'del', HOST_IF]);
  tryRun('ip', ['netns', 'del', NS]);
}

function ifaceCounters(name) {
  const dir = `/sys/class/net/${name}/statistics`;
  const read = (f) => Number(fs.readFileSync(path.join(dir, f), 'utf8'));
  return {
    txPackets: read('tx_packets'),
    txBytes: read('tx_bytes'),
    rxPackets: read('rx_packets'),
    rxBytes: read('rx_bytes'),
  };
}

function cpuSeconds(pid) {
  // /proc/PID/stat fields 14 and 15: utime and stime in clock ticks.
  const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / CLK_TCK;
}

function peakRssMb(pid) {
  const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
  const m = /VmHWM:\s+(\d+) kB/.exec(status);
  return m ? Number(m[1]) / 1024 : 0;
}

function iperf(kind) {
  const args = ['-c', PEER_IP, '-t', String(SECONDS), '-J'];
  if (kind === 'udp') args.push('-u', '-b', '0', '-l', '18');
  const out = JSON.parse(sh('iperf3', args, { timeout: (SECONDS + 30) * 1000 }));
  const end = out.end;
  if (kind === 'tcp') {
    return { bitsPerSecond: end.sum_received.bits_per_second, packets: null };
  }
  return { bitsPerSecond: end.sum.bits_per_second, packets: end.sum.packets };
}

async function withTcpdump(fn) {
  const proc = spawn('tcpdump', ['-i', HOST_IF, '-n', '-w', '/dev/null'], {
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  proc.stderr.on('data', (d) => (stderr += d));
  // tcpdump says "listening on ..." once the capture is open.
  await new Promise((resolve, reject) => {
    const t = setTimeout(() => reject(new Error(`tcpdump did not start: ${stderr}`)), 10_000);
    proc.stderr.on('data', () => {
      if (stderr.includes('listening on')) {
        clearTimeout(t);
        resolve();
      }
    });
  });
  const result = await fn();
  const cpu = cpuSeconds(proc.pid);
  const rss = peakRssMb(proc.pid);
  const exited = new Promise((resolve) => proc.on('exit', resolve));
  proc.kill('SIGINT');
  await exited;
  const num = (re) => Number((re.exec(stderr) || [])[1] || 0);
  return {
    ...result,
    tcpdump: {
      cpuSeconds: cpu,
      peakRssMb: rss,
      captured: num(/(\d+) packets? captured/),
      receivedByFilter: num(/(\d+) packets? received by filter/),
      droppedByKernel: num(/(\d+) packets? dropped by kernel/),
    },
  };
}

async function withTidewatch(bpf, fn) {
  const collector = await bpf.Collector.open({ flowTableSize: 65536 });
  try {
    await collector.attachInterface(HOST_IF);
    const before = await collector.programStats();
    const countsBefore = await collector.readTraffic();
    const result = await fn();
    const after = await collector.programStats();
    const countsAfter = await collector.readTraffic();
    const runTimeNs = sumStats(after, 'runTimeNs') - sumStats(before, 'runTimeNs');
    const runCount = sumStats(after, 'runCount') - sumStats(before, 'runCount');
    const counted = (rows, dir) =>
      rows
        .filter((r) => r.iface === HOST_IF && r.direction === dir)
        .reduce((s, r) => s + Number(r.packets), 0);
    return {
      ...result,
      tidewatch: {
        kernelSeconds: runTimeNs / 1e9,
        runCount,
        nsPerPacket: runCount ? runTimeNs / runCount : 0,
        egressPackets: counted(countsAfter, 'egress') - counted(countsBefore, 'egress'),
        ingressPackets: counted(countsAfter, 'ingress') - counted(countsBefore, 'ingress'),
      },
    };
  } finally {
    await collector.close();
  }
}

function sumStats(stats, key) {
  return stats
    .filter((s) => s.name === 'tw_tc_ingress' || s.name === 'tw_tc_egress')
    .reduce((sum, s) => sum + Number(s[key]), 0);
}

// Busy CPU seconds of the whole machine (all cores, user + system + softirq):
// catches the cost a capture tool puts in the kernel, outside its own process.
function hostBusySeconds() {
  const cpu = fs.readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/).slice(1);
  const [user, nice, system, , , irq, softirq, steal] = cpu.map(Number);
  return (user + nice + system + irq + softirq + steal) / CLK_TCK;
}

async function measured(fn) {
  const before = ifaceCounters(HOST_IF);
  const busyBefore = hostBusySeconds();
  const result = await fn();
  const busy = hostBusySeconds() - busyBefore;
  const after = ifaceCounters(HOST_IF);
  return {
    ...result,
    hostBusySeconds: busy,
    interface: {
      txPackets: after.txPackets - before.txPackets,
      rxPackets: after.rxPackets - before.rxPackets,
    },
  };
}

function fmt(n, digits = 2) {
  return Number.isFinite(n) ? n.toFixed(digits) : '-';
}

async function main() {
  if (process.getuid && process.getuid() !== 0) {
    console.error('bench:bpf needs root (network namespaces, TC, bpf_stats).');
    process.exit(2);
  }
  const bpf = require('@tidewatch/bpf');
  const statsWas = sh('sysctl', ['-n', 'kernel.bpf_stats_enabled']).trim();
  sh('sysctl', ['-qw', 'kernel.bpf_stats_enabled=1']);
  const onSignal = () => {
    tearDown();
    process.exit(130);
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  setUp();
  const server = spawn('ip', ['netns', 'exec', NS, 'iperf3', '-s', '-B', PEER_IP], {
    stdio: 'ignore',
  });
  await new Promise((r) => setTimeout(r, 500));
  try {
    const run = (kind) => () => measured(async () => iperf(kind));
    // Modes interleaved, REPEAT rounds; each mode reports its median-throughput
    // round, so a burst of noise on the machine hits all three alike.
    const rounds = { tcp: { baseline: [], tidewatch: [], tcpdump: [] } };
    rounds.udp = { baseline: [], tidewatch: [], tcpdump: [] };
    for (let i = 0; i < REPEAT; i++) {
      for (const kind of ['tcp', 'udp']) {
        rounds[kind].baseline.push(await run(kind)());
        rounds[kind].tidewatch.push(await withTidewatch(bpf, run(kind)));
        rounds[kind].tcpdump.push(await withTcpdump(run(kind)));
      }
    }
    const pick = (runs) =>
      [...runs].sort((x, y) => x.bitsPerSecond - y.bitsPerSecond)[Math.floor(runs.length / 2)];
    const median = (byMode) => ({
      baseline: pick(byMode.baseline),
      tidewatch: pick(byMode.tidewatch),
      tcpdump: pick(byMode.tcpdump),
    });
    report({ tcp: median(rounds.tcp), udp: median(rounds.udp) }, rounds);
  } finally {
    server.kill('SIGTERM');
    tearDown();
    sh('sysctl', ['-qw', `kernel.bpf_stats_enabled=${statsWas}`]);
  }
}

function pct(x) {
  return Number.isFinite(x) ? `${(x * 100).toFixed(2)} %` : '-';
}

function perPacketUs(run) {
  return (run.hostBusySeconds / run.interface.txPackets) * 1e6;
}

function report(results, rounds) {
  const { tcp, udp } = results;
  const gbps = (r) => r.bitsPerSecond / 1e9;
  const rows = [
    [
      'TCP throughput, Gbit/s',
      fmt(gbps(tcp.baseline)),
      fmt(gbps(tcp.tidewatch)),
      fmt(gbps(tcp.tcpdump)),
    ],
    [
      'TCP throughput vs baseline',
      '1.00',
      fmt(tcp.tidewatch.bitsPerSecond / tcp.baseline.bitsPerSecond),
      fmt(tcp.tcpdump.bitsPerSecond / tcp.baseline.bitsPerSecond),
    ],
    [
      'TCP: CPU s (programs / tcpdump)',
      '-',
      fmt(tcp.tidewatch.tidewatch.kernelSeconds, 3),
      fmt(tcp.tcpdump.tcpdump.cpuSeconds, 3),
    ],
    ['TCP: ns per packet (TC program)', '-', fmt(tcp.tidewatch.tidewatch.nsPerPacket, 1), '-'],
    [
      'TCP: packets dropped by the tool',
      '-',
      '0',
      `${tcp.tcpdump.tcpdump.droppedByKernel} of ${tcp.tcpdump.tcpdump.receivedByFilter}`,
    ],
    [
      'UDP 64 B: packets sent (iperf3)',
      String(udp.baseline.packets),
      String(udp.tidewatch.packets),
      String(udp.tcpdump.packets),
    ],
    [
      'UDP: interface tx packets',
      String(udp.baseline.interface.txPackets),
      String(udp.tidewatch.interface.txPackets),
      String(udp.tcpdump.interface.txPackets),
    ],
    [
      'UDP: packets seen (counted / captured)',
      '-',
      String(udp.tidewatch.tidewatch.egressPackets),
      String(udp.tcpdump.tcpdump.captured),
    ],
    ['UDP: packets dropped by the tool', '-', '0', String(udp.tcpdump.tcpdump.droppedByKernel)],
    [
      'UDP: completeness (seen / interface)',
      '-',
      pct(udp.tidewatch.tidewatch.egressPackets / udp.tidewatch.interface.txPackets),
      pct(udp.tcpdump.tcpdump.captured / udp.tcpdump.interface.txPackets),
    ],
    [
      'UDP: CPU s (programs / tcpdump)',
      '-',
      fmt(udp.tidewatch.tidewatch.kernelSeconds, 3),
      fmt(udp.tcpdump.tcpdump.cpuSeconds, 3),
    ],
    ['UDP: ns per packet (TC program)', '-', fmt(udp.tidewatch.tidewatch.nsPerPacket, 1), '-'],
    [
      'UDP: host CPU µs per packet sent',
      fmt(perPacketUs(udp.baseline)),
      fmt(perPacketUs(udp.tidewatch)),
      fmt(perPacketUs(udp.tcpdump)),
    ],
    [
      'UDP rate, packets/s',
      fmt(udp.baseline.packets / SECONDS, 0),
      fmt(udp.tidewatch.packets / SECONDS, 0),
      fmt(udp.tcpdump.packets / SECONDS, 0),
    ],
  ];
  const header = ['', 'nothing attached', 'Tidewatch', 'tcpdump -w /dev/null'];
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (cells) => '| ' + cells.map((c, i) => c.padEnd(widths[i])).join(' | ') + ' |';
  console.log(
    `\nbench:bpf — ${SECONDS} s per run, median of ${REPEAT}, offloads ${OFFLOADS}, kernel ${os.release()}, ${os.cpus().length} CPUs\n`,
  );
  console.log(line(header));
  console.log('| ' + widths.map((w) => '-'.repeat(w)).join(' | ') + ' |');
  for (const r of rows) console.log(line(r));

  const dir = path.resolve(__dirname, '..', '..', 'bench', 'results');
  fs.mkdirSync(dir, { recursive: true });
  const file = path.join(dir, `bpf-${new Date().toISOString().replace(/[:.]/g, '-')}.json`);
  fs.writeFileSync(
    file,
    JSON.stringify(
      {
        kernel: os.release(),
        cpus: os.cpus().length,
        seconds: SECONDS,
        repeat: REPEAT,
        offloads: OFFLOADS,
        median: results,
        rounds,
      },
      null,
      2,
    ),
  );
  console.log(`\nwritten ${path.relative(process.cwd(), file)}`);
}

main().catch((err) => {
  console.error(err);
  tearDown();
  process.exit(1);
});
