import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import WebSocket from 'ws';
import {
  ping,
  readInterfaceStats,
  sendUdp,
  statsDelta,
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
import { Haproxy, haproxyReason, type Replica } from './fixtures/haproxy';
import { getAs, signInAnswer } from './fixtures/rest';
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

// Past one server: three built server replicas (own processes, own ports) on one
// PostgreSQL database behind a real haproxy (gRPC over h2c, REST and WebSocket over
// HTTP/1.1, health-checked on /readyz). Three hosts (namespaces), each with its
// built agent connecting through haproxy. One replica is SIGKILLed while traffic
// flows. Ground truth: the hosts' interface counters and the datagrams and pings
// the test sent (no TCP is sent, so every other cell is 0).

jest.setTimeout(120_000);

const WINDOW_SECONDS = 1;
const USER = 'replicas-operator';
const PASSWORD = 'operator-of-the-replicas-passphrase';
const AUDITOR = 'replicas-auditadmin';

interface Host {
  label: string;
  ns: NetNs;
  agentId: string;
  ends: Endpoint[];
  uplink: Link;
  stateDir: string;
  agent?: NodeProcess;
}
interface RunningReplica extends Replica {
  process: NodeProcess;
}
interface Batch {
  agentId: string;
  sequence: number;
}

const sum = (xs: InterfaceStats[]): InterfaceStats =>
  xs.reduce((s, x) => ({
    rxPackets: s.rxPackets + x.rxPackets,
    rxBytes: s.rxBytes + x.rxBytes,
    txPackets: s.txPackets + x.txPackets,
    txBytes: s.txBytes + x.txBytes,
  }));

/** The replicas an agent's stream was accepted by, in order (the server logs each Welcome). */
const welcomes = (replicas: RunningReplica[], agentId: string): string[] =>
  replicas.flatMap((r) =>
    r.process.output
      .split('\n')
      .filter((l) => l.includes(`agent ${agentId} (`) && l.includes('connected at sequence'))
      .map(() => r.name),
  );

describePipeline(
  'replicas: three servers behind haproxy on one PostgreSQL, a replica killed mid-stream',
  () => {
    let db: TestDatabase | undefined;
    let lb: Haproxy | undefined;
    let live: WebSocket | undefined;
    const replicas: RunningReplica[] = [];
    const hosts: Host[] = [];
    let dir = '';

    // Declared before useTestNetwork(): the processes go before their namespaces do.
    afterAll(async () => {
      live?.terminate();
      await Promise.all(hosts.map((h) => h.agent?.stop('SIGKILL')));
      await lb?.stop();
      await Promise.all(replicas.map((r) => r.process.stop('SIGTERM', 10_000)));
      await db?.drop();
      if (dir) rmSync(dir, { recursive: true, force: true });
    }, 30_000);

    const net = useTestNetwork();
    const from = new Date(Date.now() - 60_000).toISOString();
    const links: Link[] = [];
    const sent = new Map<string, Table>();
    const batches: Batch[] = [];
    let api = '';
    let token = '';
    let signedInAt = '';
    let liveAt = '';
    let before: InterfaceStats[][] = [];

    const logs = () =>
      [lb, ...replicas.map((r) => r.process), ...hosts.map((h) => h.agent)]
        .map((p) => p?.tail() ?? '')
        .join('\n');
    const get = <T>(base: string, path: string, query: Record<string, string | number> = {}) =>
      getAs<T>(base, token, path, query);
    const highestSequence = async (h: Host) => {
      const res = await get<{ highestSequence: number }>(api, `/api/v1/hosts/${h.agentId}`);
      return res.status === 200 ? res.body.highestSequence : 0;
    };
    const add = (h: Host, d: Direction, p: Protocol, packets: number, frame: bigint) => {
      if (!sent.has(h.agentId)) sent.set(h.agentId, emptyTable());
      const c = sent.get(h.agentId)![d][p];
      c.packets += BigInt(packets);
      c.bytes += BigInt(packets) * frame;
    };
    const hostOf = (e: Endpoint) => hosts.find((h) => h.ns === e.netns)!;

    /** UDP both ways over both families, then a stream of pings (v4 and v6), on every link. */
    const exchange = async (dose: { udp: number; ping: number }) =>
      Promise.all(
        links.map(async (link) => {
          const [a, b] = [hostOf(link.a), hostOf(link.b)];
          expect(await sendUdp(link.a, link.b, { family: 4, count: dose.udp, size: 200 })).toBe(
            dose.udp,
          );
          add(a, 'egress', 'udp', dose.udp, udpFrame(4, 200));
          add(b, 'ingress', 'udp', dose.udp, udpFrame(4, 200));
          expect(await sendUdp(link.b, link.a, { family: 6, count: dose.udp, size: 300 })).toBe(
            dose.udp,
          );
          add(b, 'egress', 'udp', dose.udp, udpFrame(6, 300));
          add(a, 'ingress', 'udp', dose.udp, udpFrame(6, 300));
          for (const [family, proto] of [
            [4, 'icmp'],
            [6, 'icmpv6'],
          ] as const) {
            expect(await ping(link.a, link.b, { family, count: dose.ping })).toBe(dose.ping);
            for (const h of [a, b])
              for (const d of DIRECTIONS) add(h, d, proto, dose.ping, echoFrame(family));
          }
        }),
      );

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

    const startReplica = async (name: string, env: Record<string, string>) => {
      const [httpPort, grpcPort] = [await freeTcpPort(), await freeTcpPort()];
      const process = new NodeProcess(name, SERVER_BIN, ['serve', '--no-migrate'], {
        ...env,
        HTTP_HOST: '127.0.0.1',
        HTTP_PORT: String(httpPort),
        GRPC_HOST: '127.0.0.1',
        GRPC_PORT: String(grpcPort),
        // One signing key, a checkpoint file each (the README: they may share one or not).
        AUDIT_CHECKPOINT_FILE: join(dir, `${name}-audit-checkpoints.jsonl`),
      });
      replicas.push({ name, httpPort, grpcPort, process });
      await process.line(/"event":"listening"/, 60_000);
    };

    /** Opens the live feed through haproxy, subscribed to the fleet; resolves with the replica it reached. */
    const openLive = async (): Promise<{ ws: WebSocket; replica: string }> => {
      const ws = new WebSocket(`${api.replace('http', 'ws')}/api/v1/live`, {
        headers: { authorization: `Bearer ${token}` },
      });
      let replica = '';
      ws.on('upgrade', (res) => (replica = String(res.headers['x-tidewatch-replica'] ?? '')));
      await new Promise<void>((resolve, reject) => {
        ws.once('open', () => resolve());
        ws.once('error', reject);
      });
      return { ws, replica };
    };

    beforeAll(async () => {
      const t0 = Date.now();
      assertBuilt();
      dir = mkdtempSync(join(tmpdir(), 'tw-replicas-'));
      db = await createTestDatabase();
      const env = { DATABASE_URL: db.url, LOG_LEVEL: 'warn', AUTH_TOTP_ROLES: '' };
      runCli(SERVER_BIN, ['migrate', 'run'], env);
      const passwordFile = join(dir, 'password');
      writeFileSync(passwordFile, `${PASSWORD}\n`, { mode: 0o600 });
      const auditKey = join(dir, 'audit-signing-key.pem');
      const user = ['--username', USER, '--role', 'operator', '--password-file', passwordFile];
      // One token for the three agents (they enrol one after the other below).
      const enroll = ['--name', 'e2e-replicas', '--expires', '1h', '--uses', '3'];
      const auditor = [
        '--username',
        AUDITOR,
        '--role',
        'auditadmin',
        '--password-file',
        passwordFile,
      ];
      const [, , , enrolled] = await Promise.all([
        runCliAsync(SERVER_BIN, ['audit', 'keygen', '--out', auditKey], env),
        runCliAsync(SERVER_BIN, ['users', 'create', ...user], env),
        runCliAsync(SERVER_BIN, ['users', 'create', ...auditor], env),
        runCliAsync(SERVER_BIN, ['enroll', 'create', ...enroll], env),
      ]);
      const enrollToken = tokenFile(dir, enrolled.stdout.trim());

      // Three hosts joined pairwise, each with an uplink to this namespace for gRPC only.
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
      // haproxy's gRPC frontend listens on h1's uplink address; h2 and h3 route to it.
      const grpcHost = hosts[0].uplink.a.ipv4;
      for (const h of hosts.slice(1)) {
        await h.ns.exec('ip', ['route', 'add', `${grpcHost}/32`, 'via', h.uplink.a.ipv4]);
      }

      const replicaEnv = {
        ...env,
        AUDIT_SIGNING_KEY_FILE: auditKey,
        AGENT_WINDOW_SECONDS: String(WINDOW_SECONDS),
        LOG_LEVEL: 'info',
      };
      const t1 = Date.now();
      await Promise.all(['r1', 'r2', 'r3'].map((name) => startReplica(name, replicaEnv)));
      const t2 = Date.now();

      const [lbHttp, lbGrpc] = [await freeTcpPort(), await freeTcpPort()];
      api = `http://127.0.0.1:${lbHttp}`;
      lb = Haproxy.start(dir, {
        grpc: { host: grpcHost, port: lbGrpc },
        http: { host: '127.0.0.1', port: lbHttp },
        replicas,
      });
      // Through haproxy, every replica answers (round robin: three requests reach all three).
      const reached = new Set<string>();
      await waitFor(
        async () => {
          const res = await fetch(`${api}/readyz`).catch(() => null);
          const r = res?.status === 200 ? res.headers.get('x-tidewatch-replica') : null;
          if (r) reached.add(r);
          return reached.size === 3;
        },
        30_000,
        'every replica answering through haproxy',
        logs,
      );
      const answer = await signInAnswer(api, USER, PASSWORD);
      token = answer.token;
      signedInAt = answer.headers.get('x-tidewatch-replica') ?? '';

      for (const h of hosts) {
        const config = join(dir, `${h.label}-agent.yaml`);
        writeFileSync(
          config,
          JSON.stringify({
            server: { address: `${grpcHost}:${lbGrpc}`, backoff: { maxSeconds: 1 } },
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
            enrollToken,
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
        // One enrolment at a time (see fleet.e2e-spec.ts: several at once outlast the Welcome wait).
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
      console.log(
        `replicas: set-up ${t1 - t0} ms, three replicas up in ${t2 - t1} ms, haproxy and agents ${Date.now() - t2} ms`,
      );
    }, 180_000);

    it('a session made through one replica is valid on every replica', async () => {
      expect(replicas.map((r) => r.name)).toContain(signedInAt);
      for (const r of replicas) {
        const res = await get<{ items: unknown[] }>(
          `http://127.0.0.1:${r.httpPort}`,
          '/api/v1/hosts',
        );
        expect({ replica: r.name, status: res.status, hosts: res.body.items.length }).toEqual({
          replica: r.name,
          status: 200,
          hosts: 3,
        });
      }
    });

    it('a replica SIGKILLed mid-stream: its agents move to another, totals equal the counters, the live feed and the session go on', async () => {
      if (!lb || hosts.some((h) => !h.agent?.running)) throw new Error('set-up did not run');
      // Where each agent streams now; the victim is a replica holding at least one of them.
      const at = new Map(hosts.map((h) => [h.agentId, welcomes(replicas, h.agentId).at(-1)]));
      const victim = replicas
        .map((r) => ({ r, n: hosts.filter((h) => at.get(h.agentId) === r.name).length }))
        .sort((x, y) => y.n - x.n)[0];
      expect(victim.n).toBeGreaterThan(0);
      const moved = hosts.filter((h) => at.get(h.agentId) === victim.r.name);
      const survivors = replicas.filter((r) => r !== victim.r);

      // A live subscriber on a surviving replica (round robin: within three tries).
      for (let tries = 0; tries < 3 && (!live || liveAt === victim.r.name); tries++) {
        live?.terminate();
        ({ ws: live, replica: liveAt } = await openLive());
      }
      expect(survivors.map((r) => r.name)).toContain(liveAt);
      live!.on('message', (raw: Buffer) => {
        const m = JSON.parse(raw.toString()) as { event: string; data: Batch };
        if (m.event === 'batch')
          batches.push({ agentId: m.data.agentId, sequence: m.data.sequence });
      });
      live!.send(JSON.stringify({ event: 'subscribe', data: { room: 'fleet' } }));
      await waitFor(
        () => hosts.every((h) => batches.some((b) => b.agentId === h.agentId)),
        20_000,
        'a live batch from every host',
        logs,
      );

      // Traffic on every link; the victim dies while it flows, once a window of it is announced.
      const welcomed = new Map(moved.map((h) => [h.agentId, welcomes(replicas, h.agentId).length]));
      const traffic = exchange({ udp: 30, ping: 150 });
      const seen = batches.length;
      await waitFor(
        () => batches.length > seen + hosts.length,
        20_000,
        'windows during traffic',
        logs,
      );
      const killedAt = Date.now();
      await victim.r.process.stop('SIGKILL');

      // Each of its agents is welcomed again, by a survivor (while the traffic still goes on).
      await waitFor(
        () => moved.every((h) => welcomes(replicas, h.agentId).length > welcomed.get(h.agentId)!),
        30_000,
        'the killed replica’s agents reconnecting',
        logs,
      );
      const reconnectedAt = Date.now();
      await traffic;
      for (const h of moved) {
        expect(survivors.map((r) => r.name)).toContain(welcomes(replicas, h.agentId).at(-1));
      }
      console.log(
        `replicas: killed ${victim.r.name} (${moved.map((h) => h.label).join(',')}); welcomed by a survivor ${reconnectedAt - killedAt} ms later; traffic done ${Date.now() - killedAt} ms after the kill`,
      );

      await waitQuiet(hosts.flatMap((h) => h.ends));
      const truth = await counters();
      // Every window holding that traffic is stored (the open one is at most one past, +1 closing).
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

      // Nothing lost or doubled: the stored table equals what was sent, and the interface counters.
      for (const [i, h] of hosts.entries()) {
        const res = await get<SummaryView>(api, '/api/v1/traffic/summary', {
          agentId: h.agentId,
          from,
          to: new Date(Date.now() + 60_000).toISOString(),
        });
        expect(res.status).toBe(200);
        const got = tableOf(res.body);
        expect({ host: h.label, table: got }).toEqual({
          host: h.label,
          table: sent.get(h.agentId),
        });
        expect({
          host: h.label,
          ingress: directionTotal(got, 'ingress'),
          egress: directionTotal(got, 'egress'),
        }).toEqual({
          host: h.label,
          ingress: { packets: truth[i].rxPackets, bytes: truth[i].rxBytes },
          egress: { packets: truth[i].txPackets, bytes: truth[i].txBytes },
        });
      }

      // The live feed on the survivor goes on, also with windows the moved agents sent afterwards.
      const last = new Map(moved.map((h) => [h.agentId, Math.max(0, ...spooled(h.stateDir))]));
      const stored = await Promise.all(moved.map(highestSequence));
      await waitFor(
        () =>
          moved.every((h, k) =>
            batches.some(
              (b) =>
                b.agentId === h.agentId && b.sequence > Math.max(stored[k], last.get(h.agentId)!),
            ),
          ),
        20_000,
        'live batches from the moved agents after the kill',
        logs,
      );
      expect(live!.readyState).toBe(WebSocket.OPEN);

      // The session still holds on every survivor, and through haproxy; the victim answers nothing.
      for (const r of survivors) {
        const res = await get(`http://127.0.0.1:${r.httpPort}`, '/api/v1/hosts');
        expect({ replica: r.name, status: res.status }).toEqual({ replica: r.name, status: 200 });
      }
      const listed = await get<{ items: { agentId: string; status: string }[] }>(
        api,
        '/api/v1/hosts',
      );
      expect(
        listed.body.items
          .map((x) => ({ agentId: x.agentId, status: x.status }))
          .sort((x, y) => x.agentId.localeCompare(y.agentId)),
      ).toEqual(
        hosts
          .map((h) => ({ agentId: h.agentId, status: 'online' }))
          .sort((x, y) => x.agentId.localeCompare(y.agentId)),
      );

      // The audit trail, written by three replicas at once, is one chain: it verifies, and holds
      // one enrolment per agent whichever replica took it.
      const { token: auditor } = await signInAnswer(api, AUDITOR, PASSWORD);
      const verify = await getAs<{ ok: boolean }>(api, auditor, '/api/v1/audit/verify');
      expect(verify).toMatchObject({ status: 200, body: { ok: true } });
      const trail = await getAs<{ items: { action: string; target: string }[] }>(
        api,
        auditor,
        '/api/v1/audit',
        { action: 'agent.enrolled', limit: 100 },
      );
      expect(
        trail.body.items
          .filter((e) => e.action === 'agent.enrolled')
          .map((e) => e.target)
          .sort(),
      ).toEqual(hosts.map((h) => h.agentId).sort());
      await expect(fetch(`http://127.0.0.1:${victim.r.httpPort}/healthz`)).rejects.toThrow();
    });
  },
  [haproxyReason()],
);
