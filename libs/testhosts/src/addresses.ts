import { randomBytes, randomInt } from 'node:crypto';

/** Addresses of one point-to-point link: a /30 from 198.18.0.0/15 and a /64 from fd00::/8. */
export interface LinkAddresses {
  a4: string;
  b4: string;
  a6: string;
  b6: string;
}

/**
 * A random /30 in 198.18.0.0/15 (RFC 2544 benchmarking) and a random /64 in
 * fd00:7477::/32, so parallel test files do not collide.
 */
export function randomLinkAddresses(): LinkAddresses {
  const block = randomInt(0, 32768) * 4; // 2^17 addresses / 4
  const v4 = (n: number) => {
    const x = (198 << 24) + (18 << 16) + block + n;
    return [x >>> 24, (x >>> 16) & 255, (x >>> 8) & 255, x & 255].join('.');
  };
  const r = randomBytes(4);
  const net6 = `fd00:7477:${r.readUInt16BE(0).toString(16)}:${r.readUInt16BE(2).toString(16)}`;
  return { a4: v4(1), b4: v4(2), a6: `${net6}::1`, b6: `${net6}::2` };
}

/** A locally administered unicast MAC (02:...). */
export function randomMac(): string {
  const b = randomBytes(4);
  return ['02', '74', ...[...b].map((x) => x.toString(16).padStart(2, '0'))].join(':');
}

/** Short random hex for names. */
export function randomTag(bytes = 3): string {
  return randomBytes(bytes).toString('hex');
}
