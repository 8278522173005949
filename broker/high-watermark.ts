// The leader's high-watermark rule (DESIGN §5), as a pure function so it can be tested without
// a log or a clock.

export interface HighWatermarkInputs {
  currentHighWatermark: number;
  leaderId: number;
  leaderLogEndOffset: number;
  /** The committed ISR as the controller last pushed or answered it. */
  isr: readonly number[];
  /**
   * The replicas the HW must cover: the committed ISR plus any follower an in-flight expansion
   * adds (KIP-497's maximal ISR; see isr-rules.ts maximalIsr). Defaults to `isr`.
   */
  maximalIsr?: readonly number[];
  /** Last known LEO of each follower; undefined (or -1) for one that has not fetched yet. A Map fits. */
  followerLogEndOffsets: { get(replicaId: number): number | undefined };
  minInsyncReplicas: number;
}

/**
 * HW = min LEO over the ISR, never moving backwards on the leader, and frozen while the
 * committed ISR is smaller than min.insync.replicas: a record below HW must be on enough
 * replicas that losing one of them cannot lose it, so a shrunken ISR may not commit anything
 * new.
 */
export function nextHighWatermark(inputs: HighWatermarkInputs): number {
  const { currentHighWatermark, leaderId, leaderLogEndOffset, isr, followerLogEndOffsets, minInsyncReplicas } = inputs;
  if (isr.length < minInsyncReplicas) return currentHighWatermark;
  let min = leaderLogEndOffset;
  for (const replica of inputs.maximalIsr ?? isr) {
    if (replica === leaderId) continue;
    // An in-sync follower whose LEO the leader has not learned yet holds the HW where it is:
    // assuming it has the data would commit records that replica may lack.
    const leo = followerLogEndOffsets.get(replica);
    if (leo === undefined || leo < 0) return currentHighWatermark;
    if (leo < min) min = leo;
  }
  return min > currentHighWatermark ? min : currentHighWatermark;
}
