import type { Batch__Output, Hello__Output } from '@tidewatch/proto';
import { BatchTooLargeError, InvalidInputError } from '../common/domain-errors';
import { DIRECTIONS, FAMILIES, PROTOCOLS, wireCode } from '../storage/codes';
import type { NormalizedBatch } from '../storage/normalized-batch';
import type { NormalizedHello } from '../hosts/agent-hello';
import { validateListening, validateScan } from './scan-validation';

export interface BatchLimits {
  maxRecords: number;
  /** Oldest acceptable window start (older data would land in dropped partitions). */
  notBefore: Date;
  /** Newest acceptable window start (clock skew bound). */
  notAfter: Date;
}

const MAX_WINDOW_MS = 3_600_000;
const MAX_HISTOGRAM_BOUNDS = 64;

/** Bounds strictly increasing and finite; one more count than bounds (the last has no bound). */
function histogram(
  bounds: number[] | undefined,
  counts: number[] | undefined,
  sumMs: number,
): { boundsMs: number[]; counts: number[]; sumMs: number } | null {
  const b = bounds ?? [];
  const c = counts ?? [];
  if (b.length === 0 && c.length === 0) return null;
  if (b.length > MAX_HISTOGRAM_BOUNDS) {
    throw new InvalidInputError(
      `connections.duration_bounds_ms has more than ${MAX_HISTOGRAM_BOUNDS} entries`,
    );
  }
  b.forEach((v, i) => {
    real(`connections.duration_bounds_ms[${i}]`, v);
    if (i > 0 && !(v > b[i - 1])) {
      throw new InvalidInputError('connections.duration_bounds_ms must be strictly increasing');
    }
  });
  if (c.length !== b.length + 1) {
    throw new InvalidInputError(
      `connections.duration_counts must have one entry more than duration_bounds_ms (${b.length + 1}), got ${c.length}`,
    );
  }
  return {
    boundsMs: [...b],
    counts: c.map((v, i) => count(`connections.duration_counts[${i}]`, v)),
    sumMs,
  };
}

function count(path: string, v: number): number {
  if (!Number.isSafeInteger(v) || v < 0) {
    throw new InvalidInputError(`${path} must be a non-negative integer below 2^53, got ${v}`);
  }
  return v;
}

function real(path: string, v: number): number {
  if (!Number.isFinite(v) || v < 0)
    throw new InvalidInputError(`${path} must be a finite number >= 0`);
  return v;
}

export function text(path: string, v: string, maxLen: number, allowEmpty = true): string {
  if (typeof v !== 'string') throw new InvalidInputError(`${path} must be a string`);
  if (!allowEmpty && v.length === 0) throw new InvalidInputError(`${path} must not be empty`);
  if (v.length > maxLen) throw new InvalidInputError(`${path} is longer than ${maxLen} characters`);
  if (v.includes('\u0000')) throw new InvalidInputError(`${path} contains a NUL character`);
  return v;
}

function enumCode(
  path: string,
  names: readonly string[],
  v: string | number | null | undefined,
): number {
  const code = wireCode(names, v);
  if (code < 0) throw new InvalidInputError(`${path} has an unknown value ${String(v)}`);
  return code;
}

function port(path: string, v: number): number {
  if (!Number.isInteger(v) || v < 0 || v > 65535)
    throw new InvalidInputError(`${path} must be 0..65535`);
  return v;
}

export function validateBatch(b: Batch__Output, limits: BatchLimits): NormalizedBatch {
  const records =
    (b.connections?.durationBoundsMs?.length || b.connections?.durationCounts?.length ? 1 : 0) +
    b.traffic.length +
    b.rates.length +
    b.ports.length +
    b.talkers.length +
    b.drops.length +
    b.abnormal.length +
    1;
  if (records > limits.maxRecords) {
    throw new BatchTooLargeError(
      `batch ${b.sequence} has ${records} records, more than the limit of ${limits.maxRecords}`,
    );
  }
  if (!Number.isSafeInteger(b.sequence) || b.sequence < 1) {
    throw new InvalidInputError(`batch.sequence must be an integer >= 1, got ${b.sequence}`);
  }
  const start = b.windowStartMs;
  const end = b.windowEndMs;
  if (!Number.isSafeInteger(start) || !Number.isSafeInteger(end) || start <= 0) {
    throw new InvalidInputError(
      'batch.window_start_ms and window_end_ms must be unix milliseconds',
    );
  }
  if (end <= start || end - start > MAX_WINDOW_MS) {
    throw new InvalidInputError(
      `batch window must satisfy start < end <= start + 1h, got [${start}, ${end})`,
    );
  }
  if (start < limits.notBefore.getTime()) {
    throw new InvalidInputError(
      `batch ${b.sequence} window starts at ${new Date(start).toISOString()}, before the retention horizon ${limits.notBefore.toISOString()}`,
    );
  }
  if (start > limits.notAfter.getTime()) {
    throw new InvalidInputError(
      `batch ${b.sequence} window starts at ${new Date(start).toISOString()}, too far ahead of the server clock`,
    );
  }
  const c = b.connections;
  const h = b.health;
  return {
    sequence: b.sequence,
    windowStart: new Date(start),
    windowEnd: new Date(end),
    flowsSampled: !!b.flowsSampled,
    traffic: b.traffic.map((t, i) => ({
      iface: text(`traffic[${i}].iface`, t.iface, 64),
      direction: enumCode(`traffic[${i}].direction`, DIRECTIONS, t.direction),
      family: enumCode(`traffic[${i}].family`, FAMILIES, t.family),
      protocol: enumCode(`traffic[${i}].protocol`, PROTOCOLS, t.protocol),
      packets: count(`traffic[${i}].packets`, t.packets),
      bytes: count(`traffic[${i}].bytes`, t.bytes),
    })),
    rates: b.rates.map((r, i) => ({
      iface: text(`rates[${i}].iface`, r.iface, 64),
      direction: enumCode(`rates[${i}].direction`, DIRECTIONS, r.direction),
      avgPps: real(`rates[${i}].avg_packets_per_second`, r.avgPacketsPerSecond),
      peakPps: real(`rates[${i}].peak_packets_per_second`, r.peakPacketsPerSecond),
      avgBps: real(`rates[${i}].avg_bits_per_second`, r.avgBitsPerSecond),
      peakBps: real(`rates[${i}].peak_bits_per_second`, r.peakBitsPerSecond),
    })),
    ports: b.ports.map((p, i) => ({
      port: port(`ports[${i}].port`, p.port),
      protocol: enumCode(`ports[${i}].protocol`, PROTOCOLS, p.protocol),
      packets: count(`ports[${i}].packets`, p.packets),
      bytes: count(`ports[${i}].bytes`, p.bytes),
      connections: count(`ports[${i}].connections`, p.connections),
      abnormal: !!p.abnormal,
    })),
    talkers: b.talkers.map((t, i) => ({
      src: text(`talkers[${i}].src`, t.src, 128),
      dst: text(`talkers[${i}].dst`, t.dst, 128),
      protocol: enumCode(`talkers[${i}].protocol`, PROTOCOLS, t.protocol),
      packets: count(`talkers[${i}].packets`, t.packets),
      bytes: count(`talkers[${i}].bytes`, t.bytes),
    })),
    drops: b.drops.map((d, i) => ({
      reason: text(`drops[${i}].reason`, d.reason, 128),
      count: count(`drops[${i}].count`, d.count),
    })),
    abnormal: b.abnormal.map((a, i) => ({
      peer: text(`abnormal[${i}].peer`, a.peer, 128),
      port: port(`abnormal[${i}].port`, a.port),
      protocol: enumCode(`abnormal[${i}].protocol`, PROTOCOLS, a.protocol),
      direction: enumCode(`abnormal[${i}].direction`, DIRECTIONS, a.direction),
      connections: count(`abnormal[${i}].connections`, a.connections),
    })),
    connections: {
      openedClient: count('connections.opened_client', c?.openedClient ?? 0),
      openedServer: count('connections.opened_server', c?.openedServer ?? 0),
      failed: count('connections.failed', c?.failed ?? 0),
      closed: count('connections.closed', c?.closed ?? 0),
      active: count('connections.active', c?.active ?? 0),
      peakOpenedPerSecond: real('connections.peak_opened_per_second', c?.peakOpenedPerSecond ?? 0),
      retransmits: count('connections.retransmits', c?.retransmits ?? 0),
      durationSumMs: real('connections.duration_sum_ms', c?.durationSumMs ?? 0),
      durations: histogram(c?.durationBoundsMs, c?.durationCounts, c?.durationSumMs ?? 0),
    },
    health: {
      cpuPercent: real('health.cpu_percent', h?.cpuPercent ?? 0),
      rssBytes: count('health.rss_bytes', h?.rssBytes ?? 0),
      bpfRunTimeNs: count('health.bpf_run_time_ns', h?.bpfRunTimeNs ?? 0),
      bpfRunCount: count('health.bpf_run_count', h?.bpfRunCount ?? 0),
      spoolDepth: count('health.spool_depth', h?.spoolDepth ?? 0),
      spoolBytes: count('health.spool_bytes', h?.spoolBytes ?? 0),
      flowTableFull: count('health.flow_table_full', h?.flowTableFull ?? 0),
      recordsDropped: (h?.recordsDropped ?? []).reduce(
        (s, d, i) => s + count(`health.records_dropped[${i}].count`, d.count),
        0,
      ),
    },
    scan: validateScan(b.scan),
    listening: validateListening(b.listening),
    records,
  };
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** `certified`: a verified client certificate names the agent, so Hello needs no token or credential. */
function sequenceField(path: string, v: number): number {
  if (!Number.isSafeInteger(v) || v < 0) {
    throw new InvalidInputError(`${path} must be an integer >= 0, got ${v}`);
  }
  return v;
}

export function validateHello(h: Hello__Output, certified = false): NormalizedHello {
  const agentId = text('hello.agent_id', h.agentId, 36, false).toLowerCase();
  if (!UUID.test(agentId)) throw new InvalidInputError('hello.agent_id must be a UUID');
  const labels: Record<string, string> = {};
  const entries = Object.entries(h.labels ?? {});
  if (entries.length > 64) throw new InvalidInputError('hello.labels has more than 64 entries');
  for (const [k, v] of entries) {
    if (!/^[A-Za-z0-9_.\-/]{1,63}$/.test(k)) {
      throw new InvalidInputError(
        `hello.labels key "${k.slice(0, 70)}" must match [A-Za-z0-9_.-/]{1,63}`,
      );
    }
    labels[k] = text(`hello.labels[${k}]`, v, 256);
  }
  if (h.capabilities.length > 256)
    throw new InvalidInputError('hello.capabilities has more than 256 entries');
  if (h.interfaces.length > 4096)
    throw new InvalidInputError('hello.interfaces has more than 4096 entries');
  if (!h.enrollmentToken && !h.agentCredential && !certified) {
    throw new InvalidInputError('hello must carry an enrollment_token or an agent_credential');
  }
  return {
    agentId,
    hostname: text('hello.hostname', h.hostname, 255, false),
    agentVersion: text('hello.agent_version', h.agentVersion, 64),
    kernelRelease: text('hello.kernel_release', h.kernelRelease, 128),
    capabilities: h.capabilities.map((c, i) => ({
      name: text(`hello.capabilities[${i}].name`, c.name, 64),
      available: !!c.available,
      used: !!c.used,
      detail: text(`hello.capabilities[${i}].detail`, c.detail, 512),
    })),
    interfaces: h.interfaces.map((f, i) => ({
      name: text(`hello.interfaces[${i}].name`, f.name, 64),
      ifindex: f.ifindex,
      mtu: f.mtu,
      up: !!f.up,
      watched: !!f.watched,
    })),
    labels,
    enrollmentToken: text('hello.enrollment_token', h.enrollmentToken, 256),
    agentCredential: text('hello.agent_credential', h.agentCredential, 256),
    masking: typeof h.masking === 'string' ? h.masking : 'MASKING_UNSPECIFIED',
    startedAt: h.startedAtMs > 0 ? new Date(h.startedAtMs) : null,
    configVersion: Number.isSafeInteger(h.configVersion) ? h.configVersion : 0,
    oldestSequence: sequenceField('hello.oldest_sequence', h.oldestSequence ?? 0),
  };
}
