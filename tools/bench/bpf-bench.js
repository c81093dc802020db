#!/usr/bin/env node
// npm run bench:bpf — the cost of Tidewatch's kernel programs against a floor and
// tcpdump, measured side by side in one run on the same traffic:
//   iperf3 TCP between the root namespace and a test namespace over a veth, with
//   (1) nothing attached, (2) the floor: a minimal TC byte+packet counter
//   (floor.bpf.c) at ingress and egress, (3) Tidewatch's legacy object and
//   (4) its modern object, flow records on, (5) tcpdump -w /dev/null;
//   then small UDP packets at the highest rate iperf3 reaches, the same five.
// The modes are interleaved, BENCH_REPEAT rounds. Reports ns per packet of the TC
// programs (kernel.bpf_stats_enabled), throughput, CPU seconds of tcpdump vs kernel
// time of the programs, and packets tcpdump dropped vs packets Tidewatch counted.
// Tidewatch's cost as a multiple of the floor is measured on the same packets: in
// its mode, after a run with Tidewatch alone (throughput, counts, ns per packet),
// the floor is attached beside it on the same hooks (both return TC_ACT_UNSPEC, so
// both run on every packet) for two runs of half the seconds, once before
// Tidewatch's filter and once after it (the first program may pay the skb's cold
// lines); the ratio of each order, their geometric mean per round, the median over
// rounds. Needs root, clang, tc and bpftool. Not a test.
//   BENCH_MODES=floor,legacy  run only these modes (baseline,floor,legacy,modern,tcpdump)
//   BENCH_KINDS=udp           run only this traffic (tcp,udp)
'use strict';

const { execFileSync, spawn } = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');

const SECONDS = Number(process.env.BENCH_SECONDS || 10);
const REPEAT = Number(process.env.BENCH_REPEAT || 3);
// BENCH_OFFLOADS=off turns TSO/GSO/GRO off on the veth pair (default: on).
const OFFLOADS = process.env.BENCH_OFFLOADS === 'off' ? 'off' : 'on';
const ALL_MODES = ['baseline', 'floor', 'legacy', 'modern', 'tcpdump'];
const MODES = listEnv('BENCH_MODES', ALL_MODES);
const KINDS = listEnv('BENCH_KINDS', ['tcp', 'udp']);
const TIDEWATCH_MODES = ['legacy', 'modern'];
const suffix = Math.random().toString(36).slice(2, 7);
const NS = `twbench-${suffix}`;
const HOST_IF = `twb${suffix}`;
const PEER_IF = `twp${suffix}`;
const HOST_IP = '198.18.200.1';
const PEER_IP = '198.18.200.2';
const CLK_TCK = 100;
// iperf3 takes whole seconds: each order of a paired run gets half, at least one.
const HALF_SECONDS = Math.max(1, Math.round(SECONDS / 2));
// tc priorities of the floor beside Tidewatch (whose filters sit at 0x7477,
// libs/bpf/native/src/collector.h): lower runs first.
const TW_PRIORITY = 0x7477;
const ORDERS = { first: 1, after: 0xfff0 };
const FLOOR_ALONE_PRIORITY = 1;

function listEnv(name, all) {
  const raw = process.env[name];
  if (!raw) return all;
  const wanted = raw.split(',').map((m) => m.trim());
  const unknown = wanted.filter((m) => !all.includes(m));
  if (unknown.length) {
    console.error(`${name}: unknown ${unknown.join(', ')} (known: ${all.join(', ')})`);
    process.exit(2);
  }
  return all.filter((m) => wanted.includes(m));
}

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

function iperf(kind, seconds = SECONDS) {
  const args = ['-c', PEER_IP, '-t', String(seconds), '-J'];
  if (kind === 'udp') args.push('-u', '-b', '0', '-l', '18');
  const out = JSON.parse(sh('iperf3', args, { timeout: (seconds + 30) * 1000 }));
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

function tidewatchState(collector) {
  const stats = collector.programStats();
  const hooks = {};
  for (const hook of ['ingress', 'egress']) {
    const s = stats.find((x) => x.name === `tw_tc_${hook}`);
    hooks[hook] = { runTimeNs: Number(s.runTimeNs), runCount: Number(s.runCount) };
  }
  return { runTimeNs: sumStats(stats, 'runTimeNs'), runCount: sumStats(stats, 'runCount'), hooks };
}

function nsPer(runTimeNs, runCount) {
  return runCount ? runTimeNs / runCount : NaN;
}

// Both hooks together, and each (in the JSON: where the time goes).
function programDelta(before, after) {
  const runTimeNs = after.runTimeNs - before.runTimeNs;
  const runCount = after.runCount - before.runCount;
  const hooks = {};
  for (const hook of Object.keys(after.hooks)) {
    const t = after.hooks[hook].runTimeNs - before.hooks[hook].runTimeNs;
    const n = after.hooks[hook].runCount - before.hooks[hook].runCount;
    hooks[hook] = { runCount: n, nsPerPacket: nsPer(t, n) };
  }
  return { runTimeNs, runCount, nsPerPacket: nsPer(runTimeNs, runCount), hooks };
}

// Tidewatch alone for `alone` (throughput, counts, its ns per packet), then the
// floor beside it on the same hooks in both orders for `pairedRun` each (the
// order alternates by round so neither always goes first). The floor's filters
// go before the collector closes, so the collector removes the clsact it made.
async function withTidewatch(bpf, object, floor, round, alone, pairedRun) {
  const collector = await bpf.Collector.open({ object, flowTableSize: 65536, flows: true });
  if (collector.objectKind !== object)
    throw new Error(`asked for ${object}, got ${collector.objectKind}`);
  try {
    await collector.attachInterface(HOST_IF);
    const before = tidewatchState(collector);
    const countsBefore = await collector.readTraffic();
    const result = await alone();
    const after = tidewatchState(collector);
    const countsAfter = await collector.readTraffic();
    const counted = (rows, dir) =>
      rows
        .filter((r) => r.iface === HOST_IF && r.direction === dir)
        .reduce((s, r) => s + Number(r.packets), 0);
    const d = programDelta(before, after);
    const paired = {};
    const orders = Object.keys(ORDERS);
    if (round % 2) orders.reverse();
    for (const order of orders) {
      paired[order] = await besideTidewatch(collector, floor, ORDERS[order], pairedRun);
    }
    return {
      ...result,
      tidewatch: {
        object,
        kernelSeconds: d.runTimeNs / 1e9,
        runCount: d.runCount,
        nsPerPacket: d.nsPerPacket,
        hooks: d.hooks,
        egressPackets: counted(countsAfter, 'egress') - counted(countsBefore, 'egress'),
        ingressPackets: counted(countsAfter, 'ingress') - counted(countsBefore, 'ingress'),
      },
      paired: { ranFirst: orders[0], ...paired },
    };
  } finally {
    for (const prio of Object.values(ORDERS)) removeFloor(prio);
    await collector.close();
    assertHookGone();
  }
}

// One run with the floor at `prio` beside Tidewatch's filters: both programs'
// run_time_ns / run_cnt over exactly the same packets.
async function besideTidewatch(collector, floor, prio, fn) {
  const ids = addFloor(floor, prio);
  try {
    const order = hookOrder();
    for (const hook of ['ingress', 'egress']) {
      const tw = `tw_tc_${hook}@${TW_PRIORITY}`;
      const fl = `floor_count@${prio}`;
      const want = prio < TW_PRIORITY ? [fl, tw] : [tw, fl];
      if (order[hook].join() !== want.join()) {
        throw new Error(`${hook}: expected ${want.join(', ')}, found ${order[hook].join(', ')}`);
      }
    }
    const fBefore = floorState(ids);
    const tBefore = tidewatchState(collector);
    const result = await fn();
    const tAfter = tidewatchState(collector);
    const fAfter = floorState(ids);
    const tw = programDelta(tBefore, tAfter);
    const fl = programDelta(fBefore, fAfter);
    return {
      bitsPerSecond: result.bitsPerSecond,
      packets: result.packets,
      interfaceTxPackets: result.interface.txPackets,
      floorPriority: prio,
      hookOrder: order,
      tidewatch: tw,
      floor: { ...fl, egressPackets: fAfter.packets.egress - fBefore.packets.egress },
      ratio: tw.nsPerPacket / fl.nsPerPacket,
    };
  } finally {
    removeFloor(prio);
  }
}

// The floor: floor.bpf.c, built here with the legacy object's flags, attached by
// tc (iproute2 loads the object once per hook: a program and a map each).
function buildFloor() {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'twbench-floor-'));
  const obj = path.join(dir, 'floor.bpf.o');
  const multiarch = sh('clang', ['-print-multiarch']).trim() || 'x86_64-linux-gnu';
  sh('clang', [
    ...['-O2', '-g', '-target', 'bpf', '-mcpu=v2', '-Wall', '-Werror'],
    `-I/usr/include/${multiarch}`,
    ...['-c', path.join(__dirname, 'floor.bpf.c'), '-o', obj],
  ]);
  return { dir, obj };
}

function bpftoolJson(args) {
  return JSON.parse(sh('bpftool', ['-j', ...args]));
}

function hookFilters(hook) {
  return JSON.parse(sh('tc', ['-j', 'filter', 'show', 'dev', HOST_IF, hook]));
}

function floorProgram(hook, prio) {
  const id = hookFilters(hook)
    .filter((f) => f.pref === prio)
    .map((f) => f.options?.prog?.id)
    .find((x) => x !== undefined);
  if (id === undefined) throw new Error(`floor: no program at ${HOST_IF} ${hook} prio ${prio}`);
  return id;
}

// The programs on each hook in the order TC runs them (by priority): the proof
// that a paired run had the floor where it says.
function hookOrder() {
  const out = {};
  for (const hook of ['ingress', 'egress']) {
    out[hook] = hookFilters(hook)
      .filter((f) => f.options?.prog)
      .sort((a, b) => a.pref - b.pref)
      .map((f) => `${f.options.prog.name}@${f.pref}`);
  }
  return out;
}

function floorState(ids) {
  let runTimeNs = 0;
  let runCount = 0;
  const packets = {};
  const hooks = {};
  for (const [hook, id] of Object.entries(ids)) {
    const info = bpftoolJson(['prog', 'show', 'id', String(id)]);
    hooks[hook] = { runTimeNs: Number(info.run_time_ns || 0), runCount: Number(info.run_cnt || 0) };
    runTimeNs += hooks[hook].runTimeNs;
    runCount += hooks[hook].runCount;
    const rows = bpftoolJson(['map', 'dump', 'id', String(info.map_ids[0])]);
    // 16 bytes per CPU, little endian: packets then bytes
    packets[hook] = rows[0].values.reduce((sum, cpu) => {
      const b = Buffer.from(cpu.value.map((x) => parseInt(x, 16)));
      return sum + Number(b.readBigUInt64LE(0));
    }, 0);
  }
  return { runTimeNs, runCount, packets, hooks };
}

// The floor at `prio` on both hooks of the clsact that is already there.
function addFloor(floor, prio) {
  const ids = {};
  try {
    for (const hook of ['ingress', 'egress']) {
      // tc makes tc/globals and the ip and xdp links in the bpffs it finds (mounting one
      // if none): give it a bpffs of its own, in a mount namespace of its own, so that
      // nothing is left in the host's /sys/fs/bpf (a mount namespace alone would still
      // share the host's bpffs instance).
      sh('unshare', [
        ...['-m', 'sh', '-c', 'mount -t bpf bpf /sys/fs/bpf && exec tc "$@"', 'tc'],
        ...['filter', 'add', 'dev', HOST_IF, hook, 'prio', String(prio)],
        ...['handle', '1', 'bpf', 'da', 'obj', floor.obj, 'sec', 'tc'],
      ]);
      ids[hook] = floorProgram(hook, prio);
    }
  } catch (err) {
    removeFloor(prio);
    throw err;
  }
  return ids;
}

// Only the floor's priority: Tidewatch's filter (its own priority) stays.
function removeFloor(prio) {
  for (const hook of ['ingress', 'egress']) {
    if (hookFilters(hook).some((f) => f.pref === prio)) {
      sh('tc', ['filter', 'del', 'dev', HOST_IF, hook, 'pref', String(prio)]);
    }
  }
}

// After a mode: no clsact (so no filter) left on the test veth.
function assertHookGone() {
  const qdiscs = JSON.parse(sh('tc', ['-j', 'qdisc', 'show', 'dev', HOST_IF]));
  const left = qdiscs.filter((q) => q.kind === 'clsact');
  if (left.length) {
    throw new Error(`teardown: clsact still on ${HOST_IF}: ${JSON.stringify(hookOrder())}`);
  }
}

async function withFloor(floor, fn) {
  // clsact may be left by nobody else on this test veth: ours to add and remove
  sh('tc', ['qdisc', 'add', 'dev', HOST_IF, 'clsact']);
  try {
    const ids = addFloor(floor, FLOOR_ALONE_PRIORITY);
    const before = floorState(ids);
    const result = await fn();
    const after = floorState(ids);
    const d = programDelta(before, after);
    return {
      ...result,
      floor: {
        kernelSeconds: d.runTimeNs / 1e9,
        runCount: d.runCount,
        nsPerPacket: d.nsPerPacket,
        hooks: d.hooks,
        egressPackets: after.packets.egress - before.packets.egress,
        ingressPackets: after.packets.ingress - before.packets.ingress,
      },
    };
  } finally {
    tryRun('tc', ['qdisc', 'del', 'dev', HOST_IF, 'clsact']);
    assertHookGone();
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
  const needsFloor = MODES.some((m) => m === 'floor' || TIDEWATCH_MODES.includes(m));
  const floor = needsFloor ? buildFloor() : null;
  const loadBefore = loadAverage();
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
    const run = (kind, seconds) => () => measured(async () => iperf(kind, seconds));
    // bpf_stats_enabled is one switch for the whole host: set it again before
    // each program run; a run it was off for counts no runs and reports NaN.
    const stats = () => sh('sysctl', ['-qw', 'kernel.bpf_stats_enabled=1']);
    const tidewatchMode = (object, kind, i) =>
      withTidewatch(bpf, object, floor, i, run(kind), run(kind, HALF_SECONDS));
    const runMode = {
      baseline: (kind) => run(kind)(),
      floor: (kind) => (stats(), withFloor(floor, run(kind))),
      legacy: (kind, i) => (stats(), tidewatchMode('legacy', kind, i)),
      modern: (kind, i) => (stats(), tidewatchMode('modern', kind, i)),
      tcpdump: (kind) => withTcpdump(run(kind)),
    };
    // Modes interleaved, REPEAT rounds; each mode reports its median-throughput
    // round, so a burst of noise on the machine hits all of them alike.
    const rounds = {};
    for (const kind of KINDS) rounds[kind] = Object.fromEntries(MODES.map((m) => [m, []]));
    for (let i = 0; i < REPEAT; i++) {
      for (const kind of KINDS) {
        for (const mode of MODES) rounds[kind][mode].push(await runMode[mode](kind, i));
      }
    }
    const pick = (runs) =>
      [...runs].sort((x, y) => x.bitsPerSecond - y.bitsPerSecond)[Math.floor(runs.length / 2)];
    const results = {};
    for (const kind of KINDS) {
      results[kind] = Object.fromEntries(MODES.map((m) => [m, pick(rounds[kind][m])]));
    }
    report(results, rounds, perPacket(rounds), { before: loadBefore, after: loadAverage() });
  } finally {
    server.kill('SIGTERM');
    tearDown();
    sh('sysctl', ['-qw', `kernel.bpf_stats_enabled=${statsWas}`]);
    if (floor) fs.rmSync(floor.dir, { recursive: true, force: true });
  }
}

function loadAverage() {
  return fs.readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).map(Number);
}

function median(xs) {
  const v = xs.filter(Number.isFinite).sort((a, b) => a - b);
  if (!v.length) return NaN;
  const m = Math.floor(v.length / 2);
  return v.length % 2 ? v[m] : (v[m - 1] + v[m]) / 2;
}

function programs(run) {
  return run.floor ?? run.tidewatch;
}

function geomean(a, b) {
  return Math.sqrt(a * b);
}

// ns per program run of the floor alone and of each object alone (median over
// rounds), and each object's cost against the floor measured beside it on the
// same packets: per order, and their geometric mean per round; medians over rounds.
function perPacket(rounds) {
  const out = {};
  for (const [kind, byMode] of Object.entries(rounds)) {
    out[kind] = {};
    for (const mode of ['floor', ...TIDEWATCH_MODES]) {
      if (!byMode[mode]) continue;
      const ns = byMode[mode].map((r) => programs(r).nsPerPacket);
      const entry = { nsPerPacket: median(ns), rounds: ns };
      if (mode !== 'floor') {
        const runs = byMode[mode];
        entry.paired = {};
        for (const order of Object.keys(ORDERS)) {
          const p = runs.map((r) => r.paired[order]);
          entry.paired[order] = {
            ratio: median(p.map((x) => x.ratio)),
            ratios: p.map((x) => x.ratio),
            tidewatchNs: median(p.map((x) => x.tidewatch.nsPerPacket)),
            floorNs: median(p.map((x) => x.floor.nsPerPacket)),
            tidewatchRounds: p.map((x) => x.tidewatch.nsPerPacket),
            floorRounds: p.map((x) => x.floor.nsPerPacket),
          };
        }
        // per hook, over both orders of every round: which direction costs what
        const all = runs.flatMap((r) => Object.keys(ORDERS).map((o) => r.paired[o]));
        entry.hooks = {};
        for (const hook of ['ingress', 'egress']) {
          const tw = all.map((x) => x.tidewatch.hooks[hook]);
          const fl = all.map((x) => x.floor.hooks[hook]);
          entry.hooks[hook] = {
            runsPerRound: median(tw.map((x) => x.runCount)),
            tidewatchNs: median(tw.map((x) => x.nsPerPacket)),
            floorNs: median(fl.map((x) => x.nsPerPacket)),
          };
        }
        const ratios = runs.map((r) => geomean(r.paired.first.ratio, r.paired.after.ratio));
        entry.floorRatio = median(ratios);
        entry.floorRatios = ratios;
      }
      out[kind][mode] = entry;
    }
  }
  return out;
}

function pct(x) {
  return Number.isFinite(x) ? `${(x * 100).toFixed(2)} %` : '-';
}

function perPacketUs(run) {
  return (run.hostBusySeconds / run.interface.txPackets) * 1e6;
}

const HEADERS = {
  baseline: 'nothing attached',
  floor: 'floor counter',
  legacy: 'Tidewatch legacy',
  modern: 'Tidewatch modern',
  tcpdump: 'tcpdump -w /dev/null',
};

function report(results, rounds, costs, load) {
  const gbps = (r) => r.bitsPerSecond / 1e9;
  const isProg = (m) => m === 'floor' || TIDEWATCH_MODES.includes(m);
  const row = (label, cell) => [label, ...MODES.map((m) => cell(m))];
  const rows = [];
  for (const kind of KINDS) {
    const r = results[kind];
    const K = kind.toUpperCase();
    const base = r.baseline;
    const seen = (m) =>
      isProg(m)
        ? String(programs(r[m]).egressPackets)
        : m === 'tcpdump'
          ? String(r[m].tcpdump.captured)
          : '-';
    const cpu = (m) =>
      isProg(m)
        ? fmt(programs(r[m]).kernelSeconds, 3)
        : m === 'tcpdump'
          ? fmt(r[m].tcpdump.cpuSeconds, 3)
          : '-';
    const dropped = (m) =>
      isProg(m) ? '0' : m === 'tcpdump' ? String(r[m].tcpdump.droppedByKernel) : '-';
    const ns = (m) => (isProg(m) ? fmt(costs[kind][m].nsPerPacket, 1) : '-');
    const isTw = (m) => TIDEWATCH_MODES.includes(m);
    const besideNs = (order) => (m) =>
      isTw(m)
        ? `${fmt(costs[kind][m].paired[order].tidewatchNs, 1)} / ${fmt(costs[kind][m].paired[order].floorNs, 1)}`
        : '-';
    const orderRatio = (order) => (m) =>
      isTw(m) ? fmt(costs[kind][m].paired[order].ratio) : m === 'floor' ? '1.00' : '-';
    const ratio = (m) => (isTw(m) ? fmt(costs[kind][m].floorRatio) : m === 'floor' ? '1.00' : '-');
    if (kind === 'tcp') {
      rows.push(row('TCP throughput, Gbit/s', (m) => fmt(gbps(r[m]))));
      if (base) {
        rows.push(
          row('TCP throughput vs baseline', (m) => fmt(r[m].bitsPerSecond / base.bitsPerSecond)),
        );
      }
    } else {
      rows.push(row('UDP 64 B: packets sent (iperf3)', (m) => String(r[m].packets)));
      rows.push(row('UDP: interface tx packets', (m) => String(r[m].interface.txPackets)));
      rows.push(row('UDP: packets seen (counted / captured)', seen));
      rows.push(
        row('UDP: completeness (seen / interface)', (m) =>
          isProg(m)
            ? pct(programs(r[m]).egressPackets / r[m].interface.txPackets)
            : m === 'tcpdump'
              ? pct(r[m].tcpdump.captured / r[m].interface.txPackets)
              : '-',
        ),
      );
    }
    rows.push(row(`${K}: packets dropped by the tool`, dropped));
    rows.push(row(`${K}: CPU s (programs / tcpdump)`, cpu));
    rows.push(row(`${K}: ns per packet (TC program, alone)`, ns));
    rows.push(row(`${K}: beside, ns Tidewatch / floor, floor 1st`, besideNs('first')));
    rows.push(row(`${K}: beside, ns Tidewatch / floor, floor 2nd`, besideNs('after')));
    rows.push(row(`${K}: cost vs floor, floor 1st`, orderRatio('first')));
    rows.push(row(`${K}: cost vs floor, floor 2nd`, orderRatio('after')));
    rows.push(row(`${K}: cost vs floor (geo. mean of both)`, ratio));
    if (kind === 'udp') {
      rows.push(row('UDP: host CPU µs per packet sent', (m) => fmt(perPacketUs(r[m]))));
      rows.push(row('UDP rate, packets/s', (m) => fmt(r[m].packets / SECONDS, 0)));
    }
  }
  const header = ['', ...MODES.map((m) => HEADERS[m])];
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (cells) => '| ' + cells.map((c, i) => c.padEnd(widths[i])).join(' | ') + ' |';
  console.log(
    `\nbench:bpf — ${SECONDS} s per run (beside the floor: 2 × ${HALF_SECONDS} s), median of ${REPEAT}, offloads ${OFFLOADS}, kernel ${os.release()}, ${os.cpus().length} CPUs, load average ${load.before.join(' ')} before, ${load.after.join(' ')} after\n`,
  );
  console.log(line(header));
  console.log('| ' + widths.map((w) => '-'.repeat(w)).join(' | ') + ' |');
  for (const r of rows) console.log(line(r));
  console.log(
    '\nThroughput, counts, CPU s and "alone" ns: each column\'s own programs only (Tidewatch without',
  );
  console.log(
    'the floor). "beside": the floor on the same hooks as Tidewatch, same packets, before (1st) or',
  );
  console.log(
    "after (2nd) Tidewatch's filter, half the seconds each; cost vs floor: Tidewatch ns / floor ns.\n",
  );
  const list = (xs, d = 2) => xs.map((x) => fmt(x, d)).join(', ');
  for (const kind of KINDS) {
    for (const m of TIDEWATCH_MODES) {
      const c = costs[kind][m];
      if (!c) continue;
      const p = c.paired;
      console.log(
        `${kind} ${m} by round: alone ${list(c.rounds, 0)} ns (floor alone ${costs[kind].floor ? list(costs[kind].floor.rounds, 0) : '-'}); ` +
          `floor 1st ${list(p.first.tidewatchRounds, 0)} / ${list(p.first.floorRounds, 0)} = ${list(p.first.ratios)}; ` +
          `floor 2nd ${list(p.after.tidewatchRounds, 0)} / ${list(p.after.floorRounds, 0)} = ${list(p.after.ratios)}; ` +
          `geo. mean ${list(c.floorRatios)}`,
      );
      const h = c.hooks;
      console.log(
        `${kind} ${m} by hook (beside, median): ` +
          ['ingress', 'egress']
            .map(
              (k) =>
                `${k} ${fmt(h[k].tidewatchNs, 0)} / ${fmt(h[k].floorNs, 0)} ns over ${fmt(h[k].runsPerRound, 0)} skbs`,
            )
            .join('; '),
      );
    }
  }

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
        pairedSeconds: HALF_SECONDS,
        offloads: OFFLOADS,
        loadAverage: load,
        floorPriorities: { ...ORDERS, tidewatch: TW_PRIORITY },
        modes: MODES,
        perPacket: costs,
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
