// Ed25519 keys for checkpoints. The private key lives in a file on the server
// host (AUDIT_SIGNING_KEY_FILE), never in the database, so whoever controls the
// database alone cannot forge a checkpoint for a rewritten chain.

import {
  createHash,
  createPrivateKey,
  createPublicKey,
  generateKeyPairSync,
  KeyObject,
  sign,
  verify,
} from 'node:crypto';
import { readFileSync } from 'node:fs';

export class AuditKeyError extends Error {
  override name = 'AuditKeyError';
}

/** A signed statement: the chain had this head, this many entries, at this time. */
export interface Checkpoint {
  v: 1;
  sequence: string;
  /** Hex of the head entry's hash. */
  hash: string;
  /** Entries present in the table, up to and including `sequence`. */
  count: string;
  time: string;
  /** First 16 hex digits of SHA-256 over the public key (SPKI DER). */
  keyId: string;
  /** Base64 Ed25519 signature over signedBytes(). */
  sig: string;
}

export function keyId(publicKey: KeyObject): string {
  return createHash('sha256')
    .update(publicKey.export({ type: 'spki', format: 'der' }))
    .digest('hex')
    .slice(0, 16);
}

function readKeyFile(file: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch (err) {
    throw new AuditKeyError(`cannot read audit signing key ${file}: ${(err as Error).message}`);
  }
}

export function loadSigningKey(file: string): { privateKey: KeyObject; publicKey: KeyObject } {
  let privateKey: KeyObject;
  try {
    privateKey = createPrivateKey(readKeyFile(file));
  } catch (err) {
    if (err instanceof AuditKeyError) throw err;
    throw new AuditKeyError(`${file} is not a PEM private key: ${(err as Error).message}`);
  }
  if (privateKey.asymmetricKeyType !== 'ed25519') {
    throw new AuditKeyError(
      `${file} holds a ${privateKey.asymmetricKeyType} key; Ed25519 is needed`,
    );
  }
  return { privateKey, publicKey: createPublicKey(privateKey) };
}

/** A public key file (for an auditor who verifies without the private key), or a private one. */
export function loadVerifyKey(file: string): KeyObject {
  const pem = readKeyFile(file);
  let key: KeyObject;
  try {
    key = pem.includes('PRIVATE KEY')
      ? createPublicKey(createPrivateKey(pem))
      : createPublicKey(pem);
  } catch (err) {
    throw new AuditKeyError(`${file} is not a PEM key: ${(err as Error).message}`);
  }
  if (key.asymmetricKeyType !== 'ed25519') {
    throw new AuditKeyError(`${file} holds a ${key.asymmetricKeyType} key; Ed25519 is needed`);
  }
  return key;
}

export function generateSigningKeyPem(): { privatePem: string; publicPem: string } {
  const { privateKey, publicKey } = generateKeyPairSync('ed25519');
  return {
    privatePem: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
    publicPem: publicKey.export({ type: 'spki', format: 'pem' }).toString(),
  };
}

function signedBytes(c: Omit<Checkpoint, 'sig'>): Buffer {
  return Buffer.from(
    JSON.stringify([
      'tidewatch-audit-checkpoint',
      c.v,
      c.sequence,
      c.hash,
      c.count,
      c.time,
      c.keyId,
    ]),
    'utf8',
  );
}

export function signCheckpoint(
  head: { sequence: bigint; hash: Buffer; count: bigint },
  privateKey: KeyObject,
  publicKey: KeyObject,
  now = new Date(),
): Checkpoint {
  const body: Omit<Checkpoint, 'sig'> = {
    v: 1,
    sequence: head.sequence.toString(),
    hash: head.hash.toString('hex'),
    count: head.count.toString(),
    time: now.toISOString(),
    keyId: keyId(publicKey),
  };
  return { ...body, sig: sign(null, signedBytes(body), privateKey).toString('base64') };
}

/** Null when the checkpoint is well-formed and signed by `publicKey`; else why not. */
export function checkpointProblem(c: unknown, publicKey: KeyObject): string | null {
  const x = c as Partial<Checkpoint>;
  if (
    !x ||
    x.v !== 1 ||
    typeof x.sequence !== 'string' ||
    !/^\d{1,19}$/.test(x.sequence) ||
    typeof x.hash !== 'string' ||
    !/^[0-9a-f]{64}$/.test(x.hash) ||
    typeof x.count !== 'string' ||
    !/^\d{1,19}$/.test(x.count) ||
    typeof x.time !== 'string' ||
    typeof x.keyId !== 'string' ||
    typeof x.sig !== 'string'
  ) {
    return 'not a checkpoint record';
  }
  if (x.keyId !== keyId(publicKey)) return `signed by another key (${x.keyId})`;
  const ok = verify(null, signedBytes(x as Checkpoint), publicKey, Buffer.from(x.sig, 'base64'));
  return ok ? null : 'signature does not verify';
}
