// Rebuilding the controller's ClusterState from Kubernetes when an operator becomes the leader:
// the cluster record from the Lease annotation plus the persisted partition state of every
// Topic's status. Pure.
//
// The persisted state is spread over several objects, written one after another: the topic
// statuses a change touches first, then the cluster record. A leader that dies between two writes
// leaves a mix whose only possible inconsistency is a topic that already lists a broker as leader
// while the cluster record still has it fenced (its registration's record write was lost). The
// takeover transition replays the fence for such a broker, so the partitions it led are elected
// again from their ISR (or go offline) with new epochs — the broker re-registers and gets them
// back. Every other mix is a state the controller could have been in.
//
// A Topic being deleted is left out: the deletionTimestamp is itself the durable, irreversible
// record of the decision, so the new leader only has to see the data deleted and release the
// finalizer.
import { clusterStateViolations } from '../core/cluster-invariants.ts';
import { fenceBroker, type ClusterEvent, type ClusterState, type Outcome, type TopicRecord } from '../core/cluster-state.ts';
import { NO_LEADER } from '../core/election.ts';
import type { ClusterRecord } from './cluster-record.ts';
import { isDeleting, persistedTopicOf, recordOfPersisted, type TopicObject } from './topic-resource.ts';

export interface LoadedTopics {
  readonly state: ClusterState;
  /** Topic object name per topic id, for the topics in the state. */
  readonly objectNames: ReadonlyMap<string, string>;
  /** Objects whose status could not be used, and why (logged; their topics are not in the state). */
  readonly ignored: readonly { name: string; problem: string }[];
}

/** The state as persisted (possibly inconsistent in the way described above). */
export function assembleClusterState(record: ClusterRecord, topics: readonly TopicObject[]): LoadedTopics {
  const ignored: { name: string; problem: string }[] = [];
  const objectNames = new Map<string, string>();
  const byName = new Map<string, TopicRecord>();
  let metadataVersion = record.metadataVersion;
  for (const t of topics) {
    if (isDeleting(t)) continue;
    const persisted = persistedTopicOf(t);
    if (!persisted) continue;
    if (persisted.topicId !== t.metadata.uid) {
      // A status copied from another object (a restore from backup under a new uid): its epochs
      // may be stale, and the object it belonged to may still exist. Not trusted.
      ignored.push({ name: t.metadata.name, problem: `status.topicId ${persisted.topicId} is not this object's uid ${t.metadata.uid}` });
      continue;
    }
    const other = byName.get(persisted.topicName);
    if (other) {
      ignored.push({ name: t.metadata.name, problem: `topic "${persisted.topicName}" is also persisted by ${objectNames.get(other.topicId)}` });
      continue;
    }
    byName.set(persisted.topicName, recordOfPersisted(persisted));
    objectNames.set(persisted.topicId, t.metadata.name);
    metadataVersion = Math.max(metadataVersion, persisted.metadataVersion);
  }
  const state: ClusterState = {
    clusterId: record.clusterId,
    metadataVersion,
    nextBrokerEpoch: record.nextBrokerEpoch,
    nextProducerId: record.nextProducerId,
    brokers: [...record.brokers].sort((a, b) => a.id - b.id),
    topics: [...byName.values()].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0)),
  };
  return { state, objectNames, ignored };
}

/**
 * What a new leader does to the loaded state before acting on it: replays the fence of brokers
 * the record has fenced but topics still name as leader or ISR member (see above), then moves the
 * metadata version past every version any earlier leader could have pushed, so that brokers apply
 * this leader's first snapshot rather than ignore it as not newer. Throws when the result still
 * breaks an invariant: acting on it could reuse epochs.
 */
export function takeover(state: ClusterState): Outcome<{ refenced: number[] }> {
  const events: ClusterEvent[] = [];
  let s = state;
  const refenced: number[] = [];
  for (const b of state.brokers) {
    if (b.state !== 'fenced') continue;
    const referenced = s.topics.some((t) => t.partitions.some((p) => p.leader === b.id || (p.isr.includes(b.id) && !(p.isr.length === 1 && p.leader === NO_LEADER))));
    if (!referenced) continue;
    const unfenced: ClusterState = { ...s, brokers: s.brokers.map((x) => (x.id === b.id ? { ...x, state: 'active' as const } : x)) };
    const outcome = fenceBroker(unfenced, { brokerId: b.id, brokerEpoch: b.brokerEpoch, reason: 'session_expired' });
    events.push(...outcome.events);
    s = outcome.state;
    refenced.push(b.id);
  }
  const next: ClusterState = { ...s, metadataVersion: s.metadataVersion + 1 };
  const violations = clusterStateViolations(next);
  if (violations.length > 0) {
    throw new Error(`the persisted state is inconsistent: ${violations.slice(0, 5).join('; ')}${violations.length > 5 ? ` (and ${violations.length - 5} more)` : ''}`);
  }
  return { state: next, events, result: { refenced } };
}
