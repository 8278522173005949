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
//
// A deposed leader must not act on a change (DESIGN §6). Three things see to it:
// * leadership (LeaseElector.isLeader: renewed within the renew deadline, by this process's own
//   clock) is checked before the first write of a change and again after the last one; a change
//   that finds it lost is not pushed to brokers nor answered, even if it was written — the next
//   leader loads it;
// * the first save of a leader (its takeover) claims every Topic whose partition state it holds:
//   it rewrites each status with the takeover's metadata version, a compare-and-set against the
//   version it loaded. A Topic a previous leader wrote after that load fails the claim (the new
//   leader reloads); a previous leader's write after the claim meets a newer resourceVersion and
//   a metadata version it did not write, and TopicStatusWriter refuses it (StateConflictError);
// * the cluster record is written on the Lease only by its holder (a compare-and-set).
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
  /** Whether this process still holds the Lease (LeaseElector.isLeader). */
  readonly leading: () => boolean;
  readonly logger: Logger;
}

/** Topic statuses claimed at once at a takeover. */
const CLAIM_CONCURRENCY = 8;

export class KubeStatePersister implements StatePersister {
  readonly #o: KubeStatePersisterOptions;
  #saved: ClusterState;
  /** Set once the takeover (the first save) claimed every Topic. */
  #claimed = false;

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
      this.#checkLeading('before persisting a change');
      const claims: { name: string; version: number }[] = [];
      for (const topic of next.topics) {
        const name = this.#o.objectNameOf(topic);
        // Transitions return untouched topics as the same objects.
        if (findTopic(previous, topic.name) === topic) {
          if (!this.#claimed && name !== undefined) claims.push({ name, version: next.metadataVersion });
          continue;
        }
        if (name === undefined) {
          // Its Topic is gone (deleted without waiting for the finalizer); the reconcile of that
          // key deletes the topic from the state next.
          this.#o.logger.warn({ topic: topic.name, topicId: topic.topicId }, 'no Topic object holds this topic; its state is not persisted');
          continue;
        }
        await this.#o.statuses.persist(name, toPersistedTopic(topic, next.metadataVersion));
        written++;
      }
      for (let i = 0; i < claims.length; i += CLAIM_CONCURRENCY) {
        const batch = claims.slice(i, i + CLAIM_CONCURRENCY);
        written += batch.length;
        await Promise.all(batch.map((c) => this.#o.statuses.claim(c.name, c.version)));
      }
      const removed = previous.topics.some((t) => findTopic(next, t.name)?.topicId !== t.topicId);
      if (written === 0 || removed || clusterFieldsChanged(previous, next)) {
        await this.#o.writeLeaseAnnotations({ [CLUSTER_RECORD_ANNOTATION]: encodeClusterRecord(clusterRecordOf(next)) });
      }
      // Written, but a process that paused (or lost the Lease) meanwhile must not push it: the
      // next leader loads it and acts on it.
      this.#checkLeading('while persisting a change');
    } catch (e) {
      const reason = (e as Error).message;
      if (e instanceof LeadershipLostError || e instanceof StateConflictError) {
        this.#o.onBroken(reason);
        throw e instanceof StateConflictError ? e : new StateConflictError(reason);
      }
      if (written > 0) this.#o.onBroken(`a change was only partly persisted: ${reason}`);
      throw new StateWriteError(`cannot persist the change in Kubernetes: ${reason}`, written > 0 ? 'unknown' : 'unchanged', e);
    }
    this.#claimed = true;
    this.#saved = next;
  }

  #checkLeading(when: string): void {
    if (!this.#o.leading()) throw new LeadershipLostError(`this operator no longer holds the Lease ${when}; the change is left to the next leader`);
  }
}
