import * as grpc from '@grpc/grpc-js';
import { Hello, IngestClient, loadTidewatchV1 } from '@tidewatch/proto';
import { randomUUID } from 'node:crypto';
import { AgentRegistryService } from '../src/hosts/agent-registry.service';
import { EnrollmentService } from '../src/enrollment/enrollment.service';
import type { RunningServer } from '../src/server';
import { makeBatch } from './fixtures/windows';
import { AgentStream, ingestClient } from './support/agent-client';
import { createTestDatabase, TestDatabase } from './support/database';
import { TestPki } from './support/pki';
import { startTestServer } from './support/server';

// gRPC ingest over TLS and mutual TLS, with a throwaway PKI made by openssl.
// Ground truth: which certificate each client presented; a client without a
// certificate from the configured CA never reaches Hello, and a certificate
// names exactly one agent.

const AGENT = randomUUID();
const OTHER = randomUUID();
let db: TestDatabase;
let pki: TestPki;
let tls: RunningServer;
let mtls: RunningServer;
let optional: RunningServer;
let token: string;

function client(port: number, identity?: string, ca = 'ca'): IngestClient {
  const creds = identity
    ? grpc.credentials.createSsl(
        pki.read(`${ca}.crt`),
        pki.read(`${identity}.key`),
        pki.read(`${identity}.crt`),
      )
    : grpc.credentials.createSsl(pki.read(`${ca}.crt`));
  const v1 = loadTidewatchV1();
  return new v1.Ingest(`127.0.0.1:${port}`, creds, {
    'grpc.ssl_target_name_override': 'localhost',
  }) as IngestClient;
}

const hello = (agentId: string, creds: Partial<Hello> = {}): Hello => ({
  agentId,
  hostname: `tls-${agentId.slice(0, 8)}`,
  agentVersion: '0.1.0',
  ...creds,
});

const windowStart = (seq: number) =>
  Math.floor(Date.now() / 10_000) * 10_000 - 600_000 + seq * 10_000;

/** The stream must end before any Welcome, with `code`. */
async function refused(stream: AgentStream, h: Hello, code: grpc.status): Promise<string> {
  stream.call.write({ hello: h });
  const end = await stream.ended;
  expect(stream.welcome).toBeNull();
  expect(end.code).toBe(code);
  return end.details;
}

beforeAll(async () => {
  pki = new TestPki();
  pki.ca('ca');
  pki.ca('rogue-ca');
  pki.leaf('server', 'ca', 'localhost', [
    'subjectAltName=DNS:localhost,IP:127.0.0.1',
    'extendedKeyUsage=serverAuth',
  ]);
  pki.leaf('agent', 'ca', 'db-1.example', [
    `subjectAltName=DNS:db-1.example,URI:urn:tidewatch:agent:${AGENT}`,
    'extendedKeyUsage=clientAuth',
  ]);
  pki.leaf('agent-cn', 'ca', OTHER, ['extendedKeyUsage=clientAuth']);
  pki.leaf('fleet', 'ca', 'fleet', ['extendedKeyUsage=clientAuth']);
  pki.leaf('rogue', 'rogue-ca', 'rogue', [
    `subjectAltName=URI:urn:tidewatch:agent:${AGENT}`,
    'extendedKeyUsage=clientAuth',
  ]);
  db = await createTestDatabase();
  const server = { GRPC_TLS_CERT: pki.file('server.crt'), GRPC_TLS_KEY: pki.file('server.key') };
  tls = await startTestServer(db.url, server);
  mtls = await startTestServer(db.url, { ...server, GRPC_TLS_CLIENT_CA: pki.file('ca.crt') });
  optional = await startTestServer(db.url, {
    ...server,
    GRPC_TLS_CLIENT_CA: pki.file('ca.crt'),
    GRPC_TLS_CLIENT_CERT_REQUIRED: 'false',
  });
  token = (await tls.app.get(EnrollmentService).create('tls', 3_600_000, null)).token;
}, 60_000);

afterAll(async () => {
  await tls?.close();
  await mtls?.close();
  await optional?.close();
  await db?.drop();
  pki?.remove();
});

describe('TLS', () => {
  it('enrolls and ingests over TLS with a token', async () => {
    const agentId = randomUUID();
    const s = new AgentStream(client(tls.grpcPort));
    const w = await s.hello(hello(agentId, { enrollmentToken: token }));
    expect(w.agentCredential).toMatch(/^twa_/);
    await s.sendAndAwaitAck([makeBatch(1, 1, windowStart(1))]);
    expect(await s.close()).toMatchObject({ code: grpc.status.OK });
  });

  it('refuses a plaintext client', async () => {
    const s = new AgentStream(ingestClient(tls.grpcPort));
    await refused(s, hello(randomUUID(), { enrollmentToken: token }), grpc.status.UNAVAILABLE);
  });
});

describe('mutual TLS', () => {
  it('identifies the agent by its certificate: no token, no credential', async () => {
    const s = new AgentStream(client(mtls.grpcPort, 'agent'));
    const w = await s.hello(hello(AGENT.toUpperCase()));
    expect(w).toMatchObject({ agentId: AGENT, agentCredential: '', highestSequence: 0 });
    await s.sendAndAwaitAck([1, 2].map((q) => makeBatch(2, q, windowStart(q))));
    expect(await s.close()).toMatchObject({ code: grpc.status.OK });
    const rows = await db.query<{ n: string }>(
      `SELECT count(*) AS n FROM windows_raw WHERE agent_id = $1`,
      [AGENT],
    );
    expect(rows[0].n).toBe('2');
  });

  it('also reads the agent id from a UUID common name', async () => {
    const s = new AgentStream(client(mtls.grpcPort, 'agent-cn'));
    expect((await s.hello(hello(OTHER))).agentId).toBe(OTHER);
    await s.close();
  });

  it('refuses a client without a certificate', async () => {
    const s = new AgentStream(client(mtls.grpcPort));
    await refused(s, hello(randomUUID(), { enrollmentToken: token }), grpc.status.UNAVAILABLE);
  });

  it('refuses a certificate from another CA', async () => {
    const s = new AgentStream(client(mtls.grpcPort, 'rogue'));
    await refused(s, hello(AGENT), grpc.status.UNAVAILABLE);
  });

  it('refuses a Hello for another agent than the certificate names', async () => {
    const s = new AgentStream(client(mtls.grpcPort, 'agent'));
    const details = await refused(
      s,
      hello(OTHER, { enrollmentToken: token }),
      grpc.status.PERMISSION_DENIED,
    );
    expect(details).toMatch(/certificate names agent/);
  });

  it('a certificate that names no agent needs the token or credential as without mTLS', async () => {
    const none = new AgentStream(client(mtls.grpcPort, 'fleet'));
    expect(await refused(none, hello(randomUUID()), grpc.status.INVALID_ARGUMENT)).toMatch(
      /enrollment_token or an agent_credential/,
    );
    const s = new AgentStream(client(mtls.grpcPort, 'fleet'));
    const w = await s.hello(hello(randomUUID(), { enrollmentToken: token }));
    expect(w.agentCredential).toMatch(/^twa_/);
    await s.close();
  });

  it('a revoked agent stays out even with a valid certificate', async () => {
    await mtls.app.get(AgentRegistryService).revoke(OTHER);
    const s = new AgentStream(client(mtls.grpcPort, 'agent-cn'));
    await refused(s, hello(OTHER), grpc.status.PERMISSION_DENIED);
  });
});

describe('mutual TLS with optional client certificates', () => {
  it('lets a client without a certificate in, with its token', async () => {
    const s = new AgentStream(client(optional.grpcPort));
    const w = await s.hello(hello(randomUUID(), { enrollmentToken: token }));
    expect(w.agentCredential).toMatch(/^twa_/);
    await s.close();
  });

  it('still identifies an agent by a verified certificate', async () => {
    const s = new AgentStream(client(optional.grpcPort, 'agent'));
    expect(await s.hello(hello(AGENT))).toMatchObject({ agentId: AGENT, agentCredential: '' });
    await s.close();
  });

  it("ignores another CA's certificate: no identity from it", async () => {
    const s = new AgentStream(client(optional.grpcPort, 'rogue'));
    expect(await refused(s, hello(AGENT), grpc.status.INVALID_ARGUMENT)).toMatch(
      /enrollment_token or an agent_credential/,
    );
    const t = new AgentStream(client(optional.grpcPort, 'rogue'));
    const details = await refused(
      t,
      hello(AGENT, { agentCredential: 'twa_guess' }),
      grpc.status.UNAUTHENTICATED,
    );
    expect(details).toMatch(/does not match/);
  });
});
