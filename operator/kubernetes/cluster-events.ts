// What a committed change tells the people watching: each ClusterEvent as a structured log line
// and, where it is about a topic, as a Kubernetes Event on its Topic (elections, reassignments,
// creation, growth, deletion). Pure mapping; the shell writes what it returns.
import type { ClusterEvent } from '../core/cluster-state.ts';
import { NO_LEADER } from '../core/election.ts';
import { electionsIn } from '../core/election-history.ts';
import { isReassigning } from '../core/reassignment.ts';
import type { RecordedEvent } from './event-recorder.ts';

export interface TopicEvent extends RecordedEvent {
  /** Topic id (the Topic object's uid) the Event is about. */
  readonly topicId: string;
}

/** The Kubernetes Events a change's events become, in order. */
export function topicEventsOf(events: readonly ClusterEvent[], topicIdOf: (topic: string) => string | undefined): TopicEvent[] {
  const out: TopicEvent[] = [];
  for (const e of events) {
    switch (e.type) {
      case 'topic_created':
        out.push({ topicId: e.topicId, type: 'Normal', reason: 'TopicCreated', message: `created topic "${e.topic}" with ${e.partitions} partitions and replication factor ${e.replicationFactor}` });
        break;
      case 'topic_altered': {
        const id = topicIdOf(e.topic);
        if (!id) break;
        if (e.addedPartitions > 0) out.push({ topicId: id, type: 'Normal', reason: 'PartitionsAdded', message: `added ${e.addedPartitions} partitions` });
        if (e.configChanged) out.push({ topicId: id, type: 'Normal', reason: 'ConfigChanged', message: 'topic config changed; brokers apply it with the next metadata' });
        if (e.replicationFactor !== e.previousReplicationFactor) {
          out.push({ topicId: id, type: 'Normal', reason: 'ReassignmentStarted', message: `changing the replication factor from ${e.previousReplicationFactor} to ${e.replicationFactor}` });
        }
        break;
      }
      case 'topic_deleted':
        out.push({ topicId: e.topicId, type: 'Normal', reason: 'TopicDeleted', message: `deleted topic "${e.topic}"; brokers delete its data as they apply the metadata` });
        break;
      case 'partition_changed': {
        const [election] = electionsIn([e]);
        const where = `partition ${e.partition}`;
        if (election) {
          out.push({
            topicId: e.topicId,
            type: election.unclean ? 'Warning' : 'Normal',
            reason: election.unclean ? 'UncleanLeaderElection' : 'LeaderElected',
            message:
              `${where}: leader ${election.previousLeader === NO_LEADER ? 'none' : election.previousLeader} -> ${election.leader} at leader epoch ${election.leaderEpoch} ` +
              `(reason ${election.reason}; committed ISR was [${election.committedIsr.join(', ')}])${election.unclean ? '; acknowledged records may be lost' : ''}`,
          });
        } else if (e.current.leader === NO_LEADER && e.previous.leader !== NO_LEADER) {
          out.push({ topicId: e.topicId, type: 'Warning', reason: 'PartitionOffline', message: `${where} has no leader: no in-sync replica of [${e.current.isr.join(', ')}] is alive` });
        } else if (e.reason === 'reassignment') {
          out.push(
            isReassigning(e.current)
              ? { topicId: e.topicId, type: 'Normal', reason: 'ReassignmentStarted', message: `${where}: moving replicas [${e.previous.replicas.join(', ')}] -> [${e.current.replicas.filter((r) => !e.current.removingReplicas.includes(r)).join(', ')}]` }
              : { topicId: e.topicId, type: 'Normal', reason: 'ReassignmentCompleted', message: `${where}: replicas are now [${e.current.replicas.join(', ')}]` },
          );
        }
        break;
      }
      default:
        break;
    }
  }
  return out;
}
