import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ping, useTestNetwork, waitQuiet, type Link } from '@tidewatch/testhosts';
import { BIN } from './fixtures/cli';
import { waitFor } from './fixtures/ingest-server';
import { describeKernel } from './fixtures/kernel';

jest.setTimeout(60_000);

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

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
    await sleep(2000);
    const busy = screen();
    const during = rates(busy);
    expect(during.icmp).toBeGreaterThan(10);
    expect(during.ingress).toBeGreaterThan(5);
    expect(during.egress).toBeGreaterThan(5);
    expect(busy).toMatch(/^icmp\s+\S+\s+\S+b\s+100\.0%$/m); // nothing else on the link
    expect(await flood).toBe(300);

    await waitQuiet([link.a, link.b]);
    await sleep(2200); // two frames after the last packet
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
});
