import { createCipheriv, type Cipher } from 'node:crypto';
import type { AddressBytes } from './address';

/**
 * Prefix-preserving pseudonymisation (Crypto-PAn, Xu, Fan, Ammar, Moon 2002):
 * two addresses sharing a k-bit prefix map to two addresses sharing exactly a
 * k-bit prefix. AES-128-ECB is the pseudorandom function, as in the reference
 * implementation; the first 16 key bytes are the AES key, the last 16 are
 * encrypted once to form the padding block. IPv6 uses the same construction
 * over 128 bits, so results match the common Go and reference outputs.
 */
export class CryptoPan {
  private readonly cipher: Cipher;
  private readonly pad: Buffer;
  private readonly cache = new Map<string, Buffer>();

  constructor(
    key: Buffer,
    private readonly cacheSize = 65536,
  ) {
    if (key.length !== 32) throw new Error(`Crypto-PAn key must be 32 bytes, got ${key.length}`);
    // ECB keeps no state between blocks, so one cipher object serves every call.
    this.cipher = createCipheriv('aes-128-ecb', key.subarray(0, 16), null);
    this.cipher.setAutoPadding(false);
    this.pad = this.encryptBlock(key.subarray(16, 32));
  }

  private encryptBlock(block: Buffer): Buffer {
    return this.cipher.update(block);
  }

  anonymize(addr: AddressBytes): AddressBytes {
    const cacheKey = addr.toString('hex');
    const hit = this.cache.get(cacheKey);
    if (hit) return Buffer.from(hit);
    const bits = addr.length * 8;
    const otp = Buffer.alloc(addr.length);
    const input = Buffer.from(this.pad);
    for (let pos = 0; pos < bits; pos++) {
      // Input: the first `pos` bits of the address, then the pad's bits.
      const byte = pos >> 3;
      const bit = pos & 7;
      if (pos > 0) {
        const prev = pos - 1;
        const pb = prev >> 3;
        const mask = 0x80 >> (prev & 7);
        input[pb] = (input[pb] & ~mask) | (addr[pb] & mask);
      }
      const out = this.encryptBlock(input);
      if (out[0] & 0x80) otp[byte] |= 0x80 >> bit;
    }
    const result = Buffer.alloc(addr.length);
    for (let i = 0; i < addr.length; i++) result[i] = addr[i] ^ otp[i];
    if (this.cache.size >= this.cacheSize) this.cache.clear();
    this.cache.set(cacheKey, result);
    return Buffer.from(result);
  }
}
