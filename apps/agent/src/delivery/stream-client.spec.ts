import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as grpc from '@grpc/grpc-js';
import pino from 'pino';
import {
  loadTidewatchV1,
  type Batch__Output,
  type IngestClient,
  type ServerMessage__Output,
} from '@tidewatch/proto';
import { Spool } from '../spool/spool';
import { CredentialStore, type TlsOptions } from './credentials';
import { StreamClient, type StreamClientOptions } from './stream-client';
import { freePort, TestIngestServer, waitFor } from '../../test/fixtures/ingest-server';
import { makeTlsFiles, mutualTlsServerCredentials } from '../../test/fixtures/tls';

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

/** The batch grown with rate rows to at least `bytes` of JSON. */
function withRates(b: Batch__Output, bytes: number): Batch__Output {
  while (Buffer.byteLength(JSON.stringify(b)) < bytes) {
    b.rates.push({
      iface: 'veth0',
      direction: 'DIRECTION_INGRESS',
      avgPacketsPerSecond: 1,
      peakPacketsPerSecond: 1,
      avgBitsPerSecond: 1,
      peakBitsPerSecond: 1,
    });
  }
  return b;
}

// Real sockets on a loaded 2-core CI machine: the waits inside bound failures, not jest's 5 s default.
jest.setTimeout(60_000);

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
      logger: pino({ level: process.env.TW_TEST_LOG ?? 'silent' }),
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

  it("honours the server's credit: min(own limit, Welcome.max_in_flight), raised by an Ack", async () => {
    // Ground truth: what the server received. A ConfigUpdate answered with ConfigApplied marks a
    // point in the stream: any batch the agent wrote before it arrived before it.
    const mark = async (version: number) => {
      server.pushConfig({ version, windowSeconds: 10 });
      await waitFor(() => server.configApplied.some((c) => c.version === version));
    };
    server.acking = false;
    server.credit = 2;
    const port = await server.start(0);
    const spool = Spool.open(dir, 1 << 20);
    const c = client(spool, port, { maxInFlight: 4 });
    for (let i = 1; i <= 8; i++) spool.append(batch(i));
    c.notify();
    await waitFor(() => server.received.length === 2);
    await mark(2);
    expect(c.inFlightLimit).toBe(2);
    expect(server.received.map((b) => b.sequence)).toEqual([1, 2]);
    server.ack(1); // one acked: room for one more under the credit
    await waitFor(() => server.received.length === 3);
    await mark(3);
    expect(server.received.map((b) => b.sequence)).toEqual([1, 2, 3]);
    server.ack(1, 8); // credit raised past the agent's own limit: its own 4 applies
    await waitFor(() => server.received.length === 5);
    await mark(4);
    expect(c.inFlightLimit).toBe(4);
    expect(server.received.map((b) => b.sequence)).toEqual([1, 2, 3, 4, 5]);
  });

  it('a server without credit (Welcome.max_in_flight 0): the agent keeps its own limit', async () => {
    server.acking = false;
    const port = await server.start(0);
    const spool = Spool.open(dir, 1 << 20);
    const c = client(spool, port, { maxInFlight: 4 });
    for (let i = 1; i <= 8; i++) spool.append(batch(i));
    c.notify();
    await waitFor(() => server.received.length === 4);
    server.pushConfig({ version: 2, windowSeconds: 10 });
    await waitFor(() => server.configApplied.some((x) => x.version === 2));
    expect(c.inFlightLimit).toBe(4);
    expect(server.received.map((b) => b.sequence)).toEqual([1, 2, 3, 4]);
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

  it('spool full while the server is down: Hello declares the oldest held, the server records the gap and accepts the stream', async () => {
    const port = await freePort();
    const one = Buffer.byteLength(JSON.stringify({ ...batch(10), sequence: 10 }));
    const spool = Spool.open(dir, one * 3 + 5);
    const c = client(spool, port);
    for (let i = 1; i <= 8; i++) spool.append(batch(i));
    expect(spool.depth).toBe(3);
    await server.start(port);
    c.notify();
    await waitFor(() => spool.depth === 0);
    expect(server.hellos.at(-1)!.oldestSequence).toBe(6);
    expect(server.refused).toEqual([]);
    expect(server.received.map((b) => b.sequence)).toEqual([6, 7, 8]);
    expect(server.lost).toEqual([1, 2, 3, 4, 5]);
    expect(spool.takeDropped()).toEqual({ spool_full: server.lost.length });
    expect(server.highestContiguous()).toBe(8);
  });

  it('numbering restarted (fresh state directory, the server holds up to 7): nothing taken as acked, held windows renumbered 8.., none lost', async () => {
    server.alreadyStoredUpTo(7);
    const port = await freePort();
    await server.start(port);
    server.stop(); // down while the fresh agent spools its first windows
    const spool = Spool.open(dir, 1 << 20);
    const lines: string[] = [];
    const logger = pino({ level: 'warn' }, { write: (l: string) => lines.push(l) });
    const c = client(spool, port, { logger });
    for (let i = 1; i <= 3; i++) spool.append(batch(i));
    await server.start(port);
    c.notify();
    await waitFor(() => spool.depth === 0, 10_000, 'spool drained');
    spool.append(batch(4));
    c.notify();
    await waitFor(() => server.highestContiguous() === 11, 10_000, 'the live window');
    expect(server.refused).toEqual([]);
    expect(server.received.map((b) => [b.sequence, b.traffic[0].packets])).toEqual([
      [8, 1],
      [9, 2],
      [10, 3],
      [11, 4],
    ]);
    const warn = lines.map((l) => JSON.parse(l) as { level: number; msg: string });
    expect(warn).toContainEqual(
      expect.objectContaining({
        level: 40,
        msg: 'sequence numbers restarted: the server already holds up to 7; 3 held windows renumbered from 8',
      }),
    );
  });

  it('Hello says 0 while the spool is empty', async () => {
    const port = await server.start(0);
    const c = client(Spool.open(dir, 1 << 20), port);
    await waitFor(() => c.connectionState === 'ready');
    expect(server.hellos.map((h) => h.oldestSequence)).toEqual([0]);
  });

  it('batches dropped before they were sent on an open stream: the stream is renewed and the gap announced', async () => {
    const port = await server.start(0);
    server.acking = false; // a slow server: nothing acknowledged, the spool fills up
    const one = Buffer.byteLength(JSON.stringify({ ...batch(10), sequence: 10 }));
    const spool = Spool.open(dir, one * 3 + 5);
    const c = client(spool, port, { maxInFlight: 1 });
    await waitFor(() => c.connectionState === 'ready');
    spool.append(batch(1));
    c.notify();
    await waitFor(() => server.received.length === 1, 5000, 'one in flight');
    for (const i of [2, 3]) {
      spool.append(batch(i));
      c.notify();
    }
    // A window twice the usual size pushes out 1 (sent) and 2 (never sent) at once.
    const big = withRates(batch(4), 1.5 * one);
    expect(Buffer.byteLength(JSON.stringify(big))).toBeLessThan(2 * one);
    spool.append(big);
    c.notify();
    await waitFor(() => server.hellos.length === 2, 5000, 'a new Hello');
    expect(server.hellos.map((h) => h.oldestSequence)).toEqual([0, 3]);
    await waitFor(() => server.received.length === 2, 5000, 'the renewed stream');
    server.acking = true;
    spool.append(batch(5));
    c.notify();
    await waitFor(() => spool.depth === 0, 5000, 'spool drained');
    // The server never saw an undeclared gap; every batch still held arrived once, in order.
    expect(server.refused).toEqual([]);
    expect(server.received.map((b) => b.sequence)).toEqual([1, 3, 4, 5]);
    expect(server.lost).toEqual([2]);
    expect(server.highestContiguous()).toBe(5);
    expect(spool.takeDropped()).toEqual({ spool_full: 3 }); // 1 and 3 were sent before they went
  });

  it('a batch missing inside the spool (never stored) is announced as a gap, after what came before it', async () => {
    const port = await server.start(0);
    const one = Buffer.byteLength(JSON.stringify({ ...batch(10), sequence: 10 }));
    const spool = Spool.open(dir, one * 3 + 5);
    const c = client(spool, port);
    await waitFor(() => c.connectionState === 'ready');
    spool.append(batch(1));
    c.notify();
    await waitFor(() => server.highestContiguous() === 1);
    const huge = withRates(batch(2), 4 * one);
    expect(spool.append(huge).sequence).toBe(2); // larger than the spool: never stored
    spool.append(batch(3));
    c.notify();
    await waitFor(() => server.highestContiguous() === 3, 5000, 'batch 3 stored');
    expect(server.refused).toEqual([]);
    expect(server.hellos.map((h) => h.oldestSequence)).toEqual([0, 3]);
    expect(server.received.map((b) => b.sequence)).toEqual([1, 3]);
    expect(server.lost).toEqual([2]);
  });

  it("the test server keeps the server's rule: an undeclared gap is refused with FAILED_PRECONDITION", async () => {
    const port = await server.start(0);
    const v1 = loadTidewatchV1();
    const raw = new v1.Ingest(
      `127.0.0.1:${port}`,
      grpc.credentials.createInsecure(),
    ) as unknown as IngestClient;
    try {
      const call = raw.Stream();
      const status = new Promise<grpc.ServiceError>((resolve) => call.on('error', resolve));
      call.on('data', () => undefined);
      call.write({ hello: { agentId: AGENT_ID, oldestSequence: 0 } });
      call.write({ batch: { ...batch(1), sequence: 3 } });
      const err = await status;
      expect(err.code).toBe(grpc.status.FAILED_PRECONDITION);
      expect(err.details).toBe('sequence gap: expected 1, got 3; resend from 1');
      expect(server.stored.size).toBe(0);
      // Declared in Hello, the same gap is recorded as lost and the stream accepted.
      const again = raw.Stream();
      const msgs: ServerMessage__Output[] = [];
      again.on('data', (m: ServerMessage__Output) => msgs.push(m));
      again.on('error', () => undefined); // cancelled by close() below
      again.write({ hello: { agentId: AGENT_ID, oldestSequence: 3 } });
      again.write({ batch: { ...batch(1), sequence: 3 } });
      await waitFor(() => msgs.length === 2);
      expect(msgs.map((m) => m.welcome?.highestSequence ?? m.ack?.sequence)).toEqual([2, 3]);
      expect(server.lost).toEqual([1, 2]);
      again.end();
    } finally {
      raw.close();
    }
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
    const files = makeTlsFiles(dir);
    server = new TestIngestServer(mutualTlsServerCredentials(files));
    const port = await server.start(0);
    const tls: TlsOptions = {
      enabled: true,
      caFile: files.ca,
      certFile: files.clientCert,
      keyFile: files.clientKey,
      serverName: files.serverName,
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
