import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  ping,
  readInterfaceStats,
  sendUdp,
  statsDelta,
  tcpConnections,
  useTestNetwork,
  waitQuiet,
  type Endpoint,
  type Link,
} from '@tidewatch/testhosts';
import { createMasker } from '../src/masking/masker';
import type { JsonExport } from '../src/export/format';
import { AgentProcess, freeTcpPort, scrape } from './fixtures/agent-process';
import { TestIngestServer, waitFor } from './fixtures/ingest-server';
import { describeKernel } from './fixtures/kernel';

jest.setTimeout(180_000);

function rawAddressPatterns(eps: Endpoint[]): RegExp[] {
  const esc = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  return eps.flatMap((e) => [
    new RegExp(`(?<![\\d.])${esc(e.ipv4)}(?![\\d])`),
    new RegExp(`(?<![0-9a-fA-F:])${esc(e.ipv6)}(?![0-9a-fA-F:])`, 'i'),
  ]);
}

function expectNoRawAddress(channels: Record<string, string>, eps: Endpoint[]): void {
  for (const [channel, text] of Object.entries(channels)) {
    for (const raw of rawAddressPatterns(eps)) {
      expect({ channel, leaked: raw.test(text) ? raw.source : null }).toEqual({
        channel,
        leaked: null,
      });
    }
  }
}

async function someTraffic(link: Link): Promise<void> {
  expect(await sendUdp(link.b, link.a, { family: 4, count: 20, size: 120 })).toBe(20);
  expect(await sendUdp(link.b, link.a, { family: 6, count: 10, size: 120 })).toBe(10);
  expect(await ping(link.b, link.a, { family: 4, count: 5 })).toBe(5);
  expect((await tcpConnections(link.b, link.a, { family: 6, count: 2, port: 5201 })).ok).toBe(2);
}

describeKernel('masking end to end: no raw address leaves the agent', () => {
  const net = useTestNetwork();
  let link: Link;
  let dir: string;
  let keyFile: string;
  const key = randomBytes(32);

  beforeAll(async () => {
    const peer = await net.namespace('mask');
    link = await net.link(net.host, peer);
    await waitQuiet([link.a, link.b]);
    dir = mkdtempSync(join(tmpdir(), 'tw-mask-'));
    keyFile = join(dir, 'key');
    writeFileSync(keyFile, key, { mode: 0o600 });
  });

  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('pseudonymize: gRPC, /metrics and logs carry only Crypto-PAn pseudonyms', async () => {
    const server = new TestIngestServer();
    const port = await server.start(0);
    const metricsPort = await freeTcpPort();
    const agent = new AgentProcess([
      'run',
      '--interfaces',
      link.a.ifname,
      '--server',
      `127.0.0.1:${port}`,
      '--metrics-listen',
      `127.0.0.1:${metricsPort}`,
      '--window',
      '1',
      '--state-dir',
      join(dir, 'state'),
      '--masking',
      'pseudonymize',
      '--masking-key',
      keyFile,
      '--port-allowlist',
      '22',
      '--log-level',
      'trace',
    ]);
    try {
      await agent.watching(link.a.ifname);
      await someTraffic(link);
      const masker = createMasker(
        { mode: 'pseudonymize', ipv4PrefixBits: 24, ipv6PrefixBits: 48 },
        key,
      );
      // The agent's windows carry the traffic: both pseudonyms have reached the server.
      const pseudonyms = [masker.maskText(link.b.ipv4), masker.maskText(link.a.ipv6)];
      await waitFor(
        () => pseudonyms.every((p) => JSON.stringify(server.received).includes(p)),
        30_000,
        'windows with the traffic',
      );
      const metrics = await scrape(metricsPort);
      expect(await agent.stop()).toBe(0);
      await waitFor(
        () => server.stored.size > 0 && server.stored.size === server.highestContiguous(),
      );
      const grpc = JSON.stringify(server.received);
      // The pseudonyms the test computes with the same key are what the server got.
      expect(grpc).toContain(masker.maskText(link.b.ipv4));
      expect(grpc).toContain(masker.maskText(link.a.ipv6));
      expect(server.hellos[0].masking).toBe('MASKING_PSEUDONYMIZE');
      expectNoRawAddress({ grpc, metrics, logs: agent.output }, [link.a, link.b]);
    } finally {
      await agent.stop('SIGKILL');
      server.stop();
    }
  });

  it('export csv (pseudonymize) and json (truncate): totals exact, addresses masked, progress shown', async () => {
    const csvFile = join(dir, 'flows.csv');
    const exp = new AgentProcess([
      'export',
      '--format',
      'csv',
      '--duration',
      '12s',
      '--output',
      csvFile,
      '--interfaces',
      link.a.ifname,
      '--masking',
      'pseudonymize',
      '--masking-key',
      keyFile,
      '--window',
      '2',
      '--state-dir',
      join(dir, 'state'),
    ]);
    await waitFor(
      () => exp.stderr.includes(`export: watching ${link.a.ifname}`),
      20_000,
      'export to attach',
    );
    const before = await readInterfaceStats(link.a);
    await someTraffic(link);
    await waitQuiet([link.a, link.b]);
    const truth = statsDelta(before, await readInterfaceStats(link.a));
    expect(await exp.stop('SIGTERM', 30_000).then(() => exp.child.exitCode)).toBe(0);
    const csv = readFileSync(csvFile, 'utf8');
    const rows = csv
      .trim()
      .split('\n')
      .map((l) => l.split(','));
    expect(rows[0]).toEqual([
      'kind',
      'window_start',
      'window_end',
      'iface',
      'direction',
      'family',
      'protocol',
      'src',
      'sport',
      'dst',
      'dport',
      'packets',
      'bytes',
    ]);
    const sum = (dir: string, col: number) =>
      rows
        .filter((r) => r[0] === 'traffic' && r[3] === link.a.ifname && r[4] === dir)
        .reduce((s, r) => s + Number(r[col]), 0);
    expect(sum('ingress', 11)).toBe(Number(truth.rxPackets));
    expect(sum('ingress', 12)).toBe(Number(truth.rxBytes));
    expect(sum('egress', 11)).toBe(Number(truth.txPackets));
    const masker = createMasker(
      { mode: 'pseudonymize', ipv4PrefixBits: 24, ipv6PrefixBits: 48 },
      key,
    );
    const flows = rows.filter((r) => r[0] === 'flow');
    expect(flows.length).toBeGreaterThan(0);
    expect(flows.some((r) => r[7] === masker.maskText(link.b.ipv4))).toBe(true);
    expectNoRawAddress({ csv, logs: exp.output }, [link.a, link.b]);

    const jsonFile = join(dir, 'windows.json');
    const j = new AgentProcess([
      'export',
      '--format',
      'json',
      '--duration',
      '3s',
      '--output',
      jsonFile,
      '--interfaces',
      link.a.ifname,
      '--masking',
      'truncate',
      '--state-dir',
      join(dir, 'state'),
    ]);
    await waitFor(() => j.stderr.includes('export: watching'), 20_000, 'export to attach');
    expect(await ping(link.b, link.a, { family: 6, count: 3 })).toBe(3);
    await waitFor(() => j.child.exitCode !== null, 20_000, 'export to finish');
    expect(j.child.exitCode).toBe(0);
    const text = readFileSync(jsonFile, 'utf8');
    const doc = JSON.parse(text) as JsonExport;
    expect(doc.format).toBe('tidewatch-export/v1');
    expect(doc.masking).toBe('truncate');
    expect(doc.windows.length).toBeGreaterThan(0);
    expect(j.stderr).toMatch(/export: wrote \d+ windows/);
    expectNoRawAddress({ json: text, logs: j.output }, [link.a, link.b]);
  });
});
