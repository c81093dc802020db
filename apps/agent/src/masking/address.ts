import { isIPv4, isIPv6 } from 'node:net';
// @tidewatch/bpf's JS (not its addon, which loads on first use) is cheap to load at start;
// doctor's `typeof import()` makes the module-boundary rule call every static import lazy.
// eslint-disable-next-line @nx/enforce-module-boundaries
import { formatAddress as formatRecordAddress } from '@tidewatch/bpf';

/** An IP address as network-order bytes: 4 for IPv4, 16 for IPv6. */
export type AddressBytes = Buffer;

export function parseAddress(text: string): AddressBytes | undefined {
  if (isIPv4(text)) return Buffer.from(text.split('.').map(Number));
  if (!isIPv6(text)) return undefined;
  let s = text;
  const zone = s.indexOf('%');
  if (zone >= 0) s = s.slice(0, zone);
  // A trailing dotted quad (::ffff:1.2.3.4) becomes two hex groups.
  const quad = /(\d+\.\d+\.\d+\.\d+)$/.exec(s);
  if (quad) {
    const b = quad[1].split('.').map(Number);
    s =
      s.slice(0, -quad[1].length) +
      `${((b[0] << 8) | b[1]).toString(16)}:${((b[2] << 8) | b[3]).toString(16)}`;
  }
  const [head, tail] = s.includes('::') ? s.split('::') : [s, undefined];
  const h = head ? head.split(':') : [];
  const t = tail ? tail.split(':') : [];
  const groups = tail === undefined ? h : [...h, ...Array(8 - h.length - t.length).fill('0'), ...t];
  const out = Buffer.alloc(16);
  groups.forEach((g, i) => out.writeUInt16BE(parseInt(g, 16), i * 2));
  return out;
}

/** RFC 5952 text for IPv6 (longest zero run compressed), dotted quad for IPv4. */
export function formatAddress(bytes: AddressBytes): string {
  // The collector's formatter, by family: 0 = IPv4 (first 4 bytes), 1 = IPv6.
  return formatRecordAddress(bytes, bytes.length === 4 ? 0 : 1);
}

/** Keeps the first `bits` bits, zeroes the rest. */
export function keepPrefix(bytes: AddressBytes, bits: number): AddressBytes {
  const out = Buffer.from(bytes);
  for (let i = 0; i < out.length; i++) {
    const keep = Math.max(0, Math.min(8, bits - i * 8));
    out[i] &= keep === 0 ? 0 : (0xff << (8 - keep)) & 0xff;
  }
  return out;
}
