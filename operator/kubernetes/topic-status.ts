// Topic.status as a pure function of what the operator knows: the persisted partition state, the
// verdict of the last reconcile (which generation it acted on, or why it refused), and the
// status already on the object (for condition transition times). Conditions follow the
// Kubernetes API conventions: Ready, Reconciling, Degraded, each with a one-word CamelCase
// reason and a message that says what is wrong and what to change.
import { isDeepStrictEqual } from 'node:util';
import { isOffline, isUnderReplicated } from '../core/cluster-state.ts';
import { isReassigning } from '../core/reassignment.ts';
import {
  partitionCounts,
  recordOfPersisted,
  type ConditionType,
  type PersistedTopic,
  type TopicCondition,
  type TopicStatus,
} from './topic-resource.ts';

/** Why the operator will not carry out a spec until it changes (or brokers do). */
export interface Refusal {
  /** One CamelCase word: NotEnoughBrokers, InvalidConfig, PartitionDecrease, … */
  readonly reason: string;
  /** What is wrong and what to change. */
  readonly message: string;
}

/** The outcome of reconciling one generation of a Topic. */
export interface TopicVerdict {
  readonly observedGeneration: number;
  readonly refusal?: Refusal;
  /** The Topic is being deleted: its data is being removed from the brokers. */
  readonly deleting?: boolean;
}

export interface StatusInput {
  readonly persisted: PersistedTopic | undefined;
  readonly verdict: TopicVerdict | undefined;
  /** metadata.generation of the object the status is written to. */
  readonly generation: number;
  readonly previous: TopicStatus | undefined;
  readonly now: Date;
}

type ConditionValue = Pick<TopicCondition, 'status' | 'reason' | 'message'>;

export function buildTopicStatus(input: StatusInput): TopicStatus {
  const { persisted, verdict } = input;
  const record = persisted ? recordOfPersisted(persisted) : undefined;
  const counts = record ? partitionCounts(record) : undefined;
  const observed = verdict?.observedGeneration;
  const conditions = computeConditions(input);
  const at = formatTime(input.now);
  const observedGeneration = observed ?? input.previous?.observedGeneration;
  const status: TopicStatus = {
    ...(observedGeneration !== undefined ? { observedGeneration } : {}),
    ...(persisted
      ? {
          topicId: persisted.topicId,
          topicName: persisted.topicName,
          replicationFactor: persisted.replicationFactor,
          metadataVersion: persisted.metadataVersion,
          config: { ...persisted.config },
          partitions: persisted.partitions.map((p) => ({ ...p })),
        }
      : {}),
    conditions: (['Ready', 'Reconciling', 'Degraded'] as const).map((type) => {
      const value = conditions[type];
      const before = input.previous?.conditions?.find((c) => c.type === type);
      // lastTransitionTime moves only when the status does (API conventions).
      const lastTransitionTime = before && before.status === value.status ? before.lastTransitionTime : at;
      return { type, ...value, lastTransitionTime, ...(observed !== undefined ? { observedGeneration: observed } : {}) };
    }),
    ...(counts ?? {}),
  };
  return status;
}

/** Whether writing `next` would change nothing on the object (so the write is skipped). */
export function sameStatus(current: TopicStatus | undefined, next: TopicStatus): boolean {
  return isDeepStrictEqual(JSON.parse(JSON.stringify(current ?? {})), JSON.parse(JSON.stringify(next)));
}

function computeConditions(input: StatusInput): Record<ConditionType, ConditionValue> {
  const { persisted, verdict, generation } = input;
  const record = persisted ? recordOfPersisted(persisted) : undefined;
  const offline = record ? record.partitions.filter(isOffline) : [];
  const under = record ? record.partitions.filter(isUnderReplicated) : [];
  const reassigning = record ? record.partitions.filter(isReassigning) : [];
  const total = record?.partitions.length ?? 0;
  const rf = persisted?.replicationFactor ?? 0;
  const upToDate = verdict !== undefined && verdict.observedGeneration === generation;

  const offlineMessage = () =>
    `${offline.length} of ${total} partitions have no leader (${offline.map((p) => p.partition).join(', ')}): no in-sync replica is alive. ` +
    `They come back when one of their in-sync replicas returns (${[...new Set(offline.flatMap((p) => p.isr))].sort((a, b) => a - b).map((id) => `broker ${id}`).join(', ')})` +
    (persisted?.config['unclean.leader.election.enable'] === true ? '' : ', or set config unclean.leader.election.enable: true to accept data loss');
  const reassigningMessage = () =>
    `moving replicas to replication factor ${rf}: ${reassigning.length} of ${total} partitions wait for their new replicas to catch up (${reassigning.map((p) => `${p.partition}: adding [${p.addingReplicas.join(', ')}]`).join('; ')})`;

  let ready: ConditionValue;
  let reconciling: ConditionValue;
  if (verdict?.deleting) {
    ready = { status: 'False', reason: 'Deleting', message: 'the Topic is being deleted; its data is being removed from the brokers' };
    reconciling = { status: 'True', reason: 'Deleting', message: 'waiting until every live broker has deleted the topic\'s data; then the finalizer is removed' };
  } else if (verdict?.refusal) {
    const { reason, message } = verdict.refusal;
    ready = { status: 'False', reason, message };
    reconciling = { status: 'False', reason, message: `generation ${verdict.observedGeneration} is not carried out: ${message}` };
  } else if (!record) {
    ready = { status: 'False', reason: 'Creating', message: 'the operator has not created the topic yet' };
    reconciling = { status: 'True', reason: 'Creating', message: 'creating the topic\'s partitions on the brokers' };
  } else if (!upToDate) {
    ready = { status: 'False', reason: 'Progressing', message: `generation ${generation} of the spec is not carried out yet` };
    reconciling = { status: 'True', reason: 'Progressing', message: `carrying out generation ${generation} of the spec` };
  } else if (offline.length > 0) {
    ready = { status: 'False', reason: 'OfflinePartitions', message: offlineMessage() };
    reconciling = reassigning.length > 0 ? { status: 'True', reason: 'Reassigning', message: reassigningMessage() } : { status: 'False', reason: 'Reconciled', message: 'the spec is carried out' };
  } else if (reassigning.length > 0) {
    ready = { status: 'False', reason: 'Reassigning', message: reassigningMessage() };
    reconciling = { status: 'True', reason: 'Reassigning', message: reassigningMessage() };
  } else {
    ready = { status: 'True', reason: 'Reconciled', message: `${total} ${total === 1 ? 'partition' : 'partitions'} with replication factor ${rf}, every one led` };
    reconciling = { status: 'False', reason: 'Reconciled', message: 'the spec is carried out' };
  }

  let degraded: ConditionValue;
  if (!record) degraded = { status: 'Unknown', reason: 'NotCreated', message: 'the topic has no partitions yet' };
  else if (offline.length > 0) degraded = { status: 'True', reason: 'OfflinePartitions', message: offlineMessage() };
  else if (under.length > 0) {
    degraded = {
      status: 'True',
      reason: 'UnderReplicated',
      message: `${under.length} of ${total} partitions have fewer in-sync replicas than the replication factor ${rf} (${under.map((p) => `${p.partition}: ISR [${p.isr.join(', ')}] of [${p.replicas.join(', ')}]`).join('; ')})`,
    };
  } else degraded = { status: 'False', reason: 'Healthy', message: 'every partition has all its replicas in sync' };
  return { Ready: ready, Reconciling: reconciling, Degraded: degraded };
}

/** metav1.Time: RFC 3339 in UTC, whole seconds. */
export function formatTime(d: Date): string {
  return `${d.toISOString().slice(0, 19)}Z`;
}
