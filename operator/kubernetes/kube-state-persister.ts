// The Kubernetes shell's StatePersister (the local shell's is the state file): what CommittedState
// calls to make a change durable before it is pushed to brokers or answered (DESIGN §6).
//
// A change is spread over the objects it touches, written in this order:
//   1. the status of every Topic whose partition state changed (each carries the change's
//      metadata version), then
//   2. the cluster record on the Lease (see cluster-record.ts), when anything outside the topics
//      changed, a topic was deleted, or no Topic was written (so the new metadata version is
//      recorded somewhere).
// Topics first: a registration elects the returning broker in topics before its record says it
// is active, and state-loader.ts repairs exactly the mix a crash between the two leaves.
//
// A failure before the first write refuses the change (nothing changed). A failure after it
// leaves Kubernetes holding part of it: the change is neither kept nor refused, so CommittedState
// stops accepting changes, and the operator gives up leadership and reloads — as a restarted
// controller resumes from its file.
import type { Logger } from '../../common/logger.ts';
import { findTopic, type ClusterState, type TopicRecord } from '../core/cluster-state.ts';
import { StateConflictError, StateWriteError, type StatePersister } from '../local/state-store.ts';
import { clusterFieldsChanged, clusterRecordOf, CLUSTER_RECORD_ANNOTATION, encodeClusterRecord } from './cluster-record.ts';
import { LeadershipLostError } from './lease-elector.ts';
import { toPersistedTopic } from './topic-resource.ts';
import type { TopicStatusWriter } from './topic-status-writer.ts';

export interface KubeStatePersisterOptions {
  /** The state as it is persisted right now (the loaded one). */
  readonly persisted: ClusterState;
  readonly statuses: TopicStatusWriter;
  /** Writes annotations on the Lease, only while holding it (LeaseElector.writeAnnotations). */
  readonly writeLeaseAnnotations: (annotations: Record<string, string>) => Promise<void>;
  /** The Topic object that holds a topic's state (its uid is the topic id). */
  readonly objectNameOf: (topic: TopicRecord) => string | undefined;
  /** Called once the persisted state can no longer be trusted (partly written, or taken over). */
  readonly onBroken: (reason: string) => void;
  readonly logger: Logger;
}

export class KubeStatePersister implements StatePersister {
  readonly #o: KubeStatePersisterOptions;
  #saved: ClusterState;

  constructor(options: KubeStatePersisterOptions) {
    this.#o = options;
    this.#saved = options.persisted;
  }

  async save(next: ClusterState, expectedVersion: number): Promise<void> {
    const previous = this.#saved;
    if (previous.metadataVersion !== expectedVersion) {
      throw new StateConflictError(`state version ${expectedVersion} was expected, but this operator last persisted version ${previous.metadataVersion}`);
    }
    let written = 0;
    try {
      for (const topic of next.topics) {
        // Transitions return untouched topics as the same objects.
        if (findTopic(previous, topic.name) === topic) continue;
        const name = this.#o.objectNameOf(topic);
        if (name === undefined) {
          // Its Topic is gone (deleted without waiting for the finalizer); the reconcile of that
          // key deletes the topic from the state next.
          this.#o.logger.warn({ topic: topic.name, topicId: topic.topicId }, 'no Topic object holds this topic; its state is not persisted');
          continue;
        }
        await this.#o.statuses.persist(name, toPersistedTopic(topic, next.metadataVersion));
        written++;
      }
      const removed = previous.topics.some((t) => findTopic(next, t.name)?.topicId !== t.topicId);
      if (written === 0 || removed || clusterFieldsChanged(previous, next)) {
        await this.#o.writeLeaseAnnotations({ [CLUSTER_RECORD_ANNOTATION]: encodeClusterRecord(clusterRecordOf(next)) });
      }
    } catch (e) {
      const reason = (e as Error).message;
      if (e instanceof LeadershipLostError || e instanceof StateConflictError) {
        this.#o.onBroken(reason);
        throw e instanceof StateConflictError ? e : new StateConflictError(reason);
      }
      if (written > 0) this.#o.onBroken(`a change was only partly persisted: ${reason}`);
      throw new StateWriteError(`cannot persist the change in Kubernetes: ${reason}`, written > 0 ? 'unknown' : 'unchanged', e);
    }
    this.#saved = next;
  }
}
