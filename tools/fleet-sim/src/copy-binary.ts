// PostgreSQL's binary COPY format (https://www.postgresql.org/docs/current/sql-copy.html,
// "Binary Format"), for the column types of the raw tables only. Each type is written as its
// send function in src/backend/utils/adt writes it. pg-copy-streams-binary was looked at: it has
// no uuid, wants BigInt for int8 and allocates a buffer per field, so this small encoder is used.

/** The column types this encoder writes (series.ts's raw column types, plus the two keys). */
export type CopyType =
  | 'uuid'
  | 'timestamptz'
  | 'text'
  | 'smallint'
  | 'integer'
  | 'bigint'
  | 'double precision'
  | 'boolean'
  | 'double precision[]'
  | 'bigint[]';

const SIGNATURE = Buffer.from('PGCOPY\n\xff\r\n\0', 'latin1');
// PostgreSQL's timestamps count microseconds from 2000-01-01 00:00 UTC.
const PG_EPOCH_MS = 946_684_800_000;
const ELEMENT_OID: Record<string, number> = { 'double precision[]': 701, 'bigint[]': 20 };
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** A growing buffer of one COPY's data: header, tuples, trailer. */
export class BinaryCopyWriter {
  private buf: Buffer;
  private at = 0;
  private readonly uuids = new Map<string, Buffer>();

  constructor(private readonly types: readonly CopyType[]) {
    this.buf = Buffer.allocUnsafe(1 << 16);
    this.put(SIGNATURE.length + 8);
    SIGNATURE.copy(this.buf, this.at);
    this.at += SIGNATURE.length;
    this.buf.writeInt32BE(0, this.at); // flags: no OIDs
    this.buf.writeInt32BE(0, this.at + 4); // no header extension
    this.at += 8;
  }

  /** Ensures room for n more bytes. */
  private put(n: number): void {
    if (this.at + n <= this.buf.length) return;
    let size = this.buf.length * 2;
    while (size < this.at + n) size *= 2;
    const next = Buffer.allocUnsafe(size);
    this.buf.copy(next, 0, 0, this.at);
    this.buf = next;
  }

  // Two 32-bit halves instead of a BigInt per value: the encoding's main cost otherwise.
  private int64(v: number, what: string): void {
    if (!Number.isSafeInteger(v)) throw new RangeError(`${what}: ${v} is not a safe integer`);
    const hi = Math.floor(v / 4_294_967_296);
    this.put(8);
    this.buf.writeInt32BE(hi, this.at);
    this.buf.writeUInt32BE(v - hi * 4_294_967_296, this.at + 4);
    this.at += 8;
  }

  /** One tuple; values in the order of the writer's types. */
  row(values: readonly unknown[]): void {
    if (values.length !== this.types.length)
      throw new Error(`COPY row has ${values.length} values, expected ${this.types.length}`);
    this.put(2);
    this.buf.writeInt16BE(values.length, this.at);
    this.at += 2;
    for (let i = 0; i < values.length; i++) this.field(this.types[i], values[i]);
  }

  private field(type: CopyType, v: unknown): void {
    if (v === null || v === undefined) {
      this.put(4);
      this.buf.writeInt32BE(-1, this.at);
      this.at += 4;
      return;
    }
    switch (type) {
      case 'uuid': {
        // A flush has few agents and many rows each: parse each id once.
        let b = this.uuids.get(v as string);
        if (!b) {
          const s = v as string;
          if (typeof s !== 'string' || !UUID.test(s)) throw new TypeError(`not a uuid: ${s}`);
          b = Buffer.from(s.replace(/-/g, ''), 'hex');
          this.uuids.set(s, b);
        }
        this.put(20);
        this.buf.writeInt32BE(16, this.at);
        b.copy(this.buf, this.at + 4);
        this.at += 20;
        return;
      }
      case 'timestamptz': {
        const ms = (v as Date).getTime();
        if (!Number.isFinite(ms)) throw new TypeError(`not a valid Date: ${String(v)}`);
        this.put(4);
        this.buf.writeInt32BE(8, this.at);
        this.at += 4;
        this.int64((ms - PG_EPOCH_MS) * 1000, 'timestamptz');
        return;
      }
      case 'text': {
        const s = String(v);
        const n = Buffer.byteLength(s, 'utf8');
        this.put(4 + n);
        this.buf.writeInt32BE(n, this.at);
        this.buf.write(s, this.at + 4, n, 'utf8');
        this.at += 4 + n;
        return;
      }
      case 'smallint':
        this.put(6);
        this.buf.writeInt32BE(2, this.at);
        this.buf.writeInt16BE(v as number, this.at + 4); // throws out of range
        this.at += 6;
        return;
      case 'integer':
        this.put(8);
        this.buf.writeInt32BE(4, this.at);
        this.buf.writeInt32BE(v as number, this.at + 4);
        this.at += 8;
        return;
      case 'bigint':
        this.put(4);
        this.buf.writeInt32BE(8, this.at);
        this.at += 4;
        this.int64(v as number, 'bigint');
        return;
      case 'double precision':
        this.put(12);
        this.buf.writeInt32BE(8, this.at);
        this.buf.writeDoubleBE(v as number, this.at + 4);
        this.at += 12;
        return;
      case 'boolean':
        this.put(5);
        this.buf.writeInt32BE(1, this.at);
        this.buf[this.at + 4] = v ? 1 : 0;
        this.at += 5;
        return;
      case 'double precision[]':
      case 'bigint[]': {
        const a = v as number[];
        if (!Array.isArray(a)) throw new TypeError(`not an array: ${String(v)}`);
        // array_send: ndim, has-nulls flag, element type, then (length, lower bound) per
        // dimension and each element as a field; an empty array has no dimensions.
        const header = a.length === 0 ? 12 : 20;
        const len = header + a.length * 12;
        this.put(4 + len);
        this.buf.writeInt32BE(len, this.at);
        this.buf.writeInt32BE(a.length === 0 ? 0 : 1, this.at + 4);
        this.buf.writeInt32BE(0, this.at + 8);
        this.buf.writeInt32BE(ELEMENT_OID[type], this.at + 12);
        if (a.length > 0) {
          this.buf.writeInt32BE(a.length, this.at + 16);
          this.buf.writeInt32BE(1, this.at + 20);
        }
        this.at += 4 + header;
        for (const x of a) {
          this.buf.writeInt32BE(8, this.at);
          this.at += 4;
          if (type === 'bigint[]') {
            if (!Number.isSafeInteger(x))
              throw new RangeError(`bigint[]: ${x} is not a safe integer`);
            this.buf.writeBigInt64BE(BigInt(x), this.at);
          } else this.buf.writeDoubleBE(x, this.at);
          this.at += 8;
        }
        return;
      }
      default:
        throw new Error(`binary COPY has no encoder for ${type as string}`);
    }
  }

  /** The COPY data with its trailer; the writer is done after this. */
  finish(): Buffer {
    this.put(2);
    this.buf.writeInt16BE(-1, this.at);
    this.at += 2;
    return this.buf.subarray(0, this.at);
  }
}
