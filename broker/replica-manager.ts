// The partitions this broker hosts and everything clients do with them: applying the
// controller's partition states (create, lead, follow, delete), appending with acks, and
// reading below the high watermark, with requests that must wait parked in the purgatory.
// On the leader it also answers followers' replica fetches and drives ISR changes; on a
// follower it hands the partition to the replica fetcher (replication/). Kafka's ReplicaManager.
import { SluiceError, isSluiceError } from '../common/errors.ts';
import { asSluiceError } from '../common/grpc-errors.ts';
import type { Logger } from '../common/logger.ts';
import { LOG_OVERHEAD, batchSizeAt } from '../common/record-batch.ts';
import type { ClusterMetadata__Output } from '../proto/gen/sluice/v1/ClusterMetadata.ts';
import type { PartitionState__Output } from '../proto/gen/sluice/v1/PartitionState.ts';
import type { TrafficListener } from './broker-metrics.ts';
import type { AlterPartitionAnswer, AlterPartitionProposal } from './controller-session.ts';
import type { DelayedOperation, DelayedOperationPurgatory, WatchedOperation } from './delayed-operations.ts';
import { logConfigFromTopicConfig } from './log/log-config.ts';
import type { LogManager } from './log/log-manager.ts';
import type { AppendResult, PartitionLog } from './log/partition-log.ts';
import type { CachedTopic, MetadataCache } from './metadata-cache.ts';
import { Partition, partitionKey } from './partition.ts';
import { decideLeaderFetch } from './replication/fetch-rules.ts';
import type { IsrProposal } from './replication/isr-rules.ts';
import { IsrUpdater } from './replication/isr-updater.ts';
import { ReplicaFetcherManager, type FollowedPartition } from './replication/replica-fetcher.ts';

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

/** A follower's fetch of one partition (ReplicaFetchPartition). */
export interface ReplicaFetchPartitionRequest {
  topic: string;
  partition: number;
  fetchOffset: number;
  lastFetchedEpoch: number;
  currentLeaderEpoch: number;
  maxBytes: number;
}

export interface ReplicaFetchPartitionData {
  topic: string;
  partition: number;
  error: SluiceError | null;
  highWatermark: number;
  logStartOffset: number;
  logEndOffset: number;
  diverging: { epoch: number; endOffset: number } | null;
  records: Buffer;
}

/** What the replica manager needs of the controller session. */
export interface ControllerLink {
  /** -1 while unregistered. */
  brokerEpoch(): number;
  alterPartition(proposal: AlterPartitionProposal): Promise<AlterPartitionAnswer>;
}

export interface ReplicationSettings {
  /** replica.lag.time.max.ms */
  lagTimeMaxMs: number;
  /** replica.fetch.wait.max.ms */
  fetchWaitMaxMs: number;
  fetchMaxBytes: number;
  partitionFetchMaxBytes: number;
}

export const DEFAULT_REPLICATION_SETTINGS: ReplicationSettings = {
  lagTimeMaxMs: 10_000,
  fetchWaitMaxMs: 500,
  fetchMaxBytes: 10 * 1024 * 1024,
  partitionFetchMaxBytes: 1024 * 1024,
};

export interface ReplicaManagerOptions {
  brokerId: number;
  logManager: LogManager;
  metadata: MetadataCache;
  purgatory: DelayedOperationPurgatory;
  logger: Logger;
  /** Absent: no replication (ISR changes are not proposed; followers do not fetch). */
  controller?: ControllerLink;
  replication?: Partial<ReplicationSettings>;
  now?: () => number;
  /** Told of every committed ISR change this broker proposed (metrics). */
  onIsrChange?: (kind: IsrProposal['kind'], p: Partition) => void;
  /** Told of record-batch bytes produced, sent to consumers and replicated (metrics). */
  traffic?: TrafficListener;
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
  readonly #traffic: TrafficListener | undefined;
  readonly #now: () => number;
  readonly replication: ReplicationSettings;
  readonly #isr: IsrUpdater | undefined;
  readonly #fetchers: ReplicaFetcherManager | undefined;
  /** Highest broker epoch seen per follower: a fetch from an older incarnation is refused. */
  readonly #followerBrokerEpochs = new Map<number, number>();
  #isrTimer: NodeJS.Timeout | undefined;
  // topic -> partitions by number: two lookups without building a key string per request.
  readonly #partitions = new Map<string, (Partition | undefined)[]>();

  constructor(opts: ReplicaManagerOptions) {
    this.brokerId = opts.brokerId;
    this.#logs = opts.logManager;
    this.#metadata = opts.metadata;
    this.#purgatory = opts.purgatory;
    this.#logger = opts.logger;
    this.#traffic = opts.traffic;
    this.#now = opts.now ?? Date.now;
    this.replication = { ...DEFAULT_REPLICATION_SETTINGS, ...opts.replication };
    const controller = opts.controller;
    if (controller) {
      this.#isr = new IsrUpdater({
        brokerId: this.brokerId,
        lagTimeMaxMs: this.replication.lagTimeMaxMs,
        now: this.#now,
        isEligible: (id) => this.#metadata.isAlive(id),
        canPropose: () => controller.brokerEpoch() >= 0,
        alterPartition: (proposal) => controller.alterPartition(proposal),
        applyCommittedState: (p, state) => this.#applyCommittedState(p, state),
        onCommitted: (p, proposal) => opts.onIsrChange?.(proposal.kind, p),
        logger: this.#logger,
      });
      this.#fetchers = new ReplicaFetcherManager({
        brokerId: this.brokerId,
        brokerEpoch: () => controller.brokerEpoch(),
        fetchWaitMaxMs: this.replication.fetchWaitMaxMs,
        fetchMaxBytes: this.replication.fetchMaxBytes,
        partitionFetchMaxBytes: this.replication.partitionFetchMaxBytes,
        logger: this.#logger,
        afterWrite: (p) => this.#afterFollowerWrite(p),
        onAppend: (p, bytes) => this.#traffic?.replicatedIn(p.topic, bytes),
      });
    }
  }

  /**
   * Starts the periodic ISR shrink check (a silent follower triggers nothing by itself). Every
   * replica.lag.time.max.ms / 2, as Kafka's isr-expiration task, so a laggard leaves between
   * one and one and a half lag times after it last caught up.
   */
  startReplication(): void {
    if (!this.#isr || this.#isrTimer) return;
    const isr = this.#isr;
    this.#isrTimer = setInterval(() => {
      for (const p of this.hostedPartitions()) if (p.isLeader) isr.maybePropose(p);
    }, Math.max(1, Math.floor(this.replication.lagTimeMaxMs / 2)));
    this.#isrTimer.unref();
  }

  /** Stops the fetchers (waiting for their writes in progress) and the ISR checks. */
  async stopReplication(): Promise<void> {
    clearInterval(this.#isrTimer);
    this.#isrTimer = undefined;
    await this.#fetchers?.close();
  }

  /** The replica fetchers running now (diagnostics, tests). */
  describeFetchers(): ReturnType<ReplicaFetcherManager['describe']> {
    return this.#fetchers?.describe() ?? [];
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
          if (!result.duplicate) this.#traffic?.producedIn(topic, records.length, result.lastOffset - result.baseOffset + 1);
          // Followers long-polling on the LEO fetch the new batches now.
          this.#purgatory.checkAndComplete(p.logEndKey);
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
      if (cancelled) return;
      if (this.#traffic) for (const r of results) this.#traffic.sentOut(r.topic, r.records);
      done(results);
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
      this.#traffic?.sentOut(topic, records);
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
  // Replica fetch (leader side)

  /**
   * Answers a follower's fetch (DESIGN §5): per partition an error, a diverging epoch, or the
   * batches from its fetch offset up to the LEO (not the HW: a follower must copy uncommitted
   * records, that is what commits them). A validated fetch offset is the follower's LEO: it
   * moves the HW and the follower's caught-up time, and may let it rejoin the ISR. With no
   * data, the fetch waits for an append (not a timer) up to maxWaitMs. Calls done exactly once
   * unless cancelled.
   */
  replicaFetch(replicaId: number, brokerEpoch: number, requests: readonly ReplicaFetchPartitionRequest[], params: FetchParams, done: (results: ReplicaFetchPartitionData[]) => void): { cancel(): void } {
    const knownBrokerEpoch = this.#followerBrokerEpochs.get(replicaId) ?? -1;
    if (brokerEpoch < knownBrokerEpoch) {
      // An older incarnation of the follower (a paused process outliving its restart) must not
      // report an LEO: the log behind it may have been replaced since.
      const error = new SluiceError('STALE_BROKER_EPOCH', `broker ${replicaId} fetched with broker epoch ${brokerEpoch}, but epoch ${knownBrokerEpoch} of it has fetched already; this incarnation is stale`, { brokerId: replicaId });
      done(requests.map((r) => ({ topic: r.topic, partition: r.partition, error, highWatermark: -1, logStartOffset: -1, logEndOffset: -1, diverging: null, records: EMPTY })));
      return { cancel: () => undefined };
    }
    if (brokerEpoch > knownBrokerEpoch) this.#followerBrokerEpochs.set(replicaId, brokerEpoch);

    const deadline = this.#now() + params.maxWaitMs;
    let cancelled = false;
    let parked: WatchedOperation | null = null;
    const finish = (results: ReplicaFetchPartitionData[]): void => {
      if (!cancelled) done(results);
    };
    const attempt = async (final: boolean): Promise<void> => {
      const seen = requests.map((r) => this.#partitions.get(r.topic)?.[r.partition]);
      const seenEpoch = seen.map((p) => p?.leaderEpoch ?? -1);
      const results: ReplicaFetchPartitionData[] = new Array(requests.length);
      let bytes = 0;
      let answerNow = false;
      for (let i = 0; i < requests.length; i++) {
        const r = requests[i]!;
        const budget = Math.min(r.maxBytes, params.maxBytes - bytes);
        const data = await this.#readForFollower(replicaId, r, budget, bytes === 0);
        if (data.error || data.diverging) answerNow = true;
        bytes += data.records.length;
        results[i] = data;
      }
      if (cancelled) return;
      if (final || answerNow || bytes >= Math.max(1, params.minBytes) || deadline - this.#now() <= 0) {
        finish(results);
        return;
      }
      const seenEnd = results.map((r) => r.logEndOffset);
      const keys = seen.flatMap((p) => (p ? [p.key, p.logEndKey] : []));
      const op: DelayedOperation = {
        tryComplete: () => {
          for (let i = 0; i < requests.length; i++) {
            const p = this.#partitions.get(requests[i]!.topic)?.[requests[i]!.partition];
            if (p !== seen[i] || !p || !p.isLeader || p.leaderEpoch !== seenEpoch[i] || p.log.logEndOffset !== seenEnd[i]) {
              run(false);
              return true;
            }
          }
          return false;
        },
        onExpire: () => run(true),
      };
      parked = this.#purgatory.tryCompleteElseWatch(op, keys, deadline - this.#now());
    };
    const run = (final: boolean): void => {
      parked = null;
      attempt(final).catch((err: unknown) => {
        this.#logger.error({ err, replica: replicaId }, 'replica fetch failed unexpectedly');
        const error = asSluiceError(err);
        finish(requests.map((r) => ({ topic: r.topic, partition: r.partition, error, highWatermark: -1, logStartOffset: -1, logEndOffset: -1, diverging: null, records: EMPTY })));
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

  async #readForFollower(replicaId: number, r: ReplicaFetchPartitionRequest, budget: number, mayExceedBudget: boolean): Promise<ReplicaFetchPartitionData> {
    const { topic, partition } = r;
    const failed = (error: SluiceError): ReplicaFetchPartitionData => ({ topic, partition, error, highWatermark: -1, logStartOffset: -1, logEndOffset: -1, diverging: null, records: EMPTY });
    const p = this.#partitions.get(topic)?.[partition];
    if (p === undefined) return failed(this.#metadata.notLeaderError(topic, partition, this.brokerId));
    const log = p.log;
    const decision = decideLeaderFetch({
      isLeader: p.isLeader,
      leaderEpoch: p.leaderEpoch,
      isReplica: p.replicas.includes(replicaId) && replicaId !== this.brokerId,
      requestLeaderEpoch: r.currentLeaderEpoch,
      fetchOffset: r.fetchOffset,
      lastFetchedEpoch: r.lastFetchedEpoch,
      logStartOffset: log.logStartOffset,
      logEndOffset: log.logEndOffset,
      latestEpoch: log.leaderEpochs.latestEpoch(),
      endOffsetFor: (epoch) => log.leaderEpochs.endOffsetFor(epoch),
    });
    const context = { topic, partition, leaderEpoch: p.leaderEpoch };
    switch (decision.kind) {
      case 'error':
        switch (decision.code) {
          case 'FENCED_LEADER_EPOCH':
            return failed(new SluiceError('FENCED_LEADER_EPOCH', `${topic}-${partition}: broker ${replicaId} fetched in leader epoch ${r.currentLeaderEpoch}, but the current one is ${p.leaderEpoch}; apply the latest metadata`, context));
          case 'UNKNOWN_LEADER_EPOCH':
            return failed(new SluiceError('UNKNOWN_LEADER_EPOCH', `${topic}-${partition}: broker ${replicaId} fetched in leader epoch ${r.currentLeaderEpoch}, newer than this broker's ${p.leaderEpoch}; retry once it caught up with the controller`, context));
          case 'NOT_LEADER':
            return failed(this.#metadata.notLeaderError(topic, partition, this.brokerId));
          case 'NOT_REPLICA':
            return failed(new SluiceError('UNKNOWN_TOPIC_OR_PARTITION', `broker ${replicaId} is not an assigned replica of ${topic}-${partition} (replicas ${p.replicas.join(',')})`, context));
          case 'OFFSET_OUT_OF_RANGE':
            return failed(new SluiceError('OFFSET_OUT_OF_RANGE', `fetch offset ${r.fetchOffset} of broker ${replicaId} is outside the log [${log.logStartOffset}, ${log.logEndOffset}] of ${topic}-${partition}`, { ...context, logStartOffset: log.logStartOffset, logEndOffset: log.logEndOffset }));
        }
        break;
      case 'diverging':
        // Not a validated LEO: the follower's records past the divergence are not the leader's,
        // so its fetch offset must neither move the HW nor prove it caught up.
        return { topic, partition, error: null, highWatermark: log.highWatermark, logStartOffset: log.logStartOffset, logEndOffset: log.logEndOffset, diverging: { epoch: decision.epoch, endOffset: decision.endOffset }, records: EMPTY };
      case 'read':
        break;
    }
    if (p.recordFollowerFetch(replicaId, r.fetchOffset, this.#now())) {
      if (p.maybeIncrementHighWatermark()) this.#purgatory.checkAndComplete(p.key);
      this.#isr?.maybePropose(p);
    }
    try {
      let records = budget > 0 || mayExceedBudget ? await log.read(r.fetchOffset, { maxBytes: Math.max(budget, 1) }) : EMPTY;
      if (!mayExceedBudget && records.length > budget) records = wholeBatchesWithin(records, budget);
      return { topic, partition, error: null, highWatermark: log.highWatermark, logStartOffset: log.logStartOffset, logEndOffset: log.logEndOffset, diverging: null, records };
    } catch (err) {
      const error = asSluiceError(this.#withLeaderContext(err, topic, partition));
      if (error.code === 'UNKNOWN') this.#logger.error({ err, topic, partition, replica: replicaId }, 'replica fetch read failed');
      return failed(error);
    }
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
    this.#syncFetchers();
  }

  /**
   * Points the replica fetchers at the leaders of the partitions followed now. Becoming a
   * follower truncates nothing here: the first fetch from the new leader finds any divergence
   * by leader epoch (KIP-101), whereas cutting at the HW could drop committed records.
   */
  #syncFetchers(): void {
    if (!this.#fetchers) return;
    const followed: FollowedPartition[] = [];
    for (const p of this.hostedPartitions()) {
      if (p.isLeader || p.removed || p.leaderId < 0) continue;
      followed.push({ partition: p, leaderId: p.leaderId, leaderAddress: this.#metadata.brokerAddress(p.leaderId) });
    }
    this.#fetchers.sync(followed);
  }

  #applyPartitionState(p: Partition, topic: CachedTopic, state: PartitionState__Output, key: string): void {
    p.minInsyncReplicas = topic.config['min.insync.replicas'];
    const config = logConfigFromTopicConfig(topic.config);
    if (!sameLogConfig(p.log, config)) p.log.updateConfig(config);
    const change = p.applyState(state, this.#now());
    if (change === 'stale') return;
    p.maybeIncrementHighWatermark();
    // Parked requests re-check: a new HW may complete them, a lost leadership fails them.
    this.#purgatory.checkAndComplete(key);
    if (p.isLeader) this.#isr?.maybePropose(p);
  }

  /** The state an AlterPartition answer carried (newer than the metadata push that will follow). */
  #applyCommittedState(p: Partition, state: PartitionState__Output): void {
    const topic = this.#metadata.topic(p.topic);
    if (p.removed || !topic || topic.topicId !== p.topicId) return;
    this.#applyPartitionState(p, topic, state, p.key);
  }

  #afterFollowerWrite(p: Partition): void {
    if (!p.isLeader) return;
    // The partition became leader while the fetcher's write was queued on its log.
    p.ensureLeaderEpochStart();
    this.#purgatory.checkAndComplete(p.logEndKey);
    if (p.maybeIncrementHighWatermark()) this.#purgatory.checkAndComplete(p.key);
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
 * them is therefore the HW, not the LEO. An offset between the HW and the LEO is still not out
 * of range (reads there return nothing and wait, as in Kafka): a newly elected leader's HW
 * trails what the previous leader had committed until its followers report, and a consumer
 * positioned at the old HW must wait a moment, not be reset to the earliest or latest offset.
 */
function checkFetchOffset(log: PartitionLog, offset: number, hw: number): void {
  const logStartOffset = log.logStartOffset;
  if (offset < logStartOffset || offset > Math.max(hw, log.logEndOffset)) {
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
