import { gunzipSync } from 'node:zlib';
import { afterEach, describe, expect, it, vi } from 'vitest';
import fc from 'fast-check';
import { crc32c } from './crc32c.ts';
import { SluiceError, isSluiceError } from './errors.ts';
import type { ErrorCode } from './errors.ts';
import {
  BATCH_HEADER_SIZE,
  LOG_OVERHEAD,
  batchSizeAt,
  countRecords,
  decodeRecordBatch,
  decodeRecordBatches,
  encodeRecordBatch,
  readBatchHeader,
  restampProducerState,
  stampBatch,
  validateBatch,
  validateBatches,
  withHeadroom,
} from './record-batch.ts';
import type { CompressionName, RecordInput } from './record-batch.ts';

const MAX = 1024 * 1024;

function hex(s: string): Buffer {
  return Buffer.from(s.replace(/\s+/g, ''), 'hex');
}

function expectSluiceError(fn: () => unknown, code: ErrorCode, message?: RegExp): void {
  let thrown: unknown;
  try {
    fn();
  } catch (err) {
    thrown = err;
  }
  expect(thrown, 'expected a SluiceError to be thrown').toBeInstanceOf(SluiceError);
  expect((thrown as SluiceError).code).toBe(code);
  if (message) expect((thrown as SluiceError).message).toMatch(message);
}

/** Recomputes the CRC after a test edits covered bytes, to reach checks that sit behind it. */
function reseal(buf: Buffer, pos = 0): Buffer {
  const size = LOG_OVERHEAD + buf.readInt32BE(pos + 8);
  buf.writeUInt32BE(crc32c(buf, pos + 21, pos + size), pos + 17);
  return buf;
}

afterEach(() => {
  vi.restoreAllMocks();
});

describe('encodeRecordBatch: known answer', () => {
  // Hand-derived; every header field is set to a distinct value so a swapped offset shows.
  const records: RecordInput[] = [
    { key: Buffer.from('k'), value: Buffer.from('hello'), timestamp: 1000, headers: [{ key: 'h', value: null }] },
    { key: null, value: null, timestamp: 999 },
  ];
  const expected = hex(
    [
      '0000000000000005', // baseOffset 5
      '00000048', // batchLength 72 = 84 - 12
      '00000007', // partitionLeaderEpoch 7
      '02', // magic
      '15a69f70', // crc: CRC-32C of bytes 21..83
      '0010', // attributes: transactional, no compression, CreateTime
      '00000001', // lastOffsetDelta
      '00000000000003e8', // baseTimestamp 1000 (first record)
      '00000000000003e8', // maxTimestamp 1000
      '0000000100000002', // producerId 2^32 + 2
      '0003', // producerEpoch
      '00000009', // baseSequence
      '00000002', // recordsCount
      '1e 00 00 00 02 6b 0a 68656c6c6f 02 02 68 01',
      '0c 00 01 02 01 01 00',
    ].join(''),
  );
  // Record 0: length 15 (0x1e), attrs, tsDelta 0, offsetDelta 0, key len 1 'k', value len 5
  // 'hello', 1 header: key len 1 'h', value null (0x01).
  // Record 1: length 6 (0x0c), attrs, tsDelta -1 (0x01), offsetDelta 1 (0x02), key null,
  // value null, 0 headers.

  it('produces exactly the expected bytes', () => {
    const batch = encodeRecordBatch(records, {
      baseOffset: 5,
      partitionLeaderEpoch: 7,
      producerId: 2 ** 32 + 2,
      producerEpoch: 3,
      baseSequence: 9,
      isTransactional: true,
    });
    expect(batch.toString('hex')).toBe(expected.toString('hex'));
    expect(batch.length).toBe(84);
  });

  it('reads every header field from its offset', () => {
    expect(readBatchHeader(expected)).toEqual({
      baseOffset: 5,
      batchLength: 72,
      partitionLeaderEpoch: 7,
      magic: 2,
      crc: 0x15a69f70,
      attributes: 0x10,
      compression: 'none',
      lastOffsetDelta: 1,
      baseTimestamp: 1000,
      maxTimestamp: 1000,
      producerId: 2 ** 32 + 2,
      producerEpoch: 3,
      baseSequence: 9,
      recordsCount: 2,
      sizeInBytes: 84,
      lastOffset: 6,
    });
  });

  it('decodes it back, including the negative timestamp delta', () => {
    const { records: decoded } = decodeRecordBatch(expected);
    expect(decoded).toEqual([
      { offset: 5, timestamp: 1000, key: Buffer.from('k'), value: Buffer.from('hello'), headers: [{ key: 'h', value: null }] },
      { offset: 6, timestamp: 999, key: null, value: null, headers: [] },
    ]);
  });

  it('uses the Kafka producer defaults when no options are given', () => {
    vi.spyOn(Date, 'now').mockReturnValue(1_700_000_000_123);
    const header = readBatchHeader(encodeRecordBatch([{ value: Buffer.from('v') }]));
    expect(header).toMatchObject({
      baseOffset: 0,
      partitionLeaderEpoch: -1,
      attributes: 0,
      producerId: -1,
      producerEpoch: -1,
      baseSequence: -1,
      baseTimestamp: 1_700_000_000_123,
      maxTimestamp: 1_700_000_000_123,
    });
  });
});

describe('batches written by other Kafka implementations', () => {
  // IBM/sarama record_test.go, "uncompressed record": CRC from Go's Castagnoli table.
  const saramaPlain = Buffer.from([
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 70, 0, 0, 0, 0, 2, 84, 121, 97, 253, 0, 0, 0, 0, 0, 0, 0, 0, 1, 88, 141, 205, 89,
    56, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 40, 0, 10, 0, 8, 1, 2, 3, 4, 6, 5,
    6, 7, 2, 6, 8, 9, 10, 4, 11, 12,
  ]);
  // Same record, "gzipped record".
  const saramaGzip = Buffer.from([
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 95, 0, 0, 0, 0, 2, 231, 74, 206, 165, 0, 1, 0, 0, 0, 0, 0, 0, 1, 88, 141, 205, 89,
    56, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 31, 139, 8, 0, 0, 9, 110, 136, 0,
    255, 0, 21, 0, 234, 255, 40, 0, 10, 0, 8, 1, 2, 3, 4, 6, 5, 6, 7, 2, 6, 8, 9, 10, 4, 11, 12, 3, 0, 173, 201, 88, 103,
    21, 0, 0, 0,
  ]);
  // Same record, "snappy compressed record" (xerial-less raw snappy as Sarama writes it).
  const saramaSnappy = Buffer.from([
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 72, 0, 0, 0, 0, 2, 21, 0, 159, 97, 0, 2, 0, 0, 0, 0, 0, 0, 1, 88, 141, 205, 89, 56,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 21, 80, 40, 0, 10, 0, 8, 1, 2, 3, 4, 6,
    5, 6, 7, 2, 6, 8, 9, 10, 4, 11, 12,
  ]);
  // Sarama "control batch": no records, attributes 0x20.
  const saramaControl = Buffer.from([
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 49, 0, 0, 0, 0, 2, 81, 46, 67, 217, 0, 32, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
  ]);
  // tulios/kafkajs recordBatch/fixtures/v0_recordbatch.json: fetched from a real broker with
  // message.timestamp.type=LogAppendTime, so the broker rewrote maxTimestamp and the CRC.
  const kafkaLogAppendTime = Buffer.from([
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 113, 0, 0, 0, 0, 2, 228, 195, 36, 165, 0, 9, 0, 0, 0, 0, 0, 0, 1, 115, 237, 245,
    255, 167, 0, 0, 1, 115, 237, 245, 255, 201, 255, 255, 255, 255, 255, 255, 255, 255, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1,
    31, 139, 8, 0, 0, 0, 0, 0, 0, 19, 11, 99, 96, 96, 224, 202, 78, 173, 212, 53, 112, 40, 75, 204, 41, 77, 213, 53,
    208, 53, 50, 48, 50, 208, 53, 176, 208, 53, 52, 9, 49, 52, 183, 50, 52, 182, 50, 176, 208, 51, 179, 48, 138, 98, 0,
    0, 181, 227, 241, 167, 44, 0, 0, 0,
  ]);

  const saramaRecord = {
    offset: 0,
    timestamp: 1479847795005,
    key: Buffer.from([1, 2, 3, 4]),
    value: Buffer.from([5, 6, 7]),
    headers: [{ key: '\x08\x09\x0a', value: Buffer.from([11, 12]) }],
  };

  it('accepts and decodes Sarama batches, uncompressed and gzip', () => {
    for (const batch of [saramaPlain, saramaGzip]) {
      const header = validateBatch(batch, 0, MAX, { fromProducer: true });
      expect(header).toMatchObject({ baseTimestamp: 1479847795000, maxTimestamp: 0, producerId: 0, recordsCount: 1 });
      expect(decodeRecordBatch(batch).records).toEqual([saramaRecord]);
    }
    expect(readBatchHeader(saramaGzip).compression).toBe('gzip');
  });

  it('accepts a snappy batch for storage but refuses to decode it', () => {
    expect(validateBatch(saramaSnappy, 0, MAX, { fromProducer: true }).compression).toBe('snappy');
    expectSluiceError(() => decodeRecordBatch(saramaSnappy), 'UNSUPPORTED_COMPRESSION', /'snappy'/);
  });

  it('accepts an empty control batch from a broker but not from a producer', () => {
    expect(validateBatch(saramaControl, 0, MAX).recordsCount).toBe(0);
    expect(decodeRecordBatch(saramaControl).records).toEqual([]);
    expectSluiceError(() => validateBatch(saramaControl, 0, MAX, { fromProducer: true }), 'CORRUPT_MESSAGE', /at least one/);
    const controlWithRecord = Buffer.from(saramaPlain);
    controlWithRecord.writeInt16BE(0x20, 21);
    expectSluiceError(() => validateBatch(reseal(controlWithRecord), 0, MAX, { fromProducer: true }), 'CORRUPT_MESSAGE', /control batch/);
  });

  it('decodes a broker-rewritten LogAppendTime gzip batch with the append time on every record', () => {
    const header = validateBatch(kafkaLogAppendTime, 0, MAX, { fromProducer: true });
    expect(header).toMatchObject({ attributes: 9, compression: 'gzip', producerId: -1, maxTimestamp: 1597425188809 });
    const { records } = decodeRecordBatch(kafkaLogAppendTime);
    expect(records).toEqual([
      { offset: 0, timestamp: 1597425188809, key: Buffer.from('key-0'), value: Buffer.from('value-0-2020-08-14T17:13:08.682Z'), headers: [] },
    ]);
  });

  it('encodes that record to the same bytes KafkaJS compressed', () => {
    const ours = encodeRecordBatch([
      { key: Buffer.from('key-0'), value: Buffer.from('value-0-2020-08-14T17:13:08.682Z'), timestamp: 1597425188775 },
    ]);
    expect(ours.subarray(BATCH_HEADER_SIZE)).toEqual(gunzipSync(kafkaLogAppendTime.subarray(BATCH_HEADER_SIZE)));
  });
});

const bytesArb = fc.uint8Array({ maxLength: 200 }).map((a) => Buffer.from(a));
const recordArb: fc.Arbitrary<RecordInput> = fc.record(
  {
    key: fc.option(bytesArb, { nil: null }),
    value: fc.option(bytesArb, { nil: null }),
    headers: fc.array(fc.record({ key: fc.string({ unit: 'grapheme', maxLength: 10 }), value: fc.option(bytesArb, { nil: null }) }), { maxLength: 4 }),
    timestamp: fc.oneof(fc.integer({ min: 0, max: 2 ** 31 }), fc.integer({ min: 0, max: Number.MAX_SAFE_INTEGER })),
  },
  { requiredKeys: ['value'] },
);

describe('encode/decode round trip', () => {
  it('preserves records and header fields for any content, timestamps and codec', () => {
    fc.assert(
      fc.property(
        fc.array(recordArb, { minLength: 1, maxLength: 20 }),
        fc.constantFrom<CompressionName>('none', 'gzip', 'zstd'),
        fc.record({
          baseOffset: fc.integer({ min: 0, max: Number.MAX_SAFE_INTEGER - 19 }),
          partitionLeaderEpoch: fc.integer({ min: -1, max: 2 ** 31 - 1 }),
          producerId: fc.integer({ min: -1, max: Number.MAX_SAFE_INTEGER }),
          producerEpoch: fc.integer({ min: -1, max: 32767 }),
          baseSequence: fc.integer({ min: -1, max: 2 ** 31 - 1 }),
          isTransactional: fc.boolean(),
        }),
        (records, compression, opts) => {
          vi.spyOn(Date, 'now').mockReturnValue(1_700_000_000_000);
          const batch = encodeRecordBatch(records, { ...opts, compression });
          const header = validateBatch(batch, 0, batch.length, { fromProducer: true });
          const { isTransactional, ...numericOpts } = opts;
          expect(header).toMatchObject({
            ...numericOpts,
            compression,
            recordsCount: records.length,
            lastOffsetDelta: records.length - 1,
            lastOffset: opts.baseOffset + records.length - 1,
            sizeInBytes: batch.length,
            baseTimestamp: records[0]!.timestamp ?? 1_700_000_000_000,
            maxTimestamp: Math.max(...records.map((r) => r.timestamp ?? 1_700_000_000_000)),
          });
          expect((header.attributes & 0x10) !== 0).toBe(isTransactional);
          const decoded = decodeRecordBatch(batch);
          expect(decoded.header).toEqual(header);
          expect(decoded.records).toEqual(
            records.map((r, i) => ({
              offset: opts.baseOffset + i,
              timestamp: r.timestamp ?? 1_700_000_000_000,
              key: r.key ?? null,
              value: r.value,
              headers: r.headers ?? [],
            })),
          );
        },
      ),
      { numRuns: 300 },
    );
  });

  it('returns zero-copy keys and values for uncompressed batches', () => {
    const batch = encodeRecordBatch([{ key: Buffer.from('key'), value: Buffer.from('value') }]);
    const [record] = decodeRecordBatch(batch).records;
    expect(record!.value!.buffer).toBe(batch.buffer);
    batch[batch.length - 2] = 0x21; // last byte of 'value'
    expect(record!.value!.toString()).toBe('valu!');
  });

  it('gzip and zstd shrink compressible data, and decode to the same records', () => {
    const records = Array.from({ length: 100 }, (_, i) => ({
      key: Buffer.from(`user-${i % 10}`),
      value: Buffer.from(`{"event":"page_view","path":"/products/${i % 7}","padding":"${'x'.repeat(900)}"}`),
      timestamp: 1_700_000_000_000 + i,
    }));
    const plain = encodeRecordBatch(records);
    for (const compression of ['gzip', 'zstd'] as const) {
      const packed = encodeRecordBatch(records, { compression });
      expect(packed.length).toBeLessThan(plain.length / 10);
      expect(readBatchHeader(packed).compression).toBe(compression);
      expect(decodeRecordBatch(packed).records).toEqual(decodeRecordBatch(plain).records);
    }
  });

  it('refuses to encode with a codec Node does not ship', () => {
    for (const compression of ['snappy', 'lz4'] as const) {
      expectSluiceError(() => encodeRecordBatch([{ value: null }], { compression }), 'UNSUPPORTED_COMPRESSION', /use 'none', 'gzip'/);
    }
    expectSluiceError(() => encodeRecordBatch([{ value: null }], { compression: 'brotli' as CompressionName }), 'UNSUPPORTED_COMPRESSION');
  });

  it('rejects inputs that cannot be encoded faithfully', () => {
    expectSluiceError(() => encodeRecordBatch([]), 'INVALID_REQUEST', /at least one record/);
    expectSluiceError(() => encodeRecordBatch([{ value: null, timestamp: -5 }]), 'INVALID_TIMESTAMP', /record 0/);
    expectSluiceError(() => encodeRecordBatch([{ value: null, timestamp: 1 }, { value: null, timestamp: 1.5 }]), 'INVALID_TIMESTAMP', /record 1/);
    expectSluiceError(() => encodeRecordBatch([{ value: null }], { producerEpoch: 40000 }), 'INVALID_REQUEST', /producerEpoch/);
    expectSluiceError(() => encodeRecordBatch([{ value: null }], { baseOffset: -1 }), 'INVALID_REQUEST', /baseOffset/);
  });
});

describe('validateBatch', () => {
  const batch = (): Buffer =>
    encodeRecordBatch(
      [
        { key: Buffer.from('a'), value: Buffer.from('first'), timestamp: 10 },
        { key: Buffer.from('b'), value: Buffer.from('second'), timestamp: 11 },
      ],
      { producerId: 7, producerEpoch: 0, baseSequence: 0 },
    );

  it('accepts a well-formed batch at a non-zero position', () => {
    const buf = Buffer.concat([Buffer.alloc(5), batch()]);
    expect(validateBatch(buf, 5, MAX, { fromProducer: true }).recordsCount).toBe(2);
  });

  it('detects a flipped bit anywhere the CRC covers, naming both checksums', () => {
    const good = batch();
    for (let i = 21; i < good.length; i++) {
      const bad = Buffer.from(good);
      bad[i]! ^= 0x04;
      expectSluiceError(() => validateBatch(bad, 0, MAX), 'CORRUPT_MESSAGE', /at byte 0 fails its CRC-32C check \(stored 0x[0-9a-f]{8}, computed 0x[0-9a-f]{8}\)/);
    }
  });

  it('rejects a truncated batch', () => {
    const good = batch();
    expectSluiceError(() => validateBatch(good.subarray(0, good.length - 1), 0, MAX), 'CORRUPT_MESSAGE', /truncated: it declares 88 bytes but only 87 remain/);
    expectSluiceError(() => validateBatch(good.subarray(0, 11), 0, MAX), 'CORRUPT_MESSAGE', /truncated: 11 bytes remain/);
  });

  it('rejects a batchLength too small for a header', () => {
    const bad = batch();
    bad.writeInt32BE(48, 8);
    expectSluiceError(() => validateBatch(bad, 0, MAX), 'CORRUPT_MESSAGE', /batchLength 48/);
  });

  it('rejects magic other than 2', () => {
    const bad = batch();
    bad[16] = 1;
    expectSluiceError(() => validateBatch(bad, 0, MAX), 'CORRUPT_MESSAGE', /magic 1; only RecordBatch v2/);
  });

  it('rejects a batch over the size limit with MESSAGE_TOO_LARGE', () => {
    const good = batch();
    expect(validateBatch(good, 0, good.length).sizeInBytes).toBe(good.length);
    expectSluiceError(() => validateBatch(good, 0, good.length - 1), 'MESSAGE_TOO_LARGE', /is 88 bytes, over the limit of 87/);
  });

  it('rejects, from a producer, a lastOffsetDelta that disagrees with recordsCount', () => {
    const bad = batch();
    bad.writeInt32BE(5, 23);
    reseal(bad);
    expect(validateBatch(bad, 0, MAX).lastOffsetDelta).toBe(5);
    expectSluiceError(() => validateBatch(bad, 0, MAX, { fromProducer: true }), 'CORRUPT_MESSAGE', /lastOffsetDelta 5 but 2 records/);
  });

  it('rejects an unknown compression codec', () => {
    const bad = batch();
    bad.writeInt16BE(5, 21);
    reseal(bad);
    expectSluiceError(() => validateBatch(bad, 0, MAX), 'UNSUPPORTED_COMPRESSION', /codec 5/);
  });
});

describe('validateBatches', () => {
  const one = encodeRecordBatch([{ value: Buffer.from('x') }]);
  const two = encodeRecordBatch([{ value: Buffer.from('y') }, { value: Buffer.from('z') }]);

  it('returns the header of every concatenated batch', () => {
    const headers = validateBatches(Buffer.concat([one, two]), MAX, { fromProducer: true });
    expect(headers.map((h) => h.recordsCount)).toEqual([1, 2]);
  });

  it('rejects trailing garbage and a truncated last batch', () => {
    expectSluiceError(() => validateBatches(Buffer.concat([one, Buffer.from('junk')]), MAX), 'CORRUPT_MESSAGE', new RegExp(`at byte ${one.length} is truncated`));
    expectSluiceError(() => validateBatches(Buffer.concat([one, two.subarray(0, 40)]), MAX), 'CORRUPT_MESSAGE', new RegExp(`at byte ${one.length}`));
    expectSluiceError(() => validateBatches(Buffer.concat([one, Buffer.alloc(70)]), MAX), 'CORRUPT_MESSAGE', /batchLength 0/);
  });

  it('rejects an empty produce but accepts an empty buffer otherwise', () => {
    expectSluiceError(() => validateBatches(Buffer.alloc(0), MAX, { fromProducer: true }), 'CORRUPT_MESSAGE', /no record batch/);
    expect(validateBatches(Buffer.alloc(0), MAX)).toEqual([]);
  });
});

describe('stampBatch', () => {
  it('sets baseOffset and leader epoch in place and leaves the CRC valid', () => {
    const batch = encodeRecordBatch([{ value: Buffer.from('a') }, { value: Buffer.from('b') }]);
    const crcBefore = batch.readUInt32BE(17);
    const buf = Buffer.concat([Buffer.from('prefix'), batch]);
    stampBatch(buf, 6, 2 ** 40 + 3, 12);
    const header = validateBatch(buf, 6, MAX, { fromProducer: true });
    expect(header).toMatchObject({ baseOffset: 2 ** 40 + 3, partitionLeaderEpoch: 12, lastOffset: 2 ** 40 + 4, crc: crcBefore });
    expect(decodeRecordBatch(buf, 6).records.map((r) => r.offset)).toEqual([2 ** 40 + 3, 2 ** 40 + 4]);
    expect(buf.subarray(0, 6).toString()).toBe('prefix');
  });

  it('refuses a position without a full header, and offsets it cannot store', () => {
    const batch = encodeRecordBatch([{ value: null }]);
    expectSluiceError(() => stampBatch(batch, 30, 1, 1), 'CORRUPT_MESSAGE', /cannot be stamped/);
    expectSluiceError(() => stampBatch(batch, 0, -1, 1), 'INVALID_REQUEST', /baseOffset/);
    expectSluiceError(() => stampBatch(batch, 0, 1, 2 ** 31), 'INVALID_REQUEST', /partitionLeaderEpoch/);
  });
});

describe('restampProducerState', () => {
  it('moves producer id, epoch and sequence of an encoded batch and keeps its CRC valid', () => {
    for (const compression of ['none', 'gzip'] as const) {
      const records = [{ value: Buffer.from('a'), timestamp: 5 }, { key: Buffer.from('k'), value: Buffer.from('b'), timestamp: 6 }];
      const batch = encodeRecordBatch(records, { compression, producerId: 7, producerEpoch: 1, baseSequence: 40 });
      restampProducerState(batch, 2 ** 33 + 5, 3, 12);
      const header = validateBatch(batch, 0, MAX, { fromProducer: true });
      expect(header).toMatchObject({ producerId: 2 ** 33 + 5, producerEpoch: 3, baseSequence: 12, recordsCount: 2 });
      expect(decodeRecordBatch(batch).records.map((r) => r.value!.toString())).toEqual(['a', 'b']);
    }
  });

  it('changes nothing but the producer-state fields and the CRC, also at a non-zero position', () => {
    const batch = encodeRecordBatch([{ value: Buffer.from('x'), timestamp: 1 }], { producerId: 1, producerEpoch: 0, baseSequence: 0 });
    const buf = Buffer.concat([Buffer.from('prefix'), batch]);
    const before = Buffer.from(buf);
    restampProducerState(buf, 1, 0, 9, 6);
    const changed = [...buf.keys()].filter((i) => buf[i] !== before[i]).map((i) => i - 6);
    expect(changed.every((i) => (i >= 17 && i < 21) || (i >= 53 && i < 57))).toBe(true);
    expect(readBatchHeader(buf, 6).baseSequence).toBe(9);
    validateBatch(buf, 6, MAX, { fromProducer: true });
  });

  it('refuses a truncated batch and values the header cannot hold', () => {
    const batch = encodeRecordBatch([{ value: Buffer.from('x') }]);
    expectSluiceError(() => restampProducerState(batch.subarray(0, batch.length - 1), 1, 0, 0), 'CORRUPT_MESSAGE', /cannot be restamped/);
    expectSluiceError(() => restampProducerState(batch, 1, 2 ** 15, 0), 'INVALID_REQUEST', /producerEpoch/);
    expectSluiceError(() => restampProducerState(batch, 1, 0, 2 ** 31), 'INVALID_REQUEST', /baseSequence/);
  });
});

describe('encodeRecordBatch headroom', () => {
  it('returns exactly the batch, with the asked-for bytes free in front of it in the same memory', () => {
    for (const compression of ['none', 'gzip'] as const) {
      const records = [{ value: Buffer.from('a'), timestamp: 5 }, { key: Buffer.from('k'), value: Buffer.alloc(5000, 2), timestamp: 6 }];
      const plain = encodeRecordBatch(records, { compression });
      const batch = encodeRecordBatch(records, { compression, headroom: 40 });
      expect(batch.equals(plain)).toBe(true);
      const framed = withHeadroom(batch, 40);
      expect(framed.length).toBe(40 + batch.length);
      framed.fill(0xee, 0, 40);
      expect(framed.subarray(40).equals(plain)).toBe(true);
      // Same memory: a write through the framed view is seen by the batch.
      framed[40] = 0x7f;
      expect(batch[0]).toBe(0x7f);
      expect(withHeadroom(batch, 10).length).toBe(10 + batch.length);
    }
  });

  it('refuses to hand out bytes that were not reserved', () => {
    const batch = encodeRecordBatch([{ value: Buffer.from('x') }], { headroom: 8 });
    expectSluiceError(() => withHeadroom(batch, 9), 'UNKNOWN', /not the 9 asked for/);
    expectSluiceError(() => encodeRecordBatch([{ value: null }], { headroom: -1 }), 'INVALID_REQUEST', /headroom/);
  });
});

describe('header access', () => {
  const batch = encodeRecordBatch([{ value: Buffer.from('v') }]);

  it('batchSizeAt reports the size, -1 before the length is readable, and refuses nonsense lengths', () => {
    expect(batchSizeAt(batch, 0)).toBe(batch.length);
    expect(batchSizeAt(batch.subarray(0, 12), 0)).toBe(batch.length);
    expect(batchSizeAt(batch.subarray(0, 11), 0)).toBe(-1);
    expect(batchSizeAt(batch, batch.length)).toBe(-1);
    const zero = Buffer.alloc(12);
    expectSluiceError(() => batchSizeAt(zero, 0), 'CORRUPT_MESSAGE', /batchLength 0/);
  });

  it('countRecords adds up the record counts of whole batches and ignores a torn last one', () => {
    const three = encodeRecordBatch([{ value: Buffer.from('a') }, { value: Buffer.from('b') }, { value: Buffer.from('c') }], { compression: 'gzip' });
    const both = Buffer.concat([batch, three]);
    expect(countRecords(both)).toBe(4);
    expect(countRecords(both.subarray(0, both.length - 1))).toBe(1);
    expect(countRecords(Buffer.alloc(0))).toBe(0);
    expect(countRecords(Buffer.alloc(BATCH_HEADER_SIZE))).toBe(0);
  });

  it('readBatchHeader needs a whole header with magic 2', () => {
    expect(readBatchHeader(batch.subarray(0, BATCH_HEADER_SIZE)).recordsCount).toBe(1);
    expectSluiceError(() => readBatchHeader(batch.subarray(0, BATCH_HEADER_SIZE - 1)), 'CORRUPT_MESSAGE', /60 bytes remain but a batch header is 61/);
    const v1 = Buffer.from(batch);
    v1[16] = 1;
    expectSluiceError(() => readBatchHeader(v1), 'CORRUPT_MESSAGE', /magic 1/);
  });
});

describe('decodeRecordBatches', () => {
  const a = encodeRecordBatch([{ value: Buffer.from('a1') }, { value: Buffer.from('a2') }], { baseOffset: 0 });
  const b = encodeRecordBatch([{ value: Buffer.from('b1') }], { baseOffset: 2 });
  const both = Buffer.concat([a, b]);

  it('decodes every complete batch', () => {
    const decoded = decodeRecordBatches(both);
    expect(decoded.flatMap((d) => d.records.map((r) => [r.offset, r.value!.toString()]))).toEqual([
      [0, 'a1'],
      [1, 'a2'],
      [2, 'b1'],
    ]);
  });

  it('ignores a partial batch at the end, wherever a size-limited fetch cut it', () => {
    for (let cut = a.length; cut < both.length; cut++) {
      expect(decodeRecordBatches(both.subarray(0, cut)).length).toBe(1);
    }
    for (let cut = 0; cut < a.length; cut++) {
      expect(decodeRecordBatches(both.subarray(0, cut))).toEqual([]);
    }
  });

  it('still rejects a complete batch that is corrupt', () => {
    const bad = Buffer.from(both);
    bad[bad.length - 1]! ^= 1;
    expectSluiceError(() => decodeRecordBatches(bad), 'CORRUPT_MESSAGE', new RegExp(`at byte ${a.length} fails its CRC-32C`));
  });
});

describe('decoding records that pass the CRC but are malformed', () => {
  it('reports CORRUPT_MESSAGE, never a RangeError or a silent misread', () => {
    const good = encodeRecordBatch([
      { key: Buffer.from('key'), value: Buffer.from('value'), headers: [{ key: 'h', value: Buffer.from('v') }], timestamp: 5 },
      { key: null, value: Buffer.from('second'), timestamp: 6 },
    ]);
    fc.assert(
      fc.property(fc.integer({ min: BATCH_HEADER_SIZE, max: good.length - 1 }), fc.integer({ min: 1, max: 255 }), (at, xor) => {
        const bad = Buffer.from(good);
        bad[at]! ^= xor;
        reseal(bad);
        try {
          const { records } = decodeRecordBatch(bad);
          // A mutation that still parses (e.g. a changed value byte) must keep the record count.
          expect(records).toHaveLength(2);
        } catch (err) {
          expect(isSluiceError(err, 'CORRUPT_MESSAGE')).toBe(true);
        }
      }),
      { numRuns: 1000 },
    );
  });

  it('rejects a recordsCount that disagrees with the records present', () => {
    const more = encodeRecordBatch([{ value: Buffer.from('only') }]);
    more.writeInt32BE(2, 57);
    expectSluiceError(() => decodeRecordBatch(reseal(more)), 'CORRUPT_MESSAGE', /^record batch at byte 0, records section: varint at byte \d+ runs past the end/);
    const fewer = encodeRecordBatch([{ value: Buffer.from('one') }, { value: Buffer.from('two') }]);
    fewer.writeInt32BE(1, 57);
    expectSluiceError(() => decodeRecordBatch(reseal(fewer)), 'CORRUPT_MESSAGE', /declares 1 records but 10 bytes follow/);
  });

  it('rejects a compressed section that does not decompress', () => {
    const packed = encodeRecordBatch([{ value: Buffer.from('v'.repeat(100)) }], { compression: 'gzip' });
    packed[BATCH_HEADER_SIZE + 12]! ^= 0xff;
    expectSluiceError(() => decodeRecordBatch(reseal(packed)), 'CORRUPT_MESSAGE', /gzip records section does not decompress/);
  });
});
