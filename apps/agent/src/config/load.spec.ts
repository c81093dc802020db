import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from './load';
import { ConfigError } from './errors';
import { flagsToConfig } from '../cli/common';

const made: string[] = [];
afterAll(() => made.splice(0).forEach((d) => rmSync(d, { recursive: true, force: true })));

function yamlFile(text: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'tw-config-'));
  made.push(dir);
  const file = join(dir, 'agent.yaml');
  writeFileSync(file, text);
  return file;
}

describe('loadConfig', () => {
  it('has working defaults (standalone, no masking, 10 s windows)', () => {
    const c = loadConfig();
    expect(c.server).toBeUndefined();
    expect(c.windowSeconds).toBe(10);
    expect(c.masking.mode).toBe('none');
    expect(c.spool.maxBytes).toBe(64 * 1024 * 1024);
  });

  it('layers file < environment < flags', () => {
    const file = yamlFile(
      'windowSeconds: 5\nmasking:\n  mode: truncate\n  ipv4PrefixBits: 16\nspool:\n  maxBytes: 10MiB\nserver:\n  address: ingest.bank.test:50051\n',
    );
    const c = loadConfig({
      file,
      env: { TIDEWATCH_WINDOW_SECONDS: '20', TIDEWATCH_INTERFACES: 'eth*, bond0' },
      flags: {
        windowSeconds: 30,
        'server.tls.caFile': '/etc/tw/ca.pem',
        'server.tls.enabled': true,
      },
    });
    expect(c.windowSeconds).toBe(30);
    expect(c.interfaces).toEqual(['eth*', 'bond0']);
    expect(c.masking).toMatchObject({ mode: 'truncate', ipv4PrefixBits: 16, ipv6PrefixBits: 48 });
    expect(c.spool.maxBytes).toBe(10 * 1024 * 1024);
    expect(c.server).toMatchObject({
      address: 'ingest.bank.test:50051',
      tls: { enabled: true, caFile: '/etc/tw/ca.pem' },
    });
  });

  it.each([
    ['windowSeconds: 0\n', /config key windowSeconds: .*from config file/],
    ['masking:\n  mode: hide\n', /config key masking\.mode: .*"none"\|"truncate"\|"pseudonymize"/],
    [
      'masking:\n  mode: pseudonymize\n',
      /config key masking\.keyFile: mode "pseudonymize" needs masking\.keyFile/,
    ],
    ['metricsListen: localhost\n', /config key metricsListen: expected HOST:PORT/],
    ['spool:\n  maxBytes: lots\n', /config key spool\.maxBytes: expected a size/],
    ['interfcaes: [eth0]\n', /unknown config key interfcaes/],
    [
      'server:\n  address: a:1\n  tls:\n    certFile: /x\n',
      /config key server\.tls: certFile and keyFile go together/,
    ],
    ['portAllowlist: [22, 70000]\n', /config key portAllowlist\.1:/],
    ['- just\n- a list\n', /must hold a mapping/],
    ['a: [unclosed\n', /not valid YAML/],
  ])('rejects %j with a message naming the key', (text, message) => {
    expect(() => loadConfig({ file: yamlFile(text) })).toThrow(ConfigError);
    expect(() => loadConfig({ file: yamlFile(text) })).toThrow(message);
  });

  it('takes the flow-sampling CPU budget from the environment or a flag, bounded to one core', () => {
    expect(loadConfig().guard.cpuBudgetPercent).toBe(5);
    expect(loadConfig({ env: { TIDEWATCH_CPU_BUDGET_PERCENT: '20' } }).guard.cpuBudgetPercent).toBe(
      20,
    );
    expect(
      loadConfig({
        env: { TIDEWATCH_CPU_BUDGET_PERCENT: '20' },
        flags: flagsToConfig({ cpuBudget: '100' }),
      }).guard,
    ).toEqual({ maxFlowsPerWindow: 20000, cpuBudgetPercent: 100 });
    expect(() => loadConfig({ flags: flagsToConfig({ cpuBudget: '150' }) })).toThrow(
      /config key guard\.cpuBudgetPercent: .*\(from command line\)/,
    );
  });

  it('names the environment variable a bad value came from, and rejects unknown ones', () => {
    expect(() => loadConfig({ env: { TIDEWATCH_WINDOW_SECONDS: 'soon' } })).toThrow(
      /config key windowSeconds: .*\(from environment TIDEWATCH_WINDOW_SECONDS\)/,
    );
    expect(() => loadConfig({ env: { TIDEWATCH_MASKNG: 'none' } })).toThrow(
      /unknown environment variable TIDEWATCH_MASKNG/,
    );
    // The heap settings' opt-out is read before the config (health/heap-tuning.ts), not refused.
    expect(loadConfig({ env: { TIDEWATCH_COMPACT_HEAP: '0' } }).windowSeconds).toBeGreaterThan(0);
  });

  it('reports a missing config file clearly', () => {
    expect(() => loadConfig({ file: '/nonexistent/agent.yaml' })).toThrow(
      /cannot read config file \/nonexistent\/agent\.yaml/,
    );
  });
});
