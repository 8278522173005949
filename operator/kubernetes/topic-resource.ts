// The Topic custom resource as the operator reads and writes it, and the conversions between its
// status and the core's TopicRecord. Topic.status is where the controller persists partition
// state in Kubernetes (DESIGN §6): status.partitions, status.topicId, status.config and
// status.metadataVersion are that persisted state; the conditions and counts are presentation,
// recomputed on every write.
import type { TopicConfig } from '../../common/topic-config.ts';
import type { PartitionRecord, TopicRecord } from '../core/cluster-state.ts';
import { isOffline, isUnderReplicated, replicationFactorOf } from '../core/cluster-state.ts';

/** The finalizer that keeps a Topic until its data is deleted on the brokers. */
export const TOPIC_FINALIZER = 'sluice.dev/topic-data';

export interface ObjectMeta {
  name: string;
  namespace?: string;
  uid?: string;
  resourceVersion?: string;
  generation?: number;
  // Typed Date as client-node types them; custom objects arrive as plain JSON, so at run time
  // these are strings. Only their presence is used.
  creationTimestamp?: Date;
  deletionTimestamp?: Date;
  finalizers?: string[];
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
}

export interface TopicSpec {
  partitions: number;
  replicationFactor?: number;
  topicName?: string;
  config?: Partial<TopicConfig>;
}

export type ConditionType = 'Ready' | 'Reconciling' | 'Degraded';

export interface TopicCondition {
  type: ConditionType;
  status: 'True' | 'False' | 'Unknown';
  observedGeneration?: number;
  lastTransitionTime: string;
  reason: string;
  message: string;
}

export interface PartitionStatus {
  partition: number;
  replicas: number[];
  leader: number;
  leaderEpoch: number;
  isr: number[];
  partitionEpoch: number;
  addingReplicas?: number[];
  removingReplicas?: number[];
  lastUncleanLeaderEpoch?: number;
}

export interface TopicStatus {
  observedGeneration?: number;
  topicId?: string;
  topicName?: string;
  replicationFactor?: number;
  metadataVersion?: number;
  config?: Partial<TopicConfig>;
  conditions?: TopicCondition[];
  partitions?: PartitionStatus[];
  underReplicatedPartitions?: number;
  offlinePartitions?: number;
}

export interface TopicObject {
  apiVersion?: string;
  kind?: string;
  metadata: ObjectMeta;
  spec: TopicSpec;
  status?: TopicStatus;
}

/** The name clients and brokers use: spec.topicName, else metadata.name. */
export function topicNameOf(t: TopicObject): string {
  return t.spec.topicName ?? t.metadata.name;
}

export function isDeleting(t: TopicObject): boolean {
  return t.metadata.deletionTimestamp !== undefined && t.metadata.deletionTimestamp !== null;
}

export function hasFinalizer(t: TopicObject): boolean {
  return (t.metadata.finalizers ?? []).includes(TOPIC_FINALIZER);
}

/** The persisted part of a status: what a restarted controller resumes from. */
export interface PersistedTopic {
  readonly topicId: string;
  readonly topicName: string;
  readonly replicationFactor: number;
  readonly metadataVersion: number;
  readonly config: Readonly<Partial<TopicConfig>>;
  readonly partitions: readonly PartitionStatus[];
}

export function toPartitionStatus(p: PartitionRecord): PartitionStatus {
  return {
    partition: p.partition,
    replicas: [...p.replicas],
    leader: p.leader,
    leaderEpoch: p.leaderEpoch,
    isr: [...p.isr],
    partitionEpoch: p.partitionEpoch,
    addingReplicas: [...p.addingReplicas],
    removingReplicas: [...p.removingReplicas],
    lastUncleanLeaderEpoch: p.lastUncleanLeaderEpoch,
  };
}

export function fromPartitionStatus(p: PartitionStatus): PartitionRecord {
  return {
    partition: p.partition,
    replicas: [...p.replicas],
    leader: p.leader,
    leaderEpoch: p.leaderEpoch,
    isr: [...p.isr],
    partitionEpoch: p.partitionEpoch,
    addingReplicas: [...(p.addingReplicas ?? [])],
    removingReplicas: [...(p.removingReplicas ?? [])],
    lastUncleanLeaderEpoch: p.lastUncleanLeaderEpoch ?? -1,
  };
}

export function toPersistedTopic(t: TopicRecord, metadataVersion: number): PersistedTopic {
  return {
    topicId: t.topicId,
    topicName: t.name,
    replicationFactor: replicationFactorOf(t),
    metadataVersion,
    config: { ...t.config },
    partitions: t.partitions.map(toPartitionStatus),
  };
}

/** The persisted part of a status as it is on the object, or undefined when nothing was persisted yet. */
export function persistedTopicOf(t: TopicObject): PersistedTopic | undefined {
  const s = t.status;
  if (!s?.topicId || !s.topicName || !s.partitions || s.partitions.length === 0) return undefined;
  return {
    topicId: s.topicId,
    topicName: s.topicName,
    replicationFactor: s.replicationFactor ?? s.partitions[0]!.replicas.length,
    metadataVersion: s.metadataVersion ?? 0,
    config: { ...(s.config ?? {}) },
    partitions: s.partitions,
  };
}

export function recordOfPersisted(p: PersistedTopic): TopicRecord {
  return {
    name: p.topicName,
    topicId: p.topicId,
    config: { ...p.config },
    partitions: [...p.partitions].sort((a, b) => a.partition - b.partition).map(fromPartitionStatus),
  };
}

/** Whether two persisted states hold the same partition state (metadataVersion aside). */
export function samePersistedState(a: PersistedTopic | undefined, b: PersistedTopic | undefined): boolean {
  if (a === undefined || b === undefined) return a === b;
  // Key order differs between what the API server returns and what the operator builds.
  const canonical = (p: PersistedTopic) =>
    JSON.stringify([
      p.topicId,
      p.topicName,
      p.replicationFactor,
      Object.entries(p.config).sort(([x], [y]) => (x < y ? -1 : 1)),
      recordOfPersisted(p).partitions,
    ]);
  return canonical(a) === canonical(b);
}

export function partitionCounts(t: TopicRecord): { underReplicatedPartitions: number; offlinePartitions: number } {
  return {
    underReplicatedPartitions: t.partitions.filter(isUnderReplicated).length,
    offlinePartitions: t.partitions.filter(isOffline).length,
  };
}
