import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  exec,
  tcpConnections,
  useTestNetwork,
  waitQuiet,
  type Link,
  type NetNs,
} from '@tidewatch/testhosts';
import WebSocket from 'ws';
import {
  AGENT_BIN,
  assertBuilt,
  NodeProcess,
  runCli,
  SERVER_BIN,
  waitFor,
} from './fixtures/binaries';
import { createTestDatabase, type TestDatabase } from './fixtures/database';
import { describePipeline } from './fixtures/gate';
import { signIn } from './fixtures/rest';

// Anomaly detection end to end: the built agent on a real veth, the built
// server, real PostgreSQL. The scanner is a network namespace the test made;
// the ground truth is what it sent (ports, addresses, SYNs).

jest.setTimeout(120_000);

const WINDOW_SECONDS = 2;
const WINDOW_MS = WINDOW_SECONDS * 1000;

interface Anomaly {
  id: string;
  agentId: string;
  type: string;
  severity: string;
  status: string;
  firstSeen: string;
  lastSeen: string;
  evidence: {
    figures: Record<string, number | string | boolean>;
    windows: { start: string; end: string; sequence: number }[];
  };
}

/** The agent's truncate masking: /24 for IPv4, /48 for IPv6. */
function masked4(a: string): string {
  return `${a.split('.').slice(0, 3).join('.')}.0/24`;
}
function masked6(a: string): string {
  const [head] = a.split('::');
  const groups = head.split(':').slice(0, 3);
  while (groups.length && groups[groups.length - 1] === '0') groups.pop();
  return `${groups.map((g) => parseInt(g, 16).toString(16)).join(':')}::/48`;
}

/** Connects from `ns` to every (address, port) at once; prints nothing until all settled. */
const PROBE = `
const net = require('net');
const [list] = process.argv.slice(1);
const targets = JSON.parse(list);
let left = targets.length, ok = 0, failed = 0;
for (const [host, port] of targets) {
  const c = net.connect({ host, port });
  c.setTimeout(3000);
  const done = (good) => { good ? ok++ : failed++; c.destroy(); if (--left === 0) console.log('ok ' + ok + ' failed ' + failed); };
  c.on('connect', () => done(true));
  c.on('error', () => done(false));
  c.on('timeout', () => done(false));
}
`;

async function probe(
  ns: NetNs,
  targets: [string, number][],
): Promise<{ ok: number; failed: number }> {
  const res = await ns.node(PROBE, [JSON.stringify(targets)], { timeoutMs: 30_000 });
  const m = /ok (\d+) failed (\d+)/.exec(res.stdout);
  if (!m) throw new Error(`probe printed ${res.stdout} ${res.stderr}`);
  return { ok: Number(m[1]), failed: Number(m[2]) };
}

describePipeline(
  'anomalies: scans, sweeps and floods from a namespace, raised with evidence',
  () => {
    let db: TestDatabase | undefined;
    let server: NodeProcess | undefined;
    let agent: NodeProcess | undefined;
    let live: WebSocket | undefined;
    let dir = '';

    afterAll(async () => {
      live?.close();
      await agent?.stop('SIGKILL');
      await server?.stop('SIGTERM', 10_000);
      await db?.drop();
      if (dir) rmSync(dir, { recursive: true, force: true });
    }, 30_000);

    const net = useTestNetwork();
    const agentId = randomUUID();
    let api = '';
    let link: Link;
    let scanner: NetNs;
    const tokens: Record<string, string> = {};
    const pushed: { at: number; a: Anomaly & { event: string } }[] = [];

    const logs = () => [server, agent].map((p) => p?.tail() ?? '').join('\n');
    const call = async (method: string, path: string, as: string, body?: unknown) => {
      const res = await fetch(new URL(path, api), {
        method,
        headers: { authorization: `Bearer ${tokens[as]}`, 'content-type': 'application/json' },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
      const text = await res.text();
      return { status: res.status, body: text ? (JSON.parse(text) as unknown) : null };
    };
    const anomalies = async (query: Record<string, string>): Promise<Anomaly[]> => {
      const q = new URLSearchParams({ agentId, limit: '500', ...query });
      const res = await call('GET', `/api/v1/anomalies?${q}`, 'viewer');
      if (res.status !== 200)
        throw new Error(`GET anomalies: ${res.status} ${JSON.stringify(res.body)}`);
      return (res.body as { items: Anomaly[] }).items;
    };
    const waitAnomaly = async (type: string, match: (a: Anomaly) => boolean, what: string) => {
      let found: Anomaly | undefined;
      await waitFor(
        async () => {
          found = (await anomalies({ type })).find(match);
          return !!found;
        },
        15_000,
        what,
        logs,
      );
      return found!;
    };
    let lastWindowEnd = 0;
    /**
     * Every window up to now is stored and its successor too (so that "nothing
     * raised" is not "not yet": detection runs right after each window commits).
     */
    const settle = async () => {
      const target = Date.now() + 2 * WINDOW_MS;
      await waitFor(
        async () => lastWindowEnd >= target,
        20_000,
        'the windows after the traffic stored',
        logs,
      );
    };

    beforeAll(async () => {
      assertBuilt();
      dir = mkdtempSync(join(tmpdir(), 'tw-anomalies-'));
      db = await createTestDatabase();
      const env = { DATABASE_URL: db.url, LOG_LEVEL: 'warn', AUTH_TOTP_ROLES: '' };
      runCli(SERVER_BIN, ['migrate', 'run'], env);
      const auditKey = join(dir, 'audit-signing-key.pem');
      runCli(SERVER_BIN, ['audit', 'keygen', '--out', auditKey], env);
      const token = runCli(
        SERVER_BIN,
        ['enroll', 'create', '--name', 'e2e-anomalies', '--expires', '1h'],
        env,
      ).stdout.trim();
      for (const role of ['operator', 'viewer', 'auditadmin']) {
        const file = join(dir, `${role}-password`);
        writeFileSync(file, `anomalies-${role}-passphrase\n`, { mode: 0o600 });
        runCli(
          SERVER_BIN,
          ['users', 'create', '--username', `an-${role}`, '--role', role, '--password-file', file],
          env,
        );
      }
      server = new NodeProcess('server', SERVER_BIN, ['serve', '--no-migrate'], {
        ...env,
        HTTP_HOST: '127.0.0.1',
        HTTP_PORT: '0',
        GRPC_HOST: '127.0.0.1',
        GRPC_PORT: '0',
        AGENT_WINDOW_SECONDS: String(WINDOW_SECONDS),
        AUDIT_SIGNING_KEY_FILE: auditKey,
        LOG_LEVEL: 'info',
      });
      const listening = JSON.parse(await server.line(/"event":"listening"/, 30_000)) as {
        httpPort: number;
        grpcPort: number;
      };
      api = `http://127.0.0.1:${listening.httpPort}`;
      for (const role of ['operator', 'viewer', 'auditadmin']) {
        tokens[role] = await signIn(api, `an-${role}`, `anomalies-${role}-passphrase`);
      }

      scanner = await net.namespace('scan');
      link = await net.link(net.host, scanner);
      await waitQuiet([link.a, link.b]);

      const tokenFile = join(dir, 'enrollment-token');
      writeFileSync(tokenFile, `${token}\n`, { mode: 0o600 });
      agent = new NodeProcess(
        'agent',
        AGENT_BIN,
        [
          'run',
          '--interfaces',
          link.a.ifname,
          '--server',
          `127.0.0.1:${listening.grpcPort}`,
          '--enrollment-token-file',
          tokenFile,
          '--window',
          String(WINDOW_SECONDS),
          '--masking',
          'truncate',
          '--state-dir',
          join(dir, 'agent-state'),
        ],
        { TIDEWATCH_AGENT_ID: agentId },
      );
      await agent.line(new RegExp(`"iface":"${link.a.ifname}"`), 20_000);

      // The live feed, as the console holds it: every anomaly pushed, with when it arrived.
      live = new WebSocket(`${api.replace('http', 'ws')}/api/v1/live`, {
        headers: { authorization: `Bearer ${tokens.viewer}` },
      });
      live.on('message', (raw: Buffer) => {
        const m = JSON.parse(raw.toString()) as { event: string; data: Record<string, unknown> };
        if (m.event === 'anomaly')
          pushed.push({ at: Date.now(), a: m.data as unknown as Anomaly & { event: string } });
        if (m.event === 'batch' && m.data.agentId === agentId)
          lastWindowEnd = Math.max(lastWindowEnd, Date.parse(String(m.data.windowEnd)));
      });
      await new Promise<void>((resolve, reject) => {
        live!.once('open', () => resolve());
        live!.once('error', reject);
      });
      live.send(JSON.stringify({ event: 'subscribe', data: { room: 'fleet' } }));
      // Streaming: a first window stored and announced.
      await waitFor(
        async () => lastWindowEnd > 0,
        20_000,
        'the first window on the live feed',
        logs,
      );
    }, 90_000);

    it('a vertical scan just under the threshold raises nothing; one over it raises port_scan with the masked source and port count', async () => {
      const base = 41000 + Math.floor(Math.random() * 10000);
      const under = Array.from(
        { length: 14 },
        (_, i) => [link.a.ipv4, base + i] as [string, number],
      );
      const r1 = await probe(scanner, under);
      expect(r1.ok + r1.failed).toBe(14);
      await settle();
      expect(await anomalies({ type: 'port_scan' })).toEqual([]);

      const t0 = Date.now();
      const ports = Array.from(
        { length: 40 },
        (_, i) => [link.a.ipv4, base + 100 + i] as [string, number],
      );
      const r2 = await probe(scanner, ports);
      expect(r2.ok + r2.failed).toBe(40);
      const a = await waitAnomaly('port_scan', () => true, 'a port_scan anomaly');
      expect(a.agentId).toBe(agentId);
      expect(a.evidence.figures).toMatchObject({
        source: masked4(link.b.ipv4),
        destination: masked4(link.a.ipv4),
        protocol: 'tcp',
      });
      // Ports the scans tried that had no listener: at most what the scanner saw
      // fail (the agent remembers the first scan's 14 too: same source and victim).
      expect(a.evidence.figures.failedPorts).toBeGreaterThanOrEqual(15);
      expect(Number(a.evidence.figures.failedPorts)).toBeLessThanOrEqual(r1.failed + r2.failed);
      // Within two windows of the scan.
      expect(Date.parse(a.evidence.windows[0].end) - t0).toBeLessThanOrEqual(2 * WINDOW_MS);
      // Pushed on the live feed within a second of its window being stored.
      await waitFor(async () => pushed.some((p) => p.a.id === a.id), 5_000, 'the push', logs);
      const push = pushed.find((p) => p.a.id === a.id)!;
      console.log(
        `port_scan: window end → pushed ${push.at - Date.parse(a.evidence.windows[0].end)} ms; scan start → pushed ${push.at - t0} ms`,
      );
      expect(push.a.event).toBe('raised');
    });

    it('a horizontal sweep of one port over 30 addresses raises host_sweep', async () => {
      // 30 more addresses on the host's end of the link, reachable from the scanner without ND.
      const prefix = link.a.ipv6.split('::')[0];
      const addrs = Array.from({ length: 30 }, (_, i) => `${prefix}::77:${(i + 1).toString(16)}`);
      for (const addr of addrs) {
        await exec('ip', ['-6', 'addr', 'add', `${addr}/128`, 'dev', link.a.ifname, 'nodad']);
        await scanner.exec('ip', [
          '-6',
          'neigh',
          'replace',
          addr,
          'lladdr',
          link.a.mac,
          'dev',
          link.b.ifname,
          'nud',
          'permanent',
        ]);
      }
      const port = 9;
      const t0 = Date.now();
      const r = await probe(
        scanner,
        addrs.map((x) => [x, port] as [string, number]),
      );
      expect(r).toEqual({ ok: 0, failed: 30 });
      const a = await waitAnomaly(
        'host_sweep',
        (x) => x.evidence.figures.port === port,
        'a host_sweep anomaly',
      );
      expect(a.evidence.figures).toMatchObject({
        source: masked6(link.b.ipv6),
        port,
        protocol: 'tcp',
        destinations: 30,
        failedDestinations: 30,
      });
      expect(Date.parse(a.evidence.windows[0].end) - t0).toBeLessThanOrEqual(2 * WINDOW_MS);
      // A sweep is not a vertical scan.
      expect((await anomalies({ type: 'port_scan' })).length).toBe(1);
    });

    it('a slow scan, 2 ports a window, raises nothing for 14 ports and port_scan once the agent has seen 16', async () => {
      const victim = link.a.ipv6;
      const base = 52000 + Math.floor(Math.random() * 5000);
      const ipv6Scans = async () =>
        (await anomalies({ type: 'port_scan' })).filter(
          (x) => x.evidence.figures.destination === masked6(victim),
        );
      let failed = 0;
      const round = async (i: number) => {
        const r = await probe(scanner, [
          [victim, base + 2 * i],
          [victim, base + 2 * i + 1],
        ]);
        expect(r).toEqual({ ok: 0, failed: 2 });
        failed += r.failed;
        await new Promise((done) => setTimeout(done, WINDOW_MS));
      };
      for (let i = 0; i < 7; i++) await round(i);
      await settle();
      expect(await ipv6Scans()).toEqual([]);
      await round(7);
      const a = await waitAnomaly(
        'port_scan',
        (x) => x.evidence.figures.destination === masked6(victim),
        'a slow port_scan',
      );
      expect(a.evidence.figures).toMatchObject({
        source: masked6(link.b.ipv6),
        destination: masked6(victim),
        failedPorts: failed,
        overSeconds: 300,
      });
      // No one window held a scan.
      expect(Number(a.evidence.figures.windowFailedPorts)).toBeLessThanOrEqual(2);
    });

    it('ordinary connection churn raises no syn_flood; a raw SYN flood does, within two windows', async () => {
      const churn = await tcpConnections(link.b, link.a, { family: 4, count: 60 });
      expect(churn.ok).toBe(60);
      await settle();
      expect(await anomalies({ type: 'syn_flood' })).toEqual([]);

      const port = 40000 + Math.floor(Math.random() * 1000);
      const t0 = Date.now();
      const res = await scanner.exec(
        'python3',
        [
          join(__dirname, 'fixtures', 'syn-flood.py'),
          link.b.ipv4,
          link.a.ipv4,
          String(port),
          '3000',
        ],
        { timeoutMs: 30_000 },
      );
      expect(res.stdout.trim()).toBe('sent 3000');
      const a = await waitAnomaly(
        'syn_flood',
        (x) => x.evidence.figures.port === port,
        'a syn_flood anomaly',
      );
      expect(Number(a.evidence.figures.synsPerSecond)).toBeGreaterThanOrEqual(256);
      expect(Date.parse(a.evidence.windows[0].end) - t0).toBeLessThanOrEqual(2 * WINDOW_MS + 1000);
      // Repeats are one incident: every window of the flood extends it.
      expect(
        (await anomalies({ type: 'syn_flood' })).filter((x) => x.evidence.figures.port === port),
      ).toHaveLength(1);
    });

    it('a new listening socket on the host raises new_listening_port', async () => {
      const port = 45000 + Math.floor(Math.random() * 1000);
      const srv = net.host.nodeBackground(
        `require('net').createServer().listen(${port}, '127.0.0.1', () => console.log('ready'));`,
      );
      try {
        await srv.waitFor('ready');
        const a = await waitAnomaly(
          'new_listening_port',
          (x) => x.evidence.figures.port === port,
          'a new_listening_port anomaly',
        );
        expect(a.evidence.figures).toMatchObject({ protocol: 'tcp', port, loopbackOnly: true });
        expect(a.severity).toBe('low');
      } finally {
        await srv.kill();
      }
    });

    it('viewers read only; an operator acknowledges and resolves, each step audited and pushed', async () => {
      const [a] = await anomalies({ type: 'port_scan' });
      expect(a.status).toBe('open');
      expect(
        (await call('POST', `/api/v1/anomalies/${a.id}/acknowledge`, 'viewer', {})).status,
      ).toBe(403);
      expect((await call('GET', `/api/v1/anomalies/${a.id}`, 'viewer')).status).toBe(200);

      const ack = await call('POST', `/api/v1/anomalies/${a.id}/acknowledge`, 'operator', {
        note: 'looking',
      });
      expect(ack).toMatchObject({
        status: 200,
        body: { status: 'acknowledged', acknowledgedBy: 'an-operator' },
      });
      expect(
        (await call('POST', `/api/v1/anomalies/${a.id}/acknowledge`, 'operator', {})).status,
      ).toBe(409);
      const res = await call('POST', `/api/v1/anomalies/${a.id}/resolve`, 'operator', {});
      expect(res).toMatchObject({
        status: 200,
        body: { status: 'resolved', resolvedBy: 'an-operator' },
      });

      const sweep = (await anomalies({ type: 'host_sweep' }))[0];
      expect(
        (
          await call('POST', `/api/v1/anomalies/${sweep.id}/suppress`, 'operator', {
            reason: 'pen test',
            durationSeconds: 3600,
          })
        ).body,
      ).toMatchObject({ status: 'suppressed', suppressReason: 'pen test' });

      const audit = await call('GET', '/api/v1/audit?limit=200', 'auditadmin');
      expect(audit.status).toBe(200);
      const entries = (
        audit.body as {
          items: { actor: string; action: string; target: string; outcome: string }[];
        }
      ).items
        .filter((e) => e.action.startsWith('anomaly.'))
        .map((e) => ({ actor: e.actor, action: e.action, target: e.target, outcome: e.outcome }));
      expect(entries).toEqual(
        expect.arrayContaining([
          {
            actor: 'an-operator',
            action: 'anomaly.acknowledged',
            target: `anomaly:${a.id}`,
            outcome: 'success',
          },
          {
            actor: 'an-operator',
            action: 'anomaly.acknowledged',
            target: `anomaly:${a.id}`,
            outcome: 'failure',
          },
          {
            actor: 'an-operator',
            action: 'anomaly.resolved',
            target: `anomaly:${a.id}`,
            outcome: 'success',
          },
          {
            actor: 'an-operator',
            action: 'anomaly.suppressed',
            target: `anomaly:${sweep.id}`,
            outcome: 'success',
          },
        ]),
      );
      await waitFor(
        async () => pushed.some((p) => p.a.id === a.id && p.a.event === 'resolved'),
        5_000,
        'the resolve pushed',
        logs,
      );
      const verify = await call('GET', '/api/v1/audit/verify', 'auditadmin');
      expect(verify.body).toMatchObject({ ok: true });
    });
  },
);
