import { describe, expect, it } from 'vitest';
import { DEFAULT_TOPIC_CONFIG, TOPIC_CONFIG_KEYS } from '../../common/topic-config.ts';
import { alterPartition, alterTopic, controlledShutdown, createTopic, fenceBroker, findBroker, findTopic, initialClusterState, registerBroker, type ClusterState } from './cluster-state.ts';
import { offlinePartitionCount, toBrokerInfo, toClusterMetadata, toTopicState, toTopicSummary } from './metadata-view.ts';

function threeBrokers(): ClusterState {
  let s = initialClusterState('c-1');
  for (const id of [1, 2, 3]) s = registerBroker(s, { brokerId: id, incarnationId: `i${id}`, host: `h${id}`, port: 9000 + id, rack: id === 1 ? 'zone-a' : '' }).state;
  return s;
}

describe('metadata view', () => {
  it('pushes live brokers only (stopping ones still serve) and every topic with its overrides as strings', () => {
    let s = threeBrokers();
    s = createTopic(s, { name: 'orders', topicId: 'tid', partitions: 2, replicationFactor: 3, config: { 'retention.ms': 5, 'unclean.leader.election.enable': true } }).state;
    s = fenceBroker(s, { brokerId: 3, reason: 'session_expired' }).state;
    s = controlledShutdown(s, { brokerId: 2, brokerEpoch: findBroker(s, 2)!.brokerEpoch }).state;
    const m = toClusterMetadata(s, 1000);
    expect(m).toMatchObject({ version: s.metadataVersion, cluster_id: 'c-1', controller_id: 1000 });
    expect(m.live_brokers).toEqual([
      { broker_id: 1, host: 'h1', port: 9001, rack: 'zone-a' },
      { broker_id: 2, host: 'h2', port: 9002, rack: '' },
    ]);
    expect(m.topics).toHaveLength(1);
    expect(m.topics![0]!.config).toEqual({ 'retention.ms': '5', 'unclean.leader.election.enable': 'true' });
    expect(m.topics![0]!.partitions![0]).toMatchObject({ partition: 0, adding_replicas: [], removing_replicas: [] });
  });

  it('describes a topic with the effective value of every known key', () => {
    let s = threeBrokers();
    s = createTopic(s, { name: 'orders', topicId: 'tid', partitions: 1, replicationFactor: 1, config: { 'cleanup.policy': 'compact' } }).state;
    const config = toTopicState(findTopic(s, 'orders')!, 'effective').config!;
    expect(Object.keys(config).sort()).toEqual([...TOPIC_CONFIG_KEYS].sort());
    expect(config['cleanup.policy']).toBe('compact');
    expect(config['retention.ms']).toBe(String(DEFAULT_TOPIC_CONFIG['retention.ms']));
  });

  it('counts under-replicated (|ISR| < |replicas|) and offline (no leader) partitions', () => {
    let s = threeBrokers();
    s = createTopic(s, { name: 'orders', topicId: 'tid', partitions: 3, replicationFactor: 2 }).state;
    s = createTopic(s, { name: 'solo', topicId: 'tid2', partitions: 3, replicationFactor: 1 }).state;
    const p0 = findTopic(s, 'orders')!.partitions[0]!;
    s = alterPartition(s, { brokerId: p0.leader, brokerEpoch: findBroker(s, p0.leader)!.brokerEpoch, topic: 'orders', partition: 0, leaderEpoch: 0, partitionEpoch: 0, newIsr: [p0.leader] }).state;
    expect(toTopicSummary(findTopic(s, 'orders')!)).toEqual({
      name: 'orders', topic_id: 'tid', partitions: 3, replication_factor: 2, under_replicated_partitions: 1, offline_partitions: 0,
    });
    s = fenceBroker(s, { brokerId: 1, reason: 'session_expired' }).state;
    const solo = toTopicSummary(findTopic(s, 'solo')!);
    expect(solo.offline_partitions).toBe(1);
    expect(offlinePartitionCount(s)).toBe(solo.offline_partitions! + toTopicSummary(findTopic(s, 'orders')!).offline_partitions!);
  });

  it('shows a reassignment: the full replica set with what is being added and removed, the target replication factor, and under-replication against the target', () => {
    let s = threeBrokers();
    s = createTopic(s, { name: 'orders', topicId: 'tid', partitions: 1, replicationFactor: 1 }).state;
    s = alterTopic(s, { name: 'orders', partitions: 0, replicationFactor: 2, replaceConfig: false }).state;
    const t = findTopic(s, 'orders')!;
    const p = t.partitions[0]!;
    expect(toTopicState(t, 'overrides').partitions![0]).toMatchObject({ replicas: p.replicas, isr: [p.leader], adding_replicas: p.addingReplicas, removing_replicas: [] });
    expect(p.replicas).toHaveLength(2);
    expect(p.addingReplicas).toHaveLength(1);
    expect(toTopicSummary(t)).toMatchObject({ replication_factor: 2, under_replicated_partitions: 1 });

    // A shrink that completes at once: replicas and the factor drop together, nothing under-replicated.
    s = alterTopic(s, { name: 'orders', partitions: 0, replicationFactor: 1, replaceConfig: false }).state;
    expect(toTopicSummary(findTopic(s, 'orders')!)).toMatchObject({ replication_factor: 1, under_replicated_partitions: 0 });
  });

  it('reports broker state and epoch', () => {
    let s = threeBrokers();
    s = fenceBroker(s, { brokerId: 2, reason: 'session_expired' }).state;
    expect(s.brokers.map(toBrokerInfo).map((b) => [b.state, b.broker_epoch])).toEqual([
      ['BROKER_STATE_ACTIVE', 1],
      ['BROKER_STATE_FENCED', 2],
      ['BROKER_STATE_ACTIVE', 3],
    ]);
  });
});
