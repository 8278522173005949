// The producer's I/O half: takes ready batches from the accumulator, sends each to its
// partition's leader over that broker's ProduceStream, and settles the records' promises from
// the replies. It owns the rules that make retries safe:
//  * at most maxInFlight batches per partition are in flight;
//  * a batch is encoded once; a retry resends the same bytes (only the producer-state header
//    fields are rewritten, and the CRC with them, if the sequence had to move);
//  * after a retriable failure the partition stops sending until everything it had in flight
//    has come back, then resends the failed batches in their original order, so records of a
//    partition are written in send order (with idempotence, whatever the failure);
//  * idempotence: one producer id, a sequence per partition assigned when a batch is first
//    sent and kept across retries, so the leader recognises a retried duplicate.
import { SluiceError, type ErrorCode } from '../common/errors.ts';
import { fromErrorDetail } from '../common/grpc-errors.ts';
import type { Logger } from '../common/logger.ts';
import { encodeRecordBatch, restampProducerState } from '../common/record-batch.ts';
import { MAX_TOPIC_NAME_LENGTH } from '../common/topic-config.ts';
import { callUnary, type ConnectionPool } from './connection-pool.ts';
import type { ClusterMetadata } from './cluster-metadata.ts';
import type { Acks as AcksOption, Compression, ProducerInterceptor } from './client-options.ts';
import { BatchBufferPool } from './batch-buffer-pool.ts';
import { ProduceStream, produceRequestHeadroom } from './produce-stream.ts';
import type { PartitionQueue, ProducerBatch, RecordAccumulator } from './record-accumulator.ts';
import type { Acks } from '../proto/gen/sluice/v1/Acks.ts';
import type { ProduceResponse__Output } from '../proto/gen/sluice/v1/ProduceResponse.ts';

export interface SenderOptions {
  acks: AcksOption;
  idempotence: boolean;
  maxInFlight: number;
  retries: number;
  retryBackoffMs: number;
  requestTimeoutMs: number;
  deliveryTimeoutMs: number;
  compression: Compression;
  /** Sizes the pool of batch buffers (BatchBufferPool). */
  batchSize: number;
  bufferMemory: number;
}

export interface ProducerIdentity {
  producerId: number;
  producerEpoch: number;
}

export interface SenderDeps {
  accumulator: RecordAccumulator;
  metadata: ClusterMetadata;
  pool: ConnectionPool;
  options: SenderOptions;
  logger: Logger;
  interceptors: readonly ProducerInterceptor[];
  /** A batch settled (memory freed, flush may be done). */
  onBatchDone: () => void;
}

// Outcomes after which the leader may or may not have appended the batch.
const UNKNOWN_OUTCOME = new Set<ErrorCode>(['REQUEST_TIMED_OUT', 'BROKER_NOT_AVAILABLE', 'NOT_ENOUGH_REPLICAS_AFTER_APPEND', 'UNKNOWN', 'CLOSED']);
// Errors that mean our picture of the partition is stale.
const STALE_METADATA = new Set<ErrorCode>(['LEADER_NOT_AVAILABLE', 'UNKNOWN_TOPIC_OR_PARTITION', 'FENCED_LEADER_EPOCH', 'UNKNOWN_LEADER_EPOCH', 'BROKER_NOT_AVAILABLE']);

const ACKS_TO_PROTO: Record<string, Acks> = { all: 'ACKS_ALL', 1: 'ACKS_LEADER', 0: 'ACKS_NONE' };

// Pooled batch buffers leave room in front for the ProduceRequest framing of any valid topic
// name (Kafka's rules: at most 249 ASCII characters).
const POOLED_FRAMING_ROOM = produceRequestHeadroom('t'.repeat(MAX_TOPIC_NAME_LENGTH));
// Free pooled buffers kept at most: enough to cover the full batches a busy producer has in
// flight, small enough not to matter to an application's memory.
const MAX_POOLED_FREE_BYTES = 16 * 1024 * 1024;

const SEQUENCE_MODULO = 2 ** 31;
const MAX_BACKOFF_MS = 1000;

function addSequence(seq: number, n: number): number {
  return (((seq + n) % SEQUENCE_MODULO) + SEQUENCE_MODULO) % SEQUENCE_MODULO;
}

export class Sender {
  identity: ProducerIdentity | null = null;
  private readonly deps: SenderDeps;
  private readonly options: SenderOptions;
  private readonly streams = new Map<string, ProduceStream<ProducerBatch>>();
  private readonly acks: Acks;
  private readonly buffers: BatchBufferPool;
  private inFlightCount = 0;
  private runScheduled = false;
  private timer: NodeJS.Timeout | null = null;
  private timerAt = Number.POSITIVE_INFINITY;
  private resetPending = false;
  private resetting = false;
  private aborting = false;
  private closed = false;

  constructor(deps: SenderDeps) {
    this.deps = deps;
    this.options = deps.options;
    this.acks = ACKS_TO_PROTO[String(deps.options.acks)]!;
    this.buffers = new BatchBufferPool(deps.options.batchSize + POOLED_FRAMING_ROOM, Math.min(MAX_POOLED_FREE_BYTES, deps.options.bufferMemory));
  }

  /** Asks any broker for a producer id, retrying within the timeout. */
  async initProducerId(timeoutMs: number): Promise<ProducerIdentity> {
    const deadline = Date.now() + timeoutMs;
    let lastError: unknown;
    for (;;) {
      for (const address of this.deps.metadata.candidateAddresses()) {
        if (this.closed) throw new SluiceError('CLOSED', 'the producer was closed');
        try {
          const conn = this.deps.pool.get(address);
          const res = await callUnary(conn.log, conn.log.InitProducerId, {}, Math.max(1, Math.min(this.options.requestTimeoutMs, deadline - Date.now())));
          this.identity = { producerId: res.producer_id, producerEpoch: res.producer_epoch };
          this.deps.logger.debug({ producerId: res.producer_id, epoch: res.producer_epoch }, 'idempotent producer id assigned');
          return this.identity;
        } catch (err) {
          lastError = err;
          if (err instanceof SluiceError && !err.retriable) throw err;
        }
      }
      if (Date.now() + this.options.retryBackoffMs >= deadline) {
        const message = lastError instanceof Error ? lastError.message : 'no broker is known';
        const code = lastError instanceof SluiceError ? lastError.code : 'BROKER_NOT_AVAILABLE';
        throw new SluiceError(code, `could not get a producer id for idempotence within ${timeoutMs} ms: ${message}`, {}, { cause: lastError });
      }
      await new Promise((r) => setTimeout(r, this.options.retryBackoffMs));
    }
  }

  /** Schedules a pass over the partitions; many wake-ups in one tick make one pass. */
  wake(): void {
    if (this.runScheduled || this.closed) return;
    this.runScheduled = true;
    setImmediate(() => this.run());
  }

  /** Periodic checks: requests without a reply for too long, batches past their delivery timeout. */
  sweep(now: number): void {
    // The broker has requestTimeoutMs to answer acks=all; the margin lets its own
    // REQUEST_TIMED_OUT arrive before we declare the stream dead.
    const limit = this.options.requestTimeoutMs + Math.min(this.options.requestTimeoutMs, 1000);
    for (const stream of [...this.streams.values()]) {
      const oldest = stream.oldestSentAt();
      if (oldest !== undefined && now - oldest > limit) {
        stream.abort(new SluiceError('REQUEST_TIMED_OUT', `broker ${stream.address} did not answer a produce request within ${limit} ms (requestTimeoutMs ${this.options.requestTimeoutMs})`));
      }
    }
    for (const q of this.deps.accumulator.partitions.values()) {
      for (let i = 0; i < q.batches.length; i++) {
        const batch = q.batches[i]!;
        if (now - batch.createdAt < this.options.deliveryTimeoutMs) continue;
        q.batches.splice(i--, 1);
        this.failBatch(q, batch, this.deliveryTimeoutError(batch));
      }
    }
    // An idle producer gives its pooled batch buffers back to the GC.
    if (this.deps.accumulator.incomplete.size === 0) this.buffers.clear();
  }

  /** Fails every batch, queued or in flight (close with a timeout, fatal errors). */
  abortAll(error: SluiceError): void {
    this.aborting = true;
    try {
      for (const stream of [...this.streams.values()]) stream.abort(error);
      this.streams.clear();
      for (const q of this.deps.accumulator.partitions.values()) {
        for (const list of [q.batches, q.toRetry, q.inFlight]) {
          for (const batch of list.splice(0)) {
            if (batch.inFlight) {
              batch.inFlight = false;
              this.inFlightCount--;
            }
            this.failBatch(q, batch, error, false);
          }
        }
      }
    } finally {
      this.aborting = false;
    }
  }

  /** Fails whatever is left with CLOSED and stops; call after flushing. */
  close(): void {
    this.abortAll(new SluiceError('CLOSED', 'the producer was closed before these records were acknowledged'));
    this.closed = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
  }

  private run(): void {
    this.runScheduled = false;
    if (this.closed) return;
    const now = Date.now();
    if (this.resetPending) {
      this.maybeResetIdentity();
      return;
    }
    let next = Number.POSITIVE_INFINITY;
    for (const q of this.deps.accumulator.partitions.values()) {
      const at = this.drain(q, now);
      if (at < next) next = at;
    }
    this.arm(next, now);
  }

  private arm(at: number, now: number): void {
    if (at === Number.POSITIVE_INFINITY) return;
    if (this.timer && this.timerAt <= at) return;
    if (this.timer) clearTimeout(this.timer);
    this.timerAt = at;
    this.timer = setTimeout(() => {
      this.timer = null;
      this.timerAt = Number.POSITIVE_INFINITY;
      this.run();
    }, Math.max(0, at - now));
  }

  /** Sends what this partition may send now; returns when it should be looked at again. */
  private drain(q: PartitionQueue, now: number): number {
    for (;;) {
      // A partition with failures waiting for its in-flight batches to return sends nothing
      // new, or a later batch could overtake the failed ones. Replies wake us.
      if (q.toRetry.length > 0) return Number.POSITIVE_INFINITY;
      if (q.batches.length === 0) return Number.POSITIVE_INFINITY;
      const readyAt = this.deps.accumulator.readyAt(q);
      if (readyAt > now) return readyAt;
      if (q.inFlight.length >= this.options.maxInFlight) return Number.POSITIVE_INFINITY;
      const leader = this.deps.metadata.leaderFor(q.topic, q.partition);
      if (leader === null) {
        this.deps.metadata.track([q.topic]);
        this.deps.metadata.requestRefresh();
        return now + Math.max(this.options.retryBackoffMs, 1);
      }
      const batch = q.batches.shift()!;
      batch.closed = true;
      this.send(q, batch, leader.address, now);
    }
  }

  private send(q: PartitionQueue, batch: ProducerBatch, address: string, now: number): void {
    try {
      this.prepare(q, batch);
    } catch (err) {
      this.failBatch(q, batch, err instanceof SluiceError ? err : new SluiceError('UNKNOWN', String(err), {}, { cause: err }));
      return;
    }
    let stream = this.streams.get(address);
    if (stream === undefined || !stream.alive) {
      stream = this.openStream(address);
    }
    batch.attempts++;
    batch.sentSequence = batch.baseSequence;
    batch.inFlight = true;
    q.inFlight.push(batch);
    this.inFlightCount++;
    stream.send(
      { topic: q.topic, partition: q.partition, acks: this.acks, timeout_ms: this.options.requestTimeoutMs, records: batch.encoded!, recordsHeadroom: batch.headroom },
      batch,
      this.options.acks !== 0,
      now,
    );
  }

  /** Sequence (first send only), encoding (first send only), and producer-state restamp if it moved. */
  private prepare(q: PartitionQueue, batch: ProducerBatch): void {
    const identity = this.options.idempotence ? this.identity : null;
    if (identity !== null && batch.baseSequence < 0) {
      batch.baseSequence = q.nextSequence;
      q.nextSequence = addSequence(q.nextSequence, batch.records.length);
    }
    if (batch.encoded === null) {
      const headroom = produceRequestHeadroom(q.topic);
      // Compressed batches come out of zlib at a size only known afterwards: right-sized, unpooled.
      const pooled = this.options.compression === 'none' ? this.buffers.take(headroom + batch.bytes) : undefined;
      try {
        batch.encoded = encodeRecordBatch(batch.records, {
          compression: this.options.compression,
          producerId: identity?.producerId ?? -1,
          producerEpoch: identity?.producerEpoch ?? -1,
          baseSequence: identity ? batch.baseSequence : -1,
          // Room for the ProduceRequest fields, so the request is framed around the batch
          // without copying it (see encodeProduceRequest).
          headroom,
          buffer: pooled,
        });
        batch.headroom = headroom;
        if (pooled !== undefined) {
          if (batch.encoded.buffer === pooled.buffer) batch.pooled = pooled;
          else this.buffers.give(pooled);
        }
      } catch (err) {
        if (pooled !== undefined) this.buffers.give(pooled);
        // Never sent: give the sequence back so the next batch does not leave a gap.
        if (identity !== null) {
          q.nextSequence = batch.baseSequence;
          batch.baseSequence = -1;
        }
        throw err;
      }
      batch.stampedProducerId = identity?.producerId ?? -1;
      batch.stampedProducerEpoch = identity?.producerEpoch ?? -1;
      batch.stampedSequence = identity ? batch.baseSequence : -1;
      // Retries resend `encoded`, never re-encode: the serialized keys, values and headers can
      // be collected now instead of living (twice, with the batch) until the acknowledgement.
      for (const r of batch.records) {
        r.key = null;
        r.value = null;
        r.headers = undefined;
      }
      return;
    }
    if (
      identity !== null &&
      (batch.stampedSequence !== batch.baseSequence || batch.stampedProducerId !== identity.producerId || batch.stampedProducerEpoch !== identity.producerEpoch)
    ) {
      restampProducerState(batch.encoded, identity.producerId, identity.producerEpoch, batch.baseSequence);
      batch.stampedProducerId = identity.producerId;
      batch.stampedProducerEpoch = identity.producerEpoch;
      batch.stampedSequence = batch.baseSequence;
    }
  }

  private openStream(address: string): ProduceStream<ProducerBatch> {
    const stream = new ProduceStream<ProducerBatch>(address, this.deps.pool.get(address).log, {
      onReply: (batch, reply) => this.onReply(batch, reply, address),
      onWritten: (batch) => this.onWritten(batch),
      onBroken: (lost, error) => this.onBroken(stream, lost, error),
    });
    this.streams.set(address, stream);
    return stream;
  }

  private queueOf(batch: ProducerBatch): PartitionQueue {
    return this.deps.accumulator.queue(batch.topic, batch.partition);
  }

  private leaveInFlight(q: PartitionQueue, batch: ProducerBatch): void {
    const i = q.inFlight.indexOf(batch);
    if (i >= 0) {
      q.inFlight.splice(i, 1);
      this.inFlightCount--;
    }
    batch.inFlight = false;
  }

  private onReply(batch: ProducerBatch, reply: ProduceResponse__Output, address: string): void {
    const q = this.queueOf(batch);
    this.leaveInFlight(q, batch);
    const error = fromErrorDetail(reply.error);
    if (batch.done) {
      // Failed for good while in flight (close with timeout): nothing to settle.
    } else if (error === null) {
      // A duplicate (an idempotent retry of something already written) carries the offset of
      // the original write, which is exactly what the first attempt would have returned.
      this.completeBatch(batch, reply.base_offset);
      this.recycle(batch);
    } else {
      this.onBatchError(q, batch, error, address);
    }
    this.afterInFlightChange(q);
    this.wake();
  }

  /**
   * Gives an acknowledged batch's pooled buffer back. Only after a reply: grpc-js keeps the
   * serialized request (a view of this buffer) queued until it frames and writes it, which
   * under flow control can be long after write() returned; a reply proves that happened. An
   * acks=0 write callback does not (grpc-js may call it before framing), nor does a failure.
   */
  private recycle(batch: ProducerBatch): void {
    if (batch.pooled === null) return;
    this.buffers.give(batch.pooled);
    batch.pooled = null;
    batch.encoded = null;
  }

  private onWritten(batch: ProducerBatch): void {
    const q = this.queueOf(batch);
    this.leaveInFlight(q, batch);
    if (!batch.done) this.completeBatch(batch, -1);
    this.afterInFlightChange(q);
    this.wake();
  }

  private onBroken(stream: ProduceStream<ProducerBatch>, lost: ProducerBatch[], error: SluiceError): void {
    if (this.streams.get(stream.address) === stream) this.streams.delete(stream.address);
    if (this.aborting) {
      for (const batch of lost) {
        const q = this.queueOf(batch);
        this.leaveInFlight(q, batch);
        this.failBatch(q, batch, error, false);
      }
      return;
    }
    this.deps.logger.warn({ broker: stream.address, inFlight: lost.length, err: error }, 'produce stream broke; in-flight batches will be retried');
    this.deps.metadata.requestRefresh();
    const touched = new Set<PartitionQueue>();
    for (const batch of lost) {
      const q = this.queueOf(batch);
      this.leaveInFlight(q, batch);
      touched.add(q);
      if (!batch.done) this.onBatchError(q, batch, error, stream.address);
    }
    for (const q of touched) this.afterInFlightChange(q);
    this.wake();
  }

  private onBatchError(q: PartitionQueue, batch: ProducerBatch, error: SluiceError, address: string): void {
    const code = error.code;
    if (UNKNOWN_OUTCOME.has(code)) batch.maybeAppended = true;
    let rerouted = false;
    if (code === 'NOT_LEADER') rerouted = this.deps.metadata.applyLeaderHint(q.topic, q.partition, error, address);
    else if (STALE_METADATA.has(code)) this.deps.metadata.requestRefresh();

    let retriable = error.retriable;
    if (this.options.idempotence) {
      if (code === 'OUT_OF_ORDER_SEQUENCE') {
        // Expected when an earlier batch of the partition failed or was dropped: the broker
        // saw a gap that our resend closes. Only a gap we cannot explain is fatal.
        retriable = batch.sentSequence !== batch.baseSequence || q.hasUnackedBefore(batch);
      } else if (code === 'UNKNOWN_PRODUCER_ID' || code === 'INVALID_PRODUCER_EPOCH') {
        this.requestIdentityReset(`${code} from ${address}`);
        retriable = true;
      }
    }
    const now = Date.now();
    if (retriable && batch.attempts <= this.options.retries && now - batch.createdAt < this.options.deliveryTimeoutMs) {
      batch.lastError = error;
      if (!rerouted) q.rerouted = false;
      q.toRetry.push(batch);
      this.deps.logger.debug({ topic: q.topic, partition: q.partition, attempt: batch.attempts, code }, 'produce failed; will retry');
      return;
    }
    this.failBatch(q, batch, this.fatalError(batch, error, retriable, now));
  }

  /** Once a partition has nothing in flight, its failed batches go back to the front, in order. */
  private afterInFlightChange(q: PartitionQueue): void {
    if (q.inFlight.length > 0 || q.toRetry.length === 0) return;
    const retry = q.toRetry.splice(0);
    q.batches.unshift(...retry);
    q.batches.sort((a, b) => a.id - b.id);
    let attempts = 0;
    for (const b of retry) attempts = Math.max(attempts, b.attempts);
    // A leader hint already says where to go: waiting would only add latency. Only the first
    // time, though: leaders that keep pointing at each other (an election in progress) must
    // not turn into a tight loop.
    const backoff = q.rerouted && attempts <= 1 ? 0 : Math.min(Math.max(this.options.retryBackoffMs, MAX_BACKOFF_MS), this.options.retryBackoffMs * 2 ** (attempts - 1));
    q.retryAt = Date.now() + backoff * (0.8 + Math.random() * 0.2);
    q.rerouted = true;
  }

  private completeBatch(batch: ProducerBatch, baseOffset: number): void {
    batch.done = true;
    const records = batch.records;
    const interceptors = this.deps.interceptors;
    for (let i = 0; i < records.length; i++) {
      const r = records[i]!;
      const metadata = { topic: batch.topic, partition: batch.partition, offset: baseOffset < 0 ? -1 : baseOffset + i, timestamp: r.timestamp };
      r.resolve(metadata);
      for (let j = 0; j < interceptors.length; j++) this.acknowledge(interceptors[j]!, metadata, null);
    }
    this.deps.accumulator.release(batch);
    this.deps.onBatchDone();
  }

  private failBatch(q: PartitionQueue, batch: ProducerBatch, error: SluiceError, fixSequences = true): void {
    if (batch.done) return;
    batch.done = true;
    for (const r of batch.records) {
      r.reject(error);
      for (const interceptor of this.deps.interceptors) this.acknowledge(interceptor, null, error);
    }
    this.deps.accumulator.release(batch);
    this.deps.logger.warn({ topic: q.topic, partition: q.partition, records: batch.records.length, err: error }, 'records failed');
    if (fixSequences && this.options.idempotence && batch.baseSequence >= 0) {
      if (batch.maybeAppended) {
        // We cannot know whether the broker holds these records, so no sequence choice for
        // the next batch is safe: start over with a new producer id (as Kafka's KIP-360 does).
        this.requestIdentityReset(`records of ${q.topic}-${q.partition} failed with an unknown outcome`);
      } else {
        this.rewindSequences(q, batch);
      }
    }
    this.deps.onBatchDone();
  }

  /** The failed batch was never written: later batches move down to close the gap it leaves. */
  private rewindSequences(q: PartitionQueue, failed: ProducerBatch): void {
    const n = failed.records.length;
    for (const list of [q.inFlight, q.toRetry, q.batches]) {
      for (const b of list) {
        if (b.baseSequence >= 0 && b.id > failed.id) b.baseSequence = addSequence(b.baseSequence, -n);
      }
    }
    q.nextSequence = addSequence(q.nextSequence, -n);
  }

  private requestIdentityReset(reason: string): void {
    if (!this.options.idempotence || this.resetPending) return;
    this.deps.logger.warn({ reason }, 'renewing the idempotent producer id');
    this.resetPending = true;
    this.wake();
  }

  /** Waits for every in-flight batch to return, then takes a new producer id and renumbers. */
  private maybeResetIdentity(): void {
    if (this.resetting || this.inFlightCount > 0) return;
    this.resetting = true;
    this.initProducerId(this.options.deliveryTimeoutMs).then(
      () => {
        for (const q of this.deps.accumulator.partitions.values()) {
          q.nextSequence = 0;
          for (const b of q.batches) {
            if (b.baseSequence >= 0) {
              b.baseSequence = q.nextSequence;
              q.nextSequence = addSequence(q.nextSequence, b.records.length);
            }
          }
        }
        this.resetPending = false;
        this.resetting = false;
        this.wake();
      },
      (err: unknown) => {
        this.resetting = false;
        if (this.closed) return;
        const error = err instanceof SluiceError ? err : new SluiceError('UNKNOWN', String(err), {}, { cause: err });
        this.deps.logger.error({ err: error }, 'could not renew the producer id; failing queued records');
        this.resetPending = false;
        this.abortAll(error);
      },
    );
  }

  private acknowledge(interceptor: ProducerInterceptor, metadata: { topic: string; partition: number; offset: number; timestamp: number } | null, error: SluiceError | null): void {
    if (!interceptor.onAcknowledgement) return;
    try {
      interceptor.onAcknowledgement(metadata, error);
    } catch (err) {
      this.deps.logger.error({ err }, 'producer interceptor onAcknowledgement threw; ignored');
    }
  }

  /**
   * The code is the one that kept the records from being written (what a script branches on);
   * the message says that the delivery timeout is what finally ended the retries.
   */
  private deliveryTimeoutError(batch: ProducerBatch): SluiceError {
    const where = `${batch.records.length} record(s) for ${batch.topic}-${batch.partition}`;
    const details = { ...batch.lastError?.details, topic: batch.topic, partition: batch.partition };
    if (batch.attempts === 0) {
      return new SluiceError(
        'LEADER_NOT_AVAILABLE',
        `${where} were never sent: no leader of the partition was known within deliveryTimeoutMs (${this.options.deliveryTimeoutMs} ms). Check the partition with \`sluice topic describe\`, or raise deliveryTimeoutMs`,
        details,
      );
    }
    const last = batch.lastError ? `; last error: [${batch.lastError.code}] ${batch.lastError.message}` : '';
    return new SluiceError(
      batch.lastError?.code ?? 'REQUEST_TIMED_OUT',
      `${where} were not acknowledged within deliveryTimeoutMs (${this.options.deliveryTimeoutMs} ms) after ${batch.attempts} attempt(s)${last}. Fix the cause, or raise deliveryTimeoutMs`,
      details,
      { cause: batch.lastError ?? undefined },
    );
  }

  private fatalError(batch: ProducerBatch, error: SluiceError, retriable: boolean, now: number): SluiceError {
    const where = `${batch.records.length} record(s) for ${batch.topic}-${batch.partition}`;
    const details = { ...error.details, topic: batch.topic, partition: batch.partition };
    if (retriable) {
      if (now - batch.createdAt >= this.options.deliveryTimeoutMs) {
        batch.lastError = error;
        return this.deliveryTimeoutError(batch);
      }
      return new SluiceError(error.code, `${where} failed after ${batch.attempts} attempt(s) (retries ${this.options.retries}): ${error.message}; raise retries or fix the cause`, details, { cause: error });
    }
    let advice: string;
    switch (error.code) {
      case 'MESSAGE_TOO_LARGE':
        advice = `the batch was ${batch.encoded?.length ?? batch.bytes} bytes; lower batchSize (or send smaller records), or raise the topic's max.message.bytes`;
        break;
      case 'CORRUPT_MESSAGE':
        advice = 'the broker found the batch damaged; this is a bug in the client or the network path, please report it';
        break;
      case 'UNSUPPORTED_COMPRESSION':
        advice = "use compression 'none' or 'gzip'";
        break;
      case 'OUT_OF_ORDER_SEQUENCE':
        advice = 'the leader lost track of this producer (for example after an unclean leader election); records around this point may be missing, and the producer has renewed its id';
        break;
      case 'INVALID_TIMESTAMP':
        advice = 'send timestamps in milliseconds since the epoch that the topic accepts';
        break;
      case 'UNKNOWN_TOPIC_OR_PARTITION':
        advice = 'create the topic, or check its name and partition count';
        break;
      default:
        advice = 'see the error code';
    }
    return new SluiceError(error.code, `${where} were refused: ${error.message}; ${advice}`, details, { cause: error });
  }
}
