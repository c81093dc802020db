import { randomBytes, scrypt as scryptCb, ScryptOptions, timingSafeEqual } from 'node:crypto';

// Passwords are hashed with node:crypto scrypt (RFC 7914), stored as a PHC
// string: $scrypt$ln=17,r=8,p=1$<salt>$<hash> (base64, no padding). scrypt is
// memory-hard like argon2id and ships inside Node's OpenSSL, so there is no
// native addon to build on every Kylin/openEuler host (the `argon2` package
// compiles one or downloads a prebuilt binary); see the README.

export interface ScryptParams {
  /** log2 of the CPU/memory cost N. */
  ln: number;
  r: number;
  p: number;
}

export const DEFAULT_SCRYPT: ScryptParams = { ln: 17, r: 8, p: 1 };
const KEY_LENGTH = 32;
const SALT_LENGTH = 16;

function derive(password: string, salt: Buffer, params: ScryptParams): Promise<Buffer> {
  const N = 2 ** params.ln;
  // 128 * N * r bytes are needed (128 MiB at N=2^17, r=8); OpenSSL refuses above maxmem (32 MiB default).
  const options: ScryptOptions = {
    N,
    r: params.r,
    p: params.p,
    maxmem: 128 * N * params.r * params.p + 16 * 1024 * 1024,
  };
  return new Promise((resolve, reject) =>
    scryptCb(password.normalize('NFC'), salt, KEY_LENGTH, options, (err, key) =>
      err ? reject(err) : resolve(key),
    ),
  );
}

const b64 = (b: Buffer) => b.toString('base64').replace(/=+$/, '');

export async function hashPassword(
  password: string,
  params: ScryptParams = DEFAULT_SCRYPT,
): Promise<string> {
  const salt = randomBytes(SALT_LENGTH);
  const key = await derive(password, salt, params);
  return `$scrypt$ln=${params.ln},r=${params.r},p=${params.p}$${b64(salt)}$${b64(key)}`;
}

interface ParsedHash {
  params: ScryptParams;
  salt: Buffer;
  key: Buffer;
}

const PHC = /^\$scrypt\$ln=(\d{1,2}),r=(\d{1,2}),p=(\d{1,2})\$([A-Za-z0-9+/]+)\$([A-Za-z0-9+/]+)$/;

export function parsePasswordHash(phc: string): ParsedHash | null {
  const m = PHC.exec(phc);
  if (!m) return null;
  return {
    params: { ln: Number(m[1]), r: Number(m[2]), p: Number(m[3]) },
    salt: Buffer.from(m[4], 'base64'),
    key: Buffer.from(m[5], 'base64'),
  };
}

export async function verifyPassword(password: string, phc: string): Promise<boolean> {
  const parsed = parsePasswordHash(phc);
  if (!parsed) return false;
  const key = await derive(password, parsed.salt, parsed.params);
  return key.length === parsed.key.length && timingSafeEqual(key, parsed.key);
}

/** True when the stored hash was made with other parameters than today's (rehash at next sign-in). */
export function needsRehash(phc: string, params: ScryptParams = DEFAULT_SCRYPT): boolean {
  const parsed = parsePasswordHash(phc);
  return (
    !parsed ||
    parsed.params.ln !== params.ln ||
    parsed.params.r !== params.r ||
    parsed.params.p !== params.p ||
    parsed.key.length !== KEY_LENGTH
  );
}

let dummy: Promise<string> | null = null;

/** Spends the same time as a real check, so that unknown users answer as slowly as known ones. */
export async function burnPasswordCheck(password: string, params: ScryptParams): Promise<void> {
  dummy ??= hashPassword(randomBytes(16).toString('hex'), params);
  await verifyPassword(password, await dummy);
}
