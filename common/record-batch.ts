// Kafka RecordBatch v2, byte for byte (DESIGN §3). The producer encodes a batch once; brokers
// validate it, stamp baseOffset and partitionLeaderEpoch in place, and store and serve the
// same bytes. Pure buffer work: no I/O, and no clock except the default record timestamp.
//
// The CRC starts at attributes, so the three fields before it are the ones a broker may
// rewrite without touching the checksum.
import * as zlib from 'node:zlib';
import { crc32c } from './crc32c.ts';
import { SluiceError } from './errors.ts';
import { VarintReader, sizeOfVarint, sizeOfVarlong, writeVarint, writeVarlong } from './varint.ts';

export const LOG_OVERHEAD = 12; // baseOffset + batchLength
export const BATCH_HEADER_SIZE = 61;

const BATCH_LENGTH_OFFSET = 8;
const PARTITION_LEADER_EPOCH_OFFSET = 12;
const MAGIC_OFFSET = 16;
const CRC_OFFSET = 17;
const ATTRIBUTES_OFFSET = 21;
const LAST_OFFSET_DELTA_OFFSET = 23;
const BASE_TIMESTAMP_OFFSET = 27;
const MAX_TIMESTAMP_OFFSET = 35;
const PRODUCER_ID_OFFSET = 43;
const PRODUCER_EPOCH_OFFSET = 51;
const BASE_SEQUENCE_OFFSET = 53;
const RECORDS_COUNT_OFFSET = 57;
const RECORDS_OFFSET = BATCH_HEADER_SIZE;
/** batchLength of a batch with no records: everything in the header after batchLength. */
const MIN_BATCH_LENGTH = BATCH_HEADER_SIZE - LOG_OVERHEAD;
const MAGIC_V2 = 2;
const INT32_MAX = 0x7fffffff;
const TWO_POW_32 = 2 ** 32;

const COMPRESSION_MASK = 0x07;
const TIMESTAMP_TYPE_LOG_APPEND_TIME = 0x08;
const TRANSACTIONAL_FLAG = 0x10;
const CONTROL_FLAG = 0x20;

export type CompressionName = 'none' | 'gzip' | 'snappy' | 'lz4' | 'zstd';

// Index = the codec id in attributes bits 0-2.
const COMPRESSION_BY_CODE: readonly CompressionName[] = ['none', 'gzip', 'snappy', 'lz4', 'zstd'];

// zstd landed in node:zlib in 22.15; detect it rather than trust the engines field.
const HAS_ZSTD = typeof zlib.zstdCompressSync === 'function' && typeof zlib.zstdDecompressSync === 'function';

export interface RecordHeader {
  key: string;
  value: Buffer | null;
}

export interface RecordInput {
  key?: Buffer | null;
  value: Buffer | null;
  headers?: RecordHeader[];
  /** Milliseconds since the epoch; defaults to Date.now() (read once per batch). */
  timestamp?: number;
}

export interface EncodeOptions {
  /** Default 'none'. 'gzip' always; 'zstd' when node:zlib has it; 'snappy'/'lz4' are rejected. */
  compression?: CompressionName;
  /** Default 0: the leader stamps the real one. */
  baseOffset?: number;
  /** Default -1: the leader stamps its epoch. */
  partitionLeaderEpoch?: number;
  producerId?: number;
  producerEpoch?: number;
  baseSequence?: number;
  isTransactional?: boolean;
  /**
   * Default 0. Bytes left free in front of the batch, in the same allocation, for a caller that
   * frames the batch (a protobuf field header, say): it writes its prefix there, through
   * `withHeadroom`, instead of copying the whole batch into a new buffer. The returned Buffer
   * is still exactly the batch.
   */
  headroom?: number;
  /**
   * Memory to encode into, used when it holds headroom + the batch: a caller that reuses batch
   * buffers (Kafka's producer pools them) saves allocating and faulting in fresh memory for
   * every batch. The returned batch is then a view of it. Otherwise a new allocation is made.
   */
  buffer?: Buffer;
}

export interface BatchHeader {
  baseOffset: number;
  batchLength: number;
  partitionLeaderEpoch: number;
  magic: number;
  crc: number;
  attributes: number;
  compression: CompressionName;
  lastOffsetDelta: number;
  baseTimestamp: number;
  maxTimestamp: number;
  producerId: number;
  producerEpoch: number;
  baseSequence: number;
  recordsCount: number;
  /** Total size on the wire/disk: LOG_OVERHEAD + batchLength. */
  sizeInBytes: number;
  /** baseOffset + lastOffsetDelta */
  lastOffset: number;
}

export interface DecodedRecord {
  offset: number;
  timestamp: number;
  key: Buffer | null;
  value: Buffer | null;
  headers: RecordHeader[];
}

export interface DecodedBatch {
  header: BatchHeader;
  records: DecodedRecord[];
}

// ---------------------------------------------------------------------------------------------
// Compression

function unsupportedCompression(name: string): SluiceError {
  const available = HAS_ZSTD ? "'none', 'gzip' or 'zstd'" : "'none' or 'gzip'";
  return new SluiceError('UNSUPPORTED_COMPRESSION', `compression '${name}' is not supported by Sluice's encoder and decoder; use ${available}`);
}

/** Codec id for a compression the encoder can produce; checked before any encoding work. */
function encodableCodec(name: string): number {
  if (name === 'none') return 0;
  if (name === 'gzip') return 1;
  if (name === 'zstd' && HAS_ZSTD) return 4;
  throw unsupportedCompression(name);
}

function compress(name: CompressionName, data: Buffer): Buffer {
  if (name === 'gzip') return zlib.gzipSync(data);
  if (name === 'zstd' && HAS_ZSTD) return zlib.zstdCompressSync(data);
  throw unsupportedCompression(name);
}

/**
 * Most bytes one compressed records section may inflate to. A batch is at most
 * max.message.bytes on the wire, but gzip inflates up to ~1000x: unbounded, one 1 MB batch
 * would make a broker or consumer allocate a gigabyte, synchronously.
 */
export const MAX_DECOMPRESSED_BATCH_BYTES = 64 * 1024 * 1024;

/** The records section of a compressed batch, inflated; CORRUPT_MESSAGE past MAX_DECOMPRESSED_BATCH_BYTES. */
export function decompress(name: CompressionName, data: Buffer, batchPos: number): Buffer {
  let inflate: ((data: Buffer, options: { maxOutputLength: number }) => Buffer) | undefined;
  if (name === 'gzip') inflate = zlib.gunzipSync;
  else if (name === 'zstd' && HAS_ZSTD) inflate = zlib.zstdDecompressSync;
  if (inflate === undefined) throw unsupportedCompression(name);
  try {
    return inflate(data, { maxOutputLength: MAX_DECOMPRESSED_BATCH_BYTES });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ERR_BUFFER_TOO_LARGE') {
      throw new SluiceError(
        'CORRUPT_MESSAGE',
        `record batch at byte ${batchPos}: its ${name} records section decompresses to more than ${MAX_DECOMPRESSED_BATCH_BYTES / 1024 / 1024} MiB, the most Sluice inflates one batch to; produce smaller batches`,
        {},
        { cause: err },
      );
    }
    throw new SluiceError(
      'CORRUPT_MESSAGE',
      `record batch at byte ${batchPos}: its ${name} records section does not decompress (${(err as Error).message})`,
      {},
      { cause: err },
    );
  }
}

// ---------------------------------------------------------------------------------------------
// int64 as two halves: exact for |value| < 2^53, and cheaper than going through BigInt.

function readInt64(buf: Buffer, pos: number): number {
  return buf.readInt32BE(pos) * TWO_POW_32 + buf.readUInt32BE(pos + 4);
}

function writeInt64(buf: Buffer, value: number, pos: number): void {
  const hi = Math.floor(value / TWO_POW_32);
  buf.writeInt32BE(hi, pos);
  buf.writeUInt32BE(value - hi * TWO_POW_32, pos + 4);
}

function requireInteger(name: string, value: number, min: number, max: number): void {
  if (!Number.isSafeInteger(value) || value < min || value > max) {
    throw new SluiceError('INVALID_REQUEST', `${name} must be an integer in [${min}, ${max}], got ${value}`);
  }
}

// ---------------------------------------------------------------------------------------------
// Encoding

function headersSize(headers: readonly RecordHeader[] | undefined): number {
  if (headers === undefined || headers.length === 0) return 1;
  let size = sizeOfVarint(headers.length);
  for (let h = 0; h < headers.length; h++) {
    const header = headers[h]!;
    const keyBytes = Buffer.byteLength(header.key, 'utf8');
    size += sizeOfVarint(keyBytes) + keyBytes;
    const value = header.value;
    size += value === null ? 1 : sizeOfVarint(value.length) + value.length;
  }
  return size;
}

/**
 * Encodes records as one RecordBatch v2. Sizes are computed first so the records are written
 * into a single allocation and the CRC is computed once over the finished bytes.
 * baseTimestamp is the first record's timestamp (as the Kafka Java producer does), so deltas
 * may be negative when records are not in timestamp order.
 */
export function encodeRecordBatch(records: readonly RecordInput[], opts: EncodeOptions = {}): Buffer {
  const count = records.length;
  if (count === 0) {
    throw new SluiceError('INVALID_REQUEST', 'a record batch needs at least one record; do not send empty batches');
  }
  const compression = opts.compression ?? 'none';
  const codec = encodableCodec(compression);
  const baseOffset = opts.baseOffset ?? 0;
  const partitionLeaderEpoch = opts.partitionLeaderEpoch ?? -1;
  const producerId = opts.producerId ?? -1;
  const producerEpoch = opts.producerEpoch ?? -1;
  const baseSequence = opts.baseSequence ?? -1;
  // Offsets of all records, not just the first, must stay exact as JS numbers.
  requireInteger('baseOffset', baseOffset, 0, Number.MAX_SAFE_INTEGER - (count - 1));
  requireInteger('partitionLeaderEpoch', partitionLeaderEpoch, -1, INT32_MAX);
  requireInteger('producerId', producerId, -1, Number.MAX_SAFE_INTEGER);
  requireInteger('producerEpoch', producerEpoch, -1, 0x7fff);
  requireInteger('baseSequence', baseSequence, -1, INT32_MAX);
  const headroom = opts.headroom ?? 0;
  requireInteger('headroom', headroom, 0, INT32_MAX);

  const now = Date.now();
  const baseTimestamp = records[0]!.timestamp ?? now;
  let maxTimestamp = baseTimestamp;
  const bodySizes = new Int32Array(count);
  let recordsSize = 0;
  for (let i = 0; i < count; i++) {
    const record = records[i]!;
    const timestamp = record.timestamp ?? now;
    // Same rule as Kafka's ProducerRecord: -1 means "no timestamp" only on the wire, never as input.
    if (!Number.isSafeInteger(timestamp) || timestamp < 0) {
      throw new SluiceError('INVALID_TIMESTAMP', `record ${i} has timestamp ${timestamp}; use a non-negative integer number of milliseconds since the epoch`);
    }
    if (timestamp > maxTimestamp) maxTimestamp = timestamp;
    const key = record.key ?? null;
    const value = record.value ?? null;
    const body =
      1 + // attributes
      sizeOfVarlong(timestamp - baseTimestamp) +
      sizeOfVarint(i) +
      (key === null ? 1 : sizeOfVarint(key.length) + key.length) +
      (value === null ? 1 : sizeOfVarint(value.length) + value.length) +
      headersSize(record.headers);
    // Lengths are varint int32s on the wire; a body past that would wrap silently.
    if (body > INT32_MAX) {
      throw new SluiceError('MESSAGE_TOO_LARGE', `record ${i} encodes to ${body} bytes, more than a record batch can hold (2^31 - 1)`);
    }
    bodySizes[i] = body;
    recordsSize += sizeOfVarint(body) + body;
  }

  let out: Buffer;
  if (codec === 0) {
    checkBatchFits(recordsSize);
    out = allocBatch(headroom, BATCH_HEADER_SIZE + recordsSize, opts.buffer);
    writeRecords(records, bodySizes, now, baseTimestamp, out, RECORDS_OFFSET, out.length);
  } else {
    const raw = Buffer.allocUnsafe(recordsSize);
    writeRecords(records, bodySizes, now, baseTimestamp, raw, 0, recordsSize);
    const packed = compress(compression, raw);
    checkBatchFits(packed.length);
    out = allocBatch(headroom, BATCH_HEADER_SIZE + packed.length, opts.buffer);
    packed.copy(out, RECORDS_OFFSET);
  }

  let attributes = codec;
  if (opts.isTransactional === true) attributes |= TRANSACTIONAL_FLAG;
  writeInt64(out, baseOffset, 0);
  out.writeInt32BE(out.length - LOG_OVERHEAD, BATCH_LENGTH_OFFSET);
  out.writeInt32BE(partitionLeaderEpoch, PARTITION_LEADER_EPOCH_OFFSET);
  out[MAGIC_OFFSET] = MAGIC_V2;
  out.writeInt16BE(attributes, ATTRIBUTES_OFFSET);
  out.writeInt32BE(count - 1, LAST_OFFSET_DELTA_OFFSET);
  writeInt64(out, baseTimestamp, BASE_TIMESTAMP_OFFSET);
  writeInt64(out, maxTimestamp, MAX_TIMESTAMP_OFFSET);
  writeInt64(out, producerId, PRODUCER_ID_OFFSET);
  out.writeInt16BE(producerEpoch, PRODUCER_EPOCH_OFFSET);
  out.writeInt32BE(baseSequence, BASE_SEQUENCE_OFFSET);
  out.writeInt32BE(count, RECORDS_COUNT_OFFSET);
  out.writeUInt32BE(crc32c(out, ATTRIBUTES_OFFSET, out.length), CRC_OFFSET);
  return out;
}

// With headroom the batch gets an allocation of its own (never a slice of Node's small-buffer
// pool), so the bytes in front of it are never another Buffer's.
function allocBatch(headroom: number, size: number, buffer: Buffer | undefined): Buffer {
  if (buffer !== undefined && buffer.length >= headroom + size) return buffer.subarray(headroom, headroom + size);
  if (headroom === 0) return Buffer.allocUnsafe(size);
  return Buffer.allocUnsafeSlow(headroom + size).subarray(headroom);
}

/**
 * The batch with the `headroom` bytes in front of it that encodeRecordBatch was asked to leave
 * free (same memory, no copy). Throws when the batch was not encoded with that much headroom.
 */
export function withHeadroom(batch: Buffer, headroom: number): Buffer {
  if (!Number.isSafeInteger(headroom) || headroom < 0 || batch.byteOffset < headroom) {
    throw new SluiceError('UNKNOWN', `this record batch has ${batch.byteOffset} bytes in front of it, not the ${headroom} asked for; encode it with { headroom }`);
  }
  return Buffer.from(batch.buffer, batch.byteOffset - headroom, headroom + batch.length);
}

/**
 * Rewrites producer id, epoch and base sequence of one encoded batch at pos, and its CRC: how a
 * retry keeps its records' bytes when its sequence moved (a predecessor failed for good) or the
 * producer id was renewed. Kafka's producer does the same (ProducerBatch.resetProducerState).
 */
export function restampProducerState(buf: Buffer, producerId: number, producerEpoch: number, baseSequence: number, pos = 0): void {
  const size = batchSizeAt(buf, pos);
  if (size < 0 || size > buf.length - pos) {
    throw corrupt(pos, `cannot be restamped: it declares ${size} bytes but ${Math.max(buf.length - pos, 0)} remain`);
  }
  requireInteger('producerId', producerId, -1, Number.MAX_SAFE_INTEGER);
  requireInteger('producerEpoch', producerEpoch, -1, 0x7fff);
  requireInteger('baseSequence', baseSequence, -1, INT32_MAX);
  writeInt64(buf, producerId, pos + PRODUCER_ID_OFFSET);
  buf.writeInt16BE(producerEpoch, pos + PRODUCER_EPOCH_OFFSET);
  buf.writeInt32BE(baseSequence, pos + BASE_SEQUENCE_OFFSET);
  buf.writeUInt32BE(crc32c(buf, pos + ATTRIBUTES_OFFSET, pos + size), pos + CRC_OFFSET);
}

function checkBatchFits(recordsSectionSize: number): void {
  if (recordsSectionSize > INT32_MAX - MIN_BATCH_LENGTH) {
    throw new SluiceError('MESSAGE_TOO_LARGE', `records section of ${recordsSectionSize} bytes does not fit in one record batch (batchLength is an int32); split the records over several batches`);
  }
}

function writeRecords(
  records: readonly RecordInput[],
  bodySizes: Int32Array,
  now: number,
  baseTimestamp: number,
  buf: Buffer,
  pos: number,
  expectedEnd: number,
): void {
  for (let i = 0; i < records.length; i++) {
    const record = records[i]!;
    pos = writeVarint(buf, bodySizes[i]!, pos);
    buf[pos++] = 0; // record attributes: unused in v2
    pos = writeVarlong(buf, (record.timestamp ?? now) - baseTimestamp, pos);
    pos = writeVarint(buf, i, pos);
    const key = record.key ?? null;
    if (key === null) {
      buf[pos++] = 0x01; // zig-zag -1: null
    } else {
      pos = writeVarint(buf, key.length, pos);
      buf.set(key, pos);
      pos += key.length;
    }
    const value = record.value ?? null;
    if (value === null) {
      buf[pos++] = 0x01;
    } else {
      pos = writeVarint(buf, value.length, pos);
      buf.set(value, pos);
      pos += value.length;
    }
    const headers = record.headers;
    if (headers === undefined || headers.length === 0) {
      buf[pos++] = 0x00;
    } else {
      pos = writeVarint(buf, headers.length, pos);
      for (let h = 0; h < headers.length; h++) {
        const header = headers[h]!;
        const keyBytes = Buffer.byteLength(header.key, 'utf8');
        pos = writeVarint(buf, keyBytes, pos);
        pos += buf.write(header.key, pos, keyBytes, 'utf8');
        const headerValue = header.value;
        if (headerValue === null) {
          buf[pos++] = 0x01;
        } else {
          pos = writeVarint(buf, headerValue.length, pos);
          buf.set(headerValue, pos);
          pos += headerValue.length;
        }
      }
    }
  }
  // Writes past the end of a Buffer are silently dropped, so a sizing bug would otherwise
  // ship a batch with a valid CRC over garbage. Also catches records mutated between passes.
  if (pos !== expectedEnd) {
    throw new SluiceError('UNKNOWN', `record batch encoder wrote ${pos} bytes where it sized ${expectedEnd}; were the records modified while encoding?`);
  }
}

// ---------------------------------------------------------------------------------------------
// Header access and validation

function corrupt(pos: number, problem: string): SluiceError {
  return new SluiceError('CORRUPT_MESSAGE', `record batch at byte ${pos} ${problem}`);
}

function compressionOf(attributes: number, pos: number): CompressionName {
  const name = COMPRESSION_BY_CODE[attributes & COMPRESSION_MASK];
  if (name === undefined) {
    throw new SluiceError('UNSUPPORTED_COMPRESSION', `record batch at byte ${pos} uses compression codec ${attributes & COMPRESSION_MASK}, which is not a Kafka codec (0-4)`);
  }
  return name;
}

function checkMagic(buf: Buffer, pos: number): void {
  const magic = buf.readInt8(pos + MAGIC_OFFSET);
  if (magic !== MAGIC_V2) {
    throw corrupt(pos, `has magic ${magic}; only RecordBatch v2 (magic 2) is supported, so re-produce it with a v2 client`);
  }
}

/** Reads the fixed header at pos; the caller has checked that BATCH_HEADER_SIZE bytes and magic 2 are there. */
function parseHeader(buf: Buffer, pos: number): BatchHeader {
  const attributes = buf.readInt16BE(pos + ATTRIBUTES_OFFSET);
  const baseOffset = readInt64(buf, pos);
  const batchLength = buf.readInt32BE(pos + BATCH_LENGTH_OFFSET);
  const lastOffsetDelta = buf.readInt32BE(pos + LAST_OFFSET_DELTA_OFFSET);
  return {
    baseOffset,
    batchLength,
    partitionLeaderEpoch: buf.readInt32BE(pos + PARTITION_LEADER_EPOCH_OFFSET),
    magic: MAGIC_V2,
    crc: buf.readUInt32BE(pos + CRC_OFFSET),
    attributes,
    compression: compressionOf(attributes, pos),
    lastOffsetDelta,
    baseTimestamp: readInt64(buf, pos + BASE_TIMESTAMP_OFFSET),
    maxTimestamp: readInt64(buf, pos + MAX_TIMESTAMP_OFFSET),
    producerId: readInt64(buf, pos + PRODUCER_ID_OFFSET),
    producerEpoch: buf.readInt16BE(pos + PRODUCER_EPOCH_OFFSET),
    baseSequence: buf.readInt32BE(pos + BASE_SEQUENCE_OFFSET),
    recordsCount: buf.readInt32BE(pos + RECORDS_COUNT_OFFSET),
    sizeInBytes: LOG_OVERHEAD + batchLength,
    lastOffset: baseOffset + lastOffsetDelta,
  };
}

/**
 * Reads the header of the batch at pos without checking the CRC or that the records are all
 * there. Throws CORRUPT_MESSAGE if fewer than BATCH_HEADER_SIZE bytes remain or magic is not 2.
 */
export function readBatchHeader(buf: Buffer, pos = 0): BatchHeader {
  const remaining = buf.length - pos;
  if (pos < 0 || remaining < BATCH_HEADER_SIZE) {
    throw corrupt(pos, `is truncated: ${Math.max(remaining, 0)} bytes remain but a batch header is ${BATCH_HEADER_SIZE} bytes`);
  }
  checkMagic(buf, pos);
  return parseHeader(buf, pos);
}

/**
 * Size of the batch starting at pos, or -1 when fewer than LOG_OVERHEAD bytes remain.
 * Throws CORRUPT_MESSAGE when batchLength is below the header size: returning such a size
 * would let a scanning caller loop forever on a zero-length "batch".
 */
/**
 * Records in concatenated batches, from their headers (no decoding): what a consumer receives.
 * A truncated batch at the end is not counted.
 */
export function countRecords(buf: Buffer): number {
  let records = 0;
  let pos = 0;
  while (pos + BATCH_HEADER_SIZE <= buf.length) {
    const size = LOG_OVERHEAD + buf.readInt32BE(pos + BATCH_LENGTH_OFFSET);
    if (size < BATCH_HEADER_SIZE || pos + size > buf.length) break;
    records += buf.readInt32BE(pos + RECORDS_COUNT_OFFSET);
    pos += size;
  }
  return records;
}

export function batchSizeAt(buf: Buffer, pos: number): number {
  if (buf.length - pos < LOG_OVERHEAD) return -1;
  const batchLength = buf.readInt32BE(pos + BATCH_LENGTH_OFFSET);
  if (batchLength < MIN_BATCH_LENGTH) {
    throw corrupt(pos, `declares batchLength ${batchLength}, less than the ${MIN_BATCH_LENGTH} bytes of a v2 header`);
  }
  return LOG_OVERHEAD + batchLength;
}

/** Checks that a whole v2 batch with a matching CRC sits at pos; returns its size. */
function checkIntegrity(buf: Buffer, pos: number, maxBatchBytes: number): number {
  const remaining = buf.length - pos;
  if (remaining < LOG_OVERHEAD) {
    throw corrupt(pos, `is truncated: ${remaining} bytes remain, fewer than the ${LOG_OVERHEAD}-byte offset and length prefix`);
  }
  const size = batchSizeAt(buf, pos);
  if (size > remaining) {
    throw corrupt(pos, `is truncated: it declares ${size} bytes but only ${remaining} remain`);
  }
  checkMagic(buf, pos);
  if (size > maxBatchBytes) {
    throw new SluiceError('MESSAGE_TOO_LARGE', `record batch at byte ${pos} is ${size} bytes, over the limit of ${maxBatchBytes} (max.message.bytes); send fewer or smaller records per batch, or raise the topic's max.message.bytes`);
  }
  const stored = buf.readUInt32BE(pos + CRC_OFFSET);
  const computed = crc32c(buf, pos + ATTRIBUTES_OFFSET, pos + size);
  if (stored !== computed) {
    throw corrupt(pos, `fails its CRC-32C check (stored 0x${hex32(stored)}, computed 0x${hex32(computed)}); the bytes were damaged after the producer encoded them`);
  }
  return size;
}

function hex32(n: number): string {
  return n.toString(16).padStart(8, '0');
}

/**
 * Full validation of one batch at pos: all bytes present, batchLength sane, magic 2, CRC-32C
 * matches, size <= maxBatchBytes, known codec. With fromProducer, also the invariants the leader
 * relies on when assigning offsets: at least one record, lastOffsetDelta === recordsCount - 1
 * (offsets are assigned as baseOffset + lastOffsetDelta + 1), and no control batch (those are
 * written by brokers only).
 */
export function validateBatch(buf: Buffer, pos: number, maxBatchBytes: number, opts?: { fromProducer?: boolean }): BatchHeader {
  checkIntegrity(buf, pos, maxBatchBytes);
  const header = parseHeader(buf, pos);
  if (opts?.fromProducer === true) {
    if (header.recordsCount < 1) {
      throw corrupt(pos, `holds ${header.recordsCount} records; a produced batch must hold at least one`);
    }
    if (header.lastOffsetDelta !== header.recordsCount - 1) {
      throw corrupt(pos, `has lastOffsetDelta ${header.lastOffsetDelta} but ${header.recordsCount} records; a produced batch must number its records 0..recordsCount-1`);
    }
    if ((header.attributes & CONTROL_FLAG) !== 0) {
      throw corrupt(pos, 'is a control batch; producers may not write control batches');
    }
  }
  return header;
}

/**
 * Validates every batch in a buffer of concatenated batches; throws on a truncated tail or
 * trailing garbage. With fromProducer an empty buffer is rejected too, since a produce that
 * carries no batch has nothing to append.
 */
export function validateBatches(buf: Buffer, maxBatchBytes: number, opts?: { fromProducer?: boolean }): BatchHeader[] {
  if (buf.length === 0 && opts?.fromProducer === true) {
    throw new SluiceError('CORRUPT_MESSAGE', 'the produced records hold no record batch; send at least one batch');
  }
  const headers: BatchHeader[] = [];
  let pos = 0;
  while (pos < buf.length) {
    const header = validateBatch(buf, pos, maxBatchBytes, opts);
    headers.push(header);
    pos += header.sizeInBytes;
  }
  return headers;
}

/** Writes baseOffset and partitionLeaderEpoch into the batch at pos, in place (CRC is unaffected by design). */
export function stampBatch(buf: Buffer, pos: number, baseOffset: number, partitionLeaderEpoch: number): void {
  if (pos < 0 || buf.length - pos < BATCH_HEADER_SIZE) {
    throw corrupt(pos, `cannot be stamped: only ${Math.max(buf.length - pos, 0)} bytes remain, less than a ${BATCH_HEADER_SIZE}-byte header`);
  }
  requireInteger('baseOffset', baseOffset, 0, Number.MAX_SAFE_INTEGER);
  requireInteger('partitionLeaderEpoch', partitionLeaderEpoch, -1, INT32_MAX);
  writeInt64(buf, baseOffset, pos);
  buf.writeInt32BE(partitionLeaderEpoch, pos + PARTITION_LEADER_EPOCH_OFFSET);
}

// ---------------------------------------------------------------------------------------------
// Decoding

function readNullableBytes(reader: VarintReader, what: string, batchPos: number, index: number): Buffer | null {
  const length = reader.readVarint();
  if (length === -1) return null;
  if (length < 0 || length > reader.end - reader.pos) {
    throw corrupt(batchPos, `record ${index} declares a ${what} of ${length} bytes, but ${reader.end - reader.pos} remain in the record`);
  }
  const bytes = reader.buf.subarray(reader.pos, reader.pos + length);
  reader.pos += length;
  return bytes;
}

function decodeRecords(header: BatchHeader, data: Buffer, start: number, end: number, batchPos: number): DecodedRecord[] {
  const count = header.recordsCount;
  if (count < 0) throw corrupt(batchPos, `declares ${count} records`);
  const logAppendTime = (header.attributes & TIMESTAMP_TYPE_LOG_APPEND_TIME) !== 0;
  const section = header.compression === 'none' ? 'records section' : `${header.compression}-decompressed records section`;
  const reader = new VarintReader(data, start, end, `record batch at byte ${batchPos}, ${section}: `);
  // Not preallocated: recordsCount is untrusted until the records have actually been read.
  const records: DecodedRecord[] = [];
  for (let i = 0; i < count; i++) {
    reader.end = end;
    const length = reader.readVarint();
    const recordEnd = reader.pos + length;
    if (length < 0 || recordEnd > end) {
      throw corrupt(batchPos, `record ${i} declares ${length} bytes, but ${end - reader.pos} remain in the batch`);
    }
    reader.end = recordEnd;
    reader.pos++; // record attributes: unused in v2
    const timestampDelta = reader.readVarlong();
    const offsetDelta = reader.readVarint();
    const key = readNullableBytes(reader, 'key', batchPos, i);
    const value = readNullableBytes(reader, 'value', batchPos, i);
    const headerCount = reader.readVarint();
    if (headerCount < 0) throw corrupt(batchPos, `record ${i} declares ${headerCount} headers`);
    const headers: RecordHeader[] = [];
    for (let h = 0; h < headerCount; h++) {
      const keyLength = reader.readVarint();
      if (keyLength < 0 || keyLength > reader.end - reader.pos) {
        throw corrupt(batchPos, `record ${i} header ${h} declares a key of ${keyLength} bytes, but ${reader.end - reader.pos} remain in the record`);
      }
      const headerKey = data.toString('utf8', reader.pos, reader.pos + keyLength);
      reader.pos += keyLength;
      headers.push({ key: headerKey, value: readNullableBytes(reader, `header ${h} value`, batchPos, i) });
    }
    if (reader.pos !== recordEnd) {
      throw corrupt(batchPos, `record ${i} declares ${length} bytes but its fields span ${reader.pos - (recordEnd - length)}`);
    }
    records.push({
      offset: header.baseOffset + offsetDelta,
      // LOG_APPEND_TIME: the broker's append time, kept once in maxTimestamp, overrides every record's.
      timestamp: logAppendTime ? header.maxTimestamp : header.baseTimestamp + timestampDelta,
      key,
      value,
      headers,
    });
  }
  if (reader.pos !== end) {
    throw corrupt(batchPos, `declares ${count} records but ${end - reader.pos} bytes follow the last one`);
  }
  return records;
}

/**
 * Decodes the batch at pos after checking its length, magic and CRC. Uncompressed keys and
 * values are subarrays of buf (zero-copy): they alias it, so copy them before reusing buf.
 */
export function decodeRecordBatch(buf: Buffer, pos = 0): DecodedBatch {
  const size = checkIntegrity(buf, pos, Number.POSITIVE_INFINITY);
  const header = parseHeader(buf, pos);
  const end = pos + size;
  if (header.compression === 'none') {
    return { header, records: decodeRecords(header, buf, pos + RECORDS_OFFSET, end, pos) };
  }
  const data = decompress(header.compression, buf.subarray(pos + RECORDS_OFFSET, end), pos);
  return { header, records: decodeRecords(header, data, 0, data.length, pos) };
}

/** Decodes concatenated batches; a partial batch at the very end (as a size-limited fetch may return) is ignored, not an error. */
export function decodeRecordBatches(buf: Buffer): DecodedBatch[] {
  const batches: DecodedBatch[] = [];
  let pos = 0;
  for (;;) {
    const size = batchSizeAt(buf, pos);
    if (size === -1 || size > buf.length - pos) return batches;
    batches.push(decodeRecordBatch(buf, pos));
    pos += size;
  }
}
