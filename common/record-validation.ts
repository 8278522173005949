// What the leader checks in the records of a produced batch before it assigns offsets to it
// (Kafka's LogValidator): validateBatch vouches for the header and the CRC, but a CRC only
// proves the bytes are the ones the producer sent, not that a consumer can decode them. A
// records section of garbage, a recordsCount the records do not back (a 69-byte batch claiming
// a million records would burn a million offsets), or a codec our decoder refuses would be
// stored and replicated, and then stop every consumer of the partition at that offset.
//
// The walk reads every length and varint and skips over keys, values and headers without
// allocating per record: in place for an uncompressed batch; a compressed one is inflated
// once, synchronously, with the same cap the decoder uses (MAX_DECOMPRESSED_BATCH_BYTES), so
// whatever the broker accepts, a consumer can decode. (Synchronous is acceptable with the cap:
// producers compress, and a gzip batch of max.message.bytes inflates in milliseconds unless
// it inflates past the cap, which is refused.)
import { SluiceError } from './errors.ts';
import { BATCH_HEADER_SIZE, decompress, type BatchHeader } from './record-batch.ts';
import { VarintReader } from './varint.ts';

/**
 * Fewest bytes of a record after its length varint: attributes, timestampDelta, offsetDelta,
 * keyLength, valueLength and headersCount take at least one byte each.
 */
const MIN_RECORD_BODY_BYTES = 6;
/** With its length varint. */
const MIN_RECORD_BYTES = 1 + MIN_RECORD_BODY_BYTES;

function corrupt(batchPos: number, problem: string): SluiceError {
  return new SluiceError('CORRUPT_MESSAGE', `record batch at byte ${batchPos} ${problem}`);
}

/**
 * Checks the records of the producer batch at `pos` of `buf`, whose header validateBatch
 * returned: exactly recordsCount records, offset deltas 0..recordsCount-1 in order, every
 * length and varint inside its record and every record inside the section, which they fill to
 * its last byte. Throws CORRUPT_MESSAGE naming the batch's position and what is wrong, or
 * UNSUPPORTED_COMPRESSION for a codec Sluice cannot decode (snappy, lz4).
 */
export function validateProducerRecords(buf: Buffer, pos: number, header: BatchHeader): void {
  const start = pos + BATCH_HEADER_SIZE;
  const end = pos + header.sizeInBytes;
  const compression = header.compression;
  if (compression === 'none') {
    walkRecords(header, buf, start, end, pos, 'records section');
    return;
  }
  if (compression === 'snappy' || compression === 'lz4') {
    throw new SluiceError(
      'UNSUPPORTED_COMPRESSION',
      `record batch at byte ${pos} is compressed with ${compression}, which Sluice consumers cannot decompress; produce with compression 'none', 'gzip' or 'zstd'`,
    );
  }
  let data: Buffer;
  try {
    data = decompress(compression, buf.subarray(start, end), pos);
  } catch (err) {
    // decompress names the codec but not the batch when the codec is missing (zstd before Node 22.15).
    if (err instanceof SluiceError && err.code === 'UNSUPPORTED_COMPRESSION') {
      throw new SluiceError('UNSUPPORTED_COMPRESSION', `record batch at byte ${pos}: ${err.message}`, {}, { cause: err });
    }
    throw err;
  }
  walkRecords(header, data, 0, data.length, pos, `${compression}-decompressed records section`);
}

/** validateProducerRecords for each batch of a buffer of concatenated batches, given their headers in order. */
export function validateProducerBatches(buf: Buffer, headers: readonly BatchHeader[]): void {
  let pos = 0;
  for (const header of headers) {
    validateProducerRecords(buf, pos, header);
    pos += header.sizeInBytes;
  }
}

function walkRecords(header: BatchHeader, data: Buffer, start: number, end: number, batchPos: number, section: string): void {
  const count = header.recordsCount;
  const available = end - start;
  // Refused before the walk: a huge recordsCount in a small batch costs nothing to spot.
  if (count < 1 || count > available / MIN_RECORD_BYTES) {
    throw corrupt(batchPos, `declares ${count} records, but its ${section} of ${available} bytes can hold at most ${Math.floor(available / MIN_RECORD_BYTES)}`);
  }
  // One reader per batch, none per record.
  const reader = new VarintReader(data, start, end, `record batch at byte ${batchPos}, ${section}: `);
  for (let i = 0; i < count; i++) {
    if (reader.pos >= end) {
      throw corrupt(batchPos, `declares ${count} records, but its ${section} ends after ${i}`);
    }
    reader.end = end;
    const length = reader.readVarint();
    const bodyStart = reader.pos;
    if (length < MIN_RECORD_BODY_BYTES || length > end - bodyStart) {
      throw corrupt(batchPos, `record ${i} declares ${length} bytes, but a record takes ${MIN_RECORD_BODY_BYTES} or more and ${end - bodyStart} remain in its ${section}`);
    }
    const recordEnd = bodyStart + length;
    reader.end = recordEnd;
    reader.pos++; // attributes: unused in v2
    reader.readVarlong(); // timestampDelta
    const offsetDelta = reader.readVarint();
    if (offsetDelta !== i) {
      throw corrupt(batchPos, `record ${i} has offsetDelta ${offsetDelta}; a produced batch numbers its records 0..recordsCount-1 in order`);
    }
    skipNullableBytes(reader, 'key', batchPos, i);
    skipNullableBytes(reader, 'value', batchPos, i);
    const headerCount = reader.readVarint();
    if (headerCount < 0) throw corrupt(batchPos, `record ${i} declares ${headerCount} headers`);
    for (let h = 0; h < headerCount; h++) {
      const keyLength = reader.readVarint();
      if (keyLength < 0 || keyLength > reader.end - reader.pos) {
        throw corrupt(batchPos, `record ${i} header ${h} declares a key of ${keyLength} bytes, but ${reader.end - reader.pos} remain in the record`);
      }
      reader.pos += keyLength;
      skipNullableBytes(reader, `header ${h} value`, batchPos, i);
    }
    if (reader.pos !== recordEnd) {
      throw corrupt(batchPos, `record ${i} declares ${length} bytes but its fields span ${reader.pos - bodyStart}`);
    }
  }
  if (reader.pos !== end) {
    throw corrupt(batchPos, `declares ${count} records but ${end - reader.pos} bytes of its ${section} follow the last one`);
  }
}

/** Skips a varint length (-1 = null) and that many bytes, inside the current record. */
function skipNullableBytes(reader: VarintReader, what: string, batchPos: number, index: number): void {
  const length = reader.readVarint();
  if (length === -1) return;
  if (length < 0 || length > reader.end - reader.pos) {
    throw corrupt(batchPos, `record ${index} declares a ${what} of ${length} bytes, but ${reader.end - reader.pos} remain in the record`);
  }
  reader.pos += length;
}
