// The follower's side of replication (DESIGN §5): one long-lived ReplicaService.ReplicaFetch
// stream per leader broker, carrying every partition this broker follows from that leader.
// Each round sends, per partition, the follower's LEO, its last epoch, the leader epoch it
// believes current and its log start, waits for the leader's (long-polled) answer, and then
// appends the leader's batches as they are, truncates where the leader says the history
// diverged, or restarts the log above the leader's log start. The stream reconnects with
// backoff; ReplicaFetcherManager re-creates fetchers as leadership moves.
import * as grpc from '@grpc/grpc-js';
import { SluiceError, isSluiceError } from '../../common/errors.ts';
import { fromErrorDetail, fromServiceError } from '../../common/grpc-errors.ts';
import type { Logger } from '../../common/logger.ts';
import { GRPC_CHANNEL_OPTIONS, loadSluiceProto } from '../../common/proto.ts';
import type { ReplicaFetchPartitionResult__Output } from '../../proto/gen/sluice/v1/ReplicaFetchPartitionResult.ts';
import type { ReplicaFetchRequest } from '../../proto/gen/sluice/v1/ReplicaFetchRequest.ts';
import type { ReplicaFetchResponse__Output } from '../../proto/gen/sluice/v1/ReplicaFetchResponse.ts';
import type { ReplicaServiceClient } from '../../proto/gen/sluice/v1/ReplicaService.ts';
import type { Partition } from '../partition.ts';
import { divergenceTruncationOffset, followerHighWatermark, outOfRangeAction } from './fetch-rules.ts';

const RECONNECT_BACKOFF_INITIAL_MS = 100;
const RECONNECT_BACKOFF_MAX_MS = 2_000;
/** A partition the leader refused (stale epoch, not leader yet) is asked again after this, doubling. */
const PARTITION_RETRY_INITIAL_MS = 100;
const PARTITION_RETRY_MAX_MS = 1_000;
/** On top of max_wait_ms: a leader that does not answer by then is stuck (paused) or gone. */
const ANSWER_MARGIN_MS = 5_000;

/** HTTP/2 receive window of a follower's connection to its leader (as the client library's). */
const REPLICA_RECEIVE_WINDOW_BYTES = 16 * 1024 * 1024;

/**
 * The leader is found again within the backoff after it restarts; grpc-js's own default would
 * back off for up to two minutes, during which the follower falls out of the ISR for nothing.
 */
const REPLICA_CHANNEL_OPTIONS: grpc.ChannelOptions = {
  ...GRPC_CHANNEL_OPTIONS,
  'grpc.initial_reconnect_backoff_ms': RECONNECT_BACKOFF_INITIAL_MS,
  'grpc.max_reconnect_backoff_ms': RECONNECT_BACKOFF_MAX_MS,
  // Fetch answers carry up to fetchMaxBytes; with HTTP/2's default 64 KiB receive window the
  // leader would stall every 64 KiB until this follower's event loop sends a window update.
  'grpc-node.flow_control_window': REPLICA_RECEIVE_WINDOW_BYTES,
};

export interface ReplicaFetcherOptions {
  brokerId: number;
  /** This broker's current epoch (-1 while unregistered: nothing is fetched then). */
  brokerEpoch: () => number;
  /** replica.fetch.wait.max.ms: how long the leader may hold a fetch that finds no new data. */
  fetchWaitMaxMs: number;
  fetchMaxBytes: number;
  partitionFetchMaxBytes: number;
  logger: Logger;
  /**
   * Called after every write the fetcher made to a partition's log (append or truncation):
   * the partition may have become leader while the write was queued.
   */
  afterWrite: (p: Partition) => void;
  /** Told the bytes of each batch set appended from the leader (metrics). */
  onAppend?: (p: Partition, bytes: number) => void;
}

/** A partition to follow and the leader to follow it from. */
export interface FollowedPartition {
  readonly partition: Partition;
  readonly leaderId: number;
  /** host:port of the leader; '' when the metadata has no live endpoint for it. */
  readonly leaderAddress: string;
}

/** Keeps one fetcher per leader (id and address) and hands each the partitions it leads. */
export class ReplicaFetcherManager {
  readonly #o: ReplicaFetcherOptions;
  readonly #fetchers = new Map<string, ReplicaFetcher>();
  #closed = false;

  constructor(options: ReplicaFetcherOptions) {
    this.#o = options;
  }

  /**
   * Makes the fetchers match the partitions followed now. A leader that moved (or came back on
   * another address) gets a new stream; one no partition needs any more is closed.
   */
  sync(followed: Iterable<FollowedPartition>): void {
    if (this.#closed) return;
    const byLeader = new Map<string, { leaderId: number; address: string; partitions: Partition[] }>();
    for (const f of followed) {
      if (f.leaderId < 0 || f.leaderAddress === '') continue;
      const key = `${f.leaderId}@${f.leaderAddress}`;
      let group = byLeader.get(key);
      if (!group) {
        group = { leaderId: f.leaderId, address: f.leaderAddress, partitions: [] };
        byLeader.set(key, group);
      }
      group.partitions.push(f.partition);
    }
    for (const [key, fetcher] of this.#fetchers) {
      if (byLeader.has(key)) continue;
      this.#fetchers.delete(key);
      void fetcher.close();
    }
    for (const [key, group] of byLeader) {
      let fetcher = this.#fetchers.get(key);
      if (!fetcher) {
        fetcher = new ReplicaFetcher(group.leaderId, group.address, this.#o);
        this.#fetchers.set(key, fetcher);
        fetcher.start();
      }
      fetcher.setPartitions(group.partitions);
    }
  }

  /** Leader ids with a running fetcher and the partitions each fetches (diagnostics, tests). */
  describe(): { leaderId: number; address: string; partitions: string[] }[] {
    return [...this.#fetchers.values()].map((f) => ({ leaderId: f.leaderId, address: f.address, partitions: f.partitionKeys() }));
  }

  /** Stops every fetcher and waits for writes they have in progress. */
  async close(): Promise<void> {
    this.#closed = true;
    const fetchers = [...this.#fetchers.values()];
    this.#fetchers.clear();
    await Promise.all(fetchers.map((f) => f.close()));
  }
}

interface PartitionFetchState {
  retryAtMs: number;
  retryDelayMs: number;
}

/** What one request said about a partition, to judge the answer against. */
interface Sent {
  readonly p: Partition;
  readonly leaderEpoch: number;
  readonly fetchOffset: number;
  readonly lastFetchedEpoch: number;
}

type Call = grpc.ClientDuplexStream<ReplicaFetchRequest, ReplicaFetchResponse__Output>;

class ReplicaFetcher {
  readonly leaderId: number;
  readonly address: string;
  readonly #o: ReplicaFetcherOptions;
  readonly #log: Logger;
  readonly #client: ReplicaServiceClient;
  readonly #partitions = new Map<Partition, PartitionFetchState>();
  #call: Call | undefined;
  #awaiting: { correlationId: number; resolve: (r: ReplicaFetchResponse__Output) => void; reject: (e: unknown) => void } | undefined;
  #correlationId = 0;
  #backoffMs = RECONNECT_BACKOFF_INITIAL_MS;
  #failing = false;
  #closed = false;
  #wake: (() => void) | undefined;
  #wokenMeanwhile = false;
  #loop: Promise<void> | undefined;

  constructor(leaderId: number, address: string, options: ReplicaFetcherOptions) {
    this.leaderId = leaderId;
    this.address = address;
    this.#o = options;
    this.#log = options.logger.child({ leader: leaderId, leaderAddress: address });
    const { proto } = loadSluiceProto();
    this.#client = new proto.sluice.v1.ReplicaService(address, grpc.credentials.createInsecure(), REPLICA_CHANNEL_OPTIONS);
  }

  partitionKeys(): string[] {
    return [...this.#partitions.keys()].map((p) => p.key);
  }

  setPartitions(partitions: readonly Partition[]): void {
    const wanted = new Set(partitions);
    for (const p of this.#partitions.keys()) if (!wanted.has(p)) this.#partitions.delete(p);
    let added = false;
    for (const p of partitions) {
      if (this.#partitions.has(p)) continue;
      this.#partitions.set(p, { retryAtMs: 0, retryDelayMs: PARTITION_RETRY_INITIAL_MS });
      added = true;
    }
    if (added) this.#log.info({ partitions: this.partitionKeys() }, 'replica fetcher following partitions');
    this.#wakeUp();
  }

  start(): void {
    this.#loop = this.#run().catch((err: unknown) => this.#log.error({ err }, 'replica fetcher stopped unexpectedly'));
  }

  async close(): Promise<void> {
    this.#closed = true;
    this.#dropCall(new SluiceError('CLOSED', 'replica fetcher closed'));
    this.#wakeUp();
    await this.#loop;
    this.#client.close();
  }

  async #run(): Promise<void> {
    while (!this.#closed) {
      const nowMs = Date.now();
      const ready: Sent[] = [];
      let nextRetryMs = Number.POSITIVE_INFINITY;
      for (const [p, state] of this.#partitions) {
        if (state.retryAtMs > nowMs) {
          nextRetryMs = Math.min(nextRetryMs, state.retryAtMs);
          continue;
        }
        if (!this.#stillFollowing(p, p.leaderEpoch)) continue;
        ready.push({ p, leaderEpoch: p.leaderEpoch, fetchOffset: p.log.logEndOffset, lastFetchedEpoch: p.log.leaderEpochs.latestEpoch() });
      }
      const brokerEpoch = this.#o.brokerEpoch();
      if (ready.length === 0 || brokerEpoch < 0) {
        await this.#sleep(Number.isFinite(nextRetryMs) ? nextRetryMs - nowMs : brokerEpoch < 0 ? RECONNECT_BACKOFF_MAX_MS : undefined);
        continue;
      }
      let response: ReplicaFetchResponse__Output;
      try {
        response = await this.#exchange({
          correlation_id: ++this.#correlationId,
          replica_id: this.#o.brokerId,
          broker_epoch: brokerEpoch,
          max_wait_ms: this.#o.fetchWaitMaxMs,
          min_bytes: 1,
          max_bytes: this.#o.fetchMaxBytes,
          partitions: ready.map((s) => ({
            topic: s.p.topic,
            partition: s.p.partition,
            fetch_offset: s.fetchOffset,
            last_fetched_epoch: s.lastFetchedEpoch,
            current_leader_epoch: s.leaderEpoch,
            log_start_offset: s.p.log.logStartOffset,
            max_bytes: this.#o.partitionFetchMaxBytes,
          })),
        });
      } catch (err) {
        if (this.#closed) break;
        this.#dropCall(err);
        const delay = this.#backoffMs;
        this.#backoffMs = Math.min(this.#backoffMs * 2, RECONNECT_BACKOFF_MAX_MS);
        // The first failure of a series is worth a warning; the retries that follow are not.
        const level = this.#failing ? 'debug' : 'warn';
        this.#failing = true;
        this.#log[level]({ err: (err as Error).message, retryInMs: delay }, 'replica fetch from the leader failed; reconnecting');
        await this.#sleep(delay);
        continue;
      }
      if (this.#failing) this.#log.info('replica fetch from the leader works again');
      this.#failing = false;
      this.#backoffMs = RECONNECT_BACKOFF_INITIAL_MS;
      const results = new Map<string, ReplicaFetchPartitionResult__Output>();
      for (const r of response.partitions) results.set(`${r.topic}-${r.partition}`, r);
      await Promise.all(ready.map((s) => this.#handle(s, results.get(s.p.key))));
    }
  }

  /** Still a follower of this fetcher's leader, in the epoch the request was built with. */
  #stillFollowing(p: Partition, leaderEpoch: number): boolean {
    return this.#partitions.has(p) && !p.removed && !p.isLeader && p.leaderId === this.leaderId && p.leaderEpoch === leaderEpoch;
  }

  async #handle(sent: Sent, result: ReplicaFetchPartitionResult__Output | undefined): Promise<void> {
    const { p } = sent;
    // The partition moved on while the fetch was out (new leader or epoch, deleted): the answer
    // describes a relationship that no longer exists, and acting on it could cut a log by a
    // divergence the new leader would not claim.
    if (!this.#stillFollowing(p, sent.leaderEpoch)) return;
    if (!result) {
      this.#delay(p, 'the leader left the partition out of its answer');
      return;
    }
    const where = { topic: p.topic, partition: p.partition, epoch: sent.leaderEpoch };
    try {
      const error = fromErrorDetail(result.error);
      if (error) {
        await this.#onError(sent, error);
        return;
      }
      if (result.diverging_epoch) {
        await this.#onDiverging(sent, result.diverging_epoch);
        return;
      }
      if (result.records.length > 0) {
        // A write that landed since the request was built (a late append from when this broker
        // led) makes these offsets wrong; the next round sends the real LEO and last epoch.
        if (p.log.logEndOffset !== sent.fetchOffset) {
          this.#log.warn({ ...where, fetchOffset: sent.fetchOffset, logEndOffset: p.log.logEndOffset }, 'log changed while fetching; fetching again from its end');
          return;
        }
        await p.log.appendAsFollower(result.records);
        this.#o.onAppend?.(p, result.records.length);
        this.#o.afterWrite(p);
      }
      if (this.#stillFollowing(p, sent.leaderEpoch)) {
        p.log.setHighWatermark(followerHighWatermark(result.high_watermark, p.log.logEndOffset));
      }
      const state = this.#partitions.get(p);
      if (state) state.retryDelayMs = PARTITION_RETRY_INITIAL_MS;
    } catch (err) {
      if (isSluiceError(err, 'CLOSED') || p.removed) return;
      this.#log.error({ ...where, err }, 'cannot apply the leader\'s answer to the follower log; retrying');
      this.#delay(p, 'applying the answer failed');
    }
  }

  async #onError(sent: Sent, error: SluiceError): Promise<void> {
    const { p } = sent;
    const where = { topic: p.topic, partition: p.partition, epoch: sent.leaderEpoch, code: error.code };
    if (error.code === 'OFFSET_OUT_OF_RANGE') {
      const action = outOfRangeAction(sent.fetchOffset, { logStartOffset: error.details.logStartOffset ?? -1, logEndOffset: error.details.logEndOffset ?? -1 });
      if (action.kind === 'restart-at') {
        this.#log.warn({ ...where, fetchOffset: sent.fetchOffset, leaderLogStartOffset: action.offset }, 'the leader deleted what this follower still needs; restarting the log at the leader\'s log start');
        await p.log.truncateFullyAndStartAt(action.offset);
        this.#o.afterWrite(p);
        return;
      }
      if (action.kind === 'truncate-to') {
        // Not reachable through the epoch check except after an unclean election: records this
        // replica holds past the leader's end were never committed by the leader it follows.
        this.#log.error({ ...where, fetchOffset: sent.fetchOffset, leaderLogEndOffset: action.offset }, 'follower is ahead of the leader with no divergence on record (unclean election?); truncating to the leader\'s end');
        await this.#truncate(p, action.offset, sent);
        return;
      }
    }
    this.#delay(p, `${error.code}: ${error.message}`);
  }

  async #onDiverging(sent: Sent, diverging: { epoch: number; end_offset: number }): Promise<void> {
    const { p } = sent;
    const own = p.log.leaderEpochs.endOffsetFor(diverging.epoch);
    const target = divergenceTruncationOffset({ epoch: diverging.epoch, endOffset: diverging.end_offset }, own, p.log.logEndOffset);
    // Cutting records is worth a warning; dropping only an epoch entry with nothing written in
    // it (this replica was elected and replaced before it wrote) is routine.
    const level = target < p.log.logEndOffset ? 'warn' : 'info';
    this.#log[level](
      { topic: p.topic, partition: p.partition, epoch: sent.leaderEpoch, lastFetchedEpoch: sent.lastFetchedEpoch, fetchOffset: sent.fetchOffset, divergingEpoch: diverging.epoch, leaderEndOffset: diverging.end_offset, ownEndOffset: own.endOffset, truncateTo: target },
      'log diverged from the leader; truncating by leader epoch (KIP-101)',
    );
    await this.#truncate(p, target, sent);
  }

  async #truncate(p: Partition, target: number, sent: Sent): Promise<void> {
    const beforeEnd = p.log.logEndOffset;
    const beforeEpoch = p.log.leaderEpochs.latestEpoch();
    await p.log.truncateTo(target);
    // The log leaves its epoch entries alone when the target is at or past its end, but an
    // entry starting there (assigned when this replica was elected, with nothing written in
    // it) would be sent as the last fetched epoch again and draw the same answer forever
    // (Kafka's truncateTo removes it too).
    p.log.leaderEpochs.truncateFromEnd(target);
    await p.log.leaderEpochs.flush();
    this.#o.afterWrite(p);
    if (p.log.logEndOffset === beforeEnd && p.log.leaderEpochs.latestEpoch() === beforeEpoch) {
      // Nothing changed, so the same request would draw the same answer: do not spin on it.
      this.#log.error({ topic: p.topic, partition: p.partition, epoch: sent.leaderEpoch, target, logEndOffset: beforeEnd, lastFetchedEpoch: beforeEpoch }, 'truncation the leader asked for changed nothing; backing off');
      this.#delay(p, 'truncation made no progress');
    }
  }

  #delay(p: Partition, reason: string): void {
    const state = this.#partitions.get(p);
    if (!state) return;
    state.retryAtMs = Date.now() + state.retryDelayMs;
    this.#log.debug({ topic: p.topic, partition: p.partition, retryInMs: state.retryDelayMs, reason }, 'partition fetch delayed');
    state.retryDelayMs = Math.min(state.retryDelayMs * 2, PARTITION_RETRY_MAX_MS);
  }

  /** Sends one request on the stream (opening it if needed) and waits for its answer. */
  #exchange(request: ReplicaFetchRequest): Promise<ReplicaFetchResponse__Output> {
    const call = this.#call ?? this.#open();
    return new Promise<ReplicaFetchResponse__Output>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#dropCall(new SluiceError('REQUEST_TIMED_OUT', `leader ${this.leaderId} at ${this.address} did not answer a replica fetch within ${this.#o.fetchWaitMaxMs + ANSWER_MARGIN_MS} ms`));
      }, this.#o.fetchWaitMaxMs + ANSWER_MARGIN_MS);
      this.#awaiting = {
        correlationId: Number(request.correlation_id),
        resolve: (r) => {
          clearTimeout(timer);
          resolve(r);
        },
        reject: (e) => {
          clearTimeout(timer);
          reject(e);
        },
      };
      call.write(request);
    });
  }

  #open(): Call {
    const call = this.#client.ReplicaFetch();
    this.#call = call;
    call.on('data', (response: ReplicaFetchResponse__Output) => {
      const awaiting = this.#awaiting;
      if (call !== this.#call || !awaiting || response.correlation_id !== awaiting.correlationId) return;
      this.#awaiting = undefined;
      awaiting.resolve(response);
    });
    // Without an 'error' listener a lost leader would crash the process.
    call.on('error', (err: grpc.ServiceError) => {
      if (call === this.#call) this.#dropCall(fromServiceError(err));
    });
    call.on('end', () => {
      if (call === this.#call) this.#dropCall(new SluiceError('BROKER_NOT_AVAILABLE', `leader ${this.leaderId} ended the replica fetch stream`));
    });
    return call;
  }

  #dropCall(reason: unknown): void {
    const call = this.#call;
    this.#call = undefined;
    if (call) {
      call.end();
      call.cancel();
    }
    const awaiting = this.#awaiting;
    this.#awaiting = undefined;
    awaiting?.reject(reason);
  }

  /** Waits ms (forever when undefined) or until woken; a wake-up that came meanwhile returns at once. */
  #sleep(ms: number | undefined): Promise<void> {
    if (this.#wokenMeanwhile || this.#closed) {
      this.#wokenMeanwhile = false;
      return Promise.resolve();
    }
    return new Promise<void>((resolve) => {
      const timer = ms === undefined ? undefined : setTimeout(() => this.#wake?.(), Math.max(0, ms));
      this.#wake = () => {
        this.#wake = undefined;
        clearTimeout(timer);
        resolve();
      };
    });
  }

  #wakeUp(): void {
    if (this.#wake) this.#wake();
    else this.#wokenMeanwhile = true;
  }
}
