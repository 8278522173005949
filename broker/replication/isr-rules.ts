// The leader's in-sync replica rules (DESIGN §5), as pure functions over plain data: how a
// follower's fetch moves its caught-up time, which in-sync followers fell too far behind, which
// out-of-sync followers may rejoin, and the one ISR change to propose to the controller. No
// clock and no I/O here: the partition and the ISR updater feed them and act on the answers.

/** What the leader knows about one follower, from the follower's fetches. */
export interface FollowerState {
  /** The follower's log end offset (its last validated fetch offset); -1 until it fetched. */
  readonly logEndOffset: number;
  /**
   * The last time the follower was known to hold everything the leader had: when a fetch of
   * it reached the leader's LEO, or the LEO the leader had at its previous fetch.
   */
  readonly lastCaughtUpTimeMs: number;
  /** The leader's LEO when the follower's previous fetch was processed; -1 before any. */
  readonly lastFetchLeaderLogEndOffset: number;
  /** When the follower's previous fetch was processed; -1 before any. */
  readonly lastFetchTimeMs: number;
}

/**
 * A follower the leader has not heard from yet. lastCaughtUpTime starts now so that a leader
 * that has just been elected gives every follower a full replica.lag.time.max.ms to fetch
 * before it proposes to drop it (Kafka does the same on becoming leader).
 */
export function initialFollowerState(nowMs: number): FollowerState {
  return { logEndOffset: -1, lastCaughtUpTimeMs: nowMs, lastFetchLeaderLogEndOffset: -1, lastFetchTimeMs: -1 };
}

/**
 * The follower state after a fetch at `fetchOffset` (its LEO) processed at `nowMs` while the
 * leader's LEO was `leaderLogEndOffset`. Kafka's Replica.updateFetchState: a fetch that reached
 * the leader's LEO proves the follower caught up now; one that reached the LEO the leader had
 * at the previous fetch proves it was caught up then. Under steady load a follower never sees
 * the leader's LEO itself, and the second rule is what keeps it in the ISR. Only fetches whose
 * offset the leader validated (no diverging epoch, in range) may be fed here.
 */
export function afterFollowerFetch(state: FollowerState, fetch: { fetchOffset: number; leaderLogEndOffset: number; nowMs: number }): FollowerState {
  let lastCaughtUpTimeMs = state.lastCaughtUpTimeMs;
  if (fetch.fetchOffset >= fetch.leaderLogEndOffset) {
    lastCaughtUpTimeMs = Math.max(lastCaughtUpTimeMs, fetch.nowMs);
  } else if (state.lastFetchLeaderLogEndOffset >= 0 && fetch.fetchOffset >= state.lastFetchLeaderLogEndOffset) {
    lastCaughtUpTimeMs = Math.max(lastCaughtUpTimeMs, state.lastFetchTimeMs);
  }
  return {
    logEndOffset: fetch.fetchOffset,
    lastCaughtUpTimeMs,
    lastFetchLeaderLogEndOffset: fetch.leaderLogEndOffset,
    lastFetchTimeMs: fetch.nowMs,
  };
}

export interface ShrinkInputs {
  readonly leaderId: number;
  /** The committed ISR. */
  readonly isr: readonly number[];
  readonly followers: ReadonlyMap<number, FollowerState>;
  readonly nowMs: number;
  readonly lagTimeMaxMs: number;
}

/**
 * In-sync followers that have not caught up within replica.lag.time.max.ms. A follower the
 * leader has no state for is treated as just heard of (the caller creates states for every
 * replica on becoming leader, so this only covers a replica added since).
 */
export function outOfSyncReplicas(inputs: ShrinkInputs): number[] {
  const out: number[] = [];
  for (const id of inputs.isr) {
    if (id === inputs.leaderId) continue;
    const state = inputs.followers.get(id);
    if (state === undefined) continue;
    if (inputs.nowMs - state.lastCaughtUpTimeMs > inputs.lagTimeMaxMs) out.push(id);
  }
  return out;
}

export interface ExpandInputs {
  readonly leaderId: number;
  /** Assigned replicas, in the controller's order. */
  readonly replicas: readonly number[];
  /** The committed ISR. */
  readonly isr: readonly number[];
  readonly followers: ReadonlyMap<number, FollowerState>;
  readonly highWatermark: number;
  /** Where the current leader epoch starts in the leader's log. */
  readonly leaderEpochStartOffset: number;
  /** False for a broker that is fenced or stopping (KIP-841: it must not be elected). */
  readonly isEligible: (brokerId: number) => boolean;
  readonly nowMs: number;
  readonly lagTimeMaxMs: number;
}

/**
 * Out-of-sync followers that may rejoin: LEO ≥ HW (it holds every committed record) and
 * LEO ≥ the start of the current leader epoch (it has truncated any divergent history of an
 * older epoch, so what it holds below its LEO is what the leader holds). It must also have
 * caught up within replica.lag.time.max.ms: the LEO a dead follower last reported stays ≥ HW
 * while the HW is stuck without it, and readmitting it on that would flap the ISR (shrink,
 * expand, shrink...) and make acks=all producers fail with NOT_ENOUGH_REPLICAS_AFTER_APPEND.
 * Kafka gets the same by expanding only on the follower's own fetch.
 */
export function expansionCandidates(inputs: ExpandInputs): number[] {
  const out: number[] = [];
  for (const id of inputs.replicas) {
    if (id === inputs.leaderId || inputs.isr.includes(id)) continue;
    const state = inputs.followers.get(id);
    if (state === undefined || state.logEndOffset < 0) continue;
    if (state.logEndOffset < inputs.highWatermark || state.logEndOffset < inputs.leaderEpochStartOffset) continue;
    if (inputs.nowMs - state.lastCaughtUpTimeMs > inputs.lagTimeMaxMs) continue;
    if (!inputs.isEligible(id)) continue;
    out.push(id);
  }
  return out;
}

export interface IsrProposal {
  readonly kind: 'shrink' | 'expand';
  /** The whole proposed ISR, in replica order. */
  readonly isr: readonly number[];
  /** The brokers leaving (shrink) or joining (expand). */
  readonly changed: readonly number[];
}

/**
 * The one ISR change to propose now, or null. A shrink goes first: a laggard holds the HW (and
 * every acks=all producer) back, while a follower waiting to rejoin costs nothing but
 * redundancy. The leader always stays in its ISR.
 */
export function nextIsrProposal(inputs: ShrinkInputs & ExpandInputs): IsrProposal | null {
  const leaving = outOfSyncReplicas(inputs);
  if (leaving.length > 0) {
    const isr = inReplicaOrder(inputs.replicas, inputs.isr.filter((id) => !leaving.includes(id)), inputs.leaderId);
    return { kind: 'shrink', isr, changed: leaving };
  }
  const joining = expansionCandidates(inputs);
  if (joining.length > 0) {
    const isr = inReplicaOrder(inputs.replicas, [...inputs.isr, ...joining], inputs.leaderId);
    return { kind: 'expand', isr, changed: joining };
  }
  return null;
}

/**
 * The ISR the HW must cover while a proposal is in flight (KIP-497's "maximal ISR"): the
 * committed ISR plus any follower an in-flight expansion adds. A pending shrink removes nobody
 * here — until the controller commits it, the leaving replica may still be elected, so the HW
 * must not pass data it lacks (DESIGN §5).
 */
export function maximalIsr(committed: readonly number[], inFlight: IsrProposal | null): readonly number[] {
  if (inFlight === null || inFlight.kind !== 'expand') return committed;
  const extra = inFlight.changed.filter((id) => !committed.includes(id));
  return extra.length === 0 ? committed : [...committed, ...extra];
}

function inReplicaOrder(replicas: readonly number[], members: readonly number[], leaderId: number): number[] {
  const set = new Set(members);
  set.add(leaderId);
  const ordered = replicas.filter((id) => set.has(id));
  // A member outside the replica list (not expected: the controller keeps ISR ⊆ replicas) is
  // kept rather than silently dropped, so the controller refuses the proposal loudly.
  for (const id of set) if (!ordered.includes(id)) ordered.push(id);
  return ordered;
}
