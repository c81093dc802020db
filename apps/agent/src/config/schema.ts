import { z } from 'zod';
import { MASKING_NAMES, type MaskingName } from '@tidewatch/proto';
import { parseBytes, parseDurationSeconds } from './units';

const bytes = z.preprocess(
  (v) => parseBytes(v) ?? v,
  z.number({ error: 'expected a size such as 65536, "64MiB" or "1GB"' }).int().positive(),
);

const seconds = z.preprocess(
  (v) => parseDurationSeconds(v) ?? v,
  z.number({ error: 'expected a duration such as 10, "10s" or "1m"' }).positive(),
);

const hostPort = z
  .string()
  .regex(
    /^(\[[0-9a-fA-F:.]+\]|[A-Za-z0-9_.-]+):\d{1,5}$/,
    'expected HOST:PORT, e.g. 127.0.0.1:9464',
  );

const port = z.number().int().min(1).max(65535);

export const maskingModes = MASKING_NAMES;
export type MaskingModeName = MaskingName;

export const configSchema = z.strictObject({
  /** Stable agent id; derived from /etc/machine-id when absent. */
  agentId: z.uuid().optional(),
  /** Spool, credential and sequence state. */
  stateDir: z.string().min(1).default('/var/lib/tidewatch'),
  /** Interface names or globs ("eth*"); empty = every up, non-loopback interface. */
  interfaces: z.array(z.string().min(1)).default([]),
  excludeInterfaces: z.array(z.string().min(1)).default([]),
  labels: z.record(z.string(), z.string()).default({}),
  /** Absent: standalone (metrics and exports only). */
  server: z
    .strictObject({
      address: hostPort,
      enrollmentToken: z.string().min(1).optional(),
      enrollmentTokenFile: z.string().min(1).optional(),
      tls: z
        .strictObject({
          enabled: z.boolean().default(false),
          caFile: z.string().min(1).optional(),
          certFile: z.string().min(1).optional(),
          keyFile: z.string().min(1).optional(),
          serverName: z.string().min(1).optional(),
        })
        .refine((t) => !t.certFile === !t.keyFile, {
          message: 'certFile and keyFile go together (mutual TLS needs both)',
        })
        .default({ enabled: false }),
      backoff: z
        .strictObject({
          initialSeconds: seconds.default(0.5),
          maxSeconds: seconds.default(30),
        })
        .default({ initialSeconds: 0.5, maxSeconds: 30 }),
      /** Batches sent ahead of the last ack. */
      maxInFlight: z.number().int().min(1).max(10000).default(32),
    })
    .optional(),
  metricsListen: hostPort.optional(),
  /**
   * Group (name or gid) whose members may read the running agent's local
   * socket (stateDir/agent.sock, for top and export): 0660 instead of 0600.
   */
  localSocketGroup: z.string().min(1).optional(),
  windowSeconds: z.number().int().min(1).max(3600).default(10),
  topN: z.number().int().min(1).max(1000).default(10),
  /** Server ports considered normal; connections to others are flagged. Empty: nothing flagged. */
  portAllowlist: z.array(port).default([]),
  masking: z
    .strictObject({
      mode: z.enum(maskingModes).default('none'),
      ipv4PrefixBits: z.number().int().min(0).max(32).default(24),
      ipv6PrefixBits: z.number().int().min(0).max(128).default(48),
      /** 32 bytes (raw, or 64 hex characters): AES-128 key + padding secret. */
      keyFile: z.string().min(1).optional(),
    })
    .refine((m) => m.mode !== 'pseudonymize' || m.keyFile !== undefined, {
      message: 'mode "pseudonymize" needs masking.keyFile (32-byte key)',
      path: ['keyFile'],
    })
    .default({ mode: 'none', ipv4PrefixBits: 24, ipv6PrefixBits: 48 }),
  spool: z
    .strictObject({ maxBytes: bytes.default(64 * 1024 * 1024) })
    .default({ maxBytes: 64 * 1024 * 1024 }),
  guard: z
    .strictObject({
      maxFlowsPerWindow: z.number().int().min(1).default(20000),
      cpuBudgetPercent: z.number().positive().max(100).default(5),
    })
    .default({ maxFlowsPerWindow: 20000, cpuBudgetPercent: 5 }),
  bpf: z
    .strictObject({
      /** Which BPF object: "auto" lets the feature probe choose; "legacy" is the 4.19 one. */
      object: z.enum(['auto', 'legacy', 'modern']).default('auto'),
      flowTableSize: z.number().int().min(1024).max(4_194_304).default(65536),
    })
    .default({ object: 'auto', flowTableSize: 65536 }),
  logLevel: z.enum(['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent']).default('info'),
});

export type AgentConfigInput = z.input<typeof configSchema>;
export type AgentConfig = z.output<typeof configSchema>;
