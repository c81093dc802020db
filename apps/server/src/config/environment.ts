// The server's environment, parsed and validated once. Every setting has one
// name, one type and one default here; nothing else reads process.env.

import { readFileSync } from 'node:fs';
import { AuditSettings, MIN_RETENTION_DAYS, parseAuditSettings } from '../audit/audit-settings';
import { AuthSettings, parseAuthSettings } from './auth-environment';
import { LdapSettings, parseLdapSettings } from '../auth/ldap/ldap-settings';

/** gRPC TLS: PEM file paths, checked readable at boot. */
export interface GrpcTls {
  certFile: string;
  keyFile: string;
  /** CA bundle for client certificates (mutual TLS). */
  clientCaFile: string | null;
  /** With a client CA: refuse clients without a verified certificate (else they need a token or credential). */
  clientCertRequired: boolean;
}

/** HTTPS served by the server itself: PEM file paths, checked readable at boot. */
export interface HttpTls {
  certFile: string;
  keyFile: string;
}

export interface Environment {
  databaseUrl: string;
  /** 127.0.0.1 unless configured: reaching the API from elsewhere is a deliberate choice. */
  httpHost: string;
  httpPort: number;
  /** null = plain HTTP (loopback, or behind a TLS-terminating reverse proxy). */
  httpTls: HttpTls | null;
  /** Live feed (WebSocket): largest message a client may send, in bytes. */
  liveMaxPayloadBytes: number;
  /** Live feed: open connections per replica; more are refused at the handshake (503). */
  liveMaxConnections: number;
  /** Live feed: rooms one socket may be subscribed to at once. */
  liveMaxRoomsPerSocket: number;
  grpcHost: string;
  grpcPort: number;
  /** null = plaintext gRPC (for a TLS-terminating proxy or a trusted network). */
  grpcTls: GrpcTls | null;
  /** Run pending migrations when `serve` starts (else refuse to start when behind). */
  migrateOnStart: boolean;
  /** Largest gRPC message the ingest accepts, in bytes. */
  grpcMaxMessageBytes: number;
  /** Largest number of records (counters, ports, talkers, …) in one batch. */
  maxRecordsPerBatch: number;
  /** Batches one stream may have waiting for the database before it is paused. */
  ingestMaxInFlightPerStream: number;
  /** Batches waiting for the database across all streams before every stream is paused. */
  ingestQueueLimit: number;
  /** Largest number of batches written in one transaction. */
  ingestMaxBatchesPerWrite: number;
  /** Ingest transactions in flight at once (each on its own connection, disjoint agents). */
  ingestWriters: number;
  /** A host is offline when nothing was heard from it for this long. */
  offlineAfterSeconds: number;
  retentionRawDays: number;
  retention1mDays: number;
  retention1hDays: number;
  /** Kept (scheduled) compliance reports are purged this many days after they were made. */
  reportRetentionDays: number;
  /** Days of partitions created ahead of today. */
  partitionsAheadDays: number;
  maintenanceIntervalSeconds: number;
  /** How often the fleet rollups are derived from closed buckets (storage/fleet-rollups.ts). */
  fleetRollupIntervalSeconds: number;
  /** A bucket closes for the fleet rollups this long after it ends. */
  fleetRollupGraceSeconds: number;
  /** Windows starting further ahead of the server clock than this are refused. */
  maxClockSkewSeconds: number;
  agentWindowSeconds: number;
  agentTopN: number;
  logLevel: string;
  dbPoolSize: number;
  /** The audit trail: hash, checkpoint signing key and file, retention (AUDIT_*). */
  audit: AuditSettings;
  /** Sign-in: passwords, lockout, TOTP, sessions, API tokens (AUTH_*). */
  auth: AuthSettings;
  /** LDAP / Active Directory sign-in (LDAP_*); null = off. */
  ldap: LdapSettings | null;
}

/**
 * Kept reports: 400 days, so that a yearly audit finds every daily report of the year it
 * examines with a month to spare, and as long as the 1 h rollups they could be rebuilt from.
 */
export const REPORT_RETENTION_DEFAULT_DAYS = 400;

export class EnvironmentError extends Error {
  override name = 'EnvironmentError';
}

type Source = Record<string, string | undefined>;

function int(src: Source, key: string, def: number, min: number, max: number): number {
  const raw = src[key];
  if (raw === undefined || raw === '') return def;
  if (!/^-?\d+$/.test(raw.trim())) {
    throw new EnvironmentError(`${key} must be an integer, got "${raw}"`);
  }
  const n = Number(raw);
  if (n < min || n > max) {
    throw new EnvironmentError(`${key} must be between ${min} and ${max}, got ${n}`);
  }
  return n;
}

function bool(src: Source, key: string, def: boolean): boolean {
  const raw = src[key];
  if (raw === undefined || raw === '') return def;
  if (/^(1|true|yes|on)$/i.test(raw)) return true;
  if (/^(0|false|no|off)$/i.test(raw)) return false;
  throw new EnvironmentError(`${key} must be true or false, got "${raw}"`);
}

function str(src: Source, key: string, def: string): string {
  const raw = src[key];
  return raw === undefined || raw === '' ? def : raw;
}

export function parseDatabaseUrl(src: Source): string {
  const url = src.DATABASE_URL;
  if (!url) {
    throw new EnvironmentError(
      'DATABASE_URL is required, e.g. postgres://postgres@127.0.0.1:5432/tidewatch',
    );
  }
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    // Never echo the value: an unparsable URL may still hold a password.
    throw new EnvironmentError(
      'DATABASE_URL is not a URL (percent-encode special characters in the user and password)',
    );
  }
  if (parsed.protocol !== 'postgres:' && parsed.protocol !== 'postgresql:') {
    throw new EnvironmentError(
      `DATABASE_URL must start with postgres://, got "${parsed.protocol}"`,
    );
  }
  return url;
}

function pemFile(src: Source, key: string): string | null {
  const file = src[key];
  if (file === undefined || file === '') return null;
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new EnvironmentError(`${key}: cannot read ${file}: ${(err as Error).message}`);
  }
  if (!text.includes('-----BEGIN ')) throw new EnvironmentError(`${key}: ${file} is not PEM`);
  return file;
}

export function parseGrpcTls(src: Source): GrpcTls | null {
  const certFile = pemFile(src, 'GRPC_TLS_CERT');
  const keyFile = pemFile(src, 'GRPC_TLS_KEY');
  const clientCaFile = pemFile(src, 'GRPC_TLS_CLIENT_CA');
  if (!certFile !== !keyFile) {
    throw new EnvironmentError('GRPC_TLS_CERT and GRPC_TLS_KEY must be set together');
  }
  if (clientCaFile && !certFile) {
    throw new EnvironmentError('GRPC_TLS_CLIENT_CA needs GRPC_TLS_CERT and GRPC_TLS_KEY');
  }
  const required = src.GRPC_TLS_CLIENT_CERT_REQUIRED;
  if (required !== undefined && required !== '' && !clientCaFile) {
    throw new EnvironmentError('GRPC_TLS_CLIENT_CERT_REQUIRED needs GRPC_TLS_CLIENT_CA');
  }
  const clientCertRequired = bool(src, 'GRPC_TLS_CLIENT_CERT_REQUIRED', true);
  return certFile && keyFile ? { certFile, keyFile, clientCaFile, clientCertRequired } : null;
}

export function parseHttpTls(src: Source): HttpTls | null {
  const certFile = pemFile(src, 'HTTP_TLS_CERT');
  const keyFile = pemFile(src, 'HTTP_TLS_KEY');
  if (!certFile !== !keyFile) {
    throw new EnvironmentError('HTTP_TLS_CERT and HTTP_TLS_KEY must be set together');
  }
  return certFile && keyFile ? { certFile, keyFile } : null;
}

export function parseEnvironment(src: Source = process.env): Environment {
  const env: Environment = {
    databaseUrl: parseDatabaseUrl(src),
    httpHost: str(src, 'HTTP_HOST', '127.0.0.1'),
    httpPort: int(src, 'HTTP_PORT', 8080, 0, 65535),
    httpTls: parseHttpTls(src),
    liveMaxPayloadBytes: int(src, 'LIVE_MAX_PAYLOAD_BYTES', 4096, 256, 1024 * 1024),
    liveMaxConnections: int(src, 'LIVE_MAX_CONNECTIONS', 1000, 1, 100_000),
    liveMaxRoomsPerSocket: int(src, 'LIVE_MAX_ROOMS_PER_SOCKET', 64, 1, 10_000),
    // Loopback unless configured, as HTTP: agents on other hosts need GRPC_HOST set explicitly.
    grpcHost: str(src, 'GRPC_HOST', '127.0.0.1'),
    grpcPort: int(src, 'GRPC_PORT', 50051, 0, 65535),
    grpcTls: parseGrpcTls(src),
    migrateOnStart: bool(src, 'MIGRATE_ON_START', true),
    grpcMaxMessageBytes: int(
      src,
      'GRPC_MAX_MESSAGE_BYTES',
      4 * 1024 * 1024,
      1024,
      64 * 1024 * 1024,
    ),
    maxRecordsPerBatch: int(src, 'INGEST_MAX_RECORDS_PER_BATCH', 20_000, 1, 1_000_000),
    ingestMaxInFlightPerStream: int(src, 'INGEST_MAX_IN_FLIGHT_PER_STREAM', 32, 1, 10_000),
    ingestQueueLimit: int(src, 'INGEST_QUEUE_LIMIT', 2_000, 1, 1_000_000),
    ingestMaxBatchesPerWrite: int(src, 'INGEST_MAX_BATCHES_PER_WRITE', 200, 1, 10_000),
    ingestWriters: int(src, 'INGEST_WRITERS', 2, 1, 64),
    offlineAfterSeconds: int(src, 'OFFLINE_AFTER_SECONDS', 90, 1, 86_400),
    retentionRawDays: int(src, 'RETENTION_RAW_DAYS', 7, 1, 3_650),
    retention1mDays: int(src, 'RETENTION_1M_DAYS', 35, 1, 3_650),
    retention1hDays: int(src, 'RETENTION_1H_DAYS', 400, 1, 36_500),
    reportRetentionDays: int(
      src,
      'REPORT_RETENTION_DAYS',
      REPORT_RETENTION_DEFAULT_DAYS,
      0,
      36_500,
    ),
    partitionsAheadDays: int(src, 'PARTITIONS_AHEAD_DAYS', 3, 1, 60),
    maintenanceIntervalSeconds: int(src, 'MAINTENANCE_INTERVAL_SECONDS', 3_600, 1, 86_400),
    fleetRollupIntervalSeconds: int(src, 'FLEET_ROLLUP_INTERVAL_SECONDS', 30, 1, 3_600),
    fleetRollupGraceSeconds: int(src, 'FLEET_ROLLUP_GRACE_SECONDS', 60, 0, 86_400),
    maxClockSkewSeconds: int(src, 'MAX_CLOCK_SKEW_SECONDS', 3_600, 0, 7 * 86_400),
    agentWindowSeconds: int(src, 'AGENT_WINDOW_SECONDS', 10, 1, 3_600),
    agentTopN: int(src, 'AGENT_TOP_N', 20, 1, 10_000),
    logLevel: str(src, 'LOG_LEVEL', 'info'),
    dbPoolSize: int(src, 'DB_POOL_SIZE', 10, 1, 200),
    audit: parseAuditSettings(src),
    auth: parseAuthSettings(src, int),
    ldap: null,
  };
  // The re-check interval is bounded by the session idle time (parsed just above).
  env.ldap = parseLdapSettings(src, env.auth.sessionIdleMinutes * 60);
  if (!['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'].includes(env.logLevel)) {
    throw new EnvironmentError(`LOG_LEVEL must be one of fatal|error|warn|info|debug|trace|silent`);
  }
  if (!(
    env.retentionRawDays <= env.retention1mDays && env.retention1mDays <= env.retention1hDays
  )) {
    throw new EnvironmentError(
      'retention must not shrink with coarser resolution: RETENTION_RAW_DAYS <= RETENTION_1M_DAYS <= RETENTION_1H_DAYS',
    );
  }
  // Reports are compliance evidence: never kept for less than the audit trail's minimum.
  if (env.reportRetentionDays < MIN_RETENTION_DAYS) {
    throw new EnvironmentError(
      `REPORT_RETENTION_DAYS must be at least ${MIN_RETENTION_DAYS} (the audit trail's six months, Cybersecurity Law / MLPS 2.0), got ${env.reportRetentionDays}`,
    );
  }
  return env;
}
