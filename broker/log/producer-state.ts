// Idempotent producer state of one partition (DESIGN §5, Kafka's ProducerStateManager): per
// producer id, its epoch and the metadata of its last 5 batches. This is the pure core; the
// partition log decides when to validate, commit, snapshot and rebuild.
//
// Five because the producer keeps at most 5 requests in flight per partition
// (max.in.flight.requests.per.connection), so any retry it can send is one of the last five.
import { crc32c } from '../../common/crc32c.ts';
import { SluiceError, type ErrorDetails } from '../../common/errors.ts';

export const NUM_BATCHES_TO_RETAIN = 5;
export const NO_PRODUCER_ID = -1;
const INT32_MAX = 0x7fffffff;
const TWO_POW_32 = 2 ** 32;

/** What producer state needs from a batch header: no record is ever decoded for it. */
export interface ProducerBatchInfo {
  producerId: number;
  producerEpoch: number;
  baseSequence: number;
  lastOffsetDelta: number;
  baseOffset: number;
  lastOffset: number;
  maxTimestamp: number;
}

export interface BatchMetadata {
  firstSeq: number;
  lastSeq: number;
  firstOffset: number;
  lastOffset: number;
  maxTimestamp: number;
}

export interface ProducerEntry {
  readonly producerId: number;
  readonly producerEpoch: number;
  /** Oldest first, at most NUM_BATCHES_TO_RETAIN. */
  readonly batches: readonly BatchMetadata[];
  readonly lastTimestamp: number;
}

/** Sequence of the last record of a batch; sequences wrap from int32 max to 0 as in Kafka. */
export function lastSequenceOf(baseSequence: number, lastOffsetDelta: number): number {
  return baseSequence > INT32_MAX - lastOffsetDelta ? lastOffsetDelta - (INT32_MAX - baseSequence) - 1 : baseSequence + lastOffsetDelta;
}

function inSequence(lastSeq: number, nextSeq: number): boolean {
  return nextSeq === lastSeq + 1 || (nextSeq === 0 && lastSeq === INT32_MAX);
}

/** The entry after a batch is appended (no validation: followers and recovery trust the log). */
export function withBatch(entry: ProducerEntry | undefined, batch: ProducerBatchInfo): ProducerEntry {
  // A new epoch starts a new sequence space, so older batches can no longer be retried.
  const kept = entry !== undefined && entry.producerEpoch === batch.producerEpoch ? entry.batches.slice(-(NUM_BATCHES_TO_RETAIN - 1)) : [];
  kept.push({
    firstSeq: batch.baseSequence,
    lastSeq: lastSequenceOf(batch.baseSequence, batch.lastOffsetDelta),
    firstOffset: batch.baseOffset,
    lastOffset: batch.lastOffset,
    maxTimestamp: batch.maxTimestamp,
  });
  return {
    producerId: batch.producerId,
    producerEpoch: batch.producerEpoch,
    batches: kept,
    lastTimestamp: Math.max(entry?.lastTimestamp ?? -1, batch.maxTimestamp),
  };
}

/**
 * Leader-side check of one batch against its producer's entry (which includes batches accepted
 * earlier in the same append group). Returns the metadata of the batch this one duplicates, or
 * null when it is new and in sequence; throws the error Kafka would return otherwise.
 */
export function checkLeaderBatch(entry: ProducerEntry | undefined, batch: ProducerBatchInfo, details: ErrorDetails): BatchMetadata | null {
  const pid = batch.producerId;
  if (batch.producerEpoch < 0 || batch.baseSequence < 0) {
    throw new SluiceError('INVALID_REQUEST', `batch of producer ${pid} has epoch ${batch.producerEpoch} and base sequence ${batch.baseSequence}; an idempotent batch needs both >= 0`, details);
  }
  if (entry === undefined) {
    if (batch.baseSequence !== 0) {
      throw new SluiceError('UNKNOWN_PRODUCER_ID', `producer ${pid} is unknown to this partition and its batch starts at sequence ${batch.baseSequence}, not 0; its earlier batches may have been removed, so re-initialize the producer id`, details);
    }
    return null;
  }
  if (batch.producerEpoch < entry.producerEpoch) {
    throw new SluiceError('INVALID_PRODUCER_EPOCH', `producer ${pid} sent epoch ${batch.producerEpoch} but epoch ${entry.producerEpoch} has already written; this producer instance has been fenced by a newer one`, details);
  }
  if (batch.producerEpoch > entry.producerEpoch) {
    if (batch.baseSequence !== 0) {
      throw new SluiceError('OUT_OF_ORDER_SEQUENCE', `producer ${pid} started epoch ${batch.producerEpoch} at sequence ${batch.baseSequence}; a new epoch must start at 0`, details);
    }
    return null;
  }
  const lastSeq = lastSequenceOf(batch.baseSequence, batch.lastOffsetDelta);
  for (const b of entry.batches) {
    if (b.firstSeq === batch.baseSequence && b.lastSeq === lastSeq) return b;
  }
  const last = entry.batches.at(-1);
  if (last !== undefined && !inSequence(last.lastSeq, batch.baseSequence)) {
    throw new SluiceError('OUT_OF_ORDER_SEQUENCE', `producer ${pid} epoch ${batch.producerEpoch} sent sequence ${batch.baseSequence} after ${last.lastSeq}; expected ${last.lastSeq === INT32_MAX ? 0 : last.lastSeq + 1}`, details);
  }
  return null;
}

export class ProducerStateManager {
  #producers = new Map<number, ProducerEntry>();

  get size(): number {
    return this.#producers.size;
  }

  get(producerId: number): ProducerEntry | undefined {
    return this.#producers.get(producerId);
  }

  entries(): ProducerEntry[] {
    return [...this.#producers.values()];
  }

  set(entry: ProducerEntry): void {
    this.#producers.set(entry.producerId, entry);
  }

  /** Follower append and log replay: record the batch without validation. */
  update(batch: ProducerBatchInfo): void {
    if (batch.producerId < 0) return;
    this.#producers.set(batch.producerId, withBatch(this.#producers.get(batch.producerId), batch));
  }

  clear(): void {
    this.#producers.clear();
  }

  replaceWith(entries: Iterable<ProducerEntry>): void {
    this.#producers = new Map([...entries].map((e) => [e.producerId, e]));
  }

  /**
   * Forgets producers silent for maxAgeMs (by their newest batch timestamp, as Kafka's
   * producer.id.expiration.ms), so a partition written by short-lived producers does not keep
   * an entry for every one of them forever. Returns how many were removed.
   */
  removeExpired(now: number, maxAgeMs: number): number {
    let removed = 0;
    for (const [pid, entry] of this.#producers) {
      if (now - entry.lastTimestamp >= maxAgeMs) {
        this.#producers.delete(pid);
        removed++;
      }
    }
    return removed;
  }
}

// ---------------------------------------------------------------------------------------------
// Snapshot encoding: magic "SPS1" | crc32c uint32 (of everything after it) | offset int64 |
// count int32 | entries: producerId int64, epoch int16, lastTimestamp int64, batchCount int8,
// batches: firstSeq int32, lastSeq int32, firstOffset int64, lastOffset int64, maxTimestamp int64.
// All five batches are kept (Kafka keeps only the last), so a retry is recognised as a
// duplicate after a restart too.

const SNAPSHOT_MAGIC = 0x53505331; // "SPS1"
const SNAPSHOT_HEADER = 4 + 4 + 8 + 4;
const ENTRY_FIXED = 8 + 2 + 8 + 1;
const BATCH_SIZE = 4 + 4 + 8 + 8 + 8;

function readInt64(buf: Buffer, at: number): number {
  return buf.readInt32BE(at) * TWO_POW_32 + buf.readUInt32BE(at + 4);
}

function writeInt64(buf: Buffer, value: number, at: number): void {
  const hi = Math.floor(value / TWO_POW_32);
  buf.writeInt32BE(hi, at);
  buf.writeUInt32BE(value - hi * TWO_POW_32, at + 4);
}

export function encodeProducerSnapshot(offset: number, entries: readonly ProducerEntry[]): Buffer {
  let size = SNAPSHOT_HEADER;
  for (const e of entries) size += ENTRY_FIXED + e.batches.length * BATCH_SIZE;
  const buf = Buffer.alloc(size);
  buf.writeUInt32BE(SNAPSHOT_MAGIC, 0);
  writeInt64(buf, offset, 8);
  buf.writeInt32BE(entries.length, 16);
  let at = SNAPSHOT_HEADER;
  for (const e of entries) {
    writeInt64(buf, e.producerId, at);
    buf.writeInt16BE(e.producerEpoch, at + 8);
    writeInt64(buf, e.lastTimestamp, at + 10);
    buf.writeInt8(e.batches.length, at + 18);
    at += ENTRY_FIXED;
    for (const b of e.batches) {
      buf.writeInt32BE(b.firstSeq, at);
      buf.writeInt32BE(b.lastSeq, at + 4);
      writeInt64(buf, b.firstOffset, at + 8);
      writeInt64(buf, b.lastOffset, at + 16);
      writeInt64(buf, b.maxTimestamp, at + 24);
      at += BATCH_SIZE;
    }
  }
  buf.writeUInt32BE(crc32c(buf, 8), 4);
  return buf;
}

/** Decodes a snapshot taken at `offset`; throws STORAGE_ERROR on any damage (the caller falls back to an older one). */
export function decodeProducerSnapshot(buf: Buffer, offset: number, path: string): ProducerEntry[] {
  const bad = (problem: string) => new SluiceError('STORAGE_ERROR', `producer snapshot ${path} is corrupt: ${problem}`);
  if (buf.length < SNAPSHOT_HEADER) throw bad(`${buf.length} bytes is shorter than the header`);
  if (buf.readUInt32BE(0) !== SNAPSHOT_MAGIC) throw bad('bad magic');
  if (buf.readUInt32BE(4) !== crc32c(buf, 8)) throw bad('CRC mismatch');
  const stored = readInt64(buf, 8);
  if (stored !== offset) throw bad(`it was taken at offset ${stored}, not ${offset}`);
  const count = buf.readInt32BE(16);
  const entries: ProducerEntry[] = [];
  let at = SNAPSHOT_HEADER;
  for (let i = 0; i < count; i++) {
    if (at + ENTRY_FIXED > buf.length) throw bad(`entry ${i} is truncated`);
    const producerId = readInt64(buf, at);
    const producerEpoch = buf.readInt16BE(at + 8);
    const lastTimestamp = readInt64(buf, at + 10);
    const batchCount = buf.readInt8(at + 18);
    at += ENTRY_FIXED;
    if (batchCount < 1 || batchCount > NUM_BATCHES_TO_RETAIN || at + batchCount * BATCH_SIZE > buf.length) throw bad(`entry ${i} has ${batchCount} batches`);
    const batches: BatchMetadata[] = [];
    for (let b = 0; b < batchCount; b++) {
      batches.push({
        firstSeq: buf.readInt32BE(at),
        lastSeq: buf.readInt32BE(at + 4),
        firstOffset: readInt64(buf, at + 8),
        lastOffset: readInt64(buf, at + 16),
        maxTimestamp: readInt64(buf, at + 24),
      });
      at += BATCH_SIZE;
    }
    entries.push({ producerId, producerEpoch, batches, lastTimestamp });
  }
  if (at !== buf.length) throw bad(`${buf.length - at} bytes follow the last entry`);
  return entries;
}
