import { execFileSync } from 'node:child_process';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Batch__Output } from '@tidewatch/proto';
import { ping, useTestNetwork, waitQuiet, type Link } from '@tidewatch/testhosts';
import { AgentProcess, freeTcpPort, untilMetric } from './fixtures/agent-process';
import { runCli } from './fixtures/cli';
import { freePort, TestIngestServer, waitFor } from './fixtures/ingest-server';
import { describeKernel } from './fixtures/kernel';

jest.setTimeout(180_000);

/** The windows the agent holds in its spool (its own record of what it counted). */
function spooledWindows(stateDir: string): Batch__Output[] {
  const dir = join(stateDir, 'spool');
  if (!existsSync(dir)) return [];
  const out: Batch__Output[] = [];
  for (const n of readdirSync(dir).filter((f) => /^\d+\.json$/.test(f))) {
    try {
      out.push(JSON.parse(readFileSync(join(dir, n), 'utf8')) as Batch__Output);
    } catch {
      // Removed (acknowledged or dropped) between readdir and read.
    }
  }
  return out.sort((a, b) => a.sequence - b.sequence);
}

function ingressPackets(batches: Batch__Output[], protocol: string): number {
  return batches
    .flatMap((b) => b.traffic)
    .filter((t) => t.protocol === protocol && t.direction === 'DIRECTION_INGRESS')
    .reduce((s, t) => s + t.packets, 0);
}

function spoolBytes(stateDir: string): number {
  const dir = join(stateDir, 'spool');
  if (!existsSync(dir)) return 0;
  return (
    readdirSync(dir)
      .filter((n) => n.endsWith('.json'))
      // A file the agent removes between readdir and stat no longer takes space.
      .reduce((s, n) => s + (statSync(join(dir, n), { throwIfNoEntry: false })?.size ?? 0), 0)
  );
}

function tcFilters(ifname: string): string {
  return ['ingress', 'egress']
    .map((dir) => execFileSync('tc', ['filter', 'show', 'dev', ifname, dir], { encoding: 'utf8' }))
    .join('');
}

describeKernel('delivery end to end: the real agent, a real gRPC server, a real spool', () => {
  const net = useTestNetwork();
  let link: Link;
  let dir: string;
  const mounts: string[] = [];

  beforeAll(async () => {
    const peer = await net.namespace('dlv');
    link = await net.link(net.host, peer);
    await waitQuiet([link.a, link.b]);
    dir = mkdtempSync(join(tmpdir(), 'tw-dlv-'));
  });

  afterAll(() => {
    for (const m of mounts.splice(0)) execFileSync('umount', ['-l', m]);
    rmSync(dir, { recursive: true, force: true });
  });

  function mountTmpfs(name: string, options: string): string {
    const path = join(dir, name);
    mkdirSync(path, { recursive: true });
    execFileSync('mount', ['-t', 'tmpfs', '-o', options, 'tmpfs', path]);
    mounts.push(path);
    return path;
  }

  it('server down, agent killed and restarted, server up: every window once, in order; a crash leaves nothing attached', async () => {
    const port = await freePort();
    const state = join(dir, 'restart');
    const args = [
      'run',
      '--interfaces',
      link.a.ifname,
      '--server',
      `127.0.0.1:${port}`,
      '--window',
      '1',
      '--state-dir',
      state,
      '--log-level',
      'debug',
    ];
    const first = new AgentProcess(args);
    await first.watching(link.a.ifname);
    expect(await ping(link.b, link.a, { family: 4, count: 5 })).toBe(5);
    // Killed once its spool holds the five pings, and a window after them.
    await waitFor(
      () => {
        const w = spooledWindows(state);
        return ingressPackets(w, 'PROTOCOL_ICMP') === 5 && w.length >= 2;
      },
      30_000,
      'the pings in the spool',
    );
    expect(await first.stop('SIGKILL')).toBeNull(); // a crash: no flush, no detach
    expect(tcFilters(link.a.ifname)).toMatch(/tw_/); // left behind by the crash
    const spooledByFirst = readdirSync(join(state, 'spool')).filter((n) =>
      n.endsWith('.json'),
    ).length;
    expect(spooledByFirst).toBeGreaterThanOrEqual(2);

    const second = new AgentProcess(args);
    await second.watching(link.a.ifname);
    expect(await ping(link.b, link.a, { family: 6, count: 5 })).toBe(5);
    await waitFor(
      () => ingressPackets(spooledWindows(state), 'PROTOCOL_ICMPV6') === 5,
      30_000,
      'the second run to spool its pings',
    );
    const server = new TestIngestServer();
    await server.start(port);
    try {
      await waitFor(
        () => spoolBytes(state) === 0 && server.stored.size >= spooledByFirst + 2,
        30_000,
        'spool drained',
      );
      expect(await second.stop('SIGTERM')).toBe(0);
      const seqs = server.received.map((b) => b.sequence);
      // Exactly once, in order, from 1: nothing lost across the crash, nothing repeated.
      expect(seqs).toEqual(seqs.map((_, i) => i + 1));
      expect(server.highestContiguous()).toBe(seqs.length);
      const icmp = (fam: string) =>
        server.received
          .flatMap((b) => b.traffic)
          .filter((t) => t.protocol === fam && t.direction === 'DIRECTION_INGRESS')
          .reduce((s, t) => s + t.packets, 0);
      expect(icmp('PROTOCOL_ICMP')).toBe(5); // measured before the crash, delivered after
      expect(icmp('PROTOCOL_ICMPV6')).toBe(5);
      // The restart cleaned the crashed run's filters; the clean stop removed its own.
      expect(tcFilters(link.a.ifname)).not.toMatch(/tw_/);
    } finally {
      await second.stop('SIGKILL');
      server.stop();
    }
  });

  it('reinstalled agent (fresh state directory) the server knows up to 7: its windows arrive as 8.., none taken as acknowledged', async () => {
    const port = await freePort();
    const state = join(dir, 'fresh');
    const agent = new AgentProcess([
      'run',
      '--interfaces',
      link.a.ifname,
      '--server',
      `127.0.0.1:${port}`,
      // 2 s windows: fewer than the server's 7 are numbered before it answers (see the README).
      '--window',
      '2',
      '--state-dir',
      state,
    ]);
    const server = new TestIngestServer();
    server.alreadyStoredUpTo(7); // the agent's earlier life, before its state directory was wiped
    try {
      await agent.watching(link.a.ifname);
      expect(await ping(link.b, link.a, { family: 4, count: 5 })).toBe(5);
      const spooled = () =>
        readdirSync(join(state, 'spool')).filter((n) => n.endsWith('.json')).length;
      // Windows 1.. of the new numbering wait in the spool, the ping among them.
      await waitFor(() => spooled() >= 2, 10_000, 'windows spooled');
      const held = spooled();
      expect(held).toBeLessThan(7);
      await server.start(port);
      await waitFor(
        () => server.stored.size >= held + 2 && spoolBytes(state) === 0,
        30_000,
        'spool drained',
      );
      expect(await agent.stop('SIGTERM')).toBe(0);
    } finally {
      await agent.stop('SIGKILL');
      server.stop();
    }
    expect(agent.stderr).toMatch(
      /sequence numbers restarted: the server already holds up to 7; \d+ held windows renumbered from 8/,
    );
    const seqs = server.received.map((b) => b.sequence);
    // Every window once, in order, right after the server's 7: none lost, none repeated.
    expect(seqs).toEqual(seqs.map((_, i) => i + 8));
    expect(server.refused).toEqual([]);
    expect(server.lost).toEqual([]);
    const icmp = server.received
      .flatMap((b) => b.traffic)
      .filter((t) => t.protocol === 'PROTOCOL_ICMP' && t.direction === 'DIRECTION_INGRESS')
      .reduce((sum, t) => sum + t.packets, 0);
    expect(icmp).toBe(5); // measured before the first Welcome, delivered after it
  });

  it('a second run on the same state directory: a clear message and exit code 4; the first keeps counting', async () => {
    const state = join(dir, 'single');
    const metricsPort = await freeTcpPort();
    const first = new AgentProcess([
      'run',
      '--interfaces',
      link.a.ifname,
      '--state-dir',
      state,
      '--metrics-listen',
      `127.0.0.1:${metricsPort}`,
    ]);
    try {
      await first.watching(link.a.ifname);
      const second = await runCli([
        'run',
        '--interfaces',
        link.a.ifname,
        '--state-dir',
        state,
        '--metrics-listen',
        `127.0.0.1:${await freeTcpPort()}`,
      ]);
      expect(second.code).toBe(4);
      expect(second.stderr).toContain(
        `tidewatch-agent: state directory ${state} is in use by another tidewatch-agent run (pid ${first.child.pid})`,
      );
      // top does not take the TC slot beside it: it reads the running agent's socket.
      const top = await runCli(['top', '--state-dir', state, '--count', '1']);
      expect(top.code).toBe(0);
      expect(top.stdout).toContain(`1 interface(s): ${link.a.ifname}`);
      const icmpIn = { iface: link.a.ifname, direction: 'ingress', protocol: 'icmp' };
      const before = await untilMetric(metricsPort, 'tidewatch_packets_total', icmpIn, () => true);
      expect(await ping(link.b, link.a, { family: 4, count: 5 })).toBe(5);
      const after = await untilMetric(
        metricsPort,
        'tidewatch_packets_total',
        icmpIn,
        (v) => v >= before + 5,
      );
      expect(after - before).toBe(5); // the first agent still counts, exactly
      expect(tcFilters(link.a.ifname)).toMatch(/tw_/);
      expect(await first.stop('SIGTERM')).toBe(0);
      expect(existsSync(join(state, 'agent.lock'))).toBe(false); // released on a clean stop
    } finally {
      await first.stop('SIGKILL');
    }
  });

  it('spool full while the server is down: the oldest dropped and counted, the gap declared in Hello and accepted, disk never over the bound', async () => {
    const port = await freePort();
    const state = join(dir, 'bounded');
    const bound = 6000;
    const agent = new AgentProcess([
      'run',
      '--interfaces',
      link.a.ifname,
      '--server',
      `127.0.0.1:${port}`,
      '--window',
      '1',
      '--state-dir',
      state,
      '--spool-max-bytes',
      String(bound),
    ]);
    let maxSeen = 0;
    const watch = setInterval(() => (maxSeen = Math.max(maxSeen, spoolBytes(state))), 20);
    const server = new TestIngestServer();
    try {
      await agent.watching(link.a.ifname);
      await ping(link.b, link.a, { family: 4, count: 20 });
      // The bound is reached once the oldest window (sequence 1) has been dropped.
      await waitFor(
        () => {
          const w = spooledWindows(state);
          return w.length > 0 && w[0].sequence > 2;
        },
        60_000,
        'the spool to drop its oldest windows',
      );
      await server.start(port);
      await waitFor(
        () => server.stored.size > 0 && spoolBytes(state) === 0,
        30_000,
        'spool drained',
      );
      // The drop count travels in the next window's health: wait until it covers the gap.
      const reportedDrops = () =>
        server.received
          .flatMap((b) => b.health?.recordsDropped ?? [])
          .filter((d) => d.reason === 'spool_full')
          .reduce((s, d) => s + d.count, 0);
      await waitFor(
        () => server.lost.length > 0 && reportedDrops() >= server.lost.length,
        30_000,
        'the spool_full count to reach the server',
      );
      expect(await agent.stop()).toBe(0);
    } finally {
      clearInterval(watch);
      await agent.stop('SIGKILL');
      server.stop();
    }
    expect(maxSeen).toBeGreaterThan(0);
    expect(maxSeen).toBeLessThanOrEqual(bound);
    const seqs = server.received.map((b) => b.sequence);
    const last = Math.max(...seqs);
    // The server's rule held: no undeclared gap, the declared one recorded as lost.
    expect(server.refused).toEqual([]);
    expect(server.hellos.map((h) => h.oldestSequence)).toContain(seqs[0]);
    expect(server.lost[0]).toBe(1); // the oldest went first
    // Every window the spool still held arrived once, in order; with the lost ones, 1..last.
    expect(seqs).toEqual([...new Set(seqs)].sort((a, b) => a - b));
    expect([...server.lost, ...seqs].sort((a, b) => a - b)).toEqual(
      Array.from({ length: last }, (_, i) => i + 1),
    );
    expect(server.highestContiguous()).toBe(last);
    const reported = server.received
      .flatMap((b) => b.health?.recordsDropped ?? [])
      .filter((d) => d.reason === 'spool_full')
      .reduce((s, d) => s + d.count, 0);
    // Every window lost was reported dropped. Not always equal: a window the
    // spool drops after sending it (still unacknowledged, while the replay
    // catches up) is counted spool_full although the server stored it.
    expect(reported).toBeGreaterThanOrEqual(server.lost.length);
  });

  it('disk full: a clear error in the log, and the agent keeps running', async () => {
    const state = mountTmpfs('tiny', 'size=16k');
    const port = await freePort();
    const agent = new AgentProcess([
      'run',
      '--interfaces',
      link.a.ifname,
      '--server',
      `127.0.0.1:${port}`,
      '--window',
      '1',
      '--state-dir',
      state,
      '--spool-max-bytes',
      '1MiB',
    ]);
    try {
      await agent.watching(link.a.ifname);
      await waitFor(() => agent.stderr.includes('ENOSPC'), 60_000, 'disk full');
      expect(agent.stderr).toMatch(
        /window lost: spool: cannot write batch to .* \(ENOSPC\): the disk is full: free space or lower spool.maxBytes/,
      );
      expect(agent.child.exitCode).toBeNull();
    } finally {
      expect(await agent.stop()).toBe(0);
    }
  });

  it('unwritable state directory: a clear error and exit code 4', async () => {
    const ro = mountTmpfs('ro', 'size=64k,ro');
    const r = await runCli([
      'run',
      '--interfaces',
      link.a.ifname,
      '--server',
      '127.0.0.1:9',
      '--state-dir',
      join(ro, 'state'),
    ]);
    expect(r.stderr).toMatch(/cannot create .* \(EROFS\): the file system is read-only/);
    expect(r.code).toBe(4);
    expect(tcFilters(link.a.ifname)).not.toMatch(/tw_/); // nothing left attached by the failed start
  });
});
