// deploy/grafana/tidewatch.json over a real fleet of one: a real server on PostgreSQL, a real
// agent enrolled with it and watching a veth with traffic on it, and a real Prometheus scraping
// both with the example scrape configuration (deploy/prometheus/prometheus.yml). Every query of
// every panel, and every template variable's, must return data; no panel may read NaN.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse as parseYaml, stringify as stringifyYaml } from 'yaml';
import {
  describePrometheus,
  ping,
  PrometheusServer,
  promtool,
  sendUdp,
  tcpConnections,
  useTestNetwork,
  waitQuiet,
  type Link,
} from '@tidewatch/testhosts';
import { createTestDatabase, postgresMissing, type TestDatabase } from './fixtures/database';
import {
  AGENT_BIN,
  assertBuilt,
  cleanEnv,
  Proc,
  repoPath,
  runOk,
  SERVER_BIN,
} from './fixtures/repo';

jest.setTimeout(300_000);

interface Target {
  expr: string;
  refId: string;
}
interface Panel {
  id: number;
  type: string;
  title: string;
  datasource?: { type: string; uid: string };
  targets?: Target[];
  panels?: Panel[];
  gridPos: { h: number; w: number; x: number; y: number };
}
interface Dashboard {
  uid: string;
  panels: Panel[];
  templating: {
    list: { name: string; type: string; query: string | { query: string }; allValue?: string }[];
  };
}

const dashboard = JSON.parse(
  readFileSync(repoPath('deploy', 'grafana', 'tidewatch.json'), 'utf8'),
) as Dashboard;
const SCRAPE_EXAMPLE = repoPath('deploy', 'prometheus', 'prometheus.yml');

function allPanels(list: Panel[]): Panel[] {
  return list.flatMap((p) => [p, ...allPanels(p.panels ?? [])]);
}

/**
 * A panel's query as Grafana sends it with every variable at "All": the dashboard's allValue
 * (.*) for the template variables, and $__rate_interval as Grafana computes it for a 1 s scrape
 * interval (4 × the interval, at least; 15 s here leaves room for a loaded machine).
 */
function expand(expr: string): string {
  let out = expr.replaceAll('$__rate_interval', '15s');
  for (const v of dashboard.templating.list) {
    if (v.type === 'query') out = out.replaceAll(`$${v.name}`, v.allValue ?? '.*');
  }
  if (/\$\w/.test(out)) throw new Error(`unexpanded variable in ${out}`);
  return out;
}

async function scrape(port: number, path = '/metrics'): Promise<string> {
  const res = await fetch(`http://127.0.0.1:${port}${path}`);
  return res.text();
}

async function until(
  check: () => Promise<boolean>,
  what: string,
  timeoutMs = 90_000,
  context = () => '',
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check().catch(() => false))) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}\n${context()}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

describe('the Grafana dashboard and the scrape config, as files', () => {
  it('the scrape config passes promtool check config and names the two jobs the dashboard uses', () => {
    expect(promtool(['check', 'config', SCRAPE_EXAMPLE])).toEqual({
      code: 0,
      output: expect.stringMatching(/SUCCESS/),
    });
    const cfg = parseYaml(readFileSync(SCRAPE_EXAMPLE, 'utf8')) as {
      scrape_configs: { job_name: string }[];
    };
    expect(cfg.scrape_configs.map((j) => j.job_name)).toEqual([
      'tidewatch-agent',
      'tidewatch-server',
    ]);
  });

  it('every panel has a unique id, a place on the grid and the dashboard’s Prometheus; every query passes promtool’s parser', () => {
    const panels = allPanels(dashboard.panels);
    expect(new Set(panels.map((p) => p.id)).size).toBe(panels.length);
    const queries = panels.filter((p) => p.type !== 'row');
    expect(queries.length).toBeGreaterThanOrEqual(20);
    for (const p of queries) {
      expect({ title: p.title, ds: p.datasource }).toEqual({
        title: p.title,
        ds: { type: 'prometheus', uid: '${datasource}' },
      });
      expect(p.gridPos.x + p.gridPos.w).toBeLessThanOrEqual(24);
      expect(p.targets?.length).toBeGreaterThan(0);
      for (const t of p.targets ?? []) {
        // promtool parses PromQL in rule files: a one-rule file per query is its parser's verdict.
        const dir = mkdtempSync(join(tmpdir(), 'tw-promql-'));
        try {
          const rules = join(dir, 'rules.yml');
          writeFileSync(
            rules,
            stringifyYaml({
              groups: [{ name: 'g', rules: [{ record: 'x:y', expr: expand(t.expr) }] }],
            }),
          );
          const r = promtool(['check', 'rules', rules]);
          expect({ title: p.title, ref: t.refId, ...r }).toEqual({
            title: p.title,
            ref: t.refId,
            code: 0,
            output: expect.stringMatching(/SUCCESS/),
          });
        } finally {
          rmSync(dir, { recursive: true, force: true });
        }
      }
    }
  });
});

describePrometheus(
  'every panel of the dashboard returns data from a real Prometheus scraping a real agent and server',
  () => {
    const net = useTestNetwork();
    let link: Link;
    let dir: string;
    let db: TestDatabase;
    let server: Proc;
    let agent: Proc;
    const prom = new PrometheusServer();
    let httpPort = 0;
    let metricsPort = 0;

    beforeAll(async () => {
      assertBuilt();
      dir = mkdtempSync(join(tmpdir(), 'tw-grafana-'));
      db = await createTestDatabase();
      const key = join(dir, 'audit.pem');
      runOk(process.execPath, [SERVER_BIN, 'audit', 'keygen', '--out', key], { env: cleanEnv() });
      const serverEnv = {
        DATABASE_URL: db.url,
        AUDIT_SIGNING_KEY_FILE: key,
        AUDIT_CHECKPOINT_FILE: join(dir, 'checkpoints.jsonl'),
        AUDIT_SYSLOG: 'off',
      };
      server = new Proc(
        'server',
        process.execPath,
        [SERVER_BIN, 'serve'],
        cleanEnv({
          ...serverEnv,
          HTTP_HOST: '127.0.0.1',
          HTTP_PORT: '0',
          GRPC_HOST: '127.0.0.1',
          GRPC_PORT: '0',
        }),
      );
      const listening = JSON.parse(await server.line(/"event":"listening"/, 120_000)) as {
        httpPort: number;
        grpcPort: number;
      };
      httpPort = listening.httpPort;
      // The enrollment token goes to the agent by file, never on its command line.
      const token = runOk(
        process.execPath,
        [SERVER_BIN, 'enroll', 'create', '--name', 'grafana-e2e', '--uses', '1'],
        {
          env: cleanEnv(serverEnv),
        },
      ).trim();
      const tokenFile = join(dir, 'enrollment-token');
      writeFileSync(tokenFile, `${token}\n`, { mode: 0o600 });

      const peer = await net.namespace('graf');
      link = await net.link(net.host, peer);
      await waitQuiet([link.a, link.b]);
      const { createServer } = await import('node:net');
      const s = createServer();
      await new Promise<void>((r) => s.listen(0, '127.0.0.1', () => r()));
      metricsPort = (s.address() as { port: number }).port;
      await new Promise<void>((r) => s.close(() => r()));
      agent = new Proc(
        'agent',
        process.execPath,
        [
          AGENT_BIN,
          'run',
          '--interfaces',
          link.a.ifname,
          '--metrics-listen',
          `127.0.0.1:${metricsPort}`,
          '--window',
          '1',
          '--state-dir',
          join(dir, 'agent-state'),
          '--server',
          `127.0.0.1:${listening.grpcPort}`,
          '--enrollment-token-file',
          tokenFile,
        ],
        cleanEnv(),
      );
      await until(
        async () => /^tidewatch_agent_server_connected 1$/m.test(await scrape(metricsPort)),
        'the agent to connect to the server',
        120_000,
        () => `${agent.tail()}\n${server.tail()}`,
      );

      // The example scrape configuration, with the test's targets in place of the bank's hosts.
      const cfg = parseYaml(readFileSync(SCRAPE_EXAMPLE, 'utf8')) as {
        global: Record<string, string>;
        scrape_configs: {
          job_name: string;
          static_configs: unknown[];
          file_sd_configs?: unknown;
        }[];
      };
      cfg.global.scrape_interval = '1s';
      cfg.global.scrape_timeout = '1s';
      const targets: Record<string, string> = {
        'tidewatch-agent': `127.0.0.1:${metricsPort}`,
        'tidewatch-server': `127.0.0.1:${httpPort}`,
      };
      for (const job of cfg.scrape_configs)
        job.static_configs = [{ targets: [targets[job.job_name]] }];
      await prom.start({ config: stringifyYaml(cfg) });
    }, 300_000);

    afterAll(async () => {
      await prom.stop();
      await agent?.stop('SIGTERM');
      await server?.stop('SIGTERM');
      await db?.drop();
      if (dir) rmSync(dir, { recursive: true, force: true });
    });

    it('each panel query and each variable query answers with samples, none NaN', async () => {
      // Traffic of every kind the panels show, and a load balancer's readiness probes (the
      // API query-time panel), going on while Prometheus scrapes.
      let traffic = true;
      const background = (async () => {
        while (traffic) {
          await sendUdp(link.b, link.a, { family: 4, count: 50, size: 200 });
          await ping(link.b, link.a, { family: 6, count: 2 });
          await tcpConnections(link.b, link.a, { family: 4, count: 2, port: 8443 });
          await fetch(`http://127.0.0.1:${httpPort}/readyz`);
        }
      })();
      const queries = allPanels(dashboard.panels)
        .filter((p) => p.type !== 'row')
        .flatMap((p) =>
          (p.targets ?? []).map((t) => ({ panel: p.title, ref: t.refId, expr: expand(t.expr) })),
        );
      // Grafana's label_values(METRIC, LABEL) is the set of LABEL over METRIC's series.
      for (const v of dashboard.templating.list.filter((x) => x.type === 'query')) {
        const q = typeof v.query === 'string' ? v.query : v.query.query;
        const m = /^label_values\((.*), (\w+)\)$/.exec(q);
        expect({ v: v.name, q, parsed: Boolean(m) }).toEqual({ v: v.name, q, parsed: true });
        queries.push({
          panel: `variable ${v.name}`,
          ref: 'var',
          expr: expand(`group by (${m![2]}) (${m![1]})`),
        });
      }
      let failing: { panel: string; ref: string; expr: string; got: string }[] = [];
      try {
        await until(
          async () => {
            failing = [];
            for (const q of queries) {
              const samples = await prom.query(q.expr);
              if (samples.length === 0 || samples.some((s) => Number.isNaN(s.value)))
                failing.push({ ...q, got: JSON.stringify(samples.map((s) => s.value)) });
            }
            return failing.length === 0;
          },
          'every dashboard query to return data',
          120_000,
          () => JSON.stringify(failing, null, 2),
        );
      } finally {
        traffic = false;
        await background;
      }
      expect(failing).toEqual([]);
      // And the data is the fleet's: the agent's traffic and the server's ingest are non-zero.
      const [udp] = await prom.query(
        `sum(rate(tidewatch_bytes_total{job="tidewatch-agent",direction="ingress",protocol="udp"}[15s]))`,
      );
      expect(udp.value).toBeGreaterThan(0);
      const [stored] = await prom.query(
        `sum(tidewatch_server_ingest_batches_total{job="tidewatch-server",outcome="stored"})`,
      );
      expect(stored.value).toBeGreaterThan(0);
      const up = await prom.query('up{job=~"tidewatch-agent|tidewatch-server"}');
      expect(up.map((s) => `${s.labels.job}=${s.value}`).sort()).toEqual([
        'tidewatch-agent=1',
        'tidewatch-server=1',
      ]);
    });
  },
  { kernel: true, alsoMissing: [postgresMissing()] },
);
