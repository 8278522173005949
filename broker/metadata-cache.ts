// The broker's copy of the cluster metadata the controller pushed: which brokers are alive and
// where, which topics exist, and each partition's replicas, leader and ISR. Client requests
// for partitions this broker does not lead are answered from here (NOT_LEADER naming the
// leader), and MetadataService serves it as is.
import { SluiceError } from '../common/errors.ts';
import { DEFAULT_TOPIC_CONFIG, parseTopicConfig, type TopicConfig } from '../common/topic-config.ts';
import type { BrokerEndpoint__Output } from '../proto/gen/sluice/v1/BrokerEndpoint.ts';
import type { ClusterMetadata__Output } from '../proto/gen/sluice/v1/ClusterMetadata.ts';
import type { PartitionState__Output } from '../proto/gen/sluice/v1/PartitionState.ts';

export interface CachedTopic {
  readonly name: string;
  readonly topicId: string;
  /** Overrides as the controller sent them. */
  readonly overrides: Readonly<Record<string, string>>;
  /** Defaults with the overrides applied. */
  readonly config: TopicConfig;
  /** Indexed by partition number. */
  readonly partitions: readonly (PartitionState__Output | undefined)[];
}

export class MetadataCache {
  #version = -1;
  #clusterId = '';
  #controllerId = -1;
  #topics = new Map<string, CachedTopic>();
  #brokers = new Map<number, BrokerEndpoint__Output>();

  get version(): number {
    return this.#version;
  }

  get clusterId(): string {
    return this.#clusterId;
  }

  get controllerId(): number {
    return this.#controllerId;
  }

  /**
   * Replaces the cache with a full snapshot. Returns the config problems found (a key the
   * broker does not know, a value out of range): those keys fall back to their defaults so
   * one bad key cannot stop the broker from serving the topic.
   */
  update(metadata: ClusterMetadata__Output): string[] {
    const problems: string[] = [];
    const topics = new Map<string, CachedTopic>();
    for (const t of metadata.topics) {
      const partitions: (PartitionState__Output | undefined)[] = [];
      for (const p of t.partitions) partitions[p.partition] = p;
      topics.set(t.name, {
        name: t.name,
        topicId: t.topic_id,
        overrides: t.config,
        config: topicConfigOf(t.name, t.config, problems),
        partitions,
      });
    }
    const brokers = new Map<number, BrokerEndpoint__Output>();
    for (const b of metadata.live_brokers) brokers.set(b.broker_id, b);
    this.#topics = topics;
    this.#brokers = brokers;
    this.#version = metadata.version;
    this.#clusterId = metadata.cluster_id;
    this.#controllerId = metadata.controller_id;
    return problems;
  }

  topic(name: string): CachedTopic | undefined {
    return this.#topics.get(name);
  }

  topics(): IterableIterator<CachedTopic> {
    return this.#topics.values();
  }

  partition(topic: string, partition: number): PartitionState__Output | undefined {
    return this.#topics.get(topic)?.partitions[partition];
  }

  liveBrokers(): IterableIterator<BrokerEndpoint__Output> {
    return this.#brokers.values();
  }

  isAlive(brokerId: number): boolean {
    return this.#brokers.has(brokerId);
  }

  /** host:port of a live broker, '' when it is not alive or unknown. */
  brokerAddress(brokerId: number): string {
    const b = this.#brokers.get(brokerId);
    return b ? `${b.host}:${b.port}` : '';
  }

  /**
   * The error for a client request about a partition this broker cannot serve as leader:
   * NOT_LEADER naming the leader when there is one, LEADER_NOT_AVAILABLE while the partition
   * is offline or its leadership is still being applied here, UNKNOWN_TOPIC_OR_PARTITION when
   * the metadata has no such partition.
   */
  notLeaderError(topic: string, partition: number, selfId: number): SluiceError {
    const state = this.partition(topic, partition);
    if (state === undefined) {
      const t = this.#topics.get(topic);
      const message = t
        ? `topic "${topic}" has ${t.partitions.length} partitions; partition ${partition} does not exist`
        : `topic "${topic}" does not exist`;
      return new SluiceError('UNKNOWN_TOPIC_OR_PARTITION', message, { topic, partition });
    }
    if (state.leader < 0) {
      return new SluiceError('LEADER_NOT_AVAILABLE', `${topic}-${partition} has no leader (no in-sync replica is alive); retry later`, { topic, partition, leaderEpoch: state.leader_epoch });
    }
    if (state.leader === selfId) {
      return new SluiceError('LEADER_NOT_AVAILABLE', `broker ${selfId} is becoming the leader of ${topic}-${partition}; retry shortly`, { topic, partition, leaderId: selfId, leaderEpoch: state.leader_epoch });
    }
    return new SluiceError('NOT_LEADER', `broker ${selfId} is not the leader of ${topic}-${partition}; broker ${state.leader} is`, {
      topic,
      partition,
      leaderId: state.leader,
      leaderAddress: this.brokerAddress(state.leader),
      leaderEpoch: state.leader_epoch,
    });
  }
}

function topicConfigOf(topic: string, overrides: Record<string, string>, problems: string[]): TopicConfig {
  const config: Record<string, unknown> = { ...DEFAULT_TOPIC_CONFIG };
  for (const [key, value] of Object.entries(overrides)) {
    try {
      Object.assign(config, parseTopicConfig({ [key]: value }));
    } catch (err) {
      problems.push(`topic "${topic}": ${(err as Error).message}`);
    }
  }
  return config as unknown as TopicConfig;
}
