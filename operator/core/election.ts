// Partition leader election (DESIGN §6). Pure: the caller says which brokers are alive; the
// answer depends only on the assignment, the committed ISR and that liveness.
import type { BrokerLifecycle } from './cluster-state.ts';

/** Leader id of a partition that has no leader (offline). */
export const NO_LEADER = -1;

export interface ElectionInput {
  /** Assigned replicas; their order is the preference order (the first is the preferred leader). */
  readonly replicas: readonly number[];
  /** The committed ISR. */
  readonly isr: readonly number[];
  /** Lifecycle of a broker as the controller sees it; undefined for a broker it does not know. */
  readonly lifecycleOf: (brokerId: number) => BrokerLifecycle | undefined;
  /** The topic's unclean.leader.election.enable. */
  readonly uncleanAllowed: boolean;
  /** Brokers that must not be chosen, whatever their lifecycle (the one being fenced or stopping). */
  readonly excluded?: readonly number[];
  /**
   * Replicas a reassignment is still adding. Never chosen from outside the ISR: they may hold no
   * record at all, so even an unclean election must not prefer them to staying offline.
   */
  readonly addingReplicas?: readonly number[];
  /**
   * Whether a broker in controlled shutdown may be chosen. True for elections forced by a failure
   * (a stopping broker still serves and beats an offline partition); false when moving
   * leadership away for a controlled shutdown, where only an active broker is worth moving to.
   */
  readonly allowShuttingDown?: boolean;
}

export interface ElectionOutcome {
  /** The chosen leader, or NO_LEADER when the partition must stay offline. */
  readonly leader: number;
  /** True when the leader is outside the committed ISR: acknowledged records may be lost. */
  readonly unclean: boolean;
}

/**
 * Picks a leader: the first ISR member in preferred-replica order that is active, else the first
 * that is shutting down (when allowed). Only when no ISR member qualifies, and only if the topic
 * allows it, a replica outside the ISR (and not being added) is chosen (unclean). Otherwise
 * NO_LEADER.
 */
export function electLeader(input: ElectionInput): ElectionOutcome {
  const excluded = new Set(input.excluded ?? []);
  const isr = new Set(input.isr);
  const allowShuttingDown = input.allowShuttingDown ?? true;
  const acceptable: BrokerLifecycle[] = allowShuttingDown ? ['active', 'shutting_down'] : ['active'];

  for (const lifecycle of acceptable) {
    for (const id of input.replicas) {
      if (isr.has(id) && !excluded.has(id) && input.lifecycleOf(id) === lifecycle) return { leader: id, unclean: false };
    }
  }
  if (input.uncleanAllowed) {
    const adding = new Set(input.addingReplicas ?? []);
    for (const lifecycle of acceptable) {
      for (const id of input.replicas) {
        if (!isr.has(id) && !excluded.has(id) && !adding.has(id) && input.lifecycleOf(id) === lifecycle) return { leader: id, unclean: true };
      }
    }
  }
  return { leader: NO_LEADER, unclean: false };
}
