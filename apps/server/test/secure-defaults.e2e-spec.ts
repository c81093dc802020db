import * as http from 'node:http';
import * as https from 'node:https';
import { connect } from 'node:net';
import { networkInterfaces } from 'node:os';
import type { AddressInfo } from 'node:net';
import WebSocket from 'ws';
import { AccessGuard } from '../src/auth/access.guard';
import { EnvironmentError, parseEnvironment } from '../src/config/environment';
import type { RunningServer } from '../src/server';
import { createTestDatabase, TestDatabase } from './support/database';
import { TestPki } from './support/pki';
import { startTestServer } from './support/server';

// Secure defaults of the HTTP side, against the real server: loopback unless configured,
// HTTPS from PEM files (a throwaway CA made with openssl), and a bounded live feed.

// A loaded CI machine starts a server (migrations, scrypt) slower than jest's 5 s default.
jest.setTimeout(60_000);

let db: TestDatabase;
let pki: TestPki;

beforeAll(async () => {
  db = await createTestDatabase();
  pki = new TestPki();
  pki.ca('ca');
  pki.leaf('server', 'ca', 'localhost', [
    'subjectAltName=DNS:localhost,IP:127.0.0.1',
    'extendedKeyUsage=serverAuth',
  ]);
  pki.ca('other');
});

afterAll(async () => {
  await db?.drop();
  pki?.remove();
});

/** One GET over HTTPS; resolves with status, body and whether the peer was verified. */
function httpsGet(
  port: number,
  path: string,
  ca?: Buffer,
): Promise<{ status: number; body: string; authorized: boolean }> {
  return new Promise((resolve, reject) => {
    const req = https.get(
      { host: '127.0.0.1', port, path, servername: 'localhost', ca, agent: false },
      (res) => {
        let body = '';
        res.on('data', (c: Buffer) => (body += c.toString()));
        res.on('end', () =>
          resolve({
            status: res.statusCode ?? 0,
            body,
            authorized: (res.socket as import('node:tls').TLSSocket).authorized,
          }),
        );
      },
    );
    req.on('error', reject);
  });
}

function httpGet(port: number, path: string): Promise<number> {
  return new Promise((resolve, reject) => {
    http
      .get({ host: '127.0.0.1', port, path, agent: false }, (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      })
      .on('error', reject);
  });
}

/** The first IPv4 address of this machine that is not loopback, if any. */
function externalIPv4(): string | null {
  for (const list of Object.values(networkInterfaces())) {
    for (const a of list ?? []) if (a.family === 'IPv4' && !a.internal) return a.address;
  }
  return null;
}

describe('HTTP binds to 127.0.0.1 unless HTTP_HOST says otherwise', () => {
  let server: RunningServer;
  beforeAll(async () => {
    server = await startTestServer(db.url, { HTTP_HOST: '' });
  });
  afterAll(() => server?.close());

  it('is the default, and the listening socket is loopback only', async () => {
    expect(parseEnvironment({ DATABASE_URL: db.url }).httpHost).toBe('127.0.0.1');
    const addr = server.app.getHttpServer().address() as AddressInfo;
    expect(addr.address).toBe('127.0.0.1');
    expect(await httpGet(server.httpPort, '/healthz')).toBe(200);
    const ext = externalIPv4();
    if (ext) {
      // The same port on this machine's own non-loopback address: nobody listens there.
      const err = await new Promise<NodeJS.ErrnoException>((resolve) => {
        const s = connect({ host: ext, port: server.httpPort });
        s.on('connect', () => {
          s.destroy();
          resolve(Object.assign(new Error('connected'), { code: 'CONNECTED' }));
        });
        s.on('error', resolve);
      });
      expect(err.code).toBe('ECONNREFUSED');
    }
  });
});

/** Whether a TCP connection to host:port is accepted (false: refused). */
function accepts(host: string, port: number): Promise<boolean> {
  return new Promise((resolve, reject) => {
    const s = connect({ host, port });
    s.on('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.on('error', (err: NodeJS.ErrnoException) =>
      err.code === 'ECONNREFUSED' ? resolve(false) : reject(err),
    );
  });
}

describe('gRPC binds to 127.0.0.1 unless GRPC_HOST says otherwise', () => {
  let server: RunningServer;
  beforeAll(async () => {
    server = await startTestServer(db.url, { GRPC_HOST: '' });
  });
  afterAll(() => server?.close());

  it('is the default: loopback accepts, the non-loopback address refuses', async () => {
    expect(parseEnvironment({ DATABASE_URL: db.url }).grpcHost).toBe('127.0.0.1');
    expect(server.grpcPort).toBeGreaterThan(0);
    expect(await accepts('127.0.0.1', server.grpcPort)).toBe(true);
    const ext = externalIPv4();
    if (ext) expect(await accepts(ext, server.grpcPort)).toBe(false);
  });

  it('GRPC_HOST=0.0.0.0 is an explicit choice that is honoured', () => {
    expect(parseEnvironment({ DATABASE_URL: db.url, GRPC_HOST: '0.0.0.0' }).grpcHost).toBe(
      '0.0.0.0',
    );
  });
});

describe('HTTPS from HTTP_TLS_CERT / HTTP_TLS_KEY', () => {
  let server: RunningServer;
  beforeAll(async () => {
    server = await startTestServer(db.url, {
      HTTP_TLS_CERT: pki.file('server.crt'),
      HTTP_TLS_KEY: pki.file('server.key'),
    });
  });
  afterAll(() => server?.close());

  it('serves REST over TLS with the configured certificate', async () => {
    const r = await httpsGet(server.httpPort, '/healthz', pki.read('ca.crt'));
    expect(r.status).toBe(200);
    expect(r.authorized).toBe(true);
  });

  it('a client that does not trust the CA, or speaks plain HTTP, gets nothing', async () => {
    await expect(
      httpsGet(server.httpPort, '/healthz', pki.read('other.crt')),
    ).rejects.toMatchObject({ code: 'UNABLE_TO_VERIFY_LEAF_SIGNATURE' });
    await expect(httpGet(server.httpPort, '/healthz')).rejects.toThrow();
  });

  it('serves the live feed as wss:// on the same port', async () => {
    const allow = jest.spyOn(AccessGuard.prototype, 'allowConnection').mockResolvedValue(true);
    const msg = jest.spyOn(AccessGuard.prototype, 'canActivate').mockResolvedValue(true);
    try {
      const ws = new WebSocket(`wss://localhost:${server.httpPort}/api/v1/live`, {
        ca: pki.read('ca.crt'),
      });
      const reply = await new Promise<string>((resolve, reject) => {
        ws.once('error', reject);
        ws.once('open', () =>
          ws.send(JSON.stringify({ event: 'subscribe', data: { room: 'fleet' } })),
        );
        ws.once('message', (m) => resolve(m.toString()));
      });
      expect(JSON.parse(reply)).toEqual({ event: 'subscribed', data: { room: 'fleet' } });
      ws.close();
    } finally {
      allow.mockRestore();
      msg.mockRestore();
    }
  });

  it('refuses a certificate without its key, and a file that is not PEM, at boot', () => {
    expect(() =>
      parseEnvironment({ DATABASE_URL: db.url, HTTP_TLS_CERT: pki.file('server.crt') }),
    ).toThrow(new EnvironmentError('HTTP_TLS_CERT and HTTP_TLS_KEY must be set together'));
    expect(() =>
      parseEnvironment({
        DATABASE_URL: db.url,
        HTTP_TLS_CERT: pki.file('server.crt'),
        HTTP_TLS_KEY: pki.file('server.ext'),
      }),
    ).toThrow(/HTTP_TLS_KEY: .* is not PEM/);
  });
});

describe('the live feed is bounded: connections, rooms per socket, message size', () => {
  let server: RunningServer;
  let spies: jest.SpyInstance[] = [];
  const open: WebSocket[] = [];

  beforeAll(async () => {
    server = await startTestServer(db.url, {
      LIVE_MAX_CONNECTIONS: '2',
      LIVE_MAX_ROOMS_PER_SOCKET: '2',
      LIVE_MAX_PAYLOAD_BYTES: '1024',
    });
    // Sign-in is not what this tests: every socket is admitted, every message allowed.
    spies = [
      jest.spyOn(AccessGuard.prototype, 'allowConnection').mockResolvedValue(true),
      jest.spyOn(AccessGuard.prototype, 'canActivate').mockResolvedValue(true),
    ];
  });
  afterAll(async () => {
    spies.forEach((s) => s.mockRestore());
    open.forEach((ws) => ws.terminate());
    await server?.close();
  });

  const url = () => `ws://127.0.0.1:${server.httpPort}/api/v1/live`;

  /** Opens a socket; resolves with it, or with the HTTP status of a refused handshake. */
  function dial(): Promise<WebSocket | number> {
    return new Promise((resolve, reject) => {
      const ws = new WebSocket(url());
      ws.once('open', () => {
        open.push(ws);
        resolve(ws);
      });
      ws.once('unexpected-response', (_req, res) => resolve(res.statusCode ?? 0));
      ws.once('error', reject);
    });
  }

  function ask(ws: WebSocket, event: string, room: string): Promise<unknown> {
    return new Promise((resolve) => {
      ws.once('message', (m) => resolve(JSON.parse(m.toString())));
      ws.send(JSON.stringify({ event, data: { room } }));
    });
  }

  it('answers the connection past LIVE_MAX_CONNECTIONS with 503, and admits again after a close', async () => {
    const first = await dial();
    const second = await dial();
    expect(first).toBeInstanceOf(WebSocket);
    expect(second).toBeInstanceOf(WebSocket);
    expect(await dial()).toBe(503);
    const closed = new Promise((r) => (first as WebSocket).once('close', r));
    (first as WebSocket).close();
    await closed;
    // The server counts the socket out when its close handshake completes: retry until then.
    let again = await dial();
    const deadline = Date.now() + 5_000;
    while (again === 503 && Date.now() < deadline) again = await dial();
    expect(again).toBeInstanceOf(WebSocket);
    open.splice(0).forEach((ws) => ws.close());
  });

  it('refuses a room past LIVE_MAX_ROOMS_PER_SOCKET; a room already held and freed slots still work', async () => {
    const ws = await waitForSlot();
    const a = 'host:00000000-0000-4000-8000-00000000000a';
    const b = 'host:00000000-0000-4000-8000-00000000000b';
    expect(await ask(ws, 'subscribe', 'fleet')).toEqual({
      event: 'subscribed',
      data: { room: 'fleet' },
    });
    expect(await ask(ws, 'subscribe', a)).toEqual({ event: 'subscribed', data: { room: a } });
    expect(await ask(ws, 'subscribe', b)).toEqual({
      event: 'error',
      data: { message: 'at most 2 rooms per connection' },
    });
    expect(await ask(ws, 'subscribe', 'fleet')).toEqual({
      event: 'subscribed',
      data: { room: 'fleet' },
    });
    expect(await ask(ws, 'unsubscribe', a)).toEqual({ event: 'unsubscribed', data: { room: a } });
    expect(await ask(ws, 'subscribe', b)).toEqual({ event: 'subscribed', data: { room: b } });
    ws.close();
  });

  it('closes a socket that sends a message over LIVE_MAX_PAYLOAD_BYTES (1009)', async () => {
    const ws = await waitForSlot();
    const code = await new Promise<number>((resolve) => {
      ws.once('close', (c) => resolve(c));
      ws.send(
        JSON.stringify({ event: 'subscribe', data: { room: 'fleet', pad: 'x'.repeat(2000) } }),
      );
    });
    expect(code).toBe(1009);
  });

  /** A socket, once an earlier test's closed sockets have been counted out. */
  async function waitForSlot(): Promise<WebSocket> {
    const deadline = Date.now() + 5_000;
    for (;;) {
      const r = await dial();
      if (r instanceof WebSocket) return r;
      if (Date.now() > deadline) throw new Error(`no live slot: ${r}`);
    }
  }
});
