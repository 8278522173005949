// Variable-length integers as Kafka encodes them inside RecordBatch v2 records
// (org.apache.kafka.common.utils.ByteUtils): little-endian base-128 groups, 7 bits per byte,
// high bit = "more bytes follow". Signed values are zig-zag mapped first so that small
// negative numbers (a timestamp slightly before the batch's base) stay short.
//
// Writers take a pre-sized Buffer and return the position after the last byte written; they
// do not bounds-check (the record-batch encoder sizes its buffer exactly with sizeOf* and
// checks the final position once). Readers go through VarintReader so that decoding a batch
// does not allocate a {value, pos} object per field.
import { SluiceError } from './errors.ts';

// A varlong's value bits above the first byte's 6 (after the sign bit) must stay below 2^47 so
// that the magnitude, rest * 64 + low6, stays within Number.MAX_SAFE_INTEGER.
const VARLONG_REST_LIMIT = 2 ** 47;

function zigZag32(value: number): number {
  return ((value << 1) ^ (value >> 31)) >>> 0;
}

function sizeOfUnsigned32(u: number): number {
  if (u < 0x80) return 1;
  if (u < 0x4000) return 2;
  if (u < 0x200000) return 3;
  if (u < 0x10000000) return 4;
  return 5;
}

/** Bytes needed for an unsigned varint (0 <= value < 2^32). */
export function sizeOfUnsignedVarint(value: number): number {
  return sizeOfUnsigned32(value >>> 0);
}

/** Bytes needed for a zig-zag varint of an int32. */
export function sizeOfVarint(value: number): number {
  return sizeOfUnsigned32(zigZag32(value));
}

/** Bytes needed for a zig-zag varlong of a safe integer. */
export function sizeOfVarlong(value: number): number {
  if (value >= -0x40000000 && value < 0x40000000) return sizeOfUnsigned32(zigZag32(value));
  const magnitude = value >= 0 ? value : -value - 1;
  let bytes = 1;
  let rest = Math.floor(magnitude / 64);
  while (rest > 0) {
    bytes++;
    rest = Math.floor(rest / 128);
  }
  return bytes;
}

function writeUnsigned32(buf: Buffer, u: number, pos: number): number {
  while (u >= 0x80) {
    buf[pos++] = (u & 0x7f) | 0x80;
    u >>>= 7;
  }
  buf[pos++] = u;
  return pos;
}

/** Writes an unsigned varint (0 <= value < 2^32) at pos; returns the position after it. */
export function writeUnsignedVarint(buf: Buffer, value: number, pos: number): number {
  return writeUnsigned32(buf, value >>> 0, pos);
}

/** Writes a zig-zag varint of an int32 at pos; returns the position after it. */
export function writeVarint(buf: Buffer, value: number, pos: number): number {
  return writeUnsigned32(buf, zigZag32(value), pos);
}

/**
 * Writes a zig-zag varlong of a safe integer at pos; returns the position after it.
 * The zig-zag value 2|v| - 1 of a large negative number is not representable as a double, so
 * the sign bit and the magnitude are emitted separately instead of forming it.
 */
export function writeVarlong(buf: Buffer, value: number, pos: number): number {
  if (value >= -0x40000000 && value < 0x40000000) return writeUnsigned32(buf, zigZag32(value), pos);
  if (!Number.isSafeInteger(value)) {
    throw new SluiceError('INVALID_REQUEST', `varlong value ${value} is not a safe integer; use an integer within ±(2^53 - 1)`);
  }
  const sign = value < 0 ? 1 : 0;
  const magnitude = sign === 1 ? -value - 1 : value;
  // ToInt32 is exact modulo 2^32, so `& 0x3f` yields the true low bits of any safe integer.
  const first = ((magnitude & 0x3f) << 1) | sign;
  let rest = Math.floor(magnitude / 64);
  // |value| >= 2^30 here, so at least one more byte follows.
  buf[pos++] = first | 0x80;
  while (rest >= 0x80) {
    buf[pos++] = (rest & 0x7f) | 0x80;
    rest = Math.floor(rest / 128);
  }
  buf[pos++] = rest;
  return pos;
}

/**
 * Cursor over a buffer region [pos, end). Reading past `end` throws CORRUPT_MESSAGE instead of
 * yielding `undefined` bytes, so a truncated or lying length field cannot turn into NaNs.
 */
export class VarintReader {
  buf: Buffer;
  pos: number;
  end: number;
  /** Prefixed to error messages so they say which structure was being read. */
  context: string;

  constructor(buf: Buffer, pos = 0, end = buf.length, context = '') {
    this.buf = buf;
    this.pos = pos;
    this.end = end;
    this.context = context;
  }

  /** Re-targets the reader, so one instance can serve a whole decode. */
  reset(buf: Buffer, pos: number, end: number): void {
    this.buf = buf;
    this.pos = pos;
    this.end = end;
  }

  private byte(): number {
    if (this.pos >= this.end) {
      throw new SluiceError('CORRUPT_MESSAGE', `${this.context}varint at byte ${this.pos} runs past the end of its region (byte ${this.end}); the data is truncated or corrupt`);
    }
    return this.buf[this.pos++]!;
  }

  /** Unsigned varint of at most 5 bytes, as an unsigned 32-bit number. */
  readUnsignedVarint(): number {
    const start = this.pos;
    let value = 0;
    let shift = 0;
    let b = this.byte();
    while ((b & 0x80) !== 0) {
      value |= (b & 0x7f) << shift;
      shift += 7;
      // Same limit as Kafka's ByteUtils.readUnsignedVarint: a 6th byte means garbage, not a big number.
      if (shift > 28) {
        throw new SluiceError('CORRUPT_MESSAGE', `${this.context}varint at byte ${start} is longer than 5 bytes; the data is corrupt`);
      }
      b = this.byte();
    }
    return (value | (b << shift)) >>> 0;
  }

  /** Zig-zag varint, as an int32. */
  readVarint(): number {
    const u = this.readUnsignedVarint();
    return (u >>> 1) ^ -(u & 1);
  }

  /** Zig-zag varlong of at most 10 bytes whose value is a safe integer. */
  readVarlong(): number {
    const start = this.pos;
    const first = this.byte();
    if ((first & 0x80) === 0) return (first >>> 1) ^ -(first & 1);
    const sign = first & 1;
    const low6 = (first >>> 1) & 0x3f;
    let rest = 0;
    let multiplier = 1;
    for (let i = 1; ; i++) {
      if (i >= 10) {
        throw new SluiceError('CORRUPT_MESSAGE', `${this.context}varlong at byte ${start} is longer than 10 bytes; the data is corrupt`);
      }
      const b = this.byte();
      rest += (b & 0x7f) * multiplier;
      if ((b & 0x80) === 0) break;
      multiplier *= 128;
    }
    if (rest >= VARLONG_REST_LIMIT) {
      throw new SluiceError('CORRUPT_MESSAGE', `${this.context}varlong at byte ${start} is outside ±(2^53 - 1), which Sluice cannot represent exactly`);
    }
    const magnitude = rest * 64 + low6;
    return sign === 1 ? -magnitude - 1 : magnitude;
  }
}

