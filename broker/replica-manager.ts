// The partitions this broker hosts and everything clients do with them: applying the
// controller's partition states (create, lead, follow, delete), appending with acks, and
// reading below the high watermark, with requests that must wait parked in the purgatory.
// Kafka's ReplicaManager, without replication for now.
import { SluiceError, isSluiceError } from '../common/errors.ts';
import { asSluiceError } from '../common/grpc-errors.ts';
import type { Logger } from '../common/logger.ts';
import { LOG_OVERHEAD, batchSizeAt } from '../common/record-batch.ts';
import type { ClusterMetadata__Output } from '../proto/gen/sluice/v1/ClusterMetadata.ts';
import type { PartitionState__Output } from '../proto/gen/sluice/v1/PartitionState.ts';
import type { DelayedOperation, DelayedOperationPurgatory, WatchedOperation } from './delayed-operations.ts';
import { logConfigFromTopicConfig } from './log/log-config.ts';
import type { LogManager } from './log/log-manager.ts';
import type { AppendResult, PartitionLog } from './log/partition-log.ts';
import type { CachedTopic, MetadataCache } from './metadata-cache.ts';
import { Partition, partitionKey } from './partition.ts';

export type AcksMode = 'none' | 'leader' | 'all';

export interface ProduceOutcome {
  error: SluiceError | null;
  baseOffset: number;
  logStartOffset: number;
  duplicate: boolean;
}

export interface FetchPartitionRequest {
  topic: string;
  partition: number;
  fetchOffset: number;
  maxBytes: number;
}

export interface FetchPartitionData {
  topic: string;
  partition: number;
  error: SluiceError | null;
  highWatermark: number;
  logStartOffset: number;
  records: Buffer;
}

export interface FetchParams {
  maxWaitMs: number;
  minBytes: number;
  maxBytes: number;
}

export interface OffsetLookup {
  offset: number;
  timestamp: number;
  leaderEpoch: number;
}

export interface ReplicaManagerOptions {
  brokerId: number;
  logManager: LogManager;
  metadata: MetadataCache;
  purgatory: DelayedOperationPurgatory;
  logger: Logger;
}

const EMPTY = Buffer.alloc(0);
/** Logs opened at once when metadata assigns many partitions: bounded to stay clear of EMFILE. */
const LOG_OPEN_CONCURRENCY = 16;

export class ReplicaManager {
  readonly brokerId: number;
  readonly #logs: LogManager;
  readonly #metadata: MetadataCache;
  readonly #purgatory: DelayedOperationPurgatory;
  readonly #logger: Logger;
  // topic -> partitions by number: two lookups without building a key string per request.
  readonly #partitions = new Map<string, (Partition | undefined)[]>();

  constructor(opts: ReplicaManagerOptions) {
    this.brokerId = opts.brokerId;
    this.#logs = opts.logManager;
    this.#metadata = opts.metadata;
    this.#purgatory = opts.purgatory;
    this.#logger = opts.logger;
  }

  getPartition(topic: string, partition: number): Partition | undefined {
    return this.#partitions.get(topic)?.[partition];
  }

  *hostedPartitions(): IterableIterator<Partition> {
    for (const list of this.#partitions.values()) {
      for (const p of list) if (p) yield p;
    }
  }

  /** The partition if this broker leads it; otherwise throws what the client should hear. */
  leaderPartition(topic: string, partition: number): Partition {
    const p = this.#partitions.get(topic)?.[partition];
    if (p !== undefined && p.isLeader) return p;
    throw this.#metadata.notLeaderError(topic, partition, this.brokerId);
  }

  // -------------------------------------------------------------------------------------------
  // Produce

  /**
   * Appends one produce request's batches and calls done exactly once: after the append for
   * acks none/leader, once the HW passed the last offset for acks all (or with an error).
   */
  appendRecords(topic: string, partition: number, records: Buffer, acks: AcksMode, timeoutMs: number, done: (outcome: ProduceOutcome) => void): void {
    let p: Partition;
    try {
      p = this.leaderPartition(topic, partition);
      // DESIGN §5: refuse before appending, so a producer that gets this error knows nothing
      // was written and can retry without creating a record the ISR does not hold.
      if (acks === 'all' && p.isr.length < p.minInsyncReplicas) {
        throw new SluiceError('NOT_ENOUGH_REPLICAS', `${topic}-${partition} has ${p.isr.length} in-sync replicas (${p.isr.join(',')}), fewer than min.insync.replicas=${p.minInsyncReplicas}; nothing was written`, { topic, partition, leaderEpoch: p.leaderEpoch });
      }
    } catch (err) {
      done(failedProduce(err));
      return;
    }
    const epoch = p.leaderEpoch;
    let settled = false;
    const settle = (outcome: ProduceOutcome): void => {
      if (settled) return;
      settled = true;
      done(outcome);
    };
    p.log.appendAsLeader(records, epoch).then(
      (result) => {
        try {
          if (p.maybeIncrementHighWatermark()) this.#purgatory.checkAndComplete(p.key);
          if (acks !== 'all') {
            settle({ error: null, baseOffset: result.baseOffset, logStartOffset: result.logStartOffset, duplicate: result.duplicate });
            return;
          }
          this.#purgatory.tryCompleteElseWatch(new DelayedProduce(p, epoch, result, this.#metadata, this.brokerId, settle), [p.key], timeoutMs);
        } catch (err) {
          // The batch is in the log, but the caller must still hear something, never hang.
          this.#logger.error({ err, topic, partition, epoch }, 'produce completion failed unexpectedly');
          settle(failedProduce(err));
        }
      },
      (err: unknown) => settle(failedProduce(this.#withLeaderContext(err, topic, partition))),
    );
  }

  // A FENCED_LEADER_EPOCH or CLOSED from the log means leadership moved on while the append
  // was queued; the client should hear NOT_LEADER with the new leader, as for any other request.
  #withLeaderContext(err: unknown, topic: string, partition: number): unknown {
    if (isSluiceError(err, 'FENCED_LEADER_EPOCH') || isSluiceError(err, 'CLOSED')) {
      return this.#metadata.notLeaderError(topic, partition, this.brokerId);
    }
    return err;
  }

  // -------------------------------------------------------------------------------------------
  // Fetch

  /**
   * Reads the requested partitions below their HW; when fewer than minBytes are available,
   * waits until an HW advance brings enough or maxWaitMs passes. Calls done exactly once,
   * unless cancel() is called first.
   */
  fetchMessages(requests: readonly FetchPartitionRequest[], params: FetchParams, done: (results: FetchPartitionData[]) => void): { cancel(): void } {
    const deadline = Date.now() + params.maxWaitMs;
    const keys = requests.map((r) => partitionKey(r.topic, r.partition));
    let cancelled = false;
    let parked: WatchedOperation | null = null;
    const finish = (results: FetchPartitionData[]): void => {
      if (!cancelled) done(results);
    };
    const attempt = async (final: boolean): Promise<void> => {
      // Taken before the read: a leadership change during it is then seen as a change.
      const seen = requests.map((r) => this.#partitions.get(r.topic)?.[r.partition]);
      const seenEpoch = seen.map((p) => p?.leaderEpoch ?? -1);
      const { results, bytes, hasError } = await this.#readAll(requests, params.maxBytes);
      if (cancelled) return;
      const remaining = deadline - Date.now();
      if (final || hasError || bytes >= params.minBytes || remaining <= 0) {
        finish(results);
        return;
      }
      // The HW each read stopped at, not the current one: an HW that moved while the read was
      // in flight must wake this fetch at once, or those records wait for the next append.
      const seenHw = results.map((r) => r.highWatermark);
      // Woken by checkAndComplete on any of the partitions; re-reads only when something a
      // re-read could change did change, so an unrelated wake-up costs no I/O.
      const op: DelayedOperation = {
        tryComplete: () => {
          for (let i = 0; i < requests.length; i++) {
            const p = this.#partitions.get(requests[i]!.topic)?.[requests[i]!.partition];
            if (p !== seen[i] || !p || !p.isLeader || p.leaderEpoch !== seenEpoch[i] || p.log.highWatermark !== seenHw[i]) {
              run(false);
              return true;
            }
          }
          return false;
        },
        onExpire: () => run(true),
      };
      parked = this.#purgatory.tryCompleteElseWatch(op, keys, remaining);
    };
    const run = (final: boolean): void => {
      parked = null;
      attempt(final).catch((err: unknown) => {
        this.#logger.error({ err }, 'fetch failed unexpectedly');
        const error = asSluiceError(err);
        finish(requests.map((r) => ({ topic: r.topic, partition: r.partition, error, highWatermark: -1, logStartOffset: -1, records: EMPTY })));
      });
    };
    run(false);
    return {
      cancel: () => {
        cancelled = true;
        if (parked) this.#purgatory.cancel(parked);
      },
    };
  }

  async #readAll(requests: readonly FetchPartitionRequest[], maxBytes: number): Promise<{ results: FetchPartitionData[]; bytes: number; hasError: boolean }> {
    const results: FetchPartitionData[] = new Array(requests.length);
    let bytes = 0;
    let hasError = false;
    for (let i = 0; i < requests.length; i++) {
      const r = requests[i]!;
      const budget = Math.min(r.maxBytes, maxBytes - bytes);
      const data = await this.#readPartition(r, budget, bytes === 0);
      if (data.error) hasError = true;
      bytes += data.records.length;
      results[i] = data;
    }
    return { results, bytes, hasError };
  }

  async #readPartition(r: FetchPartitionRequest, budget: number, mayExceedBudget: boolean): Promise<FetchPartitionData> {
    const { topic, partition } = r;
    try {
      const p = this.leaderPartition(topic, partition);
      const log = p.log;
      const hw = log.highWatermark;
      checkFetchOffset(log, r.fetchOffset, hw);
      let records = budget > 0 || mayExceedBudget ? await log.read(r.fetchOffset, { maxBytes: Math.max(budget, 1), maxOffset: hw }) : EMPTY;
      // The log always returns at least one whole batch; only the first partition with data
      // may go over the budget (so a batch larger than max_bytes cannot stall a consumer).
      if (!mayExceedBudget && records.length > budget) records = wholeBatchesWithin(records, budget);
      return { topic, partition, error: null, highWatermark: hw, logStartOffset: log.logStartOffset, records };
    } catch (err) {
      const error = asSluiceError(this.#withLeaderContext(err, topic, partition));
      if (error.code === 'UNKNOWN') this.#logger.error({ err, topic, partition }, 'fetch read failed');
      return { topic, partition, error, highWatermark: -1, logStartOffset: -1, records: EMPTY };
    }
  }

  /**
   * Committed batches of a partition this broker leads, from offset, for Subscribe. Throws
   * OFFSET_OUT_OF_RANGE (with the range up to the HW) or NOT_LEADER.
   */
  async readCommitted(topic: string, partition: number, offset: number, maxBytes: number): Promise<{ records: Buffer; highWatermark: number; logStartOffset: number }> {
    const p = this.leaderPartition(topic, partition);
    const hw = p.log.highWatermark;
    checkFetchOffset(p.log, offset, hw);
    try {
      const records = offset < hw ? await p.log.read(offset, { maxBytes, maxOffset: hw }) : EMPTY;
      return { records, highWatermark: hw, logStartOffset: p.log.logStartOffset };
    } catch (err) {
      throw this.#withLeaderContext(err, topic, partition);
    }
  }

  /**
   * Calls onChange once the HW of the partition passes offset or its leadership changes (the
   * caller then re-reads and hears the new state), or onStop if the broker stops first.
   * Returns a handle to cancel the wait, or null if a callback already ran.
   */
  waitForHighWatermark(topic: string, partition: number, offset: number, onChange: () => void, onStop: () => void): WatchedOperation | null {
    const p = this.#partitions.get(topic)?.[partition];
    const epoch = p?.leaderEpoch;
    const op: DelayedOperation = {
      tryComplete: () => {
        const now = this.#partitions.get(topic)?.[partition];
        if (now !== p || !p || !p.isLeader || p.leaderEpoch !== epoch || p.log.highWatermark > offset) {
          onChange();
          return true;
        }
        return false;
      },
      onExpire: onStop,
    };
    return this.#purgatory.tryCompleteElseWatch(op, [partitionKey(topic, partition)]);
  }

  cancelWait(handle: WatchedOperation): void {
    this.#purgatory.cancel(handle);
  }

  // -------------------------------------------------------------------------------------------
  // ListOffsets

  async listOffset(topic: string, partition: number, spec: 'earliest' | 'latest' | 'timestamp', timestamp: number): Promise<OffsetLookup> {
    const p = this.leaderPartition(topic, partition);
    const log = p.log;
    if (spec === 'earliest') return { offset: log.logStartOffset, timestamp: -1, leaderEpoch: log.leaderEpochs.epochForOffset(log.logStartOffset) };
    const hw = log.highWatermark;
    if (spec === 'latest') return { offset: hw, timestamp: -1, leaderEpoch: log.leaderEpochs.latestEpoch() };
    // Only committed records count: a timestamp lookup must not point a consumer above the HW.
    const found = await log.offsetForTimestamp(timestamp, { maxOffset: hw });
    if (found === null) return { offset: hw, timestamp: -1, leaderEpoch: log.leaderEpochs.latestEpoch() };
    return { offset: found.offset, timestamp: found.timestamp, leaderEpoch: log.leaderEpochs.epochForOffset(found.offset) };
  }

  // -------------------------------------------------------------------------------------------
  // Metadata

  /**
   * Makes the hosted partitions match a metadata snapshot (already in the metadata cache).
   * Role changes of existing partitions happen synchronously, in the same tick as the cache
   * update, so there is no window in which the cache names a new leader while this broker
   * still accepts writes as the old one; creating and deleting logs follows.
   */
  async applyMetadata(metadata: ClusterMetadata__Output): Promise<void> {
    const assigned = new Map<string, { topic: CachedTopic; state: PartitionState__Output }>();
    for (const t of metadata.topics) {
      const topic = this.#metadata.topic(t.name);
      if (!topic) continue;
      for (const state of t.partitions) {
        if (state.replicas.includes(this.brokerId)) assigned.set(partitionKey(t.name, state.partition), { topic, state });
      }
    }

    const removals: Partition[] = [];
    const creations: { topic: CachedTopic; state: PartitionState__Output }[] = [];
    for (const p of [...this.hostedPartitions()]) {
      const a = assigned.get(p.key);
      if (a === undefined || a.topic.topicId !== p.topicId) {
        this.#detach(p);
        removals.push(p);
      }
    }
    for (const [key, a] of assigned) {
      const p = this.getPartition(a.topic.name, a.state.partition);
      if (p === undefined) creations.push(a);
      else this.#applyPartitionState(p, a.topic, a.state, key);
    }

    for (const p of removals) {
      try {
        await this.#logs.deleteLog(p.topic, p.partition);
        this.#logger.info({ topic: p.topic, partition: p.partition, topicId: p.topicId }, 'deleted partition log: no longer assigned to this broker');
      } catch (err) {
        this.#logger.error({ err, topic: p.topic, partition: p.partition }, 'cannot delete partition log');
      }
    }

    // Logs found on disk at start that the controller does not assign here (topic deleted while
    // this broker was down, replica moved away) are stray: delete them as the metadata says.
    for (const log of this.#logs.allLogs()) {
      const key = partitionKey(log.topic, log.partition);
      // An assigned partition whose log has another topic id is replaced by getOrCreateLog.
      if (assigned.has(key) || this.getPartition(log.topic, log.partition) !== undefined) continue;
      try {
        await this.#logs.deleteLog(log.topic, log.partition);
        this.#logger.info({ topic: log.topic, partition: log.partition, topicId: log.topicId }, 'deleted stray partition log not assigned to this broker');
      } catch (err) {
        this.#logger.error({ err, topic: log.topic, partition: log.partition }, 'cannot delete stray partition log');
      }
    }

    await forEachLimited(creations, LOG_OPEN_CONCURRENCY, async ({ topic, state }) => {
      try {
        const log = await this.#logs.getOrCreateLog(topic.name, state.partition, topic.topicId, logConfigFromTopicConfig(topic.config));
        // The snapshot may have been superseded while the log opened; the newest state wins.
        const latestTopic = this.#metadata.topic(topic.name);
        const latestState = latestTopic?.partitions[state.partition];
        if (!latestTopic || latestTopic.topicId !== topic.topicId || !latestState || !latestState.replicas.includes(this.brokerId)) return;
        const p = new Partition({ topic: topic.name, partition: state.partition, topicId: topic.topicId, log, localBrokerId: this.brokerId, logger: this.#logger });
        this.#attach(p);
        this.#applyPartitionState(p, latestTopic, latestState, p.key);
      } catch (err) {
        // One unusable log must not keep the broker from serving its other partitions; this
        // one stays unhosted (clients get LEADER_NOT_AVAILABLE) and the next snapshot retries it.
        this.#logger.error({ err, topic: topic.name, partition: state.partition, epoch: state.leader_epoch }, 'cannot open partition log; the partition stays offline on this broker');
      }
    });
  }

  #applyPartitionState(p: Partition, topic: CachedTopic, state: PartitionState__Output, key: string): void {
    p.minInsyncReplicas = topic.config['min.insync.replicas'];
    const config = logConfigFromTopicConfig(topic.config);
    if (!sameLogConfig(p.log, config)) p.log.updateConfig(config);
    const change = p.applyState(state);
    if (change === 'stale') return;
    p.maybeIncrementHighWatermark();
    // Parked requests re-check: a new HW may complete them, a lost leadership fails them.
    this.#purgatory.checkAndComplete(key);
  }

  #attach(p: Partition): void {
    let list = this.#partitions.get(p.topic);
    if (!list) {
      list = [];
      this.#partitions.set(p.topic, list);
    }
    list[p.partition] = p;
  }

  #detach(p: Partition): void {
    p.markRemoved();
    const list = this.#partitions.get(p.topic);
    if (list && list[p.partition] === p) {
      list[p.partition] = undefined;
      if (list.every((x) => x === undefined)) this.#partitions.delete(p.topic);
    }
    this.#purgatory.checkAndComplete(p.key);
  }

  /** Answers every parked request now and from here on (a stopping broker must not leave callers hanging). */
  expireParked(): void {
    this.#purgatory.close();
  }
}

class DelayedProduce implements DelayedOperation {
  readonly #partition: Partition;
  readonly #epoch: number;
  readonly #result: AppendResult;
  readonly #metadata: MetadataCache;
  readonly #brokerId: number;
  readonly #done: (outcome: ProduceOutcome) => void;

  constructor(partition: Partition, epoch: number, result: AppendResult, metadata: MetadataCache, brokerId: number, done: (outcome: ProduceOutcome) => void) {
    this.#partition = partition;
    this.#epoch = epoch;
    this.#result = result;
    this.#metadata = metadata;
    this.#brokerId = brokerId;
    this.#done = done;
  }

  tryComplete(): boolean {
    const p = this.#partition;
    const { topic, partition } = p;
    if (p.removed || !p.isLeader || p.leaderEpoch !== this.#epoch) {
      // The batch may be truncated away by the new leader: the producer must retry there.
      this.#done(failedProduce(this.#metadata.notLeaderError(topic, partition, this.#brokerId)));
      return true;
    }
    if (p.log.highWatermark > this.#result.lastOffset) {
      this.#done({ error: null, baseOffset: this.#result.baseOffset, logStartOffset: p.log.logStartOffset, duplicate: this.#result.duplicate });
      return true;
    }
    if (p.isr.length < p.minInsyncReplicas) {
      this.#done(failedProduce(new SluiceError('NOT_ENOUGH_REPLICAS_AFTER_APPEND', `${topic}-${partition} was appended at offset ${this.#result.baseOffset}, but its ISR shrank to ${p.isr.length} (< min.insync.replicas=${p.minInsyncReplicas}) before the high watermark passed it`, { topic, partition, leaderEpoch: this.#epoch })));
      return true;
    }
    return false;
  }

  onExpire(): void {
    const p = this.#partition;
    this.#done(failedProduce(new SluiceError('REQUEST_TIMED_OUT', `${p.topic}-${p.partition}: offset ${this.#result.lastOffset} was appended but not replicated to the ISR in time (high watermark ${p.log.highWatermark}); an idempotent retry is safe`, { topic: p.topic, partition: p.partition, leaderEpoch: this.#epoch })));
  }
}

function failedProduce(err: unknown): ProduceOutcome {
  return { error: asSluiceError(err), baseOffset: -1, logStartOffset: -1, duplicate: false };
}

/**
 * Consumers read below the HW only (DESIGN §5); the upper bound of the valid range reported to
 * them is therefore the HW, not the LEO.
 */
function checkFetchOffset(log: PartitionLog, offset: number, hw: number): void {
  const logStartOffset = log.logStartOffset;
  if (offset < logStartOffset || offset > hw) {
    throw new SluiceError('OFFSET_OUT_OF_RANGE', `offset ${offset} is outside the readable range [${logStartOffset}, ${hw}] of ${log.topic}-${log.partition}; seek to an offset in that range`, {
      topic: log.topic,
      partition: log.partition,
      logStartOffset,
      logEndOffset: hw,
    });
  }
}

/** The longest prefix of whole batches within budget bytes (a view, not a copy). */
function wholeBatchesWithin(records: Buffer, budget: number): Buffer {
  let end = 0;
  while (end < records.length) {
    const size = batchSizeAt(records, end);
    if (size < LOG_OVERHEAD || end + size > budget) break;
    end += size;
  }
  return end === records.length ? records : records.subarray(0, end);
}

async function forEachLimited<T>(items: readonly T[], limit: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) await fn(items[next++]!);
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
}

function sameLogConfig(log: PartitionLog, config: ReturnType<typeof logConfigFromTopicConfig>): boolean {
  const current = log.config;
  for (const key of Object.keys(config) as (keyof typeof config)[]) {
    if (current[key] !== config[key]) return false;
  }
  return true;
}
