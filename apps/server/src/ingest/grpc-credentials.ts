import * as grpc from '@grpc/grpc-js';
import { readFileSync } from 'node:fs';
import type { SecureContextOptions } from 'node:tls';
import type { GrpcTls } from '../config/environment';

/**
 * Client certificates requested but optional: the handshake accepts a client
 * with no certificate or one that does not verify; only a verified one shows
 * up in the call's auth context (grpc-js reports nothing for the others), so
 * an unverifiable certificate counts as none. createSsl can only require a
 * certificate or not ask for one.
 */
class OptionalClientCertCredentials extends grpc.ServerCredentials {
  constructor(context: SecureContextOptions) {
    super({ requestCert: true, rejectUnauthorized: false }, context);
  }

  _equals(other: grpc.ServerCredentials): boolean {
    return other === this;
  }
}

/** Plaintext, TLS, or mutual TLS with client certificates required or optional. */
export function serverCredentials(tls: GrpcTls | null): grpc.ServerCredentials {
  if (!tls) return grpc.ServerCredentials.createInsecure();
  const cert = readFileSync(tls.certFile);
  const key = readFileSync(tls.keyFile);
  if (!tls.clientCaFile) {
    return grpc.ServerCredentials.createSsl(null, [{ private_key: key, cert_chain: cert }], false);
  }
  const ca = readFileSync(tls.clientCaFile);
  if (!tls.clientCertRequired) return new OptionalClientCertCredentials({ ca, cert, key });
  return grpc.ServerCredentials.createSsl(ca, [{ private_key: key, cert_chain: cert }], true);
}
