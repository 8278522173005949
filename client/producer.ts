// The producer: send() runs serializer -> interceptors -> partitioner -> accumulator and returns
// the record's one promise, settled by the sender when the batch holding the record is
// acknowledged or fails for good. A send() that cannot be accepted at once (metadata for the
// topic not known yet, bufferMemory full) waits in one FIFO queue, bounded by maxBlockMs, so
// records keep the order of the send() calls; as in Kafka, where send() blocks the calling
// thread, a waiting record holds back the ones sent after it.
import { SluiceError } from '../common/errors.ts';
import type { Logger } from '../common/logger.ts';
import { BATCH_HEADER_SIZE, type RecordHeader } from '../common/record-batch.ts';
import { resolveProducerOptions, type ProducerInterceptor, type ProducerOptions, type ResolvedProducerOptions } from './client-options.ts';
import { clientLogger } from './client-logger.ts';
import { ClusterMetadata } from './cluster-metadata.ts';
import { ConnectionPool } from './connection-pool.ts';
import { partitioners, type Partitioner } from './partitioner.ts';
import { RecordAccumulator, estimateRecordSize, type PendingRecord } from './record-accumulator.ts';
import type { ProducerRecord, RecordMetadata } from './records.ts';
import { Sender } from './sender.ts';
import { resolveSerializer, type RawData, type Serializer } from './serializers.ts';

interface PreparedSend {
  topic: string;
  /** Given by the application; otherwise the partitioner picks one when the record is appended. */
  partition: number | undefined;
  record: PendingRecord;
  bytes: number;
  /** maxBlockMs after send() was called; set when the send has to wait. */
  deadline: number;
}

const HOUSEKEEPING_INTERVAL_MS = 100;

// send() takes its promise's settle functions through one shared executor instead of a new
// closure (and closure context) per record: the Promise constructor calls it synchronously, so
// nothing can run between it and the reads that follow.
let capturedResolve: (metadata: RecordMetadata) => void = () => {};
let capturedReject: (error: SluiceError) => void = () => {};
function captureSettlers(resolve: (metadata: RecordMetadata) => void, reject: (error: SluiceError) => void): void {
  capturedResolve = resolve;
  capturedReject = reject;
}

function asSluiceError(err: unknown): SluiceError {
  return err instanceof SluiceError ? err : new SluiceError('UNKNOWN', err instanceof Error ? err.message : String(err), {}, { cause: err });
}

export class Producer<K = RawData, V = RawData> {
  readonly options: Readonly<ResolvedProducerOptions>;
  private readonly logger: Logger;
  private readonly pool: ConnectionPool;
  private readonly metadata: ClusterMetadata;
  private readonly accumulator: RecordAccumulator;
  private readonly sender: Sender;
  private readonly partitioner: Partitioner;
  private readonly keySerializer: Serializer<unknown>;
  private readonly valueSerializer: Serializer<unknown>;
  private readonly interceptors: readonly ProducerInterceptor<K, V>[];
  private blocked: PreparedSend[] = [];
  private blockedHead = 0;
  private draining = false;
  private ready = false;
  private connecting: Promise<void> | null = null;
  private connectError: SluiceError | null = null;
  private closed = false;
  private closing: Promise<void> | null = null;
  private nextRecordId = 0;
  private flushWaiters: { mark: number; resolve: () => void }[] = [];
  private readonly housekeeping: NodeJS.Timeout;

  constructor(options: ProducerOptions<K, V>) {
    const o = resolveProducerOptions(options);
    this.options = o;
    this.logger = clientLogger(o.logger, 'producer', o.clientId);
    this.pool = new ConnectionPool(o.clientId);
    this.metadata = ClusterMetadata.forClient(this.pool, o, this.logger);
    this.accumulator = new RecordAccumulator({ batchSize: o.batchSize, bufferMemory: o.bufferMemory, lingerMs: o.lingerMs });
    this.partitioner = typeof o.partitioner === 'string' ? partitioners[o.partitioner]() : o.partitioner;
    this.keySerializer = resolveSerializer(o.keySerializer);
    this.valueSerializer = resolveSerializer(o.valueSerializer);
    this.interceptors = o.interceptors as ProducerInterceptor<K, V>[];
    this.sender = new Sender({
      accumulator: this.accumulator,
      metadata: this.metadata,
      pool: this.pool,
      options: o,
      logger: this.logger,
      interceptors: o.interceptors as ProducerInterceptor[],
      onBatchDone: () => {
        this.drainBlocked();
        this.checkFlush();
      },
    });
    this.metadata.onUpdate(() => {
      this.drainBlocked();
      this.sender.wake();
    });
    this.housekeeping = setInterval(() => this.sweep(), HOUSEKEEPING_INTERVAL_MS);
    this.housekeeping.unref();
  }

  /**
   * Learns the cluster from the bootstrap servers and, with idempotence, gets a producer id.
   * Optional: the first send() connects too, but awaiting it reports a wrong address early.
   */
  connect(): Promise<void> {
    if (this.closed) return Promise.reject(new SluiceError('CLOSED', 'the producer is closed; create a new one'));
    this.connecting ??= this.doConnect().catch((err: unknown) => {
      const error = asSluiceError(err);
      this.connecting = null;
      this.connectError = error;
      this.failBlocked(() => error);
      throw error;
    });
    return this.connecting;
  }

  /** Resolves once the record is acknowledged as `acks` asks; rejects with a SluiceError. */
  send(record: ProducerRecord<K, V>): Promise<RecordMetadata> {
    const promise = new Promise<RecordMetadata>(captureSettlers);
    const resolve = capturedResolve;
    const reject = capturedReject;
    if (this.closed) {
      reject(new SluiceError('CLOSED', 'the producer is closed; create a new one to send more records'));
      return promise;
    }
    // One clock read per record: the default timestamp, the append time and the maxBlockMs
    // deadline are all "when send() was called".
    const now = Date.now();
    let prepared: PreparedSend;
    try {
      prepared = this.prepare(record, resolve, reject, now);
    } catch (err) {
      this.failRecord(reject, asSluiceError(err));
      return promise;
    }
    if (this.ready && this.blockedHead === this.blocked.length) {
      try {
        if (this.tryAppend(prepared, now)) return promise;
      } catch (err) {
        this.failRecord(reject, asSluiceError(err));
        return promise;
      }
    }
    prepared.deadline = now + this.options.maxBlockMs;
    this.block(prepared);
    return promise;
  }

  /** send() for each record; resolves when all are acknowledged, rejects with the first failure. */
  sendBatch(records: readonly ProducerRecord<K, V>[]): Promise<RecordMetadata[]> {
    return Promise.all(records.map((r) => this.send(r)));
  }

  /** Sends what is buffered without waiting for lingerMs; resolves when every record sent before the call is settled. */
  flush(): Promise<void> {
    const mark = this.nextRecordId;
    if (this.oldestUnsettled() >= mark) return Promise.resolve();
    this.accumulator.flushing++;
    this.sender.wake();
    return new Promise((resolve) => this.flushWaiters.push({ mark, resolve }));
  }

  /**
   * Stops accepting records, waits for the buffered ones (up to timeoutMs, default: until each
   * is acknowledged or has failed), fails what is left with CLOSED, and closes connections.
   */
  close(options: { timeoutMs?: number } = {}): Promise<void> {
    this.closing ??= this.doClose(options.timeoutMs ?? Number.POSITIVE_INFINITY);
    return this.closing;
  }

  private async doConnect(): Promise<void> {
    this.metadata.start();
    const started = Date.now();
    await this.metadata.bootstrap(this.options.requestTimeoutMs);
    if (this.options.idempotence && this.sender.identity === null) {
      await this.sender.initProducerId(Math.max(1, this.options.requestTimeoutMs - (Date.now() - started)));
    }
    // Even when close() was called meanwhile: it waits for the records already sent.
    this.ready = true;
    this.connectError = null;
    this.drainBlocked();
    this.sender.wake();
  }

  private async doClose(timeoutMs: number): Promise<void> {
    this.closed = true;
    const flushed = this.flush();
    if (Number.isFinite(timeoutMs)) {
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([flushed, new Promise<void>((r) => (timer = setTimeout(r, timeoutMs)))]);
      clearTimeout(timer);
    } else {
      await flushed;
    }
    const closedError = new SluiceError('CLOSED', `the producer was closed before these records were acknowledged (close timeout ${timeoutMs} ms)`);
    this.failBlocked(() => closedError);
    this.sender.close();
    clearInterval(this.housekeeping);
    this.metadata.close();
    this.pool.close();
    for (const w of this.flushWaiters.splice(0)) w.resolve();
  }

  private prepare(input: ProducerRecord<K, V>, resolve: PendingRecord['resolve'], reject: PendingRecord['reject'], now: number): PreparedSend {
    let record = input;
    if (typeof record !== 'object' || record === null) {
      throw new SluiceError('INVALID_REQUEST', 'send() takes a record object such as { topic, value, key?, headers?, partition?, timestamp? }');
    }
    for (const interceptor of this.interceptors) {
      if (!interceptor.onSend) continue;
      try {
        record = interceptor.onSend(record) ?? record;
      } catch (err) {
        // As Kafka: a failing interceptor is reported but does not stop the record.
        this.logger.error({ err, topic: record.topic }, 'producer interceptor onSend threw; record sent unchanged');
      }
    }
    const topic = record.topic;
    if (typeof topic !== 'string' || topic.length === 0) {
      throw new SluiceError('INVALID_TOPIC', `a record needs a topic name (got ${JSON.stringify(topic)})`);
    }
    const partition = record.partition;
    if (partition !== undefined && (!Number.isInteger(partition) || partition < 0)) {
      throw new SluiceError('INVALID_REQUEST', `record partition must be a whole number >= 0 or absent (got ${String(partition)})`, { topic });
    }
    const timestamp = record.timestamp ?? now;
    if (!Number.isSafeInteger(timestamp) || timestamp < 0) {
      throw new SluiceError('INVALID_TIMESTAMP', `record timestamp must be milliseconds since the epoch, a whole number >= 0 (got ${String(timestamp)})`, { topic });
    }
    const key = record.key === undefined ? null : this.keySerializer(record.key, topic);
    const value = this.valueSerializer(record.value, topic);
    const headers = record.headers === undefined ? undefined : this.normalizeHeaders(record.headers, topic);
    const bytes = estimateRecordSize(key, value, headers);
    if (bytes + BATCH_HEADER_SIZE > this.options.bufferMemory) {
      throw new SluiceError('MESSAGE_TOO_LARGE', `a record of about ${bytes} bytes does not fit in bufferMemory (${this.options.bufferMemory} bytes); raise bufferMemory or send smaller records`, { topic });
    }
    const pending: PendingRecord = { key, value, headers, timestamp, id: this.nextRecordId++, resolve, reject };
    return { topic, partition, record: pending, bytes, deadline: 0 };
  }

  private normalizeHeaders(headers: unknown, topic: string): RecordHeader[] {
    if (!Array.isArray(headers)) {
      throw new SluiceError('INVALID_REQUEST', 'record headers must be an array of { key: string, value: Buffer | string | null }', { topic });
    }
    return headers.map((h: { key?: unknown; value?: unknown }, i) => {
      if (typeof h?.key !== 'string') throw new SluiceError('INVALID_REQUEST', `record header ${i} needs a string key`, { topic });
      const v = h.value;
      if (v === null || v === undefined) return { key: h.key, value: null };
      if (Buffer.isBuffer(v)) return { key: h.key, value: v };
      if (typeof v === 'string') return { key: h.key, value: Buffer.from(v, 'utf8') };
      throw new SluiceError('INVALID_REQUEST', `record header "${h.key}" has a ${typeof v} value; use a Buffer, a string or null`, { topic });
    });
  }

  /** Appends if metadata and memory allow; false means "wait". Throws for a record that can never be appended. */
  private tryAppend(p: PreparedSend, now: number): boolean {
    const info = this.metadata.topic(p.topic);
    if (info === undefined) return false;
    const count = info.partitions.length;
    let partition = p.partition;
    if (partition !== undefined && partition >= count) return false;
    if (!this.accumulator.hasRoom(p.bytes)) return false;
    if (partition === undefined) {
      const key = p.record.key;
      partition = this.partitioner.partition(p.topic, key, count);
      // KIP-480: a sticky partitioner moves on when the record would open a new batch, so
      // unkeyed records fill one batch at a time instead of spreading thin ones everywhere.
      if (this.partitioner.onNewBatch && this.accumulator.startsNewBatch(p.topic, partition, p.bytes)) {
        this.partitioner.onNewBatch(p.topic, count, partition);
        partition = this.partitioner.partition(p.topic, key, count);
      }
      if (!Number.isInteger(partition) || partition < 0 || partition >= count) {
        throw new SluiceError('INVALID_PARTITIONS', `the partitioner chose partition ${partition} for topic "${p.topic}", which has ${count} partitions`, { topic: p.topic });
      }
    }
    const { newBatch, batchFull } = this.accumulator.append(p.topic, partition, p.record, p.bytes, now);
    if (newBatch || batchFull) this.sender.wake();
    return true;
  }

  private block(p: PreparedSend): void {
    this.blocked.push(p);
    this.housekeeping.ref();
    if (!this.ready) {
      this.connect().catch(() => undefined);
      return;
    }
    if (this.blocked.length - this.blockedHead === 1) this.askForMetadataIfMissing(p);
  }

  private askForMetadataIfMissing(p: PreparedSend): void {
    const info = this.metadata.topic(p.topic);
    if (info === undefined || (p.partition !== undefined && p.partition >= info.partitions.length)) {
      this.metadata.track([p.topic]);
      this.metadata.requestRefresh();
    }
  }

  /** Moves waiting sends into the accumulator, in order, as far as metadata and memory allow. */
  private drainBlocked(): void {
    if (this.draining || !this.ready) return;
    this.draining = true;
    const now = Date.now();
    try {
      while (this.blockedHead < this.blocked.length) {
        const p = this.blocked[this.blockedHead]!;
        let appended: boolean;
        try {
          appended = this.tryAppend(p, now);
        } catch (err) {
          this.blockedHead++;
          this.failRecord(p.record.reject, asSluiceError(err));
          continue;
        }
        if (!appended) {
          this.askForMetadataIfMissing(p);
          break;
        }
        this.blockedHead++;
      }
      this.compactBlocked();
    } finally {
      this.draining = false;
    }
  }

  private compactBlocked(): void {
    if (this.blockedHead === this.blocked.length) {
      this.blocked = [];
      this.blockedHead = 0;
    } else if (this.blockedHead > 1024 && this.blockedHead * 2 > this.blocked.length) {
      this.blocked = this.blocked.slice(this.blockedHead);
      this.blockedHead = 0;
    }
  }

  private failBlocked(errorFor: (p: PreparedSend) => SluiceError): void {
    while (this.blockedHead < this.blocked.length) {
      const p = this.blocked[this.blockedHead++]!;
      this.failRecord(p.record.reject, errorFor(p));
    }
    this.compactBlocked();
    this.checkFlush();
  }

  private failRecord(reject: (e: SluiceError) => void, error: SluiceError): void {
    reject(error);
    for (const interceptor of this.interceptors) {
      try {
        interceptor.onAcknowledgement?.(null, error);
      } catch (err) {
        this.logger.error({ err }, 'producer interceptor onAcknowledgement threw; ignored');
      }
    }
  }

  private blockedError(p: PreparedSend): SluiceError {
    const waited = `${this.options.maxBlockMs} ms (maxBlockMs)`;
    if (!this.ready) {
      return this.connectError ?? new SluiceError('BROKER_NOT_AVAILABLE', `not connected to the cluster after ${waited}; check bootstrapServers (${this.options.bootstrapServers.join(', ')})`);
    }
    const info = this.metadata.topic(p.topic);
    if (info === undefined) {
      const cause = this.metadata.topicError(p.topic);
      return new SluiceError(
        cause?.code === 'UNKNOWN_TOPIC_OR_PARTITION' || cause === undefined ? 'UNKNOWN_TOPIC_OR_PARTITION' : cause.code,
        `topic "${p.topic}" was not in the cluster metadata after ${waited}${cause ? ` (${cause.message})` : ''}; create the topic first, or check its name`,
        { topic: p.topic },
      );
    }
    if (p.partition !== undefined && p.partition >= info.partitions.length) {
      return new SluiceError('UNKNOWN_TOPIC_OR_PARTITION', `partition ${p.partition} of topic "${p.topic}" does not exist (the topic has ${info.partitions.length} partitions)`, { topic: p.topic, partition: p.partition });
    }
    return new SluiceError(
      'BUFFER_EXHAUSTED',
      `send() waited ${waited} for buffer space: bufferMemory (${this.options.bufferMemory} bytes) is full because records are sent faster than the cluster acknowledges them; await the promises send() returns to apply back-pressure, raise bufferMemory or maxBlockMs, or check the cluster`,
      { topic: p.topic },
    );
  }

  private sweep(): void {
    const now = Date.now();
    this.sender.sweep(now);
    while (this.blockedHead < this.blocked.length && this.blocked[this.blockedHead]!.deadline <= now) {
      const p = this.blocked[this.blockedHead++]!;
      this.failRecord(p.record.reject, this.blockedError(p));
    }
    this.compactBlocked();
    this.drainBlocked();
    this.checkFlush();
    // Keep the process alive while records are pending (as Kafka's non-daemon sender thread
    // does), but let an idle producer not hold it open.
    if (this.accumulator.incomplete.size > 0 || this.blockedHead < this.blocked.length) this.housekeeping.ref();
    else this.housekeeping.unref();
  }

  private oldestUnsettled(): number {
    const oldest = this.accumulator.oldestIncompleteRecordId();
    if (this.blockedHead < this.blocked.length) return Math.min(oldest, this.blocked[this.blockedHead]!.record.id);
    return oldest;
  }

  private checkFlush(): void {
    if (this.flushWaiters.length === 0) return;
    const oldest = this.oldestUnsettled();
    const waiting: typeof this.flushWaiters = [];
    for (const w of this.flushWaiters) {
      if (w.mark <= oldest) {
        this.accumulator.flushing--;
        w.resolve();
      } else {
        waiting.push(w);
      }
    }
    this.flushWaiters = waiting;
  }
}
