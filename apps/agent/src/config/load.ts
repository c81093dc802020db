import { readFileSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';
import { configSchema, type AgentConfig } from './schema';
import { ConfigError } from './errors';

type Tree = Record<string, unknown>;

/** Environment variables the agent reads, and the config key each one sets. */
export const ENVIRONMENT: Record<string, { key: string; kind: 'string' | 'number' | 'list' }> = {
  TIDEWATCH_AGENT_ID: { key: 'agentId', kind: 'string' },
  TIDEWATCH_STATE_DIR: { key: 'stateDir', kind: 'string' },
  TIDEWATCH_INTERFACES: { key: 'interfaces', kind: 'list' },
  TIDEWATCH_SERVER: { key: 'server.address', kind: 'string' },
  TIDEWATCH_ENROLLMENT_TOKEN: { key: 'server.enrollmentToken', kind: 'string' },
  TIDEWATCH_ENROLLMENT_TOKEN_FILE: { key: 'server.enrollmentTokenFile', kind: 'string' },
  TIDEWATCH_TLS_CA: { key: 'server.tls.caFile', kind: 'string' },
  TIDEWATCH_TLS_CERT: { key: 'server.tls.certFile', kind: 'string' },
  TIDEWATCH_TLS_KEY: { key: 'server.tls.keyFile', kind: 'string' },
  TIDEWATCH_METRICS_LISTEN: { key: 'metricsListen', kind: 'string' },
  TIDEWATCH_LOCAL_SOCKET_GROUP: { key: 'localSocketGroup', kind: 'string' },
  TIDEWATCH_WINDOW_SECONDS: { key: 'windowSeconds', kind: 'number' },
  TIDEWATCH_TOP_N: { key: 'topN', kind: 'number' },
  TIDEWATCH_PORT_ALLOWLIST: { key: 'portAllowlist', kind: 'list' },
  TIDEWATCH_MASKING: { key: 'masking.mode', kind: 'string' },
  TIDEWATCH_MASKING_KEY_FILE: { key: 'masking.keyFile', kind: 'string' },
  TIDEWATCH_SPOOL_MAX_BYTES: { key: 'spool.maxBytes', kind: 'string' },
  TIDEWATCH_CPU_BUDGET_PERCENT: { key: 'guard.cpuBudgetPercent', kind: 'number' },
  TIDEWATCH_LOG_LEVEL: { key: 'logLevel', kind: 'string' },
};

/** Where each key came from, for error messages. */
type Sources = Map<string, string>;

function setPath(tree: Tree, dotted: string, value: unknown): void {
  const parts = dotted.split('.');
  let node = tree;
  for (const part of parts.slice(0, -1)) {
    const next = node[part];
    if (typeof next !== 'object' || next === null || Array.isArray(next)) node[part] = {};
    node = node[part] as Tree;
  }
  node[parts[parts.length - 1]] = value;
}

function recordSources(tree: unknown, prefix: string, source: string, sources: Sources): void {
  if (typeof tree === 'object' && tree !== null && !Array.isArray(tree)) {
    for (const [k, v] of Object.entries(tree)) {
      recordSources(v, prefix ? `${prefix}.${k}` : k, source, sources);
    }
  } else if (prefix) {
    sources.set(prefix, source);
  }
}

function merge(base: Tree, over: Tree): Tree {
  const out: Tree = { ...base };
  for (const [k, v] of Object.entries(over)) {
    const b = out[k];
    if (
      typeof v === 'object' &&
      v !== null &&
      !Array.isArray(v) &&
      typeof b === 'object' &&
      b !== null &&
      !Array.isArray(b)
    ) {
      out[k] = merge(b as Tree, v as Tree);
    } else {
      out[k] = v;
    }
  }
  return out;
}

function convert(kind: 'string' | 'number' | 'list', raw: string, key: string): unknown {
  if (kind === 'string') return raw;
  if (kind === 'list') {
    const items = raw
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean);
    return key === 'portAllowlist' ? items.map((s) => (/^\d+$/.test(s) ? Number(s) : s)) : items;
  }
  return /^-?\d+(\.\d+)?$/.test(raw.trim()) ? Number(raw) : raw;
}

export function readConfigFile(file: string): Tree {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new ConfigError(`cannot read config file ${file}: ${(err as Error).message}`);
  }
  let doc: unknown;
  try {
    doc = parseYaml(text);
  } catch (err) {
    throw new ConfigError(`config file ${file} is not valid YAML: ${(err as Error).message}`);
  }
  if (doc === null || doc === undefined) return {};
  if (typeof doc !== 'object' || Array.isArray(doc)) {
    throw new ConfigError(`config file ${file} must hold a mapping of keys to values`);
  }
  return doc as Tree;
}

export interface LoadOptions {
  file?: string;
  env?: NodeJS.ProcessEnv;
  /** Flag values by dotted config key (undefined = not given). */
  flags?: Record<string, unknown>;
}

/**
 * TIDEWATCH_* variables that are not config keys: the config file's path, and the heap
 * settings' opt-out (health/heap-tuning.ts, read before the config loads).
 */
const READ_ELSEWHERE = ['TIDEWATCH_CONFIG', 'TIDEWATCH_COMPACT_HEAP'];

/**
 * Defaults < YAML file < TIDEWATCH_* environment < flags, validated once.
 * Throws ConfigError naming the bad key and where it came from.
 */
export function loadConfig(opts: LoadOptions = {}): AgentConfig {
  const sources: Sources = new Map();
  let tree: Tree = {};
  if (opts.file) {
    const fromFile = readConfigFile(opts.file);
    recordSources(fromFile, '', `config file ${opts.file}`, sources);
    tree = merge(tree, fromFile);
  }
  const env = opts.env ?? {};
  const unknownEnv = Object.keys(env).filter(
    (name) => name.startsWith('TIDEWATCH_') && !READ_ELSEWHERE.includes(name) && !ENVIRONMENT[name],
  );
  if (unknownEnv.length > 0) {
    throw new ConfigError(
      `unknown environment variable ${unknownEnv.join(', ')} (known: ${[...READ_ELSEWHERE, ...Object.keys(ENVIRONMENT)].join(', ')})`,
    );
  }
  const fromEnv: Tree = {};
  for (const [name, { key, kind }] of Object.entries(ENVIRONMENT)) {
    const raw = env[name];
    if (raw === undefined || raw === '') continue;
    setPath(fromEnv, key, convert(kind, raw, key));
    sources.set(key, `environment ${name}`);
  }
  tree = merge(tree, fromEnv);
  const fromFlags: Tree = {};
  for (const [key, value] of Object.entries(opts.flags ?? {})) {
    if (value === undefined) continue;
    setPath(fromFlags, key, value);
    sources.set(key, 'command line');
  }
  tree = merge(tree, fromFlags);
  return validateConfig(tree, sources);
}

export function validateConfig(tree: unknown, sources: Sources = new Map()): AgentConfig {
  const result = configSchema.safeParse(tree);
  if (result.success) return result.data;
  const lines = result.error.issues.map((issue) => {
    let key = issue.path.map(String).join('.');
    if (issue.code === 'unrecognized_keys') {
      const names = issue.keys.map((k) => (key ? `${key}.${k}` : k));
      const where = sourceOf(names[0], sources);
      return `unknown config key ${names.join(', ')}${where}`;
    }
    if (!key) key = '(top level)';
    return `config key ${key}: ${issue.message}${sourceOf(key, sources)}`;
  });
  throw new ConfigError(`invalid configuration:\n  ${lines.join('\n  ')}`);
}

function sourceOf(key: string, sources: Sources): string {
  for (let k = key; k; k = k.includes('.') ? k.slice(0, k.lastIndexOf('.')) : '') {
    const s = sources.get(k);
    if (s) return ` (from ${s})`;
  }
  for (const [k, s] of sources) if (k.startsWith(`${key}.`)) return ` (from ${s})`;
  return '';
}
