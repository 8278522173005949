// Replica reassignment of one partition (DESIGN §6: a replication-factor change is a
// reassignment). Pure: the two steps, as the changes they make to a partition record.
//
//   begin:    replicas = target ++ removingReplicas, the full set during the move;
//             addingReplicas = target − original, removingReplicas = current − target (less
//             replicas an earlier move was adding that never got in sync: they hold nothing
//             anyone needs). The ISR is untouched: nothing in sync is dropped to start.
//   complete: once every adding replica is in the committed ISR (the leader proposes that through
//             AlterPartition once they caught up), and dropping the removing ones leaves as many
//             in-sync copies as the target can hold, the partition becomes replicas = target,
//             ISR = ISR ∩ target, with a new leader from ISR ∩ target if the old one is dropped.
//
// So the number of in-sync copies never falls while replicas are added (KIP-455 does the same:
// the target must be in sync before the originals go), and a shrink only drops what it must.
import type { BrokerLifecycle, PartitionRecord } from './cluster-state.ts';
import { electLeader, NO_LEADER } from './election.ts';

export interface ReplicaSetChange {
  readonly replicas: readonly number[];
  readonly addingReplicas: readonly number[];
  readonly removingReplicas: readonly number[];
}

export interface ReassignmentCompletion {
  readonly leader: number;
  readonly replicas: readonly number[];
  readonly isr: readonly number[];
  readonly addingReplicas: readonly number[];
  readonly removingReplicas: readonly number[];
}

export function isReassigning(p: PartitionRecord): boolean {
  return p.addingReplicas.length > 0 || p.removingReplicas.length > 0;
}

/** The replicas the partition will have once its reassignment (if any) completes. */
export function targetReplicas(p: PartitionRecord): readonly number[] {
  return p.removingReplicas.length === 0 ? p.replicas : p.replicas.filter((id) => !p.removingReplicas.includes(id));
}

/**
 * Starts moving `p` to `target`, replacing any reassignment in progress. Replicas that were being
 * added stay "adding" if the target keeps them (they have not been confirmed in sync yet). Every
 * other replica outside the target stays in the full set until completion, so no copy that may
 * be in sync disappears before the target is; only replicas an earlier move was adding and that
 * never joined the ISR go at once. Kept as "removing", they would look like replicas with data,
 * and an unclean election could pick one that holds nothing.
 */
export function beginReassignment(p: PartitionRecord, target: readonly number[]): ReplicaSetChange {
  const original = p.replicas.filter((id) => !p.addingReplicas.includes(id));
  const unconfirmed = (id: number) => p.addingReplicas.includes(id) && !p.isr.includes(id);
  const removingReplicas = p.replicas.filter((id) => !target.includes(id) && !unconfirmed(id));
  return {
    replicas: [...target, ...removingReplicas],
    addingReplicas: target.filter((id) => !original.includes(id)),
    removingReplicas,
  };
}

/**
 * What completing `p`'s reassignment changes now, or undefined while it must wait (or there is
 * none). `lifecycleOf` matters only when the leader is being removed: its successor must be an
 * active member of ISR ∩ target.
 */
export function reassignmentCompletion(p: PartitionRecord, lifecycleOf: (id: number) => BrokerLifecycle | undefined): ReassignmentCompletion | undefined {
  if (!isReassigning(p)) return undefined;
  if (p.addingReplicas.some((id) => !p.isr.includes(id))) return undefined;
  const target = targetReplicas(p);
  const keptIsr = p.isr.filter((id) => target.includes(id));
  // A shrink picks the in-sync replicas to keep, but the ISR may have moved since: wait until the
  // target holds as many in-sync copies as it can, rather than drop an in-sync one for a laggard.
  if (keptIsr.length < Math.min(p.isr.length, target.length)) return undefined;
  let leader = p.leader;
  if (leader !== NO_LEADER && !target.includes(leader)) {
    // Moving leadership to a broker that is itself stopping would only force another election.
    const outcome = electLeader({ replicas: target, isr: keptIsr, lifecycleOf, uncleanAllowed: false, allowShuttingDown: false });
    if (outcome.leader === NO_LEADER) return undefined;
    leader = outcome.leader;
  }
  return { leader, replicas: target, isr: keptIsr, addingReplicas: [], removingReplicas: [] };
}
