// Reconciling one Topic object (DESIGN §6, Operator shape), level-triggered: whatever happened,
// read the object as it is now and the committed state, and move one toward the other.
//
//   gone          -> delete its topic from the state (its finalizer was removed by force)
//   being deleted -> delete its topic from the state (persisted, then pushed: brokers delete the
//                    logs), wait until every live broker applied that metadata, then remove the
//                    finalizer so the object goes
//   otherwise     -> add the finalizer, then create / grow / reconfigure / reassign as planned
//                    (topic-plan.ts), or refuse visibly: Ready=False with a reason, a message that
//                    says what to change, and a Warning Event
// and write the verdict into the status with observedGeneration.
import { ApiException, PatchStrategy, setHeaderOptions, type CustomObjectsApi } from '@kubernetes/client-node';
import type { Logger } from '../../common/logger.ts';
import { activeBrokers, alterTopic, createTopic, deleteTopic, type ClusterState } from '../core/cluster-state.ts';
import type { BrokerSessions } from '../local/broker-sessions.ts';
import type { CommittedState } from '../local/committed-state.ts';
import type { EventRecorder } from './event-recorder.ts';
import { TOPIC_GROUP, TOPIC_PLURAL, TOPIC_VERSION } from './topic-crd.ts';
import { planTopic, refusalFor, topicOwnedBy } from './topic-plan.ts';
import { hasFinalizer, isDeleting, TOPIC_FINALIZER, type TopicObject } from './topic-resource.ts';
import type { Refusal, TopicVerdict } from './topic-status.ts';
import type { TopicStatusWriter } from './topic-status-writer.ts';
import type { ReconcileResult } from './work-queue.ts';

export interface TopicReconcilerOptions {
  readonly committed: CommittedState;
  readonly sessions: BrokerSessions;
  readonly statuses: TopicStatusWriter;
  readonly events: EventRecorder;
  readonly api: CustomObjectsApi;
  readonly namespace: string;
  readonly cached: (name: string) => TopicObject | undefined;
  /** Topic id -> Topic object name, for the topics in the state (kept up to date here). */
  readonly objectNames: Map<string, string>;
  readonly logger: Logger;
  /** How often a deletion re-checks whether the brokers applied it. */
  readonly deletionPollMs?: number;
}

/** A 409 on a metadata write: another writer was first; run again soon on the new version. */
const CONFLICT_REQUEUE_MS = 100;

export class TopicReconciler {
  readonly #o: TopicReconcilerOptions;
  /** Metadata version in which a topic (by id) was deleted: brokers at or past it dropped it. */
  readonly #deletedAt = new Map<string, number>();

  constructor(options: TopicReconcilerOptions) {
    this.#o = options;
  }

  async reconcile(name: string): Promise<ReconcileResult> {
    try {
      const t = this.#o.cached(name) ?? (await this.#read(name));
      if (!t) return await this.#gone(name);
      if (isDeleting(t)) return await this.#delete(t);
      return await this.#apply(hasFinalizer(t) ? t : await this.#setFinalizer(t, true));
    } catch (e) {
      if (e instanceof ApiException && e.code === 409) return { requeueAfterMs: CONFLICT_REQUEUE_MS };
      throw e;
    }
  }

  async #apply(t: TopicObject): Promise<ReconcileResult> {
    const name = t.metadata.name;
    const uid = t.metadata.uid!;
    let refusal: Refusal | undefined;
    const plan = planTopic(t, this.#o.committed.current, (id) => this.#o.objectNames.get(id));
    if (plan.kind === 'refuse') refusal = plan.refusal;
    else if (plan.kind === 'create' || plan.kind === 'alter') {
      // Before the commit: persisting the new topic needs to know which object holds it.
      if (plan.kind === 'create') this.#o.objectNames.set(uid, name);
      try {
        // The state may have moved since the plan; the transition decides on the state it runs on.
        await this.#o.committed.commit((s) => (plan.kind === 'create' ? createTopic(s, plan.input) : alterTopic(s, plan.input)));
      } catch (e) {
        refusal = refusalFor(e, t.spec.replicationFactor, activeBrokers(this.#o.committed.current).length);
        if (!refusal) throw e;
      } finally {
        if (plan.kind === 'create' && !topicOwnedBy(this.#o.committed.current, uid)) this.#o.objectNames.delete(uid);
      }
    }
    await this.#publish(t, { observedGeneration: t.metadata.generation ?? 0, ...(refusal ? { refusal } : {}) });
    return {};
  }

  async #publish(t: TopicObject, verdict: TopicVerdict): Promise<void> {
    const before = this.#o.statuses.verdictOf(t.metadata.name)?.refusal;
    const now = verdict.refusal;
    // One Event per refusal as it appears or changes, not one per resync.
    if (now && (before?.reason !== now.reason || before.message !== now.message)) {
      this.#o.logger.warn({ topicObject: t.metadata.name, reason: now.reason }, `Topic refused: ${now.message}`);
      await this.#o.events.record(t, { type: 'Warning', reason: now.reason, message: now.message });
    }
    await this.#o.statuses.publish(t.metadata.name, verdict);
  }

  async #delete(t: TopicObject): Promise<ReconcileResult> {
    const uid = t.metadata.uid!;
    const topic = topicOwnedBy(this.#o.committed.current, uid);
    if (topic) {
      await this.#o.committed.commit((s) => (topicOwnedBy(s, uid) ? deleteTopic(s, topic.name) : { state: s, events: [], result: topic }));
      this.#deletedAt.set(uid, this.#o.committed.current.metadataVersion);
    }
    if (!hasFinalizer(t)) return {};
    await this.#o.statuses.publish(t.metadata.name, { observedGeneration: t.metadata.generation ?? 0, deleting: true });
    // A topic already gone from the loaded state was deleted by an earlier leader; this leader's
    // first snapshot (its takeover version) is the first it can know brokers applied.
    const version = this.#deletedAt.get(uid) ?? this.#o.committed.current.metadataVersion;
    const behind = brokersBehind(this.#o.committed.current, this.#o.sessions, version);
    if (behind.length > 0) {
      this.#o.logger.info({ topicObject: t.metadata.name, version, brokers: behind }, 'waiting for brokers to delete the topic\'s data');
      return { requeueAfterMs: this.#o.deletionPollMs ?? 500 };
    }
    await this.#setFinalizer(t, false);
    this.#deletedAt.delete(uid);
    this.#o.objectNames.delete(uid);
    this.#o.statuses.forget(t.metadata.name);
    this.#o.logger.info({ topicObject: t.metadata.name, version }, 'topic data deleted on every live broker; finalizer removed');
    return {};
  }

  /** The object is gone for good: its topic goes too (nobody waited for the brokers). */
  async #gone(name: string): Promise<ReconcileResult> {
    const ids = [...this.#o.objectNames].filter(([, n]) => n === name).map(([id]) => id);
    for (const id of ids) {
      const topic = topicOwnedBy(this.#o.committed.current, id);
      if (topic) {
        this.#o.logger.warn({ topicObject: name, topic: topic.name }, 'Topic object vanished without its finalizer; deleting its topic');
        await this.#o.committed.commit((s) => (topicOwnedBy(s, id) ? deleteTopic(s, topic.name) : { state: s, events: [], result: topic }));
      }
      this.#o.objectNames.delete(id);
      this.#deletedAt.delete(id);
    }
    this.#o.statuses.forget(name);
    return {};
  }

  async #setFinalizer(t: TopicObject, present: boolean): Promise<TopicObject> {
    const others = (t.metadata.finalizers ?? []).filter((f) => f !== TOPIC_FINALIZER);
    const finalizers = present ? [...others, TOPIC_FINALIZER] : others;
    // resourceVersion makes the merge patch a compare-and-set: finalizers is replaced as a whole,
    // and another controller's finalizer added meanwhile must not be dropped.
    return (await this.#o.api.patchNamespacedCustomObject(
      { group: TOPIC_GROUP, version: TOPIC_VERSION, plural: TOPIC_PLURAL, namespace: this.#o.namespace, name: t.metadata.name, body: { metadata: { finalizers, resourceVersion: t.metadata.resourceVersion } } },
      setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
    )) as TopicObject;
  }

  async #read(name: string): Promise<TopicObject | undefined> {
    try {
      return (await this.#o.api.getNamespacedCustomObject({ group: TOPIC_GROUP, version: TOPIC_VERSION, plural: TOPIC_PLURAL, namespace: this.#o.namespace, name })) as TopicObject;
    } catch (e) {
      if (e instanceof ApiException && e.code === 404) return undefined;
      throw e;
    }
  }
}

/** Live brokers that have not reported applying metadata `version` yet. */
export function brokersBehind(state: ClusterState, sessions: BrokerSessions, version: number): number[] {
  const applied = new Map(sessions.describe().map((d) => [d.brokerId, d.appliedMetadataVersion]));
  return state.brokers.filter((b) => b.state !== 'fenced' && (applied.get(b.id) ?? 0) < version).map((b) => b.id);
}
