// The consumer: an assignment (given by assign(), or every partition of the subscribed topics),
// a position per partition, and poll() / for-await to read from the positions on. There are no
// consumer groups yet, so positions live only in this object: seek() and the seekTo* calls are
// how an application resumes or replays.
import { SluiceError } from '../common/errors.ts';
import type { Logger } from '../common/logger.ts';
import { resolveConsumerOptions, type ConsumerOptions, type ResolvedConsumerOptions } from './client-options.ts';
import { clientLogger } from './client-logger.ts';
import { ClusterMetadata } from './cluster-metadata.ts';
import { ConnectionPool } from './connection-pool.ts';
import { Fetcher, PartitionState } from './fetcher.ts';
import { listOffsets, type OffsetSpecInput } from './list-offsets.ts';
import { topicPartitionKey, type ConsumerRecord, type TopicPartition } from './records.ts';
import { resolveDeserializer, type Deserializer } from './serializers.ts';

export class Consumer<K = Buffer | null, V = Buffer | null> {
  readonly options: Readonly<ResolvedConsumerOptions>;
  private readonly logger: Logger;
  private readonly pool: ConnectionPool;
  private readonly metadata: ClusterMetadata;
  private readonly fetcher: Fetcher;
  private readonly keyDeserializer: Deserializer<unknown>;
  private readonly valueDeserializer: Deserializer<unknown>;
  private readonly assigned = new Map<string, PartitionState>();
  private subscription: Set<string> | null = null;
  private connecting: Promise<void> | null = null;
  private readonly waiters = new Set<() => void>();
  private readonly abort = new AbortController();
  private rotation = 0;
  private closed = false;

  constructor(options: ConsumerOptions<K, V>) {
    const o = resolveConsumerOptions(options);
    this.options = o;
    this.logger = clientLogger(o.logger, 'consumer', o.clientId);
    this.pool = new ConnectionPool(o.clientId);
    this.metadata = ClusterMetadata.forClient(this.pool, o, this.logger);
    this.keyDeserializer = resolveDeserializer(o.keyDeserializer);
    this.valueDeserializer = resolveDeserializer(o.valueDeserializer);
    this.fetcher = new Fetcher({
      pool: this.pool,
      metadata: this.metadata,
      options: o,
      logger: this.logger,
      partitions: () => this.assigned.values(),
      onData: () => {
        // An out-of-range answer asks for a reset; start it now rather than at the next poll.
        this.startResets();
        this.wakeWaiters();
      },
    });
    this.metadata.onUpdate(() => {
      this.updateSubscribedAssignment();
      this.fetcher.maybeFetch();
    });
  }

  /** Learns the cluster from the bootstrap servers. Optional: poll() and the seeks connect too. */
  connect(): Promise<void> {
    if (this.closed) return Promise.reject(this.closedError());
    this.connecting ??= (async () => {
      this.metadata.start();
      await this.metadata.bootstrap(this.options.requestTimeoutMs);
    })().catch((err: unknown) => {
      this.connecting = null;
      throw err;
    });
    return this.connecting;
  }

  /** Reads exactly these partitions (replacing any earlier assign() or subscribe()). */
  assign(partitions: readonly TopicPartition[]): void {
    this.checkOpen();
    const wanted = new Map<string, TopicPartition>();
    for (const tp of partitions) {
      if (typeof tp?.topic !== 'string' || tp.topic.length === 0 || !Number.isInteger(tp.partition) || tp.partition < 0) {
        throw new SluiceError('INVALID_REQUEST', `assign() takes { topic, partition } objects with a whole partition number >= 0 (got ${JSON.stringify(tp)})`);
      }
      wanted.set(topicPartitionKey(tp.topic, tp.partition), tp);
    }
    this.subscription = null;
    this.setAssignment(wanted);
  }

  /** Reads every partition of these topics, including partitions added later (seen at metadata refresh). */
  subscribe(topics: readonly string[]): void {
    this.checkOpen();
    for (const t of topics) {
      if (typeof t !== 'string' || t.length === 0) throw new SluiceError('INVALID_TOPIC', `subscribe() takes topic names (got ${JSON.stringify(t)})`);
    }
    this.subscription = new Set(topics);
    this.metadata.track(topics);
    this.setAssignment(new Map());
    this.updateSubscribedAssignment();
    this.metadata.requestRefresh();
  }

  unsubscribe(): void {
    this.subscription = null;
    this.setAssignment(new Map());
  }

  assignment(): TopicPartition[] {
    return [...this.assigned.values()].map((p) => ({ topic: p.topic, partition: p.partition }));
  }

  /** The next poll() returns records of this partition from `offset` on. */
  seek(tp: TopicPartition, offset: number): void {
    this.checkOpen();
    if (!Number.isSafeInteger(offset) || offset < 0) {
      throw new SluiceError('INVALID_REQUEST', `seek() needs an offset that is a whole number >= 0 (got ${offset})`, tp);
    }
    this.stateOf(tp).moveTo(offset);
    this.fetcher.maybeFetch();
  }

  /** Moves to the log start offset (the oldest retained record). Resolves once the offsets are known. */
  seekToBeginning(partitions?: readonly TopicPartition[]): Promise<void> {
    return this.seekToSpec(partitions, 'earliest');
  }

  /** Moves to the high watermark: only records written from now on will be read. */
  seekToEnd(partitions?: readonly TopicPartition[]): Promise<void> {
    return this.seekToSpec(partitions, 'latest');
  }

  /** Moves to the first record with a timestamp >= `timestamp` (the end if there is none). */
  seekToTimestamp(partitions: readonly TopicPartition[] | undefined, timestamp: number): Promise<void> {
    return this.seekToSpec(partitions, { timestamp });
  }

  /** The offset of the next record poll() returns for this partition (looked up first if unknown). */
  async position(tp: TopicPartition): Promise<number> {
    this.checkOpen();
    const p = this.stateOf(tp);
    if (p.position === null) await this.resetPositions([p]);
    if (p.error) throw p.error;
    if (p.position === null) {
      throw new SluiceError('INVALID_REQUEST', `${p.topic}-${p.partition} has no position and autoOffsetReset is 'none'; seek() first`, tp);
    }
    return p.position;
  }

  /** Last high watermark a fetch reported for the partition (-1 before the first fetch): with position(), the lag. */
  highWatermark(tp: TopicPartition): number {
    return this.stateOf(tp).highWatermark;
  }

  /**
   * Records available now, or the first ones to arrive within timeoutMs (an empty array if
   * none). At most maxPollRecords; per partition in offset order.
   */
  async poll(timeoutMs: number = this.options.maxWaitMs): Promise<ConsumerRecord<K, V>[]> {
    this.checkOpen();
    const deadline = Date.now() + timeoutMs;
    await this.connect();
    if (this.subscription && this.subscribedTopicsMissing()) this.metadata.requestRefresh();
    this.startResets();
    this.fetcher.maybeFetch();
    for (;;) {
      if (this.closed) return [];
      this.throwPartitionError();
      const records = this.take(this.options.maxPollRecords);
      if (records.length > 0) {
        this.fetcher.maybeFetch();
        return records;
      }
      const left = deadline - Date.now();
      if (left <= 0) return [];
      await this.waitForData(left);
    }
  }

  /** Yields records one by one until close(). */
  async *[Symbol.asyncIterator](): AsyncGenerator<ConsumerRecord<K, V>, void, undefined> {
    while (!this.closed) {
      const records = await this.poll(this.options.maxWaitMs);
      for (const record of records) {
        yield record;
        if (this.closed) return;
      }
    }
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.abort.abort();
    this.fetcher.close();
    this.metadata.close();
    this.pool.close();
    this.wakeWaiters();
  }

  private checkOpen(): void {
    if (this.closed) throw this.closedError();
  }

  private closedError(): SluiceError {
    return new SluiceError('CLOSED', 'the consumer is closed; create a new one');
  }

  private stateOf(tp: TopicPartition): PartitionState {
    const p = this.assigned.get(topicPartitionKey(tp?.topic, tp?.partition));
    if (!p) {
      throw new SluiceError('INVALID_REQUEST', `${tp?.topic}-${tp?.partition} is not assigned to this consumer; assign() or subscribe() first`, { topic: tp?.topic, partition: tp?.partition });
    }
    return p;
  }

  private setAssignment(wanted: Map<string, TopicPartition>): void {
    for (const key of [...this.assigned.keys()]) if (!wanted.has(key)) this.assigned.delete(key);
    const topics = new Set<string>();
    for (const [key, tp] of wanted) {
      topics.add(tp.topic);
      if (!this.assigned.has(key)) this.assigned.set(key, this.newPartitionState(tp));
    }
    this.metadata.track(topics);
    this.fetcher.maybeFetch();
  }

  private newPartitionState(tp: TopicPartition): PartitionState {
    const p = new PartitionState(tp.topic, tp.partition, this.options.maxPartitionFetchBytes);
    if (this.options.autoOffsetReset === 'none') {
      p.error = new SluiceError('INVALID_REQUEST', `${tp.topic}-${tp.partition} has no position and autoOffsetReset is 'none'; seek() to an offset, or use seekToBeginning()/seekToEnd()`, { ...tp });
    } else {
      p.resetTo = this.options.autoOffsetReset;
    }
    return p;
  }

  private updateSubscribedAssignment(): void {
    if (!this.subscription || this.closed) return;
    let added = false;
    for (const topic of this.subscription) {
      const info = this.metadata.topic(topic);
      if (!info) continue;
      for (let partition = 0; partition < info.partitions.length; partition++) {
        const key = topicPartitionKey(topic, partition);
        if (this.assigned.has(key)) continue;
        this.assigned.set(key, this.newPartitionState({ topic, partition }));
        added = true;
      }
    }
    if (added) {
      this.startResets();
      this.wakeWaiters();
    }
  }

  private subscribedTopicsMissing(): boolean {
    for (const t of this.subscription ?? []) if (!this.metadata.topic(t)) return true;
    return false;
  }

  private async seekToSpec(partitions: readonly TopicPartition[] | undefined, spec: OffsetSpecInput): Promise<void> {
    this.checkOpen();
    const states = partitions === undefined ? [...this.assigned.values()] : partitions.map((tp) => this.stateOf(tp));
    for (const p of states) p.requestReset(spec);
    await this.resetPositions(states);
    const failed = states.find((p) => p.error !== null);
    if (failed) throw failed.error;
  }

  /** Background resets for partitions that need a position; failures show up in poll(). */
  private startResets(): void {
    const due: PartitionState[] = [];
    const now = Date.now();
    for (const p of this.assigned.values()) if (p.resetTo !== null && !p.resetting && p.retryAt <= now) due.push(p);
    if (due.length > 0) this.resetPositions(due).catch(() => undefined);
  }

  /** Looks up the offsets the partitions' resetTo asks for and moves them there. */
  private async resetPositions(states: PartitionState[]): Promise<void> {
    await this.connect();
    const todo = states.filter((p) => p.resetTo !== null);
    if (todo.length === 0) return;
    const asked = todo.map((p) => ({ state: p, generation: p.generation, spec: p.resetTo! }));
    for (const p of todo) p.resetting = true;
    try {
      const results = await listOffsets(
        this.pool,
        this.metadata,
        asked.map((a) => ({ topic: a.state.topic, partition: a.state.partition, spec: a.spec })),
        { timeoutMs: this.options.requestTimeoutMs, retryBackoffMs: this.options.retryBackoffMs, signal: this.abort.signal },
      );
      results.forEach((r, i) => {
        const a = asked[i]!;
        // A seek while we were asking wins over our answer.
        if (a.state.generation === a.generation) a.state.moveTo(r.offset);
      });
    } catch (err) {
      const error = err instanceof SluiceError ? err : new SluiceError('UNKNOWN', String(err), {}, { cause: err });
      for (const a of asked) {
        if (a.state.generation !== a.generation) continue;
        if (error.retriable) {
          a.state.retryAt = Date.now() + this.options.retryBackoffMs;
          this.logger.warn({ topic: a.state.topic, partition: a.state.partition, err: error }, 'offset lookup failed; will retry');
        } else {
          a.state.error = error;
        }
      }
      throw error;
    } finally {
      for (const p of todo) p.resetting = false;
      this.fetcher.maybeFetch();
      this.wakeWaiters();
    }
  }

  /** The error of a partition whose buffered records are all delivered: they come before the point where it failed. */
  private throwPartitionError(): void {
    for (const p of this.assigned.values()) if (p.error && p.buffered.length === 0) throw p.error;
  }

  private take(max: number): ConsumerRecord<K, V>[] {
    const out: ConsumerRecord<K, V>[] = [];
    const parts = [...this.assigned.values()];
    if (parts.length === 0) return out;
    // Start at a different partition each poll so one busy partition cannot starve the rest.
    const start = this.rotation++ % parts.length;
    for (let n = 0; n < parts.length && out.length < max; n++) {
      const p = parts[(start + n) % parts.length]!;
      while (p.buffered.length > 0 && out.length < max) {
        const chunk = p.buffered[0]!;
        while (chunk.index < chunk.records.length && out.length < max) {
          const r = chunk.records[chunk.index]!;
          if (p.position !== null && r.offset < p.position) {
            chunk.index++;
            continue;
          }
          let key: K;
          let value: V;
          try {
            key = this.keyDeserializer(r.key, p.topic) as K;
            value = this.valueDeserializer(r.value, p.topic) as V;
          } catch (err) {
            // The position stays on the record: the application can seek past it.
            const error = new SluiceError('CORRUPT_MESSAGE', `could not deserialize ${p.topic}-${p.partition} at offset ${r.offset}: ${(err as Error).message}; seek past it or change the deserializer`, { topic: p.topic, partition: p.partition }, { cause: err });
            if (out.length > 0) return out;
            throw error;
          }
          chunk.index++;
          out.push({ topic: p.topic, partition: p.partition, offset: r.offset, timestamp: r.timestamp, key, value, headers: r.headers });
          p.position = r.offset + 1;
        }
        if (chunk.index < chunk.records.length) break;
        p.buffered.shift();
        p.bufferedBytes -= chunk.bytes;
        if (p.position === null || chunk.nextOffset > p.position) p.position = chunk.nextOffset;
      }
    }
    return out;
  }

  private waitForData(timeoutMs: number): Promise<void> {
    return new Promise((resolve) => {
      const done = (): void => {
        clearTimeout(timer);
        this.waiters.delete(done);
        resolve();
      };
      const timer = setTimeout(done, timeoutMs);
      this.waiters.add(done);
    });
  }

  private wakeWaiters(): void {
    for (const w of [...this.waiters]) w();
  }
}
