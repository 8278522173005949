// ClusterState as the sluice.v1 messages brokers and admin clients see. Pure; both shells (local
// and Kubernetes) answer with these.
import { effectiveTopicConfig, topicConfigToStrings } from '../../common/topic-config.ts';
import type { BrokerEndpoint } from '../../proto/gen/sluice/v1/BrokerEndpoint.ts';
import type { BrokerInfo } from '../../proto/gen/sluice/v1/BrokerInfo.ts';
import type { ClusterMetadata } from '../../proto/gen/sluice/v1/ClusterMetadata.ts';
import type { PartitionState } from '../../proto/gen/sluice/v1/PartitionState.ts';
import type { TopicState } from '../../proto/gen/sluice/v1/TopicState.ts';
import type { TopicSummary } from '../../proto/gen/sluice/v1/TopicSummary.ts';
import {
  isOffline,
  isUnderReplicated,
  liveBrokers,
  replicationFactorOf,
  type BrokerRecord,
  type ClusterState,
  type PartitionRecord,
  type TopicRecord,
} from './cluster-state.ts';

export function toBrokerEndpoint(b: BrokerRecord): BrokerEndpoint {
  return { broker_id: b.id, host: b.host, port: b.port, rack: b.rack };
}

export function toPartitionState(p: PartitionRecord): PartitionState {
  return {
    partition: p.partition,
    replicas: [...p.replicas],
    leader: p.leader,
    leader_epoch: p.leaderEpoch,
    isr: [...p.isr],
    partition_epoch: p.partitionEpoch,
    adding_replicas: [...p.addingReplicas],
    removing_replicas: [...p.removingReplicas],
    last_unclean_leader_epoch: p.lastUncleanLeaderEpoch,
  };
}

/**
 * `overrides`: the keys set on the topic (what brokers get, so a later default change reaches
 * topics that never set the key). `effective`: every known key with its value in force
 * (what DescribeTopic shows a user).
 */
export function toTopicState(t: TopicRecord, config: 'overrides' | 'effective'): TopicState {
  const values = config === 'effective' ? effectiveTopicConfig(t.config as Record<string, unknown>) : t.config;
  return {
    name: t.name,
    topic_id: t.topicId,
    config: topicConfigToStrings(values),
    partitions: t.partitions.map(toPartitionState),
  };
}

/**
 * The full snapshot pushed to brokers: live brokers (fenced ones left out) and every topic,
 * stamped with the term of the controller that sends it.
 */
export function toClusterMetadata(state: ClusterState, controllerId: number, controllerEpoch = 0): ClusterMetadata {
  return {
    version: state.metadataVersion,
    cluster_id: state.clusterId,
    controller_id: controllerId,
    controller_epoch: controllerEpoch,
    live_brokers: liveBrokers(state).map(toBrokerEndpoint),
    topics: state.topics.map((t) => toTopicState(t, 'overrides')),
  };
}

export function toTopicSummary(t: TopicRecord): TopicSummary {
  return {
    name: t.name,
    topic_id: t.topicId,
    partitions: t.partitions.length,
    replication_factor: replicationFactorOf(t),
    under_replicated_partitions: t.partitions.filter(isUnderReplicated).length,
    offline_partitions: t.partitions.filter(isOffline).length,
  };
}

const BROKER_STATES = {
  active: 'BROKER_STATE_ACTIVE',
  shutting_down: 'BROKER_STATE_SHUTTING_DOWN',
  fenced: 'BROKER_STATE_FENCED',
} as const;

export function toBrokerInfo(b: BrokerRecord): BrokerInfo {
  return { endpoint: toBrokerEndpoint(b), state: BROKER_STATES[b.state], broker_epoch: b.brokerEpoch };
}

export function offlinePartitionCount(state: ClusterState): number {
  let n = 0;
  for (const t of state.topics) n += t.partitions.filter(isOffline).length;
  return n;
}
