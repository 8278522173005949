import { describe, expect, it } from 'vitest';
import { clusterStateViolations } from '../core/cluster-invariants.ts';
import { createTopic, fenceBroker, initialClusterState, registerBroker, type ClusterState } from '../core/cluster-state.ts';
import { clusterRecordOf, decodeClusterRecord, encodeClusterRecord } from './cluster-record.ts';
import { loadClusterRecord } from './leader-session.ts';
import { assembleClusterState, takeover } from './state-loader.ts';
import { toPersistedTopic, type TopicObject } from './topic-resource.ts';
import { buildTopicStatus } from './topic-status.ts';

function cluster(): ClusterState {
  let s = initialClusterState('cluster-1');
  for (let id = 0; id < 3; id++) s = registerBroker(s, { brokerId: id, incarnationId: `i${id}`, host: 'h', port: 9000 + id, rack: '' }).state;
  s = createTopic(s, { name: 'orders', topicId: 'uid-orders', partitions: 3, replicationFactor: 3 }).state;
  return createTopic(s, { name: 'logs', topicId: 'uid-logs', partitions: 1, replicationFactor: 2 }).state;
}

/** The Topic objects a state persists into. */
function objects(s: ClusterState, version = s.metadataVersion): TopicObject[] {
  return s.topics.map((t) => ({
    metadata: { name: t.name, uid: t.topicId, generation: 1 },
    spec: { partitions: t.partitions.length },
    status: buildTopicStatus({ persisted: toPersistedTopic(t, version), verdict: { observedGeneration: 1 }, generation: 1, previous: undefined, now: new Date(0) }),
  }));
}

describe('loading the persisted state', () => {
  it('round-trips: the cluster record and Topic statuses give back the state', () => {
    const s = cluster();
    const record = decodeClusterRecord(encodeClusterRecord(clusterRecordOf(s)));
    const loaded = assembleClusterState(record, objects(s));
    expect(loaded.state).toEqual(s);
    expect([...loaded.objectNames]).toEqual([['uid-logs', 'logs'], ['uid-orders', 'orders']]);
    expect(loaded.ignored).toEqual([]);
  });

  it('takes the highest metadata version of the record and the topics, and leaves out Topics being deleted or not their own', () => {
    const s = cluster();
    const record = { ...clusterRecordOf(s), metadataVersion: s.metadataVersion - 3 };
    const objs = objects(s, s.metadataVersion + 4);
    objs[0]!.metadata.deletionTimestamp = new Date();
    objs[1]!.metadata.uid = 'restored-from-backup';
    const loaded = assembleClusterState(record, objs);
    expect(loaded.state.metadataVersion).toBe(s.metadataVersion - 3);
    expect(loaded.state.topics).toEqual([]);
    expect(loaded.ignored).toEqual([{ name: 'orders', problem: 'status.topicId uid-orders is not this object\'s uid restored-from-backup' }]);
    expect(assembleClusterState(record, objects(s, s.metadataVersion + 4)).state.metadataVersion).toBe(s.metadataVersion + 4);
  });

  it('repairs what a leader that died between writes leaves: a broker the record has fenced still leading in a topic', () => {
    // Broker 0 was fenced and came back; the topic statuses were written with it elected again,
    // but the cluster record still says fenced.
    let s0 = registerBroker(initialClusterState('c'), { brokerId: 0, incarnationId: 'i0', host: 'h', port: 9000, rack: '' }).state;
    s0 = createTopic(s0, { name: 'solo', topicId: 'uid-solo', partitions: 2, replicationFactor: 1 }).state;
    const fenced = fenceBroker(s0, { brokerId: 0, reason: 'session_expired' }).state;
    expect(fenced.topics[0]!.partitions.every((p) => p.leader === -1)).toBe(true);
    const back = registerBroker(fenced, { brokerId: 0, incarnationId: 'i0', host: 'h', port: 9000, rack: '' }).state;
    const loaded = assembleClusterState(clusterRecordOf(fenced), objects(back));
    expect(clusterStateViolations(loaded.state).length).toBeGreaterThan(0);
    const outcome = takeover(loaded.state);
    expect(outcome.result.refenced).toEqual([0]);
    expect(clusterStateViolations(outcome.state)).toEqual([]);
    // Offline again, with new epochs, until broker 0 registers again and is elected again.
    for (const t of outcome.state.topics) for (const p of t.partitions) expect(p).toMatchObject({ leader: -1, leaderEpoch: 3 });
    expect(outcome.state.metadataVersion).toBeGreaterThan(loaded.state.metadataVersion);
  });

  it('moves the metadata version past anything pushed before, even with nothing to repair', () => {
    const s = cluster();
    const outcome = takeover(s);
    expect(outcome.state.metadataVersion).toBe(s.metadataVersion + 1);
    expect(outcome.events).toEqual([]);
    expect(outcome.state.topics).toBe(s.topics);
  });

  it('refuses a state that breaks an invariant it cannot repair', () => {
    const s = cluster();
    expect(() => takeover({ ...s, brokers: s.brokers.filter((b) => b.id !== 2) })).toThrow(/the persisted state is inconsistent: .*replica 2, an unknown broker/);
  });

  it('starts a new cluster only when no Topic has persisted state, never over existing data', () => {
    expect(loadClusterRecord({}, [], () => 'fresh')).toMatchObject({ clusterId: 'fresh', metadataVersion: 0, nextBrokerEpoch: 1, brokers: [] });
    expect(() => loadClusterRecord({}, objects(cluster()), () => 'fresh')).toThrow(/the cluster record .* was lost/);
    expect(() => loadClusterRecord({ 'sluice.dev/cluster-state': '{"format":9}' }, [], () => 'x')).toThrow(/format 9/);
  });
});
