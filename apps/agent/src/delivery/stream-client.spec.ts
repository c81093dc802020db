import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as grpc from '@grpc/grpc-js';
import pino from 'pino';
import type { Batch__Output } from '@tidewatch/proto';
import { Spool } from '../spool/spool';
import { CredentialStore, type TlsOptions } from './credentials';
import { StreamClient, type StreamClientOptions } from './stream-client';
import { freePort, TestIngestServer, waitFor } from '../../test/fixtures/ingest-server';

const AGENT_ID = '00000000-0000-4000-8000-000000000001';

function batch(i: number): Batch__Output {
  return {
    sequence: 0,
    windowStartMs: i * 10_000,
    windowEndMs: (i + 1) * 10_000,
    traffic: [
      {
        iface: 'veth0',
        direction: 'DIRECTION_INGRESS',
        family: 'FAMILY_IPV4',
        protocol: 'PROTOCOL_UDP',
        packets: i,
        bytes: i * 100,
      },
    ],
    rates: [],
    ports: [],
    talkers: [],
    connections: null,
    drops: [],
    health: null,
    abnormal: [],
    flowsSampled: false,
  };
}

describe('StreamClient against a real gRPC server on 127.0.0.1', () => {
  let dir: string;
  let server: TestIngestServer;
  const clients: StreamClient[] = [];

  function client(
    spool: Spool,
    port: number,
    over: Partial<StreamClientOptions> = {},
  ): StreamClient {
    const c = new StreamClient({
      address: `127.0.0.1:${port}`,
      tls: { enabled: false },
      credentials: new CredentialStore(dir),
      hello: () => ({ agentId: AGENT_ID, hostname: 'test', agentVersion: '0.1.0' }),
      spool,
      maxInFlight: 4,
      backoff: { initialMs: 20, maxMs: 200 },
      onConfig: () => ({ ok: true }),
      logger: pino({ level: 'silent' }),
      ...over,
    });
    clients.push(c);
    c.start();
    return c;
  }

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'tw-delivery-'));
    server = new TestIngestServer();
  });

  afterEach(() => {
    clients.splice(0).forEach((c) => c.stop());
    server.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('server down, then up: every window delivered exactly once, in order', async () => {
    const port = await freePort();
    const spool = Spool.open(dir, 1 << 20);
    const c = client(spool, port);
    for (let i = 1; i <= 10; i++) {
      spool.append(batch(i));
      c.notify();
    }
    await new Promise((r) => setTimeout(r, 300)); // several failed attempts
    expect(c.connectionState).not.toBe('ready');
    await server.start(port);
    await waitFor(() => spool.depth === 0, 10_000, 'spool drained');
    expect(server.received.map((b) => b.sequence)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    expect(server.received.map((b) => b.traffic[0].packets)).toEqual([
      1, 2, 3, 4, 5, 6, 7, 8, 9, 10,
    ]);
    // Live windows after the reconnect follow on.
    spool.append(batch(11));
    c.notify();
    await waitFor(() => server.stored.has(11));
    expect(server.received.map((b) => b.sequence)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11]);
  });

  it('agent restarted while the server is down: none lost, none repeated', async () => {
    const port = await freePort();
    const first = Spool.open(dir, 1 << 20);
    const a = client(first, port);
    for (let i = 1; i <= 3; i++) first.append(batch(i));
    a.stop();
    const second = Spool.open(dir, 1 << 20);
    const b = client(second, port);
    second.append(batch(4));
    b.notify();
    await server.start(port);
    await waitFor(() => second.depth === 0);
    expect(server.received.map((x) => x.sequence)).toEqual([1, 2, 3, 4]);
  });

  it('resends what was not acknowledged when the stream breaks (at-least-once)', async () => {
    const port = await server.start(0);
    const spool = Spool.open(dir, 1 << 20);
    server.acking = false;
    const c = client(spool, port);
    spool.append(batch(1));
    spool.append(batch(2));
    c.notify();
    await waitFor(() => server.received.length === 2);
    expect(spool.depth).toBe(2);
    server.stop();
    server.acking = true;
    await server.start(port);
    await waitFor(() => spool.depth === 0);
    expect([...server.stored.keys()]).toEqual([1, 2]);
  });

  it('spool full while the server is down: the oldest dropped and counted', async () => {
    const port = await freePort();
    const one = Buffer.byteLength(JSON.stringify({ ...batch(10), sequence: 10 }));
    const spool = Spool.open(dir, one * 3 + 5);
    const c = client(spool, port);
    for (let i = 1; i <= 8; i++) spool.append(batch(i));
    expect(spool.depth).toBe(3);
    await server.start(port);
    c.notify();
    await waitFor(() => spool.depth === 0);
    expect(server.received.map((b) => b.sequence)).toEqual([6, 7, 8]);
    expect(spool.takeDropped()).toEqual({ spool_full: 5 });
  });

  it('enrolls with the token, stores the credential 0600, then presents only the credential', async () => {
    server.credentialToIssue = 'cred-abc';
    const port = await server.start(0);
    const spool = Spool.open(dir, 1 << 20);
    const first = client(spool, port, { enrollmentToken: 'enroll-123' });
    await waitFor(() => first.connectionState === 'ready');
    const file = join(dir, 'credential');
    await waitFor(() => {
      try {
        return readFileSync(file, 'utf8') === 'cred-abc';
      } catch {
        return false;
      }
    });
    expect(statSync(file).mode & 0o777).toBe(0o600);
    first.stop();
    const second = client(spool, port, { enrollmentToken: 'enroll-123' });
    await waitFor(() => second.connectionState === 'ready');
    expect(server.hellos.map((h) => [h.enrollmentToken, h.agentCredential])).toEqual([
      ['enroll-123', ''],
      ['', 'cred-abc'],
    ]);
  });

  it('applies a ConfigUpdate and answers ConfigApplied', async () => {
    const port = await server.start(0);
    const seen: number[] = [];
    const c = client(Spool.open(dir, 1 << 20), port, {
      onConfig: (cfg) => {
        seen.push(cfg.windowSeconds);
        return cfg.windowSeconds > 0
          ? { ok: true }
          : { ok: false, error: 'windowSeconds must be > 0' };
      },
    });
    await waitFor(() => c.connectionState === 'ready');
    server.pushConfig({ version: 7, windowSeconds: 5, topN: 3 });
    await waitFor(() => server.configApplied.length === 1);
    expect(server.configApplied[0]).toEqual({ version: 7, ok: true, error: '' });
    expect(seen).toEqual([5]);
  });

  it('speaks mutual TLS when given a CA, a certificate and a key', async () => {
    const ssl = (...args: string[]) => execFileSync('openssl', args, { cwd: dir, stdio: 'pipe' });
    ssl(
      'req',
      '-x509',
      '-newkey',
      'rsa:2048',
      '-nodes',
      '-keyout',
      'ca.key',
      '-out',
      'ca.crt',
      '-days',
      '1',
      '-subj',
      '/CN=tidewatch-test-ca',
    );
    for (const name of ['server', 'client']) {
      ssl(
        'req',
        '-newkey',
        'rsa:2048',
        '-nodes',
        '-keyout',
        `${name}.key`,
        '-out',
        `${name}.csr`,
        '-subj',
        `/CN=${name}`,
      );
      writeFileSync(
        join(dir, `${name}.ext`),
        name === 'server'
          ? 'subjectAltName=DNS:ingest.test,IP:127.0.0.1\n'
          : 'extendedKeyUsage=clientAuth\n',
      );
      ssl(
        'x509',
        '-req',
        '-in',
        `${name}.csr`,
        '-CA',
        'ca.crt',
        '-CAkey',
        'ca.key',
        '-CAcreateserial',
        '-out',
        `${name}.crt`,
        '-days',
        '1',
        '-extfile',
        `${name}.ext`,
      );
    }
    const read = (f: string) => readFileSync(join(dir, f));
    server = new TestIngestServer(
      grpc.ServerCredentials.createSsl(
        read('ca.crt'),
        [{ private_key: read('server.key'), cert_chain: read('server.crt') }],
        true,
      ),
    );
    const port = await server.start(0);
    const tls: TlsOptions = {
      enabled: true,
      caFile: join(dir, 'ca.crt'),
      certFile: join(dir, 'client.crt'),
      keyFile: join(dir, 'client.key'),
      serverName: 'ingest.test',
    };
    const spool = Spool.open(join(dir, 'state'), 1 << 20);
    const c = client(spool, port, { tls });
    spool.append(batch(1));
    c.notify();
    await waitFor(() => spool.depth === 0);
    expect(server.received.map((b) => b.sequence)).toEqual([1]);
    // Without a client certificate the server refuses the connection.
    const spool2 = Spool.open(join(dir, 'state2'), 1 << 20);
    const anon = client(spool2, port, { tls: { ...tls, certFile: undefined, keyFile: undefined } });
    spool2.append(batch(2));
    anon.notify();
    await new Promise((r) => setTimeout(r, 500));
    expect(anon.connectionState).not.toBe('ready');
    expect(spool2.depth).toBe(1);
  }, 30_000);
});
