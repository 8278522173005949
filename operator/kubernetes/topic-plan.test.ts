import { describe, expect, it } from 'vitest';
import { createTopic, initialClusterState, registerBroker, type ClusterState } from '../core/cluster-state.ts';
import { planTopic } from './topic-plan.ts';
import type { TopicObject, TopicSpec } from './topic-resource.ts';

function cluster(brokers: number): ClusterState {
  let s = initialClusterState('c');
  for (let id = 0; id < brokers; id++) s = registerBroker(s, { brokerId: id, incarnationId: `i${id}`, host: 'h', port: 9000 + id, rack: '' }).state;
  return s;
}

function obj(name: string, spec: TopicSpec, uid = `uid-${name}`, generation = 1): TopicObject {
  return { metadata: { name, uid, generation, resourceVersion: '1' }, spec };
}

const names = () => undefined;

describe('planTopic', () => {
  it('plans a create with the object uid as topic id and spec.topicName as name', () => {
    const plan = planTopic(obj('orders-v1', { partitions: 3, topicName: 'Orders', config: { 'retention.ms': 5 } }), cluster(3), names);
    expect(plan).toEqual({ kind: 'create', input: { name: 'Orders', topicId: 'uid-orders-v1', partitions: 3, replicationFactor: 0, config: { 'retention.ms': 5 } } });
  });

  it('refuses more replicas than active brokers, saying what to change', () => {
    const plan = planTopic(obj('t', { partitions: 1, replicationFactor: 4 }), cluster(3), names);
    expect(plan).toEqual({
      kind: 'refuse',
      refusal: { reason: 'NotEnoughBrokers', message: 'spec.replicationFactor is 4 but 3 brokers are registered and active (0, 1, 2); lower spec.replicationFactor to at most 3, or add broker pods' },
    });
    expect(planTopic(obj('t', { partitions: 1 }), cluster(0), names)).toMatchObject({ kind: 'refuse', refusal: { reason: 'NotEnoughBrokers' } });
  });

  it('refuses an invalid config with the core\'s message under spec.config', () => {
    const plan = planTopic(obj('t', { partitions: 1, replicationFactor: 2, config: { 'min.insync.replicas': 3 } }), cluster(3), names);
    expect(plan).toMatchObject({ kind: 'refuse', refusal: { reason: 'InvalidConfig', message: expect.stringMatching(/^spec\.config: min\.insync\.replicas \(3\) is larger than the replication factor \(2\)/) } });
  });

  it('refuses a topic name another Topic already created, naming that Topic', () => {
    const s = createTopic(cluster(3), { name: 'orders', topicId: 'uid-a', partitions: 1, replicationFactor: 1 }).state;
    const plan = planTopic(obj('b', { partitions: 1, topicName: 'orders' }), s, (id) => (id === 'uid-a' ? 'a' : undefined));
    expect(plan).toMatchObject({ kind: 'refuse', refusal: { reason: 'TopicNameConflict', message: 'topic "orders" already exists, created by Topic a; give this Topic another spec.topicName (or delete the other one first)' } });
  });

  describe('for a topic the object created', () => {
    const base = createTopic(cluster(3), { name: 'orders', topicId: 'uid-orders', partitions: 4, replicationFactor: 2, config: { 'retention.ms': 5 } }).state;

    it('does nothing when the spec matches', () => {
      expect(planTopic(obj('orders', { partitions: 4, replicationFactor: 2, config: { 'retention.ms': 5 } }, 'uid-orders'), base, names)).toMatchObject({ kind: 'none' });
      // Leaving replicationFactor out keeps the one in force.
      expect(planTopic(obj('orders', { partitions: 4, config: { 'retention.ms': 5 } }, 'uid-orders'), base, names)).toMatchObject({ kind: 'none' });
    });

    it('plans partition growth, a replication factor change and a whole-config replacement', () => {
      const plan = planTopic(obj('orders', { partitions: 6, replicationFactor: 3 }, 'uid-orders'), base, names);
      expect(plan).toMatchObject({ kind: 'alter', input: { name: 'orders', partitions: 6, replicationFactor: 3, config: {}, replaceConfig: true } });
    });

    it('refuses a partition decrease, a rename, and growth beyond the brokers', () => {
      expect(planTopic(obj('orders', { partitions: 2 }, 'uid-orders'), base, names)).toMatchObject({
        kind: 'refuse',
        refusal: { reason: 'PartitionDecrease', message: expect.stringContaining('set spec.partitions to 4 or more') },
      });
      expect(planTopic(obj('orders', { partitions: 4, topicName: 'other' }, 'uid-orders'), base, names)).toMatchObject({ kind: 'refuse', refusal: { reason: 'TopicNameImmutable' } });
      expect(planTopic(obj('orders', { partitions: 4, replicationFactor: 5 }, 'uid-orders'), base, names)).toMatchObject({ kind: 'refuse', refusal: { reason: 'NotEnoughBrokers' } });
    });

    it('refuses lowering the replication factor below min.insync.replicas', () => {
      const s = createTopic(cluster(3), { name: 'safe', topicId: 'uid-safe', partitions: 1, replicationFactor: 3, config: { 'min.insync.replicas': 2 } }).state;
      const plan = planTopic(obj('safe', { partitions: 1, replicationFactor: 1, config: { 'min.insync.replicas': 2 } }, 'uid-safe'), s, names);
      expect(plan).toMatchObject({ kind: 'refuse', refusal: { reason: 'InvalidReplicationFactor', message: expect.stringContaining('lower min.insync.replicas to 1') } });
    });
  });
});
