import { describe, expect, it } from 'vitest';
import { createTopic, fenceBroker, initialClusterState, registerBroker, type ClusterState } from './cluster-state.ts';
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
  });

  it('refuses text that is not JSON and documents of another format', () => {
    expect(() => decodeClusterState('{"format": 1, "state": {')).toThrow(/not valid JSON/);
    expect(() => decodeClusterState(JSON.stringify({ format: 2, state: {} }))).toThrow('$.format is 2; this controller reads format 1');
    expect(() => decodeClusterState('[]')).toThrow('$ is not an object');
  });
});
