// The controller's history of leader elections, as plain records. The shells log one record per
// election (field `election` of the "leader elected" line) and count them by reason; a test that
// collects them (from the log, across controller restarts) checks them with
// electionHistoryViolations: a new leader always comes from the committed ISR unless the
// election is recorded as unclean, and a leader epoch is never reused (DESIGN §12).
import type { ClusterEvent, PartitionChangeReason } from './cluster-state.ts';
import { NO_LEADER } from './election.ts';

export interface ElectionRecord {
  readonly topic: string;
  /** Tells a topic from a deleted and re-created one of the same name (its epochs restart). */
  readonly topicId: string;
  readonly partition: number;
  /** The leader epoch the new leader starts. */
  readonly leaderEpoch: number;
  readonly leader: number;
  /** NO_LEADER when the partition was offline. */
  readonly previousLeader: number;
  /** The committed ISR the leader was chosen from. */
  readonly committedIsr: readonly number[];
  readonly reason: PartitionChangeReason;
  /** The leader came from outside the committed ISR: acknowledged records may be lost. */
  readonly unclean: boolean;
}

/** The elections among a change's events: each change that gave a partition a new leader. */
export function electionsIn(events: readonly ClusterEvent[]): ElectionRecord[] {
  const out: ElectionRecord[] = [];
  for (const e of events) {
    if (e.type !== 'partition_changed' || e.current.leader === e.previous.leader || e.current.leader === NO_LEADER) continue;
    out.push({
      topic: e.topic,
      topicId: e.topicId,
      partition: e.partition,
      leaderEpoch: e.current.leaderEpoch,
      leader: e.current.leader,
      previousLeader: e.previous.leader,
      committedIsr: [...e.previous.isr],
      reason: e.reason,
      unclean: e.unclean,
    });
  }
  return out;
}

/**
 * Every broken rule in a history of elections, in the order they happened; empty when sound.
 * `uncleanAllowed` says whether a topic (by id) allowed unclean elections; leave it out to accept
 * any election that is recorded as unclean.
 */
export function electionHistoryViolations(history: readonly ElectionRecord[], uncleanAllowed?: (topicId: string) => boolean): string[] {
  const out: string[] = [];
  const lastEpoch = new Map<string, number>();
  for (const r of history) {
    const at = `${r.topic}-${r.partition} at leader epoch ${r.leaderEpoch}`;
    const inIsr = r.committedIsr.includes(r.leader);
    if (!r.unclean && !inIsr) out.push(`${at}: leader ${r.leader} is outside the committed ISR [${r.committedIsr}] but the election is not recorded as unclean`);
    if (r.unclean && inIsr) out.push(`${at}: election recorded as unclean although leader ${r.leader} is in the committed ISR [${r.committedIsr}]`);
    if (r.unclean && uncleanAllowed && !uncleanAllowed(r.topicId)) out.push(`${at}: unclean election of leader ${r.leader} on a topic that does not allow it`);
    const key = `${r.topicId}/${r.partition}`;
    const previous = lastEpoch.get(key);
    if (previous !== undefined && r.leaderEpoch <= previous) out.push(`${at}: leader epoch not above the previous election's ${previous} (an epoch reused)`);
    lastEpoch.set(key, Math.max(previous ?? -1, r.leaderEpoch));
  }
  return out;
}
