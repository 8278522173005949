import { describe, expect, it } from 'vitest';
import { alterTopic, createTopic, fenceBroker, findTopic, initialClusterState, registerBroker, type ClusterState } from './cluster-state.ts';
import { decodeClusterState, encodeClusterState } from './cluster-state-codec.ts';

function sample(): ClusterState {
  let s = initialClusterState('c-1');
  s = registerBroker(s, { brokerId: 1, incarnationId: 'a', host: 'h1', port: 9092, rack: 'zone-a' }).state;
  s = registerBroker(s, { brokerId: 2, incarnationId: 'b', host: 'h2', port: 9093, rack: '' }).state;
  s = createTopic(s, { name: 'orders', topicId: 'tid', partitions: 3, replicationFactor: 2, config: { 'retention.ms': '10', 'unclean.leader.election.enable': 'true' } }).state;
  return fenceBroker(s, { brokerId: 2, reason: 'session_expired' }).state;
}

/** The sample's JSON document with one edit applied to its state. */
function edited(edit: (state: Record<string, any>) => void): string {
  const doc = JSON.parse(encodeClusterState(sample()));
  edit(doc.state);
  return JSON.stringify(doc);
}

describe('cluster state codec', () => {
  it('round-trips a state exactly', () => {
    const s = sample();
    expect(decodeClusterState(encodeClusterState(s))).toEqual(s);
  });

  it('round-trips a reassignment in progress and a recorded unclean election', () => {
    let s = registerBroker(sample(), { brokerId: 3, incarnationId: 'c', host: 'h3', port: 9094, rack: '' }).state;
    s = alterTopic(s, { name: 'orders', partitions: 0, replicationFactor: 3, replaceConfig: false }).state;
    expect(findTopic(s, 'orders')!.partitions[0]!.addingReplicas).toEqual([3]);
    s = { ...s, topics: s.topics.map((t) => ({ ...t, partitions: t.partitions.map((p) => ({ ...p, lastUncleanLeaderEpoch: p.leaderEpoch })) })) };
    expect(decodeClusterState(encodeClusterState(s))).toEqual(s);
  });

  it('reads format 1 documents, which predate reassignments and unclean-election records', () => {
    const doc = JSON.parse(encodeClusterState(sample()));
    doc.format = 1;
    for (const p of doc.state.topics[0].partitions) {
      delete p.addingReplicas;
      delete p.removingReplicas;
      delete p.lastUncleanLeaderEpoch;
    }
    const s = decodeClusterState(JSON.stringify(doc));
    expect(findTopic(s, 'orders')!.partitions.map((p) => [p.addingReplicas, p.removingReplicas, p.lastUncleanLeaderEpoch])).toEqual([
      [[], [], -1],
      [[], [], -1],
      [[], [], -1],
    ]);
    // Format 2 requires them.
    expect(() => decodeClusterState(edited((st) => delete st.topics[0].partitions[1].removingReplicas))).toThrow('$.state.topics[0].partitions[1].removingReplicas is not an array');
  });

  it('names the field that has the wrong type', () => {
    expect(() => decodeClusterState(edited((s) => (s.brokers[1].brokerEpoch = '2')))).toThrow('$.state.brokers[1].brokerEpoch is "2", not an integer >= 0');
    expect(() => decodeClusterState(edited((s) => delete s.topics[0].partitions[2].isr))).toThrow('$.state.topics[0].partitions[2].isr is not an array');
    expect(() => decodeClusterState(edited((s) => (s.brokers[0].state = 'sleeping')))).toThrow('$.state.brokers[0].state is "sleeping"');
  });

  it('refuses states that break an invariant', () => {
    expect(() => decodeClusterState(edited((s) => (s.topics[0].partitions[0].isr = [])))).toThrow(/orders-0 has an empty ISR/);
    expect(() => decodeClusterState(edited((s) => (s.nextBrokerEpoch = 1)))).toThrow(/outside 1..0/);
    expect(() => decodeClusterState(edited((s) => (s.topics[0].config['retention.ms'] = -5)))).toThrow(/retention.ms/);
    expect(() =>
      decodeClusterState(
        edited((s) => {
          const p = s.topics[0].partitions[0];
          p.leader = p.replicas.find((r: number) => r !== p.leader) ?? 99;
        }),
      ),
    ).toThrow(/orders-0 is led by/);
    const withThird = (edit: (p: Record<string, any>) => void) =>
      edited((st) => {
        st.brokers.push({ id: 3, host: 'h3', port: 9094, rack: '', incarnationId: 'c', brokerEpoch: 3, state: 'active' });
        st.nextBrokerEpoch = 4;
        edit(st.topics[0].partitions[0]);
      });
    expect(() => decodeClusterState(withThird((p) => (p.addingReplicas = [3])))).toThrow(/orders-0 has adding replicas \[3\] outside its target replicas/);
    expect(() => decodeClusterState(withThird((p) => ((p.replicas = [...p.replicas, 3]), (p.removingReplicas = [p.replicas[0]]))))).toThrow(/removing replicas .* not a proper tail/);
    // Replicas [x, y, 3] with 3 being added and already in the ISR: nothing holds it back.
    expect(() => decodeClusterState(withThird((p) => ((p.replicas = [...p.replicas, 3]), (p.isr = [...p.isr, 3]), (p.addingReplicas = [3]))))).toThrow(/orders-0 has a reassignment that could complete but has not/);
    expect(() => decodeClusterState(edited((st) => (st.topics[0].partitions[0].lastUncleanLeaderEpoch = 99)))).toThrow(/last unclean leader epoch 99, outside -1\.\./);
  });

  it('refuses text that is not JSON and documents of another format', () => {
    expect(() => decodeClusterState('{"format": 1, "state": {')).toThrow(/not valid JSON/);
    expect(() => decodeClusterState(JSON.stringify({ format: 3, state: {} }))).toThrow('$.format is 3; this controller reads formats 1 and 2');
    expect(() => decodeClusterState('[]')).toThrow('$ is not an object');
  });
});
