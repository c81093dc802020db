import { readFileSync } from 'node:fs';
import { isIP } from 'node:net';
import type { MaskingModeName } from '../config/schema';
import { formatAddress, keepPrefix, parseAddress, type AddressBytes } from './address';
import { CryptoPan } from './crypto-pan';

export interface MaskingPolicy {
  mode: MaskingModeName;
  ipv4PrefixBits: number;
  ipv6PrefixBits: number;
  keyFile?: string;
}

/**
 * The one place addresses are transformed before they leave the process.
 * Everything that emits an address (batches, exports, top, logs) goes through it.
 */
export interface Masker {
  readonly mode: MaskingModeName;
  /** Masked text for raw address bytes (4 or 16). */
  maskBytes(addr: AddressBytes): string;
  /** Masked text for an address given as text; non-addresses pass through unchanged. */
  maskText(addr: string): string;
  /** Replaces every address literal inside free text (log lines, error messages). */
  scrub(text: string): string;
}

const IPV4_IN_TEXT = /(?<![\w.:])(?:\d{1,3}\.){3}\d{1,3}(?![\w.])/g;
const IPV6_IN_TEXT =
  /(?<![\w:.])(?:[0-9a-fA-F]{0,4}:){2,7}(?:[0-9a-fA-F]{1,4}|(?:\d{1,3}\.){3}\d{1,3})?(?![\w:])/g;

/** Reads a 32-byte Crypto-PAn key: raw bytes, or 64 hex characters. */
export function readMaskingKey(file: string): Buffer {
  let raw: Buffer;
  try {
    raw = readFileSync(file);
  } catch (err) {
    throw new Error(`cannot read masking key ${file}: ${(err as Error).message}`);
  }
  const text = raw.toString('utf8').trim();
  if (/^[0-9a-fA-F]{64}$/.test(text)) return Buffer.from(text, 'hex');
  if (raw.length === 32) return raw;
  throw new Error(
    `masking key ${file} must hold 32 bytes (raw) or 64 hex characters; create one with: head -c 32 /dev/urandom > ${file} && chmod 600 ${file}`,
  );
}

export function createMasker(policy: MaskingPolicy, key?: Buffer): Masker {
  let transform: (addr: AddressBytes) => string;
  switch (policy.mode) {
    case 'none':
      transform = formatAddress;
      break;
    case 'truncate':
      transform = (addr) => {
        const bits = addr.length === 4 ? policy.ipv4PrefixBits : policy.ipv6PrefixBits;
        const full = addr.length * 8;
        const text = formatAddress(keepPrefix(addr, bits));
        return bits >= full ? text : `${text}/${bits}`;
      };
      break;
    case 'pseudonymize': {
      const pan = new CryptoPan(key ?? readMaskingKey(requireKeyFile(policy)));
      transform = (addr) => formatAddress(pan.anonymize(addr));
      break;
    }
  }
  const maskText = (text: string): string => {
    const bytes = parseAddress(text);
    return bytes ? transform(bytes) : text;
  };
  return {
    mode: policy.mode,
    maskBytes: transform,
    maskText,
    scrub(text: string): string {
      if (policy.mode === 'none') return text;
      return text
        .replace(IPV6_IN_TEXT, (m) => (isIP(m) === 6 ? maskText(m) : m))
        .replace(IPV4_IN_TEXT, (m) => (isIP(m) === 4 ? maskText(m) : m));
    },
  };
}

function requireKeyFile(policy: MaskingPolicy): string {
  if (!policy.keyFile) throw new Error('masking mode "pseudonymize" needs masking.keyFile');
  return policy.keyFile;
}
