import { describe, expect, it } from 'vitest';
import { createTopic, fenceBroker, initialClusterState, registerBroker, type ClusterState } from '../core/cluster-state.ts';
import { toPersistedTopic } from './topic-resource.ts';
import { buildTopicStatus, type StatusInput } from './topic-status.ts';

function state(rf: number): ClusterState {
  let s = initialClusterState('c');
  for (let id = 0; id < 3; id++) s = registerBroker(s, { brokerId: id, incarnationId: `i${id}`, host: 'h', port: 9000 + id, rack: '' }).state;
  return createTopic(s, { name: 't', topicId: 'u', partitions: 2, replicationFactor: rf }).state;
}

const t0 = new Date('2025-01-01T00:00:00.123Z');
const input = (s: ClusterState, over: Partial<StatusInput> = {}): StatusInput => ({
  persisted: toPersistedTopic(s.topics[0]!, s.metadataVersion),
  verdict: { observedGeneration: 3 },
  generation: 3,
  previous: undefined,
  now: t0,
  ...over,
});
const cond = (status: ReturnType<typeof buildTopicStatus>, type: string) => status.conditions?.find((c) => c.type === type);

describe('buildTopicStatus', () => {
  it('is Ready when the generation is carried out and every partition is led', () => {
    const status = buildTopicStatus(input(state(3)));
    expect(status).toMatchObject({ observedGeneration: 3, topicId: 'u', topicName: 't', replicationFactor: 3, underReplicatedPartitions: 0, offlinePartitions: 0 });
    expect(status.conditions).toEqual([
      { type: 'Ready', status: 'True', reason: 'Reconciled', message: '2 partitions with replication factor 3, every one led', lastTransitionTime: '2025-01-01T00:00:00Z', observedGeneration: 3 },
      { type: 'Reconciling', status: 'False', reason: 'Reconciled', message: 'the spec is carried out', lastTransitionTime: '2025-01-01T00:00:00Z', observedGeneration: 3 },
      { type: 'Degraded', status: 'False', reason: 'Healthy', message: 'every partition has all its replicas in sync', lastTransitionTime: '2025-01-01T00:00:00Z', observedGeneration: 3 },
    ]);
  });

  it('is not Ready while a newer generation waits, nor when refused (with the refusal as reason and message)', () => {
    const s = state(3);
    expect(cond(buildTopicStatus(input(s, { generation: 4 })), 'Ready')).toMatchObject({ status: 'False', reason: 'Progressing' });
    const refused = buildTopicStatus(input(s, { verdict: { observedGeneration: 3, refusal: { reason: 'NotEnoughBrokers', message: 'add brokers' } } }));
    expect(cond(refused, 'Ready')).toMatchObject({ status: 'False', reason: 'NotEnoughBrokers', message: 'add brokers' });
    expect(cond(refused, 'Reconciling')).toMatchObject({ status: 'False', reason: 'NotEnoughBrokers' });
    // The partitions it has keep working and are still shown.
    expect(refused.partitions).toHaveLength(2);
  });

  it('reports offline and under-replicated partitions as Degraded, and offline ones as not Ready', () => {
    const one = state(1);
    const leader = one.topics[0]!.partitions[0]!.leader;
    const offline = fenceBroker(one, { brokerId: leader, reason: 'session_expired' }).state;
    const s = buildTopicStatus(input(offline));
    expect(s.offlinePartitions).toBe(1);
    expect(cond(s, 'Ready')).toMatchObject({ status: 'False', reason: 'OfflinePartitions', message: expect.stringContaining(`in-sync replicas returns (broker ${leader})`) });
    expect(cond(s, 'Degraded')).toMatchObject({ status: 'True', reason: 'OfflinePartitions' });

    const under = fenceBroker(state(3), { brokerId: 2, reason: 'session_expired' }).state;
    const u = buildTopicStatus(input(under));
    expect(u.underReplicatedPartitions).toBe(2);
    expect(cond(u, 'Ready')).toMatchObject({ status: 'True' });
    expect(cond(u, 'Degraded')).toMatchObject({ status: 'True', reason: 'UnderReplicated' });
  });

  it('keeps lastTransitionTime while a condition\'s status stays, and moves it when the status changes', () => {
    const s = state(3);
    const first = buildTopicStatus(input(s));
    const later = new Date('2025-01-02T00:00:00Z');
    const same = buildTopicStatus(input(s, { previous: first, now: later, generation: 3 }));
    expect(cond(same, 'Ready')?.lastTransitionTime).toBe('2025-01-01T00:00:00Z');
    const changed = buildTopicStatus(input(s, { previous: first, now: later, generation: 4 }));
    expect(cond(changed, 'Ready')?.lastTransitionTime).toBe('2025-01-02T00:00:00Z');
    expect(cond(changed, 'Degraded')?.lastTransitionTime).toBe('2025-01-01T00:00:00Z');
  });

  it('says Creating before anything was persisted, and Deleting while the data is removed', () => {
    const creating = buildTopicStatus({ persisted: undefined, verdict: undefined, generation: 1, previous: undefined, now: t0 });
    expect(cond(creating, 'Ready')).toMatchObject({ status: 'False', reason: 'Creating' });
    expect(cond(creating, 'Degraded')).toMatchObject({ status: 'Unknown', reason: 'NotCreated' });
    expect(creating.partitions).toBeUndefined();
    const deleting = buildTopicStatus(input(state(3), { verdict: { observedGeneration: 3, deleting: true } }));
    expect(cond(deleting, 'Ready')).toMatchObject({ status: 'False', reason: 'Deleting' });
  });
});
