import * as zlib from 'node:zlib';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { crc32c } from './crc32c.ts';
import { SluiceError, type ErrorCode } from './errors.ts';
import { BATCH_HEADER_SIZE, decodeRecordBatch, encodeRecordBatch, validateBatch, validateBatches, type RecordInput } from './record-batch.ts';
import { validateProducerBatches, validateProducerRecords } from './record-validation.ts';

const RECORDS_COUNT_AT = 57;
const LAST_OFFSET_DELTA_AT = 23;
const ATTRIBUTES_AT = 21;

/** Recomputes the CRC after a test changed bytes it covers: the damage must get past validateBatch. */
function reseal(buf: Buffer): Buffer {
  buf.writeUInt32BE(crc32c(buf, ATTRIBUTES_AT, buf.length), 17);
  return buf;
}

/** A batch with this records section and header claims, sealed with a matching CRC. */
function batchWith(records: Buffer, recordsCount: number, codec = 0): Buffer {
  const template = encodeRecordBatch([{ value: Buffer.from('x'), timestamp: 1000 }]);
  const buf = Buffer.concat([template.subarray(0, BATCH_HEADER_SIZE), records]);
  buf.writeInt32BE(buf.length - 12, 8);
  buf.writeInt16BE(codec, ATTRIBUTES_AT);
  buf.writeInt32BE(recordsCount - 1, LAST_OFFSET_DELTA_AT);
  buf.writeInt32BE(recordsCount, RECORDS_COUNT_AT);
  return reseal(buf);
}

/** Runs the header validation the broker does first, then the records walk. */
function validate(buf: Buffer): void {
  validateProducerBatches(buf, validateBatches(buf, Number.MAX_SAFE_INTEGER, { fromProducer: true }));
}

function expectRefused(buf: Buffer, code: ErrorCode, message: RegExp): void {
  let thrown: unknown;
  try {
    validate(buf);
  } catch (err) {
    thrown = err;
  }
  expect(thrown).toBeInstanceOf(SluiceError);
  expect((thrown as SluiceError).code).toBe(code);
  expect((thrown as SluiceError).message).toMatch(message);
}

const records: RecordInput[] = [
  { key: Buffer.from('k0'), value: Buffer.from('v0'), timestamp: 1000, headers: [{ key: 'h', value: Buffer.from('hv') }, { key: 'n', value: null }] },
  { key: null, value: null, timestamp: 999 },
  { key: Buffer.alloc(0), value: Buffer.alloc(300, 7), timestamp: 5000 },
];

describe('validateProducerRecords', () => {
  it('accepts what the encoder produces, uncompressed, gzip and zstd', () => {
    for (const compression of ['none', 'gzip', 'zstd'] as const) {
      const buf = encodeRecordBatch(records, { compression });
      expect(() => validate(buf), compression).not.toThrow();
    }
    const two = Buffer.concat([encodeRecordBatch(records), encodeRecordBatch(records.slice(0, 1), { compression: 'gzip' })]);
    expect(() => validate(two)).not.toThrow();
  });

  it('refuses a records section of garbage whose CRC matches, naming the batch position', () => {
    const good = encodeRecordBatch(records);
    const garbage = batchWith(Buffer.alloc(good.length - BATCH_HEADER_SIZE, 0xff), 3);
    expectRefused(garbage, 'CORRUPT_MESSAGE', /^record batch at byte 0[ ,]/);
    // The second batch of a request is named by its position in the request.
    expectRefused(Buffer.concat([good, garbage]), 'CORRUPT_MESSAGE', new RegExp(`^record batch at byte ${good.length}[ ,]`));
  });

  it('refuses a small batch that claims a million records (it would burn a million offsets)', () => {
    const one = encodeRecordBatch([{ value: Buffer.from('x'), timestamp: 1000 }]);
    const liar = batchWith(Buffer.from(one.subarray(BATCH_HEADER_SIZE)), 1_000_000);
    expect(liar.length).toBe(69);
    expect(() => validateBatch(liar, 0, 1 << 20, { fromProducer: true })).not.toThrow(); // the header alone looks fine
    expectRefused(liar, 'CORRUPT_MESSAGE', /declares 1000000 records, but its records section of 8 bytes can hold at most 1/);
  });

  it('refuses fewer records than recordsCount, and bytes after the last one', () => {
    const section = encodeRecordBatch(records).subarray(BATCH_HEADER_SIZE);
    expectRefused(batchWith(Buffer.from(section), 4), 'CORRUPT_MESSAGE', /declares 4 records, but its records section ends after 3/);
    expectRefused(batchWith(Buffer.from(section), 2), 'CORRUPT_MESSAGE', /declares 2 records but \d+ bytes of its records section follow the last one/);
  });

  it('refuses offset deltas that are not 0..n-1 in order', () => {
    const same = [{ value: Buffer.from('a'), timestamp: 1 }, { value: Buffer.from('b'), timestamp: 1 }];
    const buf = encodeRecordBatch(same);
    // Record 0: length, attributes, timestampDelta (0), offsetDelta: zig-zag 2 is delta 1.
    expect(buf[BATCH_HEADER_SIZE + 3]).toBe(0);
    buf[BATCH_HEADER_SIZE + 3] = 2;
    expectRefused(reseal(buf), 'CORRUPT_MESSAGE', /record 0 has offsetDelta 1; a produced batch numbers its records 0..recordsCount-1/);
  });

  it('refuses lengths that run past their record or the section', () => {
    const one = (): Buffer => encodeRecordBatch([{ key: Buffer.from('key'), value: Buffer.from('value'), timestamp: 1 }]);
    const longRecord = one();
    longRecord[BATCH_HEADER_SIZE] = 0x7e; // record length 63, past the section
    expectRefused(reseal(longRecord), 'CORRUPT_MESSAGE', /record 0 declares 63 bytes, but a record takes 6 or more and \d+ remain/);
    const longKey = one();
    longKey[BATCH_HEADER_SIZE + 4] = 0x20; // key length 16, past the record
    expectRefused(reseal(longKey), 'CORRUPT_MESSAGE', /record 0 declares a key of 16 bytes, but \d+ remain in the record/);
    const tooManyHeaders = one();
    tooManyHeaders[tooManyHeaders.length - 1] = 0x02; // one header, with no bytes left for it
    expectRefused(reseal(tooManyHeaders), 'CORRUPT_MESSAGE', /runs past the end of its region/);
  });

  it('refuses snappy and lz4 at produce, since no Sluice consumer can decompress them', () => {
    const section = encodeRecordBatch(records).subarray(BATCH_HEADER_SIZE);
    expectRefused(batchWith(Buffer.from(section), 3, 2), 'UNSUPPORTED_COMPRESSION', /^record batch at byte 0 is compressed with snappy.*'none', 'gzip' or 'zstd'/);
    expectRefused(batchWith(Buffer.from(section), 3, 3), 'UNSUPPORTED_COMPRESSION', /compressed with lz4/);
  });

  it('refuses a gzip section that does not inflate, or inflates to records that do not add up', () => {
    expectRefused(batchWith(Buffer.from('not gzip at all'), 1, 1), 'CORRUPT_MESSAGE', /gzip records section does not decompress/);
    const inflatedGarbage = zlib.gzipSync(Buffer.alloc(100, 0xff));
    expectRefused(batchWith(inflatedGarbage, 1, 1), 'CORRUPT_MESSAGE', /gzip-decompressed records section/);
  });

  it('accepts only what the decoder decodes to recordsCount records at consecutive offsets (property)', () => {
    const record = fc.record({
      key: fc.option(fc.uint8Array({ maxLength: 8 }).map((a) => Buffer.from(a))),
      value: fc.option(fc.uint8Array({ maxLength: 40 }).map((a) => Buffer.from(a))),
      timestamp: fc.integer({ min: 0, max: 2_000_000 }),
      headers: fc.array(fc.record({ key: fc.string({ maxLength: 4 }), value: fc.option(fc.uint8Array({ maxLength: 4 }).map((a) => Buffer.from(a))) }), { maxLength: 2 }),
    });
    fc.assert(
      fc.property(fc.array(record, { minLength: 1, maxLength: 5 }), fc.array(fc.tuple(fc.nat(), fc.integer({ min: 1, max: 255 })), { maxLength: 3 }), (input, damage) => {
        const buf = encodeRecordBatch(input);
        const sectionLength = buf.length - BATCH_HEADER_SIZE;
        for (const [at, xor] of damage) buf[BATCH_HEADER_SIZE + (at % sectionLength)]! ^= xor;
        reseal(buf);
        let accepted = true;
        try {
          validate(buf);
        } catch (err) {
          if (!(err instanceof SluiceError) || err.code !== 'CORRUPT_MESSAGE') throw err;
          accepted = false;
        }
        if (damage.length === 0) expect(accepted).toBe(true);
        if (accepted) expect(decodeRecordBatch(buf).records.map((r) => r.offset)).toEqual(input.map((_, i) => i));
      }),
      { numRuns: 2000 },
    );
  });
});

describe('decompression cap (record-batch.ts, shared by the decoder and the validator)', () => {
  it('refuses a gzip batch that inflates past 64 MiB instead of allocating it', () => {
    const bomb = encodeRecordBatch([{ value: Buffer.alloc(65 * 1024 * 1024), timestamp: 1 }], { compression: 'gzip' });
    expect(bomb.length).toBeLessThan(1024 * 1024);
    expect(() => decodeRecordBatch(bomb)).toThrow(/gzip records section decompresses to more than 64 MiB/);
    expectRefused(bomb, 'CORRUPT_MESSAGE', /^record batch at byte 0: its gzip records section decompresses to more than 64 MiB/);
  });
});

