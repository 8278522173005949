import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { isSluiceError } from './errors.ts';
import {
  VarintReader,
  sizeOfUnsignedVarint,
  sizeOfVarint,
  sizeOfVarlong,
  writeUnsignedVarint,
  writeVarint,
  writeVarlong,
} from './varint.ts';

function encode(write: (buf: Buffer, value: number, pos: number) => number, value: number): Buffer {
  const buf = Buffer.alloc(16);
  return buf.subarray(0, write(buf, value, 0));
}

function bytes(...b: number[]): Buffer {
  return Buffer.from(b);
}

// Zig-zag byte sequences as in Kafka's ByteUtilsTest (testVarintSerde), plus ±300.
const VARINT_VECTORS: [number, Buffer][] = [
  [0, bytes(0x00)],
  [-1, bytes(0x01)],
  [1, bytes(0x02)],
  [63, bytes(0x7e)],
  [-64, bytes(0x7f)],
  [64, bytes(0x80, 0x01)],
  [-65, bytes(0x81, 0x01)],
  [300, bytes(0xd8, 0x04)],
  [-300, bytes(0xd7, 0x04)],
  [8191, bytes(0xfe, 0x7f)],
  [-8192, bytes(0xff, 0x7f)],
  [8192, bytes(0x80, 0x80, 0x01)],
  [1048575, bytes(0xfe, 0xff, 0x7f)],
  [134217727, bytes(0xfe, 0xff, 0xff, 0x7f)],
  [134217728, bytes(0x80, 0x80, 0x80, 0x80, 0x01)],
  [2147483647, bytes(0xfe, 0xff, 0xff, 0xff, 0x0f)],
  [-2147483648, bytes(0xff, 0xff, 0xff, 0xff, 0x0f)],
];

describe('zig-zag varint', () => {
  it.each(VARINT_VECTORS)('encodes %d as Kafka does', (value, expected) => {
    expect(encode(writeVarint, value)).toEqual(expected);
    expect(sizeOfVarint(value)).toBe(expected.length);
    const reader = new VarintReader(expected);
    expect(reader.readVarint()).toBe(value);
    expect(reader.pos).toBe(expected.length);
  });

  it('round-trips every int32 and reports its exact size', () => {
    fc.assert(
      fc.property(fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 }), (value) => {
        const buf = encode(writeVarint, value);
        expect(buf.length).toBe(sizeOfVarint(value));
        const reader = new VarintReader(buf);
        expect(reader.readVarint()).toBe(value);
        expect(reader.pos).toBe(buf.length);
      }),
      { numRuns: 2000 },
    );
  });

  it('rejects a varint longer than 5 bytes', () => {
    const reader = new VarintReader(bytes(0x80, 0x80, 0x80, 0x80, 0x80, 0x01));
    expect(() => reader.readVarint()).toThrow(/longer than 5 bytes/);
  });

  it('rejects a varint that runs past the end of its region instead of reading undefined', () => {
    const buf = bytes(0x80, 0x80, 0x01);
    expect(() => new VarintReader(buf, 0, 2).readVarint()).toThrow(/runs past the end/);
    try {
      new VarintReader(bytes(0x80)).readVarint();
      expect.unreachable();
    } catch (err) {
      expect(isSluiceError(err, 'CORRUPT_MESSAGE')).toBe(true);
    }
  });
});

describe('unsigned varint', () => {
  it.each([
    [0, bytes(0x00)],
    [127, bytes(0x7f)],
    [128, bytes(0x80, 0x01)],
    [300, bytes(0xac, 0x02)],
    [2 ** 32 - 1, bytes(0xff, 0xff, 0xff, 0xff, 0x0f)],
  ])('encodes %d', (value, expected) => {
    expect(encode(writeUnsignedVarint, value)).toEqual(expected);
    expect(sizeOfUnsignedVarint(value)).toBe(expected.length);
    expect(new VarintReader(expected).readUnsignedVarint()).toBe(value);
  });

  it('round-trips every uint32', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 2 ** 32 - 1 }), (value) => {
        const buf = encode(writeUnsignedVarint, value);
        expect(buf.length).toBe(sizeOfUnsignedVarint(value));
        expect(new VarintReader(buf).readUnsignedVarint()).toBe(value);
      }),
      { numRuns: 2000 },
    );
  });
});

describe('zig-zag varlong', () => {
  it.each([
    ...VARINT_VECTORS,
    [2 ** 31, bytes(0x80, 0x80, 0x80, 0x80, 0x10)],
    [-(2 ** 31) - 1, bytes(0x81, 0x80, 0x80, 0x80, 0x10)],
    [2 ** 35 - 1, bytes(0xfe, 0xff, 0xff, 0xff, 0xff, 0x01)],
    // The largest safe integers: zig-zag 2^54 - 2 and 2^54 - 3, neither representable as a double,
    // so these pin down that the encoder never forms the zig-zag value as a number.
    [Number.MAX_SAFE_INTEGER, bytes(0xfe, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x1f)],
    [Number.MIN_SAFE_INTEGER, bytes(0xfd, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x1f)],
  ] as [number, Buffer][])('encodes %d as Kafka does', (value, expected) => {
    expect(encode(writeVarlong, value)).toEqual(expected);
    expect(sizeOfVarlong(value)).toBe(expected.length);
    const reader = new VarintReader(expected);
    expect(reader.readVarlong()).toBe(value);
    expect(reader.pos).toBe(expected.length);
  });

  it('matches a BigInt reference encoding for every safe integer', () => {
    const reference = (value: number): Buffer => {
      let z = BigInt.asUintN(64, (BigInt(value) << 1n) ^ (BigInt(value) >> 63n));
      const out: number[] = [];
      while (z >= 0x80n) {
        out.push(Number(z & 0x7fn) | 0x80);
        z >>= 7n;
      }
      out.push(Number(z));
      return Buffer.from(out);
    };
    fc.assert(
      fc.property(fc.oneof(fc.maxSafeInteger(), fc.integer()), (value) => {
        const buf = encode(writeVarlong, value);
        expect(buf).toEqual(reference(value));
        expect(sizeOfVarlong(value)).toBe(buf.length);
        const reader = new VarintReader(buf);
        expect(reader.readVarlong()).toBe(value);
        expect(reader.pos).toBe(buf.length);
      }),
      { numRuns: 3000 },
    );
  });

  it('rejects a valid Kafka int64 that is outside the safe-integer range rather than rounding it', () => {
    // zig-zag of 2^53 (one past MAX_SAFE_INTEGER) is 2^54.
    const twoPow53 = bytes(0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x20);
    expect(() => new VarintReader(twoPow53).readVarlong()).toThrow(/outside ±\(2\^53 - 1\)/);
    // Long.MIN_VALUE, as Kafka writes it.
    const longMin = bytes(0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01);
    expect(() => new VarintReader(longMin).readVarlong()).toThrow(/outside/);
  });

  it('rejects a varlong longer than 10 bytes', () => {
    const buf = Buffer.alloc(11, 0x80);
    expect(() => new VarintReader(buf).readVarlong()).toThrow(/longer than 10 bytes/);
  });

  it('refuses to write a value that is not a safe integer', () => {
    expect(() => encode(writeVarlong, 2 ** 53)).toThrow(/not a safe integer/);
    expect(() => encode(writeVarlong, 2 ** 31 + 0.5)).toThrow(/not a safe integer/);
  });
});

describe('VarintReader', () => {
  it('reads consecutive fields and can be reset onto another buffer', () => {
    const buf = Buffer.alloc(32);
    let pos = writeVarint(buf, -5, 0);
    pos = writeVarlong(buf, 1_700_000_000_000, pos);
    pos = writeUnsignedVarint(buf, 42, pos);
    const reader = new VarintReader(buf, 0, pos);
    expect(reader.readVarint()).toBe(-5);
    expect(reader.readVarlong()).toBe(1_700_000_000_000);
    expect(reader.readUnsignedVarint()).toBe(42);
    expect(reader.pos).toBe(pos);
    expect(() => reader.readVarint()).toThrow(/runs past the end/);

    reader.reset(bytes(0x00, 0x03), 1, 2);
    expect(reader.readVarint()).toBe(-2);
  });
});
