// The replica fetch protocol's decisions (DESIGN §5), as pure functions: what a leader answers
// a follower's fetch of one partition, and where a follower truncates when told its history
// diverged. Both sides decide by leader epochs, never by the follower's HW (KIP-101: HW-based
// truncation loses committed data on a fast double failover; KIP-320/KIP-595: the divergence
// check travels inside the fetch).
import type { EpochEndOffset } from '../log/leader-epoch-cache.ts';

export interface LeaderFetchInputs {
  /** This broker leads the partition (and it is not being deleted). */
  readonly isLeader: boolean;
  /** The leader epoch this broker holds for the partition. */
  readonly leaderEpoch: number;
  /** The follower is an assigned replica of the partition. */
  readonly isReplica: boolean;
  /** ReplicaFetchPartition.current_leader_epoch: the epoch the follower believes current. */
  readonly requestLeaderEpoch: number;
  /** ReplicaFetchPartition.fetch_offset: the follower's LEO. */
  readonly fetchOffset: number;
  /** ReplicaFetchPartition.last_fetched_epoch: the epoch of the follower's last batch, -1 for an empty log. */
  readonly lastFetchedEpoch: number;
  readonly logStartOffset: number;
  readonly logEndOffset: number;
  /** The leader's newest epoch in its log (-1 when it has none). */
  readonly latestEpoch: number;
  /** The leader's LeaderEpochCache.endOffsetFor. */
  readonly endOffsetFor: (epoch: number) => EpochEndOffset;
}

export type LeaderFetchDecision =
  | { readonly kind: 'error'; readonly code: 'FENCED_LEADER_EPOCH' | 'UNKNOWN_LEADER_EPOCH' | 'NOT_LEADER' | 'NOT_REPLICA' | 'OFFSET_OUT_OF_RANGE' }
  | { readonly kind: 'diverging'; readonly epoch: number; readonly endOffset: number }
  | { readonly kind: 'read' };

/**
 * What the leader answers a follower's fetch of one partition:
 * 1. the follower's current epoch older than ours → FENCED_LEADER_EPOCH (it must learn the new
 *    metadata); newer → UNKNOWN_LEADER_EPOCH (we have not applied it yet); same epoch but we do
 *    not lead → NOT_LEADER;
 * 2. the follower's last epoch ends earlier on the leader than its fetch offset, or the leader
 *    does not have that epoch → diverging {epoch, endOffset}: the largest epoch ≤ the
 *    follower's that the leader has, and where it ends on the leader;
 * 3. the fetch offset outside [log start, LEO] → OFFSET_OUT_OF_RANGE;
 * 4. otherwise records from the fetch offset up to the LEO (not the HW: followers copy
 *    uncommitted records too, that is what commits them).
 */
export function decideLeaderFetch(inputs: LeaderFetchInputs): LeaderFetchDecision {
  if (inputs.requestLeaderEpoch < inputs.leaderEpoch) return { kind: 'error', code: 'FENCED_LEADER_EPOCH' };
  if (inputs.requestLeaderEpoch > inputs.leaderEpoch) return { kind: 'error', code: 'UNKNOWN_LEADER_EPOCH' };
  if (!inputs.isLeader) return { kind: 'error', code: 'NOT_LEADER' };
  if (!inputs.isReplica) return { kind: 'error', code: 'NOT_REPLICA' };
  if (inputs.lastFetchedEpoch >= 0) {
    const end = leaderEndOffsetFor(inputs);
    if (end.epoch < inputs.lastFetchedEpoch || end.endOffset < inputs.fetchOffset) {
      return { kind: 'diverging', epoch: end.epoch, endOffset: end.endOffset };
    }
  }
  if (inputs.fetchOffset < inputs.logStartOffset || inputs.fetchOffset > inputs.logEndOffset) return { kind: 'error', code: 'OFFSET_OUT_OF_RANGE' };
  return { kind: 'read' };
}

/**
 * endOffsetFor, completed for the two cases where the cache answers "undefined": an epoch newer
 * than every epoch of the leader's log ends, as far as the leader knows, where the leader's
 * newest epoch ends (its LEO); and a leader with no epochs at all (an empty log) shares
 * nothing with the follower beyond its LEO. Either way the follower gets an offset to cut at
 * instead of an answer it cannot act on.
 */
function leaderEndOffsetFor(inputs: LeaderFetchInputs): EpochEndOffset {
  if (inputs.latestEpoch < 0) return { epoch: -1, endOffset: inputs.logEndOffset };
  if (inputs.lastFetchedEpoch > inputs.latestEpoch) return { epoch: inputs.latestEpoch, endOffset: inputs.logEndOffset };
  return inputs.endOffsetFor(inputs.lastFetchedEpoch);
}

/**
 * Where a follower truncates when the leader answers diverging {epoch, endOffset}: at the
 * smaller of the leader's end of that epoch and the follower's own end of it (the start of the
 * follower's next epoch after it), never above its own LEO. `ownEnd` is the follower's
 * endOffsetFor(epoch); an undefined answer (-1) puts no bound of its own. The follower then
 * fetches again with its new last epoch; a divergence spanning several epochs takes several
 * rounds, each one cutting only what is proven to differ.
 */
export function divergenceTruncationOffset(diverging: { epoch: number; endOffset: number }, ownEnd: EpochEndOffset, logEndOffset: number): number {
  let target = Math.min(logEndOffset, diverging.endOffset);
  if (diverging.epoch >= 0 && ownEnd.endOffset >= 0) target = Math.min(target, ownEnd.endOffset);
  return Math.max(0, target);
}

export type OutOfRangeAction =
  | { readonly kind: 'restart-at'; readonly offset: number }
  | { readonly kind: 'truncate-to'; readonly offset: number }
  | { readonly kind: 'retry' };

/**
 * What a follower does with OFFSET_OUT_OF_RANGE. Below the leader's log start (retention
 * deleted what the follower still needs): drop the whole log and continue at the leader's log
 * start. Above the leader's LEO: only possible once the epoch check passed with an empty
 * history (an unclean election, or a log the leader restarted); cut back to the leader's LEO.
 * Anything else (the range moved between the two): fetch again.
 */
export function outOfRangeAction(fetchOffset: number, leader: { logStartOffset: number; logEndOffset: number }): OutOfRangeAction {
  if (leader.logStartOffset >= 0 && fetchOffset < leader.logStartOffset) return { kind: 'restart-at', offset: leader.logStartOffset };
  if (leader.logEndOffset >= 0 && fetchOffset > leader.logEndOffset) return { kind: 'truncate-to', offset: leader.logEndOffset };
  return { kind: 'retry' };
}

/** A follower's HW: the leader's, capped at its own LEO (it cannot have committed what it lacks). */
export function followerHighWatermark(leaderHighWatermark: number, logEndOffset: number): number {
  return Math.min(leaderHighWatermark, logEndOffset);
}
