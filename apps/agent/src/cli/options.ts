import type { Command } from 'commander';

/** Options every command that watches traffic accepts (flags win over env and file). */
export function addConfigOptions(cmd: Command): Command {
  return cmd
    .option('-c, --config <file>', 'YAML config file (env: TIDEWATCH_CONFIG)')
    .option(
      '-i, --interfaces <list>',
      'interfaces to watch: names or globs, comma-separated (default: all up, non-loopback)',
    )
    .option(
      '--exclude-interfaces <list>',
      'interfaces to leave alone: names or globs, comma-separated',
    )
    .option('--masking <mode>', 'address masking: none | truncate | pseudonymize')
    .option('--masking-key <file>', '32-byte key file for pseudonymize')
    .option('--window <seconds>', 'aggregation window length in seconds (default 10)')
    .option('--top-n <n>', 'how many ports, talkers and flows to report per window')
    .option(
      '--port-allowlist <ports>',
      'comma-separated server ports that are normal; others are flagged abnormal',
    )
    .option(
      '--cpu-budget <percent>',
      'agent CPU (% of one core) above which flow records are sampled; counters stay exact (default 5)',
    )
    .option('--state-dir <dir>', 'state directory: spool, credential (default /var/lib/tidewatch)')
    .option('--bpf-object <kind>', 'BPF object: auto (the probe picks) | legacy (4.19) | modern')
    .option('--log-level <level>', 'trace | debug | info | warn | error | silent');
}

export interface CommonFlags {
  config?: string;
  interfaces?: string;
  excludeInterfaces?: string;
  masking?: string;
  maskingKey?: string;
  window?: string;
  topN?: string;
  portAllowlist?: string;
  cpuBudget?: string;
  stateDir?: string;
  bpfObject?: string;
  logLevel?: string;
  server?: string;
  metricsListen?: string;
  /** Refused (see refuseSecretFlags); kept so that commander hands it to us. */
  enrollmentToken?: string;
  enrollmentTokenFile?: string;
  tlsCa?: string;
  tlsCert?: string;
  tlsKey?: string;
  tlsServerName?: string;
  spoolMaxBytes?: string;
}
