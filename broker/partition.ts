// One partition hosted on this broker: its log plus the replica state the controller assigned
// (role, leader epoch, replicas, committed ISR) and, on the leader, what it knows about each
// follower (DESIGN §5): the HW rule and the inputs of the ISR rules. Kafka's Partition.scala.
// Followers copy the leader's log through the replica fetcher and refuse client traffic.
import type { Logger } from '../common/logger.ts';
import type { PartitionState__Output } from '../proto/gen/sluice/v1/PartitionState.ts';
import { nextHighWatermark } from './high-watermark.ts';
import type { PartitionLog } from './log/partition-log.ts';
import { afterFollowerFetch, initialFollowerState, maximalIsr, type FollowerState, type IsrProposal } from './replication/isr-rules.ts';

export type StateChange = 'became-leader' | 'became-follower' | 'updated' | 'unchanged' | 'stale';

export function partitionKey(topic: string, partition: number): string {
  return `${topic}-${partition}`;
}

/** An ISR change sent to the controller and not answered yet (at most one per partition). */
export interface IsrChangeInFlight {
  readonly proposal: IsrProposal;
  /** The leader and partition epochs it was proposed from. */
  readonly leaderEpoch: number;
  readonly partitionEpoch: number;
}

export class Partition {
  readonly topic: string;
  readonly partition: number;
  /** Key of this partition in the delayed-operation purgatory and in logs. */
  readonly key: string;
  /** Purgatory key of waits on the LEO (replica fetches long-polling on the leader). */
  readonly logEndKey: string;
  readonly topicId: string;
  readonly log: PartitionLog;
  readonly #localBrokerId: number;
  readonly #logger: Logger;

  #leaderId = -1;
  #leaderEpoch = -1;
  #partitionEpoch = -1;
  #replicas: readonly number[] = [];
  #isr: readonly number[] = [];
  #minInsyncReplicas = 1;
  #removed = false;
  /** On the leader: where the current leader epoch starts in the log (ISR expansion rule). */
  #leaderEpochStartOffset = -1;
  /** On the leader: one state per other assigned replica, fed by its fetches. */
  readonly #followers = new Map<number, FollowerState>();
  #isrChangeInFlight: IsrChangeInFlight | null = null;
  // Built once: the HW is recomputed after every append, which must not allocate a map each time.
  readonly #followerLogEndOffsets = { get: (id: number): number | undefined => this.#followers.get(id)?.logEndOffset };

  constructor(opts: { topic: string; partition: number; topicId: string; log: PartitionLog; localBrokerId: number; logger: Logger }) {
    this.topic = opts.topic;
    this.partition = opts.partition;
    this.key = partitionKey(opts.topic, opts.partition);
    this.logEndKey = `${this.key}/leo`;
    this.topicId = opts.topicId;
    this.log = opts.log;
    this.#localBrokerId = opts.localBrokerId;
    this.#logger = opts.logger;
  }

  /** Leader for client traffic: led by this broker and not being deleted. */
  get isLeader(): boolean {
    return this.#leaderId === this.#localBrokerId && !this.#removed;
  }

  /** True once the partition left this broker (topic deleted, replica moved away). */
  get removed(): boolean {
    return this.#removed;
  }

  /** Called before the log is deleted, so requests parked on it answer instead of reading a dead log. */
  markRemoved(): void {
    this.#removed = true;
  }

  get leaderId(): number {
    return this.#leaderId;
  }

  get leaderEpoch(): number {
    return this.#leaderEpoch;
  }

  get partitionEpoch(): number {
    return this.#partitionEpoch;
  }

  /** The committed ISR: the controller's, as last pushed or answered. */
  get isr(): readonly number[] {
    return this.#isr;
  }

  /** The ISR the HW must cover: the committed one plus any follower an in-flight expansion adds. */
  get maximalIsr(): readonly number[] {
    return maximalIsr(this.#isr, this.#isrChangeInFlight?.proposal ?? null);
  }

  get replicas(): readonly number[] {
    return this.#replicas;
  }

  get minInsyncReplicas(): number {
    return this.#minInsyncReplicas;
  }

  set minInsyncReplicas(value: number) {
    this.#minInsyncReplicas = value;
  }

  get leaderEpochStartOffset(): number {
    return this.#leaderEpochStartOffset;
  }

  /** What the leader knows about each follower (empty unless leader). */
  get followers(): ReadonlyMap<number, FollowerState> {
    return this.#followers;
  }

  get isrChangeInFlight(): IsrChangeInFlight | null {
    return this.#isrChangeInFlight;
  }

  /** Marks a proposal as sent (null: answered). The caller keeps it to one per partition. */
  setIsrChangeInFlight(change: IsrChangeInFlight | null): void {
    this.#isrChangeInFlight = change;
  }

  /**
   * Applies the controller's state for this partition. A state from an older leader epoch, or
   * an older partition epoch within the same leader epoch, is a delayed push and is ignored:
   * acting on it could make this broker lead (and stamp batches with) a superseded epoch.
   */
  applyState(state: PartitionState__Output, nowMs: number = Date.now()): StateChange {
    const epoch = state.leader_epoch;
    if (epoch < this.#leaderEpoch || (epoch === this.#leaderEpoch && state.partition_epoch < this.#partitionEpoch)) {
      this.#logger.warn({ topic: this.topic, partition: this.partition, epoch, currentEpoch: this.#leaderEpoch, partitionEpoch: state.partition_epoch, currentPartitionEpoch: this.#partitionEpoch }, 'ignoring stale partition state');
      return 'stale';
    }
    if (state.leader === this.#localBrokerId && epoch < this.log.leaderEpochs.latestEpoch()) {
      // The log already holds batches of a later epoch: this state predates them (a delayed
      // push after a restart). Leading in an epoch older than the log's would break KIP-101
      // truncation, which relies on epochs only ever increasing along the log.
      this.#logger.error({ topic: this.topic, partition: this.partition, epoch, logEpoch: this.log.leaderEpochs.latestEpoch() }, 'refusing leadership in a leader epoch older than the log already has');
      return 'stale';
    }
    const newLeaderEpoch = epoch > this.#leaderEpoch;
    const wasLeader = this.isLeader;
    const changed = newLeaderEpoch || state.partition_epoch !== this.#partitionEpoch || state.leader !== this.#leaderId;
    this.#leaderId = state.leader;
    this.#leaderEpoch = epoch;
    this.#partitionEpoch = state.partition_epoch;
    this.#replicas = state.replicas;
    this.#isr = state.isr;
    // A proposal from an older leader epoch can no longer commit (the controller checks the
    // epoch), so it stops counting towards the HW and no longer blocks a new one.
    if (newLeaderEpoch) this.#isrChangeInFlight = null;

    if (this.isLeader && newLeaderEpoch) {
      // KIP-101: the epoch starts at the current LEO, so followers (and this replica after a
      // later demotion) can find where their history diverges from the new leader's.
      this.#leaderEpochStartOffset = this.log.logEndOffset;
      this.log.leaderEpochs.assign(epoch, this.#leaderEpochStartOffset);
      // Every follower gets a full lag window before it can be dropped, and an unknown LEO
      // (which holds the HW where it is until it reports).
      this.#followers.clear();
      this.#syncFollowers(nowMs);
      this.#logger.info({ topic: this.topic, partition: this.partition, epoch, isr: state.isr, logEndOffset: this.log.logEndOffset, highWatermark: this.log.highWatermark }, 'became leader');
      return 'became-leader';
    }
    if (!this.isLeader && (wasLeader || newLeaderEpoch)) {
      this.#followers.clear();
      this.#leaderEpochStartOffset = -1;
      this.#logger.info({ topic: this.topic, partition: this.partition, epoch, leader: state.leader }, 'became follower');
      return 'became-follower';
    }
    if (this.isLeader) this.#syncFollowers(nowMs);
    return changed ? 'updated' : 'unchanged';
  }

  /**
   * A replica added while this broker leads (a reassignment) gets a state; one that left loses
   * it.
   */
  #syncFollowers(nowMs: number): void {
    for (const id of this.#replicas) {
      if (id !== this.#localBrokerId && !this.#followers.has(id)) this.#followers.set(id, initialFollowerState(nowMs));
    }
    for (const id of this.#followers.keys()) {
      if (!this.#replicas.includes(id)) this.#followers.delete(id);
    }
  }

  /**
   * Records a follower fetch the leader validated (no diverging epoch, offset in range) at
   * `fetchOffset` = the follower's LEO. Returns false when the broker is not a follower here.
   */
  recordFollowerFetch(replicaId: number, fetchOffset: number, nowMs: number): boolean {
    if (!this.isLeader || replicaId === this.#localBrokerId) return false;
    const state = this.#followers.get(replicaId);
    if (state === undefined) return false;
    this.#followers.set(replicaId, afterFollowerFetch(state, { fetchOffset, leaderLogEndOffset: this.log.logEndOffset, nowMs }));
    return true;
  }

  /**
   * Re-asserts the current leader epoch's start after a write that landed from the replica
   * fetcher just as this broker became leader (a fetched append or a truncation that was
   * already queued on the log): either can remove the entry the election assigned, and the
   * epoch must start at the LEO the log really has before this leader's first batch.
   */
  ensureLeaderEpochStart(): void {
    if (!this.isLeader || this.log.leaderEpochs.latestEpoch() >= this.#leaderEpoch) return;
    this.#leaderEpochStartOffset = this.log.logEndOffset;
    this.log.leaderEpochs.assign(this.#leaderEpoch, this.#leaderEpochStartOffset);
    this.#logger.warn({ topic: this.topic, partition: this.partition, epoch: this.#leaderEpoch, startOffset: this.#leaderEpochStartOffset }, 'leader epoch start re-assigned after a late replica write');
  }

  /** Recomputes the HW on the leader; returns true when it moved. */
  maybeIncrementHighWatermark(): boolean {
    if (!this.isLeader) return false;
    const current = this.log.highWatermark;
    const next = nextHighWatermark({
      currentHighWatermark: current,
      leaderId: this.#localBrokerId,
      leaderLogEndOffset: this.log.logEndOffset,
      isr: this.#isr,
      maximalIsr: this.maximalIsr,
      followerLogEndOffsets: this.#followerLogEndOffsets,
      minInsyncReplicas: this.#minInsyncReplicas,
    });
    if (next === current) return false;
    this.log.setHighWatermark(next);
    return true;
  }
}
