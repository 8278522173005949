import { describe, expect, it } from 'vitest';
import { alterPartition, createTopic, deleteTopic, electPreferredLeaders, fenceBroker, findBroker, findTopic, initialClusterState, registerBroker, type ClusterState } from './cluster-state.ts';
import { electionHistoryViolations, electionsIn, type ElectionRecord } from './election-history.ts';

function cluster(...ids: number[]): ClusterState {
  let s = initialClusterState('c');
  for (const id of ids) s = registerBroker(s, { brokerId: id, incarnationId: `i${id}`, host: 'h', port: 9000 + id, rack: '' }).state;
  return s;
}

const record = (r: Partial<ElectionRecord>): ElectionRecord => ({
  topic: 'orders', topicId: 't1', partition: 0, leaderEpoch: 1, leader: 2, previousLeader: 1, committedIsr: [1, 2], reason: 'fenced', unclean: false, ...r,
});

describe('electionsIn', () => {
  it('records each change that gave a partition a new leader, with the committed ISR it was chosen from', () => {
    let s = createTopic(cluster(1, 2, 3), { name: 'orders', topicId: 't1', partitions: 1, replicationFactor: 3 }).state;
    const p = findTopic(s, 'orders')!.partitions[0]!;
    const [first, second] = p.replicas as [number, number, number];
    const fenced = fenceBroker(s, { brokerId: first, reason: 'session_expired' });
    expect(electionsIn(fenced.events)).toEqual([
      { topic: 'orders', topicId: 't1', partition: 0, leaderEpoch: 1, leader: second, previousLeader: first, committedIsr: p.isr, reason: 'fenced', unclean: false },
    ]);
    // ISR changes and partitions going offline are no elections.
    s = fenced.state;
    const q = findTopic(s, 'orders')!.partitions[0]!;
    const shrink = alterPartition(s, { brokerId: second, brokerEpoch: findBroker(s, second)!.brokerEpoch, topic: 'orders', partition: 0, leaderEpoch: q.leaderEpoch, partitionEpoch: q.partitionEpoch, newIsr: [second] });
    expect(electionsIn(shrink.events)).toEqual([]);
    expect(electionsIn(fenceBroker(shrink.state, { brokerId: second, reason: 'session_expired' }).events)).toEqual([]);
  });
});

describe('electionHistoryViolations', () => {
  it('accepts a sound history, including a topic deleted and re-created under the same name', () => {
    let s = createTopic(cluster(1, 2), { name: 'orders', topicId: 't1', partitions: 1, replicationFactor: 2 }).state;
    const history: ElectionRecord[] = [];
    const leader = findTopic(s, 'orders')!.partitions[0]!.leader;
    let out = fenceBroker(s, { brokerId: leader, reason: 'session_expired' });
    history.push(...electionsIn(out.events));
    s = registerBroker(out.state, { brokerId: leader, incarnationId: `i${leader}`, host: 'h', port: 9000 + leader, rack: '' }).state;
    const p = findTopic(s, 'orders')!.partitions[0]!;
    s = alterPartition(s, { brokerId: p.leader, brokerEpoch: findBroker(s, p.leader)!.brokerEpoch, topic: 'orders', partition: 0, leaderEpoch: p.leaderEpoch, partitionEpoch: p.partitionEpoch, newIsr: [1, 2] }).state;
    const preferred = electPreferredLeaders(s);
    history.push(...electionsIn(preferred.events));
    s = createTopic(deleteTopic(preferred.state, 'orders').state, { name: 'orders', topicId: 't2', partitions: 1, replicationFactor: 2 }).state;
    history.push(...electionsIn(fenceBroker(s, { brokerId: findTopic(s, 'orders')!.partitions[0]!.leader, reason: 'session_expired' }).events));
    expect(history.map((r) => [r.topicId, r.leaderEpoch, r.reason])).toEqual([
      ['t1', 1, 'fenced'],
      ['t1', 2, 'preferred'],
      ['t2', 1, 'fenced'],
    ]);
    expect(electionHistoryViolations(history)).toEqual([]);
  });

  it('names a clean election from outside the committed ISR, a mislabelled or forbidden unclean one, and a reused epoch', () => {
    expect(electionHistoryViolations([record({ leader: 3 })])).toEqual(['orders-0 at leader epoch 1: leader 3 is outside the committed ISR [1,2] but the election is not recorded as unclean']);
    expect(electionHistoryViolations([record({ unclean: true })])).toEqual(['orders-0 at leader epoch 1: election recorded as unclean although leader 2 is in the committed ISR [1,2]']);
    expect(electionHistoryViolations([record({ leader: 3, unclean: true })])).toEqual([]);
    expect(electionHistoryViolations([record({ leader: 3, unclean: true })], () => false)).toEqual(['orders-0 at leader epoch 1: unclean election of leader 3 on a topic that does not allow it']);
    expect(electionHistoryViolations([record({ leaderEpoch: 4 }), record({ leaderEpoch: 4, leader: 1, previousLeader: 2 })])).toEqual([
      "orders-0 at leader epoch 4: leader epoch not above the previous election's 4 (an epoch reused)",
    ]);
  });
});
