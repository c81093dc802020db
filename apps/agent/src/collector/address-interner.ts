/**
 * One shared Buffer per distinct address across drained flow records. The
 * addon hands every record two fresh 16-byte Buffers (each its own
 * ArrayBuffer and backing store); a window keeps its records until it closes,
 * so 10,000 flows per window held 20,000 of them, most of them the same few
 * host addresses. Interned, a window holds one small Buffer per distinct
 * address (copied into Node's shared pool), and the addon's own die young.
 *
 * Bounded: past `capacity` distinct addresses the table starts afresh (records
 * already handed out keep their Buffers; nothing compares addresses by
 * identity, only by content).
 */
export class AddressInterner {
  private v4 = new Map<number, Buffer>();
  private v6 = new Map<string, Buffer>();
  private static readonly EMPTY = Buffer.alloc(0);

  constructor(private readonly capacity = 65536) {}

  get size(): number {
    return this.v4.size + this.v6.size;
  }

  /** The shared Buffer holding the same bytes as `bytes` (4 for IPv4, 16 for IPv6, else empty). */
  intern(bytes: Buffer): Buffer {
    if (bytes.length === 4) {
      const key = bytes.readUInt32BE(0);
      const hit = this.v4.get(key);
      if (hit) return hit;
      const copy = this.copy(bytes);
      this.v4.set(key, copy);
      return copy;
    }
    if (bytes.length === 16) {
      const key = bytes.toString('latin1');
      const hit = this.v6.get(key);
      if (hit) return hit;
      const copy = this.copy(bytes);
      this.v6.set(key, copy);
      return copy;
    }
    return bytes.length === 0 ? AddressInterner.EMPTY : this.copy(bytes);
  }

  private copy(bytes: Buffer): Buffer {
    if (this.size >= this.capacity) {
      this.v4 = new Map();
      this.v6 = new Map();
    }
    // Buffer.from copies small buffers into Node's shared 8 KiB pool slabs.
    return Buffer.from(bytes);
  }
}

const hexCache = new WeakMap<Buffer, string>();

/**
 * The hex text of an address Buffer, computed once per Buffer (interned
 * addresses are shared by every record of a window, and their hex is the key
 * of the per-connection and per-source maps). Address Buffers are never
 * written after the drain.
 */
export function addressHex(bytes: Buffer): string {
  let hex = hexCache.get(bytes);
  if (hex === undefined) {
    hex = bytes.toString('hex');
    hexCache.set(bytes, hex);
  }
  return hex;
}
