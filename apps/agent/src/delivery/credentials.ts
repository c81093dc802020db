import { chmodSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as grpc from '@grpc/grpc-js';
import { writeFileDurably } from '../state/durable-file';

export interface TlsOptions {
  enabled: boolean;
  caFile?: string;
  certFile?: string;
  keyFile?: string;
  serverName?: string;
}

function readPem(file: string, what: string): Buffer {
  try {
    return readFileSync(file);
  } catch (err) {
    throw new Error(`cannot read TLS ${what} ${file}: ${(err as Error).message}`);
  }
}

/** Plain, TLS (server verified against caFile or the system roots) or mutual TLS. */
export function channelCredentials(tls: TlsOptions): grpc.ChannelCredentials {
  if (!tls.enabled && !tls.caFile && !tls.certFile) return grpc.credentials.createInsecure();
  const ca = tls.caFile ? readPem(tls.caFile, 'CA') : null;
  const key = tls.keyFile ? readPem(tls.keyFile, 'key') : null;
  const cert = tls.certFile ? readPem(tls.certFile, 'certificate') : null;
  return grpc.credentials.createSsl(ca, key, cert);
}

export function channelOptions(tls: TlsOptions): grpc.ChannelOptions {
  const opts: grpc.ChannelOptions = {
    'grpc.keepalive_time_ms': 30_000,
    'grpc.keepalive_timeout_ms': 10_000,
    'grpc.max_receive_message_length': 4 * 1024 * 1024,
  };
  if (tls.serverName) opts['grpc.ssl_target_name_override'] = tls.serverName;
  return opts;
}

/** The per-agent credential the server issues at enrollment, kept in the state dir (0600). */
export class CredentialStore {
  private readonly file: string;

  constructor(stateDir: string) {
    this.file = join(stateDir, 'credential');
  }

  read(): string | undefined {
    try {
      const text = readFileSync(this.file, 'utf8').trim();
      return text || undefined;
    } catch {
      return undefined;
    }
  }

  save(credential: string): void {
    writeFileDurably(this.file, credential, 0o600);
    chmodSync(this.file, 0o600);
  }

  get path(): string {
    return this.file;
  }
}
