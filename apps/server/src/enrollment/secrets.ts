import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';

// Tokens and credentials are 256-bit random secrets, so a plain SHA-256 is
// enough to store them (no password stretching needed; nothing to brute-force).

export function newSecret(prefix: 'twe' | 'twa'): string {
  return `${prefix}_${randomBytes(32).toString('base64url')}`;
}

export function hashSecret(secret: string): Buffer {
  return createHash('sha256').update(secret, 'utf8').digest();
}

export function secretMatches(secret: string, hash: Buffer | null): boolean {
  if (!hash) return false;
  const h = hashSecret(secret);
  return h.length === hash.length && timingSafeEqual(h, hash);
}

/** "24h", "30m", "7d", "90s" -> milliseconds. */
export function parseDuration(text: string): number {
  const m = /^(\d+)\s*(s|m|h|d)$/.exec(text.trim());
  if (!m) throw new Error(`duration must look like 90s, 30m, 24h or 7d, got "${text}"`);
  const n = Number(m[1]);
  const unit = { s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 }[m[2] as 's' | 'm' | 'h' | 'd'];
  if (n <= 0) throw new Error(`duration must be positive, got "${text}"`);
  return n * unit;
}
