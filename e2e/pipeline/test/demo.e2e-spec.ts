import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { exec } from '@tidewatch/testhosts';
import {
  freeTcpPort,
  NodeProcess,
  REPO_ROOT,
  runCli,
  SERVER_BIN,
  waitFor,
} from './fixtures/binaries';
import { createTestDatabase, type TestDatabase } from './fixtures/database';
import { describePipeline } from './fixtures/gate';
import { getAs, signIn } from './fixtures/rest';
import type { SummaryView } from './fixtures/traffic-table';

// `npm start -- --demo` as a user runs it (tools/start.js, the same entry): on this quiet
// machine, a live fleet of three demo hosts with traffic and a port scan raised within a
// minute; then Ctrl-C (SIGINT), and nothing of it is left — no namespace, no interface, no TC
// filter, no pinned object, no process.

jest.setTimeout(240_000);

const START = join(REPO_ROOT, 'tools', 'start.js');
const DEMO_HOSTS = ['demo-web', 'demo-app', 'demo-db'];

interface HostView {
  agentId: string;
  hostname: string;
  status: string;
}
interface Anomaly {
  id: string;
  agentId: string;
  type: string;
}

/** pid → parent pid, for every process now. */
function processTable(): Map<number, number> {
  const out = new Map<number, number>();
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try {
      const stat = readFileSync(`/proc/${d}/stat`, 'utf8');
      out.set(Number(d), Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]));
    } catch {
      // Gone meanwhile.
    }
  }
  return out;
}

function descendants(pid: number): number[] {
  const table = processTable();
  const found: number[] = [];
  const walk = (p: number) => {
    for (const [child, parent] of table) {
      if (parent === p) {
        found.push(child);
        walk(child);
      }
    }
  };
  walk(pid);
  return found;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** `pid state command`, for a failure message. */
function describeProcess(pid: number): string {
  try {
    const state = /\) (\S)/.exec(readFileSync(`/proc/${pid}/stat`, 'utf8'))?.[1] ?? '?';
    const cmd = readFileSync(`/proc/${pid}/cmdline`, 'utf8').replace(/\0/g, ' ').trim();
    return `${pid} ${state} ${cmd}`;
  } catch {
    return `${pid} (gone)`;
  }
}

/** Processes whose command line mentions `text` (the run's own state directory). */
function processesMentioning(text: string): string[] {
  const out: string[] = [];
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d) || Number(d) === process.pid) continue;
    try {
      const cmd = readFileSync(`/proc/${d}/cmdline`, 'utf8').replace(/\0/g, ' ');
      if (cmd.includes(text)) out.push(`${d}: ${cmd}`);
    } catch {
      // Gone meanwhile.
    }
  }
  return out;
}

/** Every path under /sys/fs/bpf (pinned maps, programs, links). */
function pinned(dir = '/sys/fs/bpf'): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? [e.name + '/', ...pinned(join(dir, e.name))] : [join(dir, e.name)],
  );
}

/** TC filters on this namespace's interfaces, except the test suites' own veths (tw*). */
async function tcFilters(): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const dev of readdirSync('/sys/class/net').filter((n) => !n.startsWith('tw'))) {
    for (const hook of ['ingress', 'egress']) {
      const r = await exec('tc', ['filter', 'show', 'dev', dev, hook], { allowFailure: true });
      out[`${dev} ${hook}`] = r.stdout.trim();
    }
  }
  return out;
}

function namespaces(): string[] {
  try {
    return readdirSync('/run/netns');
  } catch {
    return [];
  }
}

describePipeline(
  'npm start -- --demo: a live fleet with anomalies, and nothing left after Ctrl-C',
  () => {
    let db: TestDatabase | undefined;
    let start: NodeProcess | undefined;
    let dir = '';
    let pid = 0;

    afterAll(async () => {
      if (start?.running) {
        // Ctrl-C first: a SIGKILLed agent would leave its TC filters attached.
        const left = descendants(pid);
        await start.stop('SIGINT', 60_000);
        for (const p of left) if (alive(p)) process.kill(p, 'SIGKILL');
      }
      for (const n of namespaces().filter((x) => x.startsWith(`twdemo-${pid}-`))) {
        await exec('ip', ['netns', 'del', n], { allowFailure: true });
      }
      await db?.drop();
      if (dir) rmSync(dir, { recursive: true, force: true });
    }, 60_000);

    it('shows three demo hosts with traffic and a port scan within a minute; SIGINT leaves nothing', async () => {
      dir = mkdtempSync(join(tmpdir(), 'tw-demo-'));
      db = await createTestDatabase();
      const adminPassword = join(dir, 'admin-password');
      writeFileSync(adminPassword, 'the-demo-administrator-passphrase\n', { mode: 0o600 });
      const filtersBefore = await tcFilters();
      const pinnedBefore = pinned();
      const [http, grpc, consolePort, metrics] = [
        await freeTcpPort(),
        await freeTcpPort(),
        await freeTcpPort(),
        await freeTcpPort(),
      ];
      start = new NodeProcess('npm start --demo', START, ['--demo'], {
        DATABASE_URL: db.url,
        XDG_STATE_HOME: dir,
        HTTP_PORT: String(http),
        GRPC_PORT: String(grpc),
        CONSOLE_PORT: String(consolePort),
        AGENT_METRICS_PORT: String(metrics),
        TIDEWATCH_ADMIN_PASSWORD_FILE: adminPassword,
      });
      pid = start.child.pid!;
      await start.line(/^Tidewatch is running\.$/, 180_000);
      const runningAt = Date.now();
      expect(start.output).toMatch(/^console +http:\/\/127\.0\.0\.1:\d+\/zh-CN\/fleet/m);
      for (const h of DEMO_HOSTS) expect(start.output).toContain(h);

      // A viewer, made by the CLI as an administrator would, reads the fleet.
      const api = `http://127.0.0.1:${http}`;
      const viewerPassword = join(dir, 'viewer-password');
      writeFileSync(viewerPassword, 'the-demo-viewer-passphrase\n', { mode: 0o600 });
      runCli(
        SERVER_BIN,
        [
          'users',
          'create',
          '--username',
          'reader',
          '--role',
          'viewer',
          '--password-file',
          viewerPassword,
        ],
        { DATABASE_URL: db.url, LOG_LEVEL: 'warn' },
      );
      const token = await signIn(api, 'reader', 'the-demo-viewer-passphrase');
      const range = () => ({
        from: new Date(runningAt - 10 * 60_000).toISOString(),
        to: new Date(Date.now() + 60_000).toISOString(),
      });

      let demo: HostView[] = [];
      let scans: Anomaly[] = [];
      await waitFor(
        async () => {
          const hosts = await getAs<{ items: HostView[] }>(api, token, '/api/v1/hosts');
          demo = hosts.body.items.filter(
            (h) => DEMO_HOSTS.includes(h.hostname) && h.status === 'online',
          );
          if (demo.length < 3) return false;
          for (const h of demo) {
            const s = await getAs<SummaryView>(api, token, '/api/v1/traffic/summary', {
              agentId: h.agentId,
              ...range(),
            });
            if (s.status !== 200 || BigInt(s.body.total.packets) === 0n) return false;
          }
          const a = await getAs<{ items: Anomaly[] }>(api, token, '/api/v1/anomalies', {
            type: 'port_scan',
          });
          scans = a.body.items.filter((x) => demo.some((h) => h.agentId === x.agentId));
          return scans.length >= 1;
        },
        60_000,
        'three demo hosts with traffic and a port_scan on one of them',
        () => start!.tail(40),
      );
      console.log(
        `demo: fleet with traffic and a port scan ${Date.now() - runningAt} ms after start`,
      );
      expect(demo.map((h) => h.hostname).sort()).toEqual([...DEMO_HOSTS].sort());
      // Every protocol class the generator makes, on the fleet as a whole.
      const fleet = await getAs<SummaryView>(api, token, '/api/v1/traffic/summary', range());
      const protocols = new Set(
        fleet.body.items.filter((i) => BigInt(i.packets) > 0n).map((i) => i.protocol),
      );
      for (const p of ['tcp', 'udp', 'icmp', 'icmpv6']) expect([...protocols]).toContain(p);

      // Ctrl-C.
      const children = descendants(pid);
      expect(children.length).toBeGreaterThanOrEqual(1 + 1 + 1 + 2 * DEMO_HOSTS.length);
      expect(await start.stop('SIGINT', 90_000)).toBe(0);
      expect(start.output).toContain('demo fleet removed');

      // A zombie counts: on a host whose PID 1 never reaps, an orphan outlives the demo.
      expect(children.filter(alive).map(describeProcess)).toEqual([]);
      expect(processesMentioning(dir)).toEqual([]);
      expect(namespaces().filter((n) => n.startsWith(`twdemo-${pid}-`))).toEqual([]);
      expect(readdirSync('/sys/class/net').filter((n) => n.startsWith(`twd${pid}u`))).toEqual([]);
      // No filter that was not there before (one an earlier killed agent left may be gone).
      const filtersAfter = await tcFilters();
      const added = Object.entries(filtersAfter).flatMap(([where, text]) =>
        text
          .split('\n')
          .filter((l) => l && !(filtersBefore[where] ?? '').split('\n').includes(l))
          .map((l) => `${where}: ${l}`),
      );
      expect(added).toEqual([]);
      expect(pinned().filter((p) => !pinnedBefore.includes(p))).toEqual([]);
    });
  },
);
