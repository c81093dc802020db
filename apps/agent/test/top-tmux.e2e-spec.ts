import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ping, useTestNetwork, waitQuiet, type Link } from '@tidewatch/testhosts';
import { AgentProcess } from './fixtures/agent-process';
import { BIN, runCli } from './fixtures/cli';
import type { JsonExport } from '../src/export/format';
import { waitFor } from './fixtures/ingest-server';
import { describeKernel } from './fixtures/kernel';
import { until } from './fixtures/wait';

jest.setTimeout(60_000);

/** The PROTOCOL / DIRECTION rows of the current screen as name → pkt/s. */
function rates(screen: string): Record<string, number> {
  const out: Record<string, number> = {};
  for (const m of screen.matchAll(
    /^(tcp|udp|icmp|icmpv6|other|ingress|egress)\s+([\d.]+)(K|M|G)?\s/gm,
  )) {
    const mult = { K: 1e3, M: 1e6, G: 1e9 }[m[3] as 'K' | 'M' | 'G'] ?? 1;
    out[m[1]] = Number(m[2]) * mult;
  }
  return out;
}

describeKernel('top in a real terminal (tmux)', () => {
  const net = useTestNetwork();
  let link: Link;
  let dir: string;
  // A tmux server of its own, so that no user session is touched.
  const socket = `tw-top-${process.pid}-${randomBytes(3).toString('hex')}`;
  const tmux = (...args: string[]) =>
    execFileSync('tmux', ['-L', socket, '-f', '/dev/null', ...args], { encoding: 'utf8' });
  let socketPath = '';
  const screen = () => tmux('capture-pane', '-p', '-t', 'top');

  beforeAll(async () => {
    const peer = await net.namespace('tmux');
    link = await net.link(net.host, peer);
    await waitQuiet([link.a, link.b]);
    dir = mkdtempSync(join(tmpdir(), 'tw-tmux-'));
  });

  afterAll(() => {
    try {
      tmux('kill-server');
    } catch {
      // Already gone with its last session.
    }
    if (socketPath) rmSync(socketPath, { force: true });
    rmSync(dir, { recursive: true, force: true });
  });

  it('shows the live view with the traffic of this second, then quiet, and quits on q', async () => {
    const iface = link.a.ifname;
    tmux(
      'new-session',
      '-d',
      '-s',
      'top',
      '-x',
      '120',
      '-y',
      '40',
      // The exit code printed in the pane: tmux's #{pane_dead_status} is not always filled.
      'sh',
      '-c',
      '"$0" "$@"; echo "top exited with $?"',
      process.execPath,
      BIN,
      'top',
      '--interfaces',
      iface,
      '--state-dir',
      join(dir, 'state'),
    );
    tmux('set-option', '-t', 'top', 'remain-on-exit', 'on');
    socketPath = tmux('display-message', '-p', '#{socket_path}').trim();
    await waitFor(() => screen().includes('tidewatch top'), 20_000, 'first frame');
    const first = screen();
    expect(first).toContain(`1 interface(s): ${iface}`);
    for (const word of ['PROTOCOL', 'DIRECTION', 'TOP SERVER PORTS', 'TCP  opened/s'])
      expect(first).toContain(word);

    // A steady ping flood (about 100 requests/s) while frames are drawn.
    const flood = ping(link.b, link.a, { family: 4, count: 300 });
    await until(() => (rates(screen()).icmp ?? 0) > 10, 'a frame with the flood');
    const busy = screen();
    const during = rates(busy);
    expect(during.icmp).toBeGreaterThan(10);
    expect(during.ingress).toBeGreaterThan(5);
    expect(during.egress).toBeGreaterThan(5);
    expect(busy).toMatch(/^icmp\s+\S+\s+\S+b\s+100\.0%$/m); // nothing else on the link
    expect(await flood).toBe(300);

    await waitQuiet([link.a, link.b]);
    // A frame drawn after the last packet shows every rate at 0.
    await until(
      () => Object.values(rates(screen())).every((v) => v === 0),
      'a quiet frame after the flood',
    );
    const quiet = rates(screen());
    expect(quiet).toEqual({
      tcp: 0,
      udp: 0,
      icmp: 0,
      icmpv6: 0,
      other: 0,
      ingress: 0,
      egress: 0,
    });

    tmux('send-keys', '-t', 'top', 'q');
    await waitFor(() => /top exited with \d+/.test(screen()), 20_000, 'top to quit');
    expect(screen()).toMatch(/^top exited with 0$/m);
  });
  it('beside a running agent: top reads its socket and shows the traffic this test sends; export too', async () => {
    const iface = link.a.ifname;
    const state = join(dir, 'state-run');
    const agent = new AgentProcess([
      'run',
      '--interfaces',
      iface,
      '--window',
      '1',
      '--state-dir',
      state,
    ]);
    try {
      await agent.watching(iface);
      const sock = join(state, 'agent.sock');
      await until(
        () => agent.stderr.includes('serving top and export on the local socket'),
        'the socket',
      );
      expect(statSync(sock).mode & 0o777).toBe(0o600);
      // The running agent holds the TC slot and the lock: top must not need either.
      tmux(
        'new-session',
        '-d',
        '-s',
        'beside',
        '-x',
        '120',
        '-y',
        '40',
        'sh',
        '-c',
        '"$0" "$@"; echo "top exited with $?"',
        process.execPath,
        BIN,
        'top',
        '--state-dir',
        state,
      );
      tmux('set-option', '-t', 'beside', 'remain-on-exit', 'on');
      socketPath = tmux('display-message', '-p', '#{socket_path}').trim();
      const pane = () => tmux('capture-pane', '-p', '-t', 'beside');
      await until(
        () => pane().includes('tidewatch top'),
        'the first frame from the running agent',
        20_000,
      );
      expect(pane()).toContain(`1 interface(s): ${iface}`);

      // ICMP from the test's namespace, until a frame shows it.
      const flood = ping(link.b, link.a, { family: 4, count: 300 });
      await until(() => (rates(pane()).icmp ?? 0) > 10, 'top to show the ping flood');
      const busy = pane();
      expect(rates(busy).ingress).toBeGreaterThan(5);
      expect(rates(busy).egress).toBeGreaterThan(5);
      expect(busy).toMatch(/^icmp\s+\S+\s+\S+b\s+100\.0%$/m);
      expect(await flood).toBe(300);
      // A frame after the last ping: the windows from here on hold none of the flood.
      await until(() => rates(pane()).icmp === 0, 'top to show the link quiet again');

      // export reads the same socket while run runs: its windows hold exactly the pings sent.
      const out = join(dir, 'beside.json');
      const exporter = new AgentProcess([
        'export',
        '--state-dir',
        state,
        '--format',
        'json',
        '--duration',
        '120s',
        '-o',
        out,
      ]);
      await until(
        () => exporter.stderr.includes('export: reading the running agent'),
        'export to connect',
      );
      expect(await ping(link.b, link.a, { family: 4, count: 20 })).toBe(20);
      const sentAt = Date.now();
      // The 1 s window holding the last ping is closed by the agent's first
      // sample after that second: a frame sampled 2 s after the burst (told by
      // its own clock, not by what the pane showed, since a 0.2 s burst can
      // fall between two polls of the pane), then one more, and export
      // (stopped early) has it.
      const stamp = () => /tidewatch top — (\S+) UTC/.exec(pane())?.[1];
      const sampledAt = () => {
        const hms = stamp();
        if (!hms) return 0;
        const [h, m, sec] = hms.split(':').map(Number);
        const now = new Date();
        let t = Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate(), h, m, sec);
        if (t - now.getTime() > 12 * 3600_000) t -= 24 * 3600_000; // across midnight
        return t;
      };
      await until(() => sampledAt() >= sentAt + 2000, 'a frame sampled 2 s after the pings');
      const lastAt = stamp();
      await until(() => stamp() !== lastAt, 'the frame after it');
      await until(() => exporter.stderr.includes('export: reading'), 'export still reading');
      exporter.child.kill('SIGINT');
      expect(await exporter.exited(30_000)).toBe(0);
      expect(exporter.stderr).toMatch(/export: wrote \d+ windows/);
      const doc = JSON.parse(readFileSync(out, 'utf8')) as JsonExport;
      const icmpIn = doc.windows
        .flatMap((w) => w.window.traffic)
        .filter(
          (t) =>
            t.iface === iface &&
            t.direction === 'DIRECTION_INGRESS' &&
            t.protocol === 'PROTOCOL_ICMP',
        )
        .reduce((n, t) => n + t.packets, 0);
      expect(icmpIn).toBe(20);

      // Another user may not read the socket: told why, exit 4 (state directory).
      const nobody = await runCli(['top', '--state-dir', state, '--count', '1'], {
        prefix: ['setpriv', '--reuid=65534', '--regid=65534', '--clear-groups', '--'],
      });
      expect(nobody.code).toBe(4);
      expect(nobody.stderr).toContain('may not read its socket');

      tmux('send-keys', '-t', 'beside', 'q');
      await until(() => /top exited with \d+/.test(pane()), 'top to quit', 20_000);
      expect(pane()).toMatch(/^top exited with 0$/m);
      expect(agent.child.exitCode).toBeNull(); // the agent runs on
      expect(await agent.stop('SIGTERM')).toBe(0);
      expect(statSync(sock, { throwIfNoEntry: false })).toBeUndefined();
    } finally {
      await agent.stop('SIGKILL');
    }
  });
});
