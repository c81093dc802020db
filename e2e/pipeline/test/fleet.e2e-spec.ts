import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  ping,
  readInterfaceStats,
  scanPorts,
  sendUdp,
  statsDelta,
  tcpConnections,
  useTestNetwork,
  waitQuiet,
  type Endpoint,
  type InterfaceStats,
  type Link,
  type NetNs,
} from '@tidewatch/testhosts';
import { spooled, tokenFile } from './fixtures/agent-state';
import {
  AGENT_BIN,
  assertBuilt,
  freeTcpPort,
  NodeProcess,
  runCli,
  runCliAsync,
  SERVER_BIN,
  waitFor,
} from './fixtures/binaries';
import { createTestDatabase, type TestDatabase } from './fixtures/database';
import { describePipeline } from './fixtures/gate';
import { getAs, signIn } from './fixtures/rest';
import {
  DIRECTIONS,
  directionTotal,
  echoFrame,
  emptyTable,
  tableOf,
  udpFrame,
  type Direction,
  type Protocol,
  type SummaryView,
  type Table,
} from './fixtures/traffic-table';

// The fleet end to end: three hosts (network namespaces), each with its own
// built agent running inside it, enrolled over real gRPC to the built server
// in the test's namespace, real PostgreSQL, answers read over REST as every
// role. Ground truth: each host's own interface counters, the datagrams,
// pings and connections the test made, the scan it ran.

jest.setTimeout(180_000); // bounds for failures: runs take about 2 min in all, longer at load 15

const WINDOW_SECONDS = 1;
const ROLES = ['sysadmin', 'secadmin', 'auditadmin', 'operator', 'viewer'] as const;
type Role = (typeof ROLES)[number];
// Who may read what (the server's @Roles); every other role must get 403.
const MAY: Record<string, readonly Role[]> = {
  traffic: ['operator', 'viewer'],
  hosts: ['sysadmin', 'operator', 'viewer'],
  anomalies: ROLES,
  audit: ['auditadmin'],
};
const SCAN_PORTS = 40; // over the server's port_scan threshold (15 failed ports per victim)

interface Host {
  label: string;
  ns: NetNs;
  agentId: string;
  /** The ends of its links to the other two hosts: what its agent watches. */
  ends: Endpoint[];
  /** Its link to the test's namespace, carrying gRPC only (not watched). */
  uplink: Link;
  stateDir: string;
  agent?: NodeProcess;
}
interface Anomaly {
  id: string;
  agentId: string;
  type: string;
  evidence: { figures: Record<string, number | string | boolean> };
}
interface AuditEntry {
  action: string;
  target: string;
  outcome: string;
}
interface PortsView {
  items: { port: number; protocol: string; connections: string }[];
}

/**
 * What the test sent, per host: UDP and ICMP cells exactly (frames × sizes),
 * TCP connections per server port. TCP bytes and packets are the rest of the
 * interface counters ("other" stays 0: permanent neighbours, no ND).
 */
class Ledger {
  readonly cells = new Map<string, Table>();
  /** `${agentId}|${port}` → connections made (seen by the client and the server host alike). */
  readonly connections = new Map<string, number>();
  /** Rounds of exchange(): each gives every host 4 server ports (2 links × 2 families). */
  rounds = 0;

  table(h: Host): Table {
    let t = this.cells.get(h.agentId);
    if (!t) this.cells.set(h.agentId, (t = emptyTable()));
    return t;
  }
  add(h: Host, d: Direction, p: Protocol, packets: number, frame: bigint): void {
    const c = this.table(h)[d][p];
    c.packets += BigInt(packets);
    c.bytes += BigInt(packets) * frame;
  }
  connected(hosts: Host[], port: number, count: number): void {
    for (const h of hosts) {
      const k = `${h.agentId}|${port}`;
      this.connections.set(k, (this.connections.get(k) ?? 0) + count);
    }
  }

  /** The full expected table of a host, given its interfaces' counters since the start. */
  expected(h: Host, iface: InterfaceStats): Table {
    const t = emptyTable();
    const sent = this.table(h);
    for (const d of DIRECTIONS) {
      for (const p of ['udp', 'icmp', 'icmpv6'] as const) t[d][p] = { ...sent[d][p] };
      const rest = directionTotal(t, d);
      const total =
        d === 'ingress'
          ? { packets: iface.rxPackets, bytes: iface.rxBytes }
          : { packets: iface.txPackets, bytes: iface.txBytes };
      t[d].tcp = { packets: total.packets - rest.packets, bytes: total.bytes - rest.bytes };
    }
    return t;
  }
}

/** Runs the tasks two at a time, results in order. */
async function twoAtATime<T>(tasks: (() => Promise<T>)[]): Promise<T[]> {
  const out: T[] = [];
  let next = 0;
  const worker = async () => {
    while (next < tasks.length) {
      const k = next++;
      out[k] = await tasks[k]();
    }
  };
  await Promise.all([worker(), worker()]);
  return out;
}

const sum = (xs: InterfaceStats[]): InterfaceStats =>
  xs.reduce((s, x) => ({
    rxPackets: s.rxPackets + x.rxPackets,
    rxBytes: s.rxBytes + x.rxBytes,
    txPackets: s.txPackets + x.txPackets,
    txBytes: s.txBytes + x.txBytes,
  }));

describePipeline('fleet: three hosts, their own agents, one server, every role', () => {
  let db: TestDatabase | undefined;
  let server: NodeProcess | undefined;
  const hosts: Host[] = [];
  let dir = '';

  // Declared before useTestNetwork(): the processes go before their namespaces do.
  afterAll(async () => {
    await Promise.all(hosts.map((h) => h.agent?.stop('SIGKILL')));
    await server?.stop('SIGTERM', 10_000);
    await db?.drop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  }, 30_000);

  const net = useTestNetwork();
  const from = new Date(Date.now() - 60_000).toISOString();
  const ledger = new Ledger();
  const tokens: Partial<Record<Role, string>> = {};
  const links: Link[] = [];
  let api = '';
  let serverEnv: Record<string, string> = {};
  let before: InterfaceStats[][] = [];

  const logs = () => [server, ...hosts.map((h) => h.agent)].map((p) => p?.tail() ?? '').join('\n');
  const as = <T>(role: Role, path: string, query: Record<string, string | number> = {}) =>
    getAs<T>(api, tokens[role]!, path, query);
  const scope = (h: Host) => ({
    agentId: h.agentId,
    from,
    to: new Date(Date.now() + 60_000).toISOString(),
  });
  const highestSequence = async (h: Host) => {
    const res = await as<{ highestSequence: number }>('viewer', `/api/v1/hosts/${h.agentId}`);
    return res.status === 200 ? res.body.highestSequence : 0;
  };
  const startServer = async () => {
    server = new NodeProcess('server', SERVER_BIN, ['serve', '--no-migrate'], serverEnv);
    await server.line(/"event":"listening"/, 60_000);
  };

  /**
   * Every window holding traffic sent before now is stored: the window open
   * now is at most one past the highest sequence stored or spooled (and one
   * more for a window being closed this instant).
   */
  const settle = async () => {
    await Promise.all(
      hosts.map(async (h) => {
        const target = Math.max(await highestSequence(h), ...spooled(h.stateDir), 0) + 2;
        await waitFor(
          async () => (await highestSequence(h)) >= target,
          30_000,
          `${h.label}: window ${target} stored`,
          logs,
        );
      }),
    );
  };

  /** Each host's counters since `before`, summed over its watched interfaces. */
  const counters = async () =>
    Promise.all(
      hosts.map(async (h, i) =>
        sum(
          await Promise.all(
            h.ends.map(async (e, j) => statsDelta(before[i][j], await readInterfaceStats(e))),
          ),
        ),
      ),
    );

  /** UDP, ICMP, ICMPv6 and TCP over both families, both ways, between every pair of hosts. */
  const exchange = async (dose: { udp: number; ping: number; tcp: number }) => {
    ledger.rounds++;
    await Promise.all(
      links.map(async (link) => {
        const [a, b] = [link.a, link.b].map((e) => hosts.find((h) => h.ns === e.netns)!);
        const u4 = { family: 4 as const, count: dose.udp, size: 200 };
        expect(await sendUdp(link.a, link.b, u4)).toBe(dose.udp);
        ledger.add(a, 'egress', 'udp', dose.udp, udpFrame(4, 200));
        ledger.add(b, 'ingress', 'udp', dose.udp, udpFrame(4, 200));
        const u6 = { family: 6 as const, count: dose.udp, size: 300 };
        expect(await sendUdp(link.b, link.a, u6)).toBe(dose.udp);
        ledger.add(b, 'egress', 'udp', dose.udp, udpFrame(6, 300));
        ledger.add(a, 'ingress', 'udp', dose.udp, udpFrame(6, 300));
        for (const [family, proto] of [
          [4, 'icmp'],
          [6, 'icmpv6'],
        ] as const) {
          expect(await ping(link.a, link.b, { family, count: dose.ping })).toBe(dose.ping);
          for (const h of [a, b])
            for (const d of DIRECTIONS) ledger.add(h, d, proto, dose.ping, echoFrame(family));
        }
        const t4 = await tcpConnections(link.a, link.b, { family: 4, count: dose.tcp });
        expect(t4.ok).toBe(dose.tcp);
        ledger.connected([a, b], t4.port, dose.tcp);
        const t6 = await tcpConnections(link.b, link.a, { family: 6, count: dose.tcp });
        expect(t6.ok).toBe(dose.tcp);
        ledger.connected([a, b], t6.port, dose.tcp);
      }),
    );
  };

  /** As every role that may: each host's table equals the truth exactly; the others get 403. */
  const expectTotals = async (truth: InterfaceStats[]) => {
    for (const [i, h] of hosts.entries()) {
      const want = ledger.expected(h, truth[i]);
      for (const role of ROLES) {
        const res = await as<SummaryView>(role, '/api/v1/traffic/summary', scope(h));
        if (!MAY.traffic.includes(role)) {
          expect({ role, status: res.status }).toEqual({ role, status: 403 });
          continue;
        }
        expect({ role, status: res.status }).toEqual({ role, status: 200 });
        const got = tableOf(res.body);
        expect({ host: h.label, role, table: got }).toEqual({ host: h.label, role, table: want });
        expect({ host: h.label, ingress: directionTotal(got, 'ingress') }).toEqual({
          host: h.label,
          ingress: { packets: truth[i].rxPackets, bytes: truth[i].rxBytes },
        });
        expect({ host: h.label, egress: directionTotal(got, 'egress') }).toEqual({
          host: h.label,
          egress: { packets: truth[i].txPackets, bytes: truth[i].txBytes },
        });
      }
    }
  };

  /** Per host and server port, the connections the test made (both ends see each one). */
  const expectConnections = async () => {
    for (const h of hosts) {
      const res = await as<PortsView>('operator', '/api/v1/traffic/ports', {
        ...scope(h),
        protocol: 'tcp',
        limit: 1000,
      });
      expect(res.status).toBe(200);
      const made = [...ledger.connections]
        .filter(([k]) => k.startsWith(`${h.agentId}|`))
        .map(([k, n]) => ({ port: Number(k.split('|')[1]), connections: String(n) }));
      expect(made).toHaveLength(4 * ledger.rounds);
      const got = made.map(({ port }) => ({
        port,
        connections: res.body.items.find((p) => p.port === port && p.protocol === 'tcp')
          ?.connections,
      }));
      expect({ host: h.label, ports: got }).toEqual({ host: h.label, ports: made });
    }
  };

  beforeAll(async () => {
    assertBuilt();
    dir = mkdtempSync(join(tmpdir(), 'tw-fleet-'));
    db = await createTestDatabase();
    const env = { DATABASE_URL: db.url, LOG_LEVEL: 'warn', AUTH_TOTP_ROLES: '' };
    runCli(SERVER_BIN, ['migrate', 'run'], env);
    const auditKey = join(dir, 'audit-signing-key.pem');
    // The rest two at a time (this machine's cores): a key, a user per role, a token per host.
    const users = ROLES.map((role) => () => {
      const file = join(dir, `${role}-password`);
      writeFileSync(file, `${role}-of-the-fleet-passphrase\n`, { mode: 0o600 });
      const args = ['--username', `fleet-${role}`, '--role', role, '--password-file', file];
      return runCliAsync(SERVER_BIN, ['users', 'create', ...args], env);
    });
    const enroll = ['h1', 'h2', 'h3'].map((label) => () => {
      const args = ['--name', `e2e-fleet-${label}`, '--expires', '1h', '--uses', '1'];
      return runCliAsync(SERVER_BIN, ['enroll', 'create', ...args], env);
    });
    const done = await twoAtATime([
      () => runCliAsync(SERVER_BIN, ['audit', 'keygen', '--out', auditKey], env),
      ...users,
      ...enroll,
    ]);
    const enrollTokens = done.slice(-3).map((r) => r.stdout.trim());

    // Three hosts joined pairwise; each with an uplink to this namespace for gRPC only.
    for (const label of ['h1', 'h2', 'h3']) {
      const ns = await net.namespace(label);
      const uplink = await net.link(net.host, ns);
      hosts.push({
        label,
        ns,
        agentId: randomUUID(),
        ends: [],
        uplink,
        stateDir: join(dir, `${label}-state`),
      });
    }
    for (const [i, j] of [
      [0, 1],
      [1, 2],
      [0, 2],
    ]) {
      const link = await net.link(hosts[i].ns, hosts[j].ns);
      links.push(link);
      hosts[i].ends.push(link.a);
      hosts[j].ends.push(link.b);
    }
    // The server listens on h1's uplink address; h2 and h3 reach it through their own uplinks.
    const grpcHost = hosts[0].uplink.a.ipv4;
    for (const h of hosts.slice(1)) {
      await h.ns.exec('ip', ['route', 'add', `${grpcHost}/32`, 'via', h.uplink.a.ipv4]);
    }

    const [httpPort, grpcPort] = [await freeTcpPort(), await freeTcpPort()];
    api = `http://127.0.0.1:${httpPort}`;
    serverEnv = {
      ...env,
      HTTP_HOST: '127.0.0.1',
      HTTP_PORT: String(httpPort),
      GRPC_HOST: grpcHost,
      GRPC_PORT: String(grpcPort),
      AGENT_WINDOW_SECONDS: String(WINDOW_SECONDS),
      AUDIT_SIGNING_KEY_FILE: auditKey,
      LOG_LEVEL: 'info',
    };
    await startServer();
    await Promise.all(
      ROLES.map(async (role) => {
        tokens[role] = await signIn(api, `fleet-${role}`, `${role}-of-the-fleet-passphrase`);
      }),
    );

    for (const [i, h] of hosts.entries()) {
      const token = enrollTokens[i];
      // Reconnects within a second of the server's return (the default backs off to 30 s).
      const config = join(dir, `${h.label}-agent.yaml`);
      writeFileSync(
        config,
        JSON.stringify({
          server: { address: `${grpcHost}:${grpcPort}`, backoff: { maxSeconds: 1 } },
        }),
      );
      h.agent = new NodeProcess(
        `agent-${h.label}`,
        AGENT_BIN,
        [
          'run',
          '--config',
          config,
          '--interfaces',
          h.ends.map((e) => e.ifname).join(','),
          '--enrollment-token-file',
          tokenFile(dir, token, `${h.label}-token`),
          '--window',
          String(WINDOW_SECONDS),
          '--masking',
          'none',
          '--state-dir',
          h.stateDir,
        ],
        { TIDEWATCH_AGENT_ID: h.agentId },
        h.ns.name!,
      );
      // One enrollment at a time: at load 15+ three at once kept the server past the agent's
      // 15 s wait for its Welcome, and an agent whose enrolment answer was lost cannot enrol again.
      for (const e of h.ends) await h.agent.line(new RegExp(`"iface":"${e.ifname}"`), 60_000);
      await waitFor(
        async () => (await highestSequence(h)) >= 1,
        60_000,
        `${h.label}: a first window`,
        logs,
      );
    }
    await waitQuiet(hosts.flatMap((h) => h.ends));
    before = await Promise.all(hosts.map((h) => Promise.all(h.ends.map(readInterfaceStats))));
  }, 240_000); // CLI runs, a server start, five scrypt sign-ins, three agents on a loaded machine

  it('each host’s totals equal its interface counters, connections those made, the scan an anomaly on the scanned host', async () => {
    await exchange({ udp: 20, ping: 5, tcp: 3 });
    // h1 scans h2: one attempt on each of 40 ports where nothing listens.
    const [scanner, victim] = [hosts[0], hosts[1]];
    const link = links[0];
    const base = 41000 + Math.floor(Math.random() * 10000);
    const ports = Array.from({ length: SCAN_PORTS }, (_, i) => base + i);
    expect(await scanPorts(link.a, link.b, { family: 4, ports })).toEqual({
      ok: 0,
      failed: SCAN_PORTS,
    });
    await waitQuiet(hosts.flatMap((h) => h.ends));
    const truth = await counters();
    await settle();

    await expectTotals(truth);
    await expectConnections();

    // The scan: raised on the scanned host, naming the scanner; nothing on the host left out.
    let scan: Anomaly | undefined;
    await waitFor(
      async () => {
        const res = await as<{ items: Anomaly[] }>('viewer', '/api/v1/anomalies', {
          agentId: victim.agentId,
          type: 'port_scan',
        });
        scan = res.body.items[0];
        return scan !== undefined;
      },
      20_000,
      'a port_scan anomaly on the scanned host',
      logs,
    );
    expect(scan!.evidence.figures).toMatchObject({
      source: link.a.ipv4,
      destination: link.b.ipv4,
      protocol: 'tcp',
      failedPorts: SCAN_PORTS,
    });
    for (const role of ROLES) {
      const res = await as<{ items: Anomaly[] }>(role, '/api/v1/anomalies', { type: 'port_scan' });
      expect({ role, status: res.status }).toEqual({ role, status: 200 });
      const raised = res.body.items;
      expect(raised.map((a) => a.id)).toContain(scan!.id);
      // The scanner's own agent may see its scan leave; the uninvolved host sees nothing.
      expect(raised.filter((a) => a.agentId === hosts[2].agentId)).toEqual([]);
      for (const a of raised) {
        expect([scanner.agentId, victim.agentId]).toContain(a.agentId);
        expect(a.evidence.figures).toMatchObject({ source: link.a.ipv4, destination: link.b.ipv4 });
      }
    }

    // The fleet: every host online, to every role that may list hosts.
    for (const role of ROLES) {
      const res = await as<{ items: { agentId: string; status: string }[] }>(role, '/api/v1/hosts');
      if (!MAY.hosts.includes(role)) {
        expect({ role, status: res.status }).toEqual({ role, status: 403 });
        continue;
      }
      const seen = res.body.items.map((x) => ({ agentId: x.agentId, status: x.status }));
      expect(seen).toEqual(
        expect.arrayContaining(hosts.map((h) => ({ agentId: h.agentId, status: 'online' }))),
      );
      expect(seen).toHaveLength(3);
    }

    // The audit trail: one enrollment per agent, and the chain verifies.
    for (const role of ROLES) {
      const trail = await as<{ items: AuditEntry[] }>(role, '/api/v1/audit', {
        action: 'agent.enrolled',
        limit: 100,
      });
      const verify = await as<{ ok: boolean }>(role, '/api/v1/audit/verify');
      if (!MAY.audit.includes(role)) {
        expect({ role, trail: trail.status, verify: verify.status }).toEqual({
          role,
          trail: 403,
          verify: 403,
        });
        continue;
      }
      const enrolled = trail.body.items
        .filter((e) => e.action === 'agent.enrolled')
        .map((e) => ({ target: e.target, outcome: e.outcome }))
        .sort((x, y) => x.target.localeCompare(y.target));
      expect(enrolled).toEqual(
        hosts
          .map((h) => ({ target: h.agentId, outcome: 'success' }))
          .sort((x, y) => x.target.localeCompare(y.target)),
      );
      expect(verify).toMatchObject({ status: 200, body: { ok: true } });
    }
  });

  it('the server stopped for a while with traffic going on: the agents spool, replay, and the totals still equal the counters', async () => {
    if (!server || hosts.some((h) => !h.agent?.running)) throw new Error('set-up did not run');
    const t0 = Date.now();
    expect(await server.stop('SIGTERM', 15_000)).toBe(0);
    const spooledBefore = hosts.map((h) => spooled(h.stateDir).length);
    await exchange({ udp: 10, ping: 3, tcp: 2 });
    // "A while": every agent holds at least two more windows than when the server went.
    await waitFor(
      () => hosts.every((h, i) => spooled(h.stateDir).length >= spooledBefore[i] + 2),
      20_000,
      'windows spooled while the server is away',
      logs,
    );
    await waitQuiet(hosts.flatMap((h) => h.ends));
    const truth = await counters();
    const depth = hosts.map((h) => spooled(h.stateDir).length);
    const t1 = Date.now();
    await startServer();
    const t2 = Date.now();
    await settle();
    console.log(
      `fleet: server away ${t1 - t0} ms, spools ${depth.join('/')} windows; restart ${t2 - t1} ms; replayed and stored in ${Date.now() - t2} ms`,
    );
    await expectTotals(truth);
    await expectConnections();
    const verify = await as<{ ok: boolean }>('auditadmin', '/api/v1/audit/verify');
    expect(verify).toMatchObject({ status: 200, body: { ok: true } });
  });

  it('SIGTERM: every agent flushes, exits 0 and leaves no TC filter; the totals still hold', async () => {
    if (hosts.some((h) => !h.agent?.running)) throw new Error('the agents did not run');
    await waitQuiet(hosts.flatMap((h) => h.ends));
    const truth = await counters();
    expect(await Promise.all(hosts.map((h) => h.agent!.stop('SIGTERM')))).toEqual([0, 0, 0]);
    for (const h of hosts) {
      for (const e of h.ends) {
        for (const hook of ['ingress', 'egress']) {
          const { stdout } = await h.ns.exec('tc', ['filter', 'show', 'dev', e.ifname, hook]);
          expect({ where: `${h.label} ${e.ifname} ${hook}`, filters: stdout.trim() }).toEqual({
            where: `${h.label} ${e.ifname} ${hook}`,
            filters: '',
          });
        }
      }
    }
    expect(hosts.map((h) => spooled(h.stateDir))).toEqual([[], [], []]);
    await expectTotals(truth);
  });
});
