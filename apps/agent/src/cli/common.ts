import type { CommonFlags } from './options';
import { loadConfig } from '../config/load';
import type { AgentConfig } from '../config/schema';
import { ConfigError } from '../config/errors';
import { createMasker, type Masker } from '../masking/masker';
import { createLogger, type Logger } from '../logging/logger';
import { parseBytes, parseDurationSeconds } from '../config/units';

const list = (v: string | undefined) =>
  v === undefined
    ? undefined
    : v
        .split(',')
        .map((s) => s.trim())
        .filter(Boolean);
const num = (v: string | undefined) =>
  v === undefined ? undefined : /^\d+(\.\d+)?$/.test(v) ? Number(v) : v;

/** Flags by dotted config key. */
export function flagsToConfig(f: CommonFlags): Record<string, unknown> {
  const tlsGiven = f.tlsCa || f.tlsCert || f.tlsKey;
  return {
    interfaces: list(f.interfaces),
    excludeInterfaces: list(f.excludeInterfaces),
    'masking.mode': f.masking,
    'masking.keyFile': f.maskingKey,
    windowSeconds:
      f.window === undefined ? undefined : (parseDurationSeconds(f.window) ?? f.window),
    topN: num(f.topN),
    portAllowlist: list(f.portAllowlist)?.map((p) => num(p)),
    'guard.cpuBudgetPercent': num(f.cpuBudget),
    stateDir: f.stateDir,
    'bpf.object': f.bpfObject,
    logLevel: f.logLevel,
    'server.address': f.server,
    metricsListen: f.metricsListen,
    'server.enrollmentTokenFile': f.enrollmentTokenFile,
    'server.tls.enabled': tlsGiven ? true : undefined,
    'server.tls.caFile': f.tlsCa,
    'server.tls.certFile': f.tlsCert,
    'server.tls.keyFile': f.tlsKey,
    'server.tls.serverName': f.tlsServerName,
    'spool.maxBytes':
      f.spoolMaxBytes === undefined ? undefined : (parseBytes(f.spoolMaxBytes) ?? f.spoolMaxBytes),
  };
}

export interface Setup {
  config: AgentConfig;
  masker: Masker;
  logger: Logger;
}

/** Secrets never come from argv: /proc/PID/cmdline is readable by every local user. */
export function refuseSecretFlags(f: CommonFlags): void {
  if (f.enrollmentToken !== undefined) {
    throw new ConfigError(
      '--enrollment-token is not accepted: a token on the command line is readable by every local user (/proc/PID/cmdline). ' +
        'Put it in a file only the agent can read and pass --enrollment-token-file FILE ' +
        '(or TIDEWATCH_ENROLLMENT_TOKEN_FILE, or server.enrollmentTokenFile in the config file), ' +
        'or set TIDEWATCH_ENROLLMENT_TOKEN in the environment.',
    );
  }
}

export function setUp(flags: CommonFlags, env: NodeJS.ProcessEnv = process.env): Setup {
  refuseSecretFlags(flags);
  const config = loadConfig({
    file: flags.config ?? env.TIDEWATCH_CONFIG,
    env,
    flags: flagsToConfig(flags),
  });
  let masker: Masker;
  try {
    masker = createMasker(config.masking);
  } catch (err) {
    throw new ConfigError(`config key masking.keyFile: ${(err as Error).message}`);
  }
  const logger = createLogger(config.logLevel, masker);
  return { config, masker, logger };
}
