import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';

// TOTP secrets must be readable by the server (it computes the codes), so
// they cannot be hashed; they are sealed with AES-256-GCM under a key read
// from a file (AUTH_TOTP_KEY_FILE) that the database never holds, so a dump
// of the database alone does not give anyone a second factor. The user id is
// the associated data: a sealed secret copied onto another row does not open.

const VERSION = 1;

export function seal(key: Buffer, plaintext: Buffer, context: string): Buffer {
  const iv = randomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', key, iv);
  cipher.setAAD(Buffer.from(context, 'utf8'));
  const body = Buffer.concat([cipher.update(plaintext), cipher.final()]);
  return Buffer.concat([Buffer.from([VERSION]), iv, cipher.getAuthTag(), body]);
}

export function open(key: Buffer, sealed: Buffer, context: string): Buffer {
  if (sealed.length < 29 || sealed[0] !== VERSION) throw new Error('sealed secret: unknown format');
  const decipher = createDecipheriv('aes-256-gcm', key, sealed.subarray(1, 13));
  decipher.setAAD(Buffer.from(context, 'utf8'));
  decipher.setAuthTag(sealed.subarray(13, 29));
  return Buffer.concat([decipher.update(sealed.subarray(29)), decipher.final()]);
}
