// One partition hosted on this broker: its log plus the replica state the controller assigned
// (role, leader epoch, replicas, committed ISR) and, on the leader, the high watermark rule.
// Kafka's Partition.scala, minus replication for now: followers hold their log and refuse
// client traffic.
import type { Logger } from '../common/logger.ts';
import type { PartitionState__Output } from '../proto/gen/sluice/v1/PartitionState.ts';
import { nextHighWatermark } from './high-watermark.ts';
import type { PartitionLog } from './log/partition-log.ts';

export type StateChange = 'became-leader' | 'became-follower' | 'updated' | 'unchanged' | 'stale';

export function partitionKey(topic: string, partition: number): string {
  return `${topic}-${partition}`;
}

export class Partition {
  readonly topic: string;
  readonly partition: number;
  /** Key of this partition in the delayed-operation purgatory and in logs. */
  readonly key: string;
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
  // Filled by replica fetches once replication exists; until then an in-sync follower has no
  // known LEO and holds the HW (see nextHighWatermark).
  readonly #followerLogEndOffsets = new Map<number, number>();

  constructor(opts: { topic: string; partition: number; topicId: string; log: PartitionLog; localBrokerId: number; logger: Logger }) {
    this.topic = opts.topic;
    this.partition = opts.partition;
    this.key = partitionKey(opts.topic, opts.partition);
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

  get isr(): readonly number[] {
    return this.#isr;
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

  /**
   * Applies the controller's state for this partition. A state from an older leader epoch, or
   * an older partition epoch within the same leader epoch, is a delayed push and is ignored:
   * acting on it could make this broker lead (and stamp batches with) a superseded epoch.
   */
  applyState(state: PartitionState__Output): StateChange {
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

    if (this.isLeader && newLeaderEpoch) {
      // KIP-101: the epoch starts at the current LEO, so followers (and this replica after a
      // later demotion) can find where their history diverges from the new leader's.
      this.log.leaderEpochs.assign(epoch, this.log.logEndOffset);
      this.#followerLogEndOffsets.clear();
      this.#logger.info({ topic: this.topic, partition: this.partition, epoch, isr: state.isr, logEndOffset: this.log.logEndOffset }, 'became leader');
      return 'became-leader';
    }
    if (!this.isLeader && (wasLeader || newLeaderEpoch)) {
      this.#followerLogEndOffsets.clear();
      this.#logger.info({ topic: this.topic, partition: this.partition, epoch, leader: state.leader }, 'became follower');
      return 'became-follower';
    }
    return changed ? 'updated' : 'unchanged';
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
      followerLogEndOffsets: this.#followerLogEndOffsets,
      minInsyncReplicas: this.#minInsyncReplicas,
    });
    if (next === current) return false;
    this.log.setHighWatermark(next);
    return true;
  }
}
