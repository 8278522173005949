// Per-partition queues of record batches on the producer. A batch collects serialized records
// (never concatenating them: the batch is encoded once, when it is sent) until it holds
// batchSize bytes or its first record has waited lingerMs. The accumulator also owns the
// bufferMemory budget: bytes of records accepted by send() and not yet acknowledged or failed.
import { BATCH_HEADER_SIZE, type RecordHeader, type RecordInput } from '../common/record-batch.ts';
import type { SluiceError } from '../common/errors.ts';
import type { RecordMetadata } from './records.ts';
import { topicPartitionKey } from './records.ts';

/** A record as send() accepted it: serialized, with the settle functions of its promise. */
export interface PendingRecord extends RecordInput {
  key: Buffer | null;
  value: Buffer | null;
  headers: RecordHeader[] | undefined;
  timestamp: number;
  /** Order of send() calls, used by flush() to know which records it waits for. */
  id: number;
  resolve: (metadata: RecordMetadata) => void;
  reject: (error: SluiceError) => void;
}

// Upper bound of a record's framing in RecordBatch v2: length (5) + attributes (1) +
// timestampDelta (10) + offsetDelta (5) + key/value lengths (2 x 5) + header count (5).
const RECORD_OVERHEAD = 36;

/** Bytes a record is charged against batchSize and bufferMemory (an upper bound of its encoding). */
export function estimateRecordSize(key: Buffer | null, value: Buffer | null, headers: RecordHeader[] | undefined): number {
  let size = RECORD_OVERHEAD + (key === null ? 0 : key.length) + (value === null ? 0 : value.length);
  if (headers !== undefined) {
    for (let i = 0; i < headers.length; i++) {
      const h = headers[i]!;
      size += 10 + Buffer.byteLength(h.key, 'utf8') + (h.value === null ? 0 : h.value.length);
    }
  }
  return size;
}

let nextBatchId = 1;

export class ProducerBatch {
  /** Creation order; within a partition it is also send order and sequence order. */
  readonly id = nextBatchId++;
  readonly topic: string;
  readonly partition: number;
  readonly createdAt: number;
  readonly records: PendingRecord[] = [];
  /** Estimated encoded size, charged to bufferMemory until the batch completes. */
  bytes = BATCH_HEADER_SIZE;
  /** No more records: full, lingered, or drained. */
  closed = false;
  /** The RecordBatch bytes, encoded once at first send and resent unchanged on retries. */
  encoded: Buffer | null = null;
  /** Bytes reserved in front of `encoded`, in its allocation, for framing it without a copy. */
  headroom = 0;
  /** The BatchBufferPool buffer `encoded` was written into, if any. */
  pooled: Buffer | null = null;
  /** Idempotent producers: sequence of the first record, -1 until first sent. */
  baseSequence = -1;
  /** Producer id, epoch and sequence currently written in `encoded`. */
  stampedProducerId = -1;
  stampedProducerEpoch = -1;
  stampedSequence = -1;
  /** Sequence carried by the attempt in flight (differs from baseSequence once rewound). */
  sentSequence = -1;
  attempts = 0;
  /** An attempt ended without knowing whether the leader appended the batch. */
  maybeAppended = false;
  inFlight = false;
  done = false;
  lastError: SluiceError | null = null;

  constructor(topic: string, partition: number, now: number) {
    this.topic = topic;
    this.partition = partition;
    this.createdAt = now;
  }

  get firstRecordId(): number {
    return this.records.length > 0 ? this.records[0]!.id : Number.POSITIVE_INFINITY;
  }
}

export class PartitionQueue {
  readonly topic: string;
  readonly partition: number;
  /** Waiting to be sent, oldest first; only the last one may still be open. */
  readonly batches: ProducerBatch[] = [];
  /** Sent and not yet answered, in send order. */
  readonly inFlight: ProducerBatch[] = [];
  /** Failed retriably; resent, in order, once nothing of this partition is in flight. */
  readonly toRetry: ProducerBatch[] = [];
  /** Idempotent producers: sequence of the next batch drained for the first time. */
  nextSequence = 0;
  /** No sends before this time (retry backoff). */
  retryAt = 0;
  /** The failures waiting in toRetry were all re-routed by a leader hint: no backoff needed. */
  rerouted = true;

  constructor(topic: string, partition: number) {
    this.topic = topic;
    this.partition = partition;
  }

  openBatch(): ProducerBatch | undefined {
    const last = this.batches[this.batches.length - 1];
    return last !== undefined && !last.closed ? last : undefined;
  }

  /** Any batch of this partition not yet acknowledged that was created before `batch`. */
  hasUnackedBefore(batch: ProducerBatch): boolean {
    for (const list of [this.inFlight, this.toRetry, this.batches]) {
      for (const b of list) if (b.id < batch.id && b !== batch) return true;
    }
    return false;
  }
}

/** What append() did, for the sender: whether it has something new to look at. */
export interface AppendResult {
  readonly newBatch: boolean;
  readonly batchFull: boolean;
}

// The four possible answers, made once: append() runs for every record sent.
const APPEND_RESULTS: readonly AppendResult[] = [
  Object.freeze({ newBatch: false, batchFull: false }),
  Object.freeze({ newBatch: false, batchFull: true }),
  Object.freeze({ newBatch: true, batchFull: false }),
  Object.freeze({ newBatch: true, batchFull: true }),
];

export interface AccumulatorOptions {
  batchSize: number;
  bufferMemory: number;
  lingerMs: number;
}

export class RecordAccumulator {
  readonly partitions = new Map<string, PartitionQueue>();
  // The same queues by topic, then partition number: the per-record lookups (send() asks twice
  // per record) then use the topic string the application passed, whose hash V8 keeps, instead
  // of building and hashing a "topic-partition" key each time.
  private readonly byTopic = new Map<string, (PartitionQueue | undefined)[]>();
  /** Batches holding records whose promises are not settled yet. */
  readonly incomplete = new Set<ProducerBatch>();
  readonly options: AccumulatorOptions;
  usedMemory = 0;
  /** > 0 while flush() (or close()) waits: open batches are sent without lingering. */
  flushing = 0;

  constructor(options: AccumulatorOptions) {
    this.options = options;
  }

  queue(topic: string, partition: number): PartitionQueue {
    let queues = this.byTopic.get(topic);
    if (queues === undefined) {
      queues = [];
      this.byTopic.set(topic, queues);
    }
    let q = queues[partition];
    if (q === undefined) {
      q = new PartitionQueue(topic, partition);
      queues[partition] = q;
      this.partitions.set(topicPartitionKey(topic, partition), q);
    }
    return q;
  }

  /** Whether bufferMemory can take `bytes` more now. */
  hasRoom(bytes: number): boolean {
    return this.usedMemory + bytes <= this.options.bufferMemory;
  }

  /** Whether appending a record of `bytes` to this partition would open a new batch. */
  startsNewBatch(topic: string, partition: number, bytes: number): boolean {
    const open = this.byTopic.get(topic)?.[partition]?.openBatch();
    return open === undefined || open.bytes + bytes > this.options.batchSize;
  }

  /**
   * Adds a record to the partition's open batch (opening one if needed). A record larger than
   * batchSize gets a batch of its own. Reports whether the sender has something new to look at.
   */
  append(topic: string, partition: number, record: PendingRecord, bytes: number, now: number): AppendResult {
    const q = this.queue(topic, partition);
    let batch = q.openBatch();
    let batchFull = false;
    if (batch !== undefined && batch.bytes + bytes > this.options.batchSize) {
      batch.closed = true;
      batchFull = true;
      batch = undefined;
    }
    let newBatch = false;
    if (batch === undefined) {
      batch = new ProducerBatch(topic, partition, now);
      q.batches.push(batch);
      this.incomplete.add(batch);
      newBatch = true;
    }
    batch.records.push(record);
    batch.bytes += bytes;
    this.usedMemory += bytes;
    if (batch.bytes >= this.options.batchSize) {
      batch.closed = true;
      batchFull = true;
    }
    return APPEND_RESULTS[(newBatch ? 2 : 0) + (batchFull ? 1 : 0)]!;
  }

  /** The batch's records are settled: give its memory back. */
  release(batch: ProducerBatch): void {
    if (!this.incomplete.delete(batch)) return;
    this.usedMemory -= batch.bytes - BATCH_HEADER_SIZE;
  }

  /**
   * When the head batch of a partition may be sent (ignoring in-flight limits and leaders):
   * now if it is closed or a flush is on, else when its linger expires.
   */
  readyAt(q: PartitionQueue): number {
    const head = q.batches[0];
    if (head === undefined) return Number.POSITIVE_INFINITY;
    if (head.closed || this.flushing > 0) return q.retryAt;
    return Math.max(q.retryAt, head.createdAt + this.options.lingerMs);
  }

  /** Smallest id of a record not yet settled, across all batches. */
  oldestIncompleteRecordId(): number {
    let min = Number.POSITIVE_INFINITY;
    for (const b of this.incomplete) if (b.firstRecordId < min) min = b.firstRecordId;
    return min;
  }
}
