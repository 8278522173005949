import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { SluiceError, type ErrorCode } from '../../common/errors.ts';
import {
  allocateProducerIds,
  alterPartition,
  alterTopic,
  changesBrokerMetadata,
  controlledShutdown,
  createTopic,
  deleteTopic,
  electPreferredLeaders,
  fenceBroker,
  findBroker,
  findTopic,
  initialClusterState,
  MAX_EPOCH_BUMP_PER_CHANGE,
  PRODUCER_ID_BLOCK_SIZE,
  preferredLeaderCandidates,
  registerBroker,
  skipPastLostChange,
  type ClusterEvent,
  type ClusterState,
  type PartitionRecord,
} from './cluster-state.ts';
import { clusterStateViolations } from './cluster-invariants.ts';
import { NO_LEADER } from './election.ts';
import { electionHistoryViolations, electionsIn, type ElectionRecord } from './election-history.ts';

const reg = (id: number, incarnationId = `inc-${id}`, rack = '') => ({ brokerId: id, incarnationId, host: '127.0.0.1', port: 9092 + id, rack });

function cluster(...ids: number[]): ClusterState {
  let s = initialClusterState('cluster-1');
  for (const id of ids) s = registerBroker(s, reg(id)).state;
  return s;
}

function withTopic(s: ClusterState, name: string, partitions: number, replicationFactor: number, config?: Record<string, unknown>): ClusterState {
  return createTopic(s, { name, topicId: `id-${name}`, partitions, replicationFactor, config }).state;
}

function partition(s: ClusterState, topic: string, p: number): PartitionRecord {
  return findTopic(s, topic)!.partitions[p]!;
}

function epochOf(s: ClusterState, id: number): number {
  return findBroker(s, id)!.brokerEpoch;
}

function refusal(fn: () => unknown): SluiceError {
  try {
    fn();
  } catch (e) {
    if (e instanceof SluiceError) return e;
    throw e;
  }
  throw new Error('expected a SluiceError');
}

function expectRefused(fn: () => unknown, code: ErrorCode, message: RegExp): void {
  const e = refusal(fn);
  expect(e.code).toBe(code);
  expect(e.message).toMatch(message);
}

/** Sets a partition's replicas/ISR/leader directly, for scenarios placement would not produce. */
function setPartition(s: ClusterState, topic: string, p: number, patch: Partial<PartitionRecord>): ClusterState {
  return {
    ...s,
    topics: s.topics.map((t) => (t.name !== topic ? t : { ...t, partitions: t.partitions.map((x) => (x.partition === p ? { ...x, ...patch } : x)) })),
  };
}

describe('createTopic', () => {
  it('places every partition, leads from the first replica, starts epochs at 0 and bumps the metadata version', () => {
    const s0 = cluster(1, 2, 3);
    const out = createTopic(s0, { name: 'orders', topicId: 'id-1', partitions: 6, replicationFactor: 2, config: { 'retention.ms': '1000', 'cleanup.policy': 'compact' } });
    const t = out.result;
    expect(t.partitions).toHaveLength(6);
    for (const p of t.partitions) {
      expect(p.replicas).toHaveLength(2);
      expect(p.leader).toBe(p.replicas[0]);
      expect(p.isr).toEqual(p.replicas);
      expect(p.leaderEpoch).toBe(0);
      expect(p.partitionEpoch).toBe(0);
    }
    expect(t.config).toEqual({ 'retention.ms': 1000, 'cleanup.policy': 'compact' });
    expect(out.state.metadataVersion).toBe(s0.metadataVersion + 1);
    expect(out.events).toEqual([{ type: 'topic_created', topic: 'orders', topicId: 'id-1', partitions: 6, replicationFactor: 2 }]);
  });

  it('defaults the replication factor to min(3, live brokers)', () => {
    expect(createTopic(cluster(1, 2, 3, 4), { name: 't', topicId: 'x', partitions: 1, replicationFactor: 0 }).result.partitions[0]!.replicas).toHaveLength(3);
    expect(createTopic(cluster(1), { name: 't', topicId: 'x', partitions: 1, replicationFactor: 0 }).result.partitions[0]!.replicas).toHaveLength(1);
  });

  it('places replicas on active brokers only', () => {
    let s = cluster(1, 2, 3);
    s = fenceBroker(s, { brokerId: 2, reason: 'session_expired' }).state;
    s = controlledShutdown(s, { brokerId: 3, brokerEpoch: epochOf(s, 3) }).state;
    const t = createTopic(s, { name: 't', topicId: 'x', partitions: 4, replicationFactor: 1 }).result;
    expect(t.partitions.every((p) => p.replicas[0] === 1)).toBe(true);
  });

  it('refuses bad requests with a code and a message that says what to change', () => {
    const s = withTopic(cluster(1, 2), 'orders', 3, 1);
    expectRefused(() => createTopic(s, { name: 'bad name!', topicId: 'x', partitions: 1, replicationFactor: 1 }), 'INVALID_TOPIC', /\[a-zA-Z0-9._-\]/);
    expectRefused(() => createTopic(s, { name: 'ok', topicId: 'x', partitions: 0, replicationFactor: 1 }), 'INVALID_PARTITIONS', /from 1 to 10000 \(got 0\)/);
    expectRefused(() => createTopic(s, { name: 'ok', topicId: 'x', partitions: 1, replicationFactor: 3 }), 'INVALID_REPLICATION_FACTOR', /2 brokers are live/);
    expectRefused(() => createTopic(s, { name: 'ok', topicId: 'x', partitions: 1, replicationFactor: 1, config: { 'retention.mss': '1' } }), 'INVALID_CONFIG', /unknown topic config key "retention.mss"; known keys: retention.ms/);
    expectRefused(() => createTopic(s, { name: 'ok', topicId: 'x', partitions: 1, replicationFactor: 1, config: { 'min.insync.replicas': '0' } }), 'INVALID_CONFIG', /min.insync.replicas/);
    expectRefused(() => createTopic(s, { name: 'orders', topicId: 'x', partitions: 1, replicationFactor: 1 }), 'TOPIC_ALREADY_EXISTS', /already exists with 3 partitions; use AlterTopic/);
    expectRefused(() => createTopic(s, { name: 'other', topicId: 'id-orders', partitions: 1, replicationFactor: 1 }), 'INVALID_REQUEST', /topic id/);
    expectRefused(() => createTopic(initialClusterState('c'), { name: 'x', topicId: 'x', partitions: 1, replicationFactor: 0 }), 'INVALID_REPLICATION_FACTOR', /no broker is live/);
  });
});

describe('min.insync.replicas and the replication factor', () => {
  const tooHigh = (minIsr: number, rf: number): RegExp =>
    new RegExp(
      `^min\\.insync\\.replicas \\(${minIsr}\\) is larger than the replication factor \\(${rf}\\): acks=all writes could never succeed; lower min\\.insync\\.replicas or raise the replication factor$`,
    );

  it('refuses a topic created with min.insync.replicas above its replication factor', () => {
    const s = cluster(1, 2, 3);
    expectRefused(() => createTopic(s, { name: 't', topicId: 'x', partitions: 1, replicationFactor: 2, config: { 'min.insync.replicas': '3' } }), 'INVALID_CONFIG', tooHigh(3, 2));
    // Also against the default replication factor, min(3, live brokers).
    expectRefused(() => createTopic(cluster(1), { name: 't', topicId: 'x', partitions: 1, replicationFactor: 0, config: { 'min.insync.replicas': 2 } }), 'INVALID_CONFIG', tooHigh(2, 1));
    expect(createTopic(s, { name: 't', topicId: 'x', partitions: 1, replicationFactor: 2, config: { 'min.insync.replicas': '2' } }).result.config['min.insync.replicas']).toBe(2);
  });

  it('refuses a config-only change that raises min.insync.replicas above the replication factor', () => {
    const s = withTopic(cluster(1, 2, 3), 'orders', 2, 2);
    expectRefused(() => alterTopic(s, { name: 'orders', partitions: 0, replicationFactor: 0, config: { 'min.insync.replicas': 3 }, replaceConfig: false }), 'INVALID_CONFIG', tooHigh(3, 2));
    expect(alterTopic(s, { name: 'orders', partitions: 0, replicationFactor: 0, config: { 'min.insync.replicas': 2 }, replaceConfig: false }).result.config['min.insync.replicas']).toBe(2);
  });

  it('checks the replication factor a change asks for, raised or lowered', () => {
    const s = withTopic(cluster(1, 2, 3, 4), 'orders', 1, 1);
    expectRefused(() => alterTopic(s, { name: 'orders', partitions: 0, replicationFactor: 2, config: { 'min.insync.replicas': 3 }, replaceConfig: false }), 'INVALID_CONFIG', tooHigh(3, 2));
    expect(alterTopic(s, { name: 'orders', partitions: 0, replicationFactor: 3, config: { 'min.insync.replicas': 3 }, replaceConfig: false }).result.config['min.insync.replicas']).toBe(3);
    const three = withTopic(cluster(1, 2, 3), 'orders', 1, 3, { 'min.insync.replicas': 2 });
    expectRefused(() => alterTopic(three, { name: 'orders', partitions: 0, replicationFactor: 1, replaceConfig: false }), 'INVALID_REPLICATION_FACTOR', /from 3 to 1 would leave fewer replicas than its min\.insync\.replicas \(2\)/);
  });
});

describe('alterTopic', () => {
  it('adds partitions without moving existing ones, balancing the new ones over the load', () => {
    let s = withTopic(cluster(1, 2), 'orders', 2, 2);
    const before = findTopic(s, 'orders')!.partitions;
    s = registerBroker(s, reg(3)).state;
    const out = alterTopic(s, { name: 'orders', partitions: 3, replicationFactor: 0, replaceConfig: false });
    const after = out.result.partitions;
    expect(after.slice(0, 2)).toEqual(before);
    expect(after[2]).toMatchObject({ partition: 2, leader: 3, leaderEpoch: 0, partitionEpoch: 0 });
    expect(after[2]!.replicas).toHaveLength(2);
    expect(out.events).toEqual([{ type: 'topic_altered', topic: 'orders', addedPartitions: 1, configChanged: false, previousReplicationFactor: 2, replicationFactor: 2 }]);
  });

  it('never shrinks partitions', () => {
    const s = withTopic(cluster(1), 'orders', 6, 1);
    expectRefused(() => alterTopic(s, { name: 'orders', partitions: 4, replicationFactor: 0, replaceConfig: false }), 'INVALID_PARTITIONS', /has 6 partitions and partitions never shrink.*ask for 6 or more/);
  });

  it('treats the current replication factor as no change', () => {
    const s = withTopic(cluster(1, 2), 'orders', 1, 1);
    expect(alterTopic(s, { name: 'orders', partitions: 0, replicationFactor: 1, replaceConfig: false }).state).toBe(s);
  });

  it('merges config, or replaces it with replace_config, validating every key', () => {
    let s = withTopic(cluster(1), 'orders', 1, 1, { 'retention.ms': 5 });
    s = alterTopic(s, { name: 'orders', partitions: 0, replicationFactor: 0, config: { 'segment.bytes': '1024' }, replaceConfig: false }).state;
    expect(findTopic(s, 'orders')!.config).toEqual({ 'retention.ms': 5, 'segment.bytes': 1024 });
    s = alterTopic(s, { name: 'orders', partitions: 0, replicationFactor: 0, config: { 'cleanup.policy': 'compact' }, replaceConfig: true }).state;
    expect(findTopic(s, 'orders')!.config).toEqual({ 'cleanup.policy': 'compact' });
    expectRefused(() => alterTopic(s, { name: 'orders', partitions: 0, replicationFactor: 0, config: { 'cleanup.policy': 'shred' }, replaceConfig: false }), 'INVALID_CONFIG', /cleanup.policy/);
  });

  it('changes nothing (same state object, no version bump) when nothing differs', () => {
    const s = withTopic(cluster(1), 'orders', 2, 1, { 'retention.ms': 5 });
    const out = alterTopic(s, { name: 'orders', partitions: 2, replicationFactor: 0, config: { 'retention.ms': '5' }, replaceConfig: false });
    expect(out.state).toBe(s);
    expect(out.events).toEqual([]);
  });

  it('elects unclean leaders for offline partitions as soon as unclean election is turned on', () => {
    let s = withTopic(cluster(1, 2), 'orders', 1, 2);
    const p0 = partition(s, 'orders', 0);
    const [first, second] = p0.replicas as [number, number];
    s = alterPartition(s, { brokerId: first, brokerEpoch: epochOf(s, first), topic: 'orders', partition: 0, leaderEpoch: 0, partitionEpoch: 0, newIsr: [first] }).state;
    s = fenceBroker(s, { brokerId: first, reason: 'session_expired' }).state;
    expect(partition(s, 'orders', 0)).toMatchObject({ leader: NO_LEADER, isr: [first] });
    const out = alterTopic(s, { name: 'orders', partitions: 0, replicationFactor: 0, config: { 'unclean.leader.election.enable': 'true' }, replaceConfig: false });
    expect(partition(out.state, 'orders', 0)).toMatchObject({ leader: second, isr: [second], leaderEpoch: 2 });
    expect(out.events).toContainEqual(expect.objectContaining({ type: 'partition_changed', reason: 'unclean_enabled', unclean: true }));
  });

  it('refuses an unknown topic', () => {
    expectRefused(() => alterTopic(cluster(1), { name: 'nope', partitions: 2, replicationFactor: 0, replaceConfig: false }), 'UNKNOWN_TOPIC_OR_PARTITION', /"nope" does not exist/);
  });
});

describe('deleteTopic', () => {
  it('removes the topic; a re-created topic gets the new id', () => {
    let s = withTopic(cluster(1), 'orders', 1, 1);
    const out = deleteTopic(s, 'orders');
    expect(out.events).toEqual([{ type: 'topic_deleted', topic: 'orders', topicId: 'id-orders' }]);
    s = createTopic(out.state, { name: 'orders', topicId: 'id-2', partitions: 1, replicationFactor: 1 }).state;
    expect(findTopic(s, 'orders')!.topicId).toBe('id-2');
  });

  it('refuses an unknown topic with UNKNOWN_TOPIC_OR_PARTITION', () => {
    expectRefused(() => deleteTopic(cluster(1), 'nope'), 'UNKNOWN_TOPIC_OR_PARTITION', /nope/);
  });
});

describe('registerBroker', () => {
  it('gives each new broker the next epoch', () => {
    const s = cluster(1, 2);
    expect(epochOf(s, 1)).toBe(1);
    expect(epochOf(s, 2)).toBe(2);
    expect(s.nextBrokerEpoch).toBe(3);
  });

  it('keeps the epoch for the same incarnation and changes nothing when nothing differs', () => {
    const s = cluster(1);
    const out = registerBroker(s, reg(1));
    expect(out.result.brokerEpoch).toBe(1);
    expect(out.state).toBe(s);
  });

  it('records a changed endpoint of the same incarnation without a new epoch', () => {
    const out = registerBroker(cluster(1), { ...reg(1), port: 19092 });
    expect(out.result).toMatchObject({ brokerEpoch: 1, port: 19092 });
    expect(out.events).toEqual([{ type: 'broker_registered', brokerId: 1, brokerEpoch: 1, newIncarnation: false }]);
  });

  it('fences the old incarnation before registering a new one with a higher epoch', () => {
    let s = withTopic(cluster(1, 2), 'orders', 2, 2);
    const led = findTopic(s, 'orders')!.partitions.find((p) => p.leader === 1)!;
    const out = registerBroker(s, reg(1, 'inc-1-restarted'));
    s = out.state;
    expect(out.result).toMatchObject({ brokerEpoch: 3, state: 'active', incarnationId: 'inc-1-restarted' });
    expect(out.events[0]).toEqual({ type: 'broker_fenced', brokerId: 1, brokerEpoch: 1, reason: 'new_incarnation' });
    const after = partition(s, 'orders', led.partition);
    expect(after.leader).toBe(2);
    expect(after.isr).toEqual([2]);
    expect(after.leaderEpoch).toBe(1);
  });

  it('unfences the same incarnation and gives it back partitions it is the last ISR member of', () => {
    let s = withTopic(cluster(1), 'orders', 2, 1);
    s = fenceBroker(s, { brokerId: 1, reason: 'session_expired' }).state;
    expect(partition(s, 'orders', 0)).toMatchObject({ leader: NO_LEADER, isr: [1], leaderEpoch: 1, partitionEpoch: 1 });
    const out = registerBroker(s, reg(1));
    expect(out.result).toMatchObject({ brokerEpoch: 1, state: 'active' });
    expect(partition(out.state, 'orders', 0)).toMatchObject({ leader: 1, isr: [1], leaderEpoch: 2, partitionEpoch: 2 });
    expect(out.events[0]).toEqual({ type: 'broker_unfenced', brokerId: 1, brokerEpoch: 1 });
  });

  it('does not hand an offline partition to a returning replica outside its ISR unless unclean election is on', () => {
    let s = withTopic(cluster(1, 2), 'orders', 1, 2);
    const [a, b] = partition(s, 'orders', 0).replicas as [number, number];
    s = alterPartition(s, { brokerId: a, brokerEpoch: epochOf(s, a), topic: 'orders', partition: 0, leaderEpoch: 0, partitionEpoch: 0, newIsr: [a] }).state;
    s = fenceBroker(s, { brokerId: b, reason: 'session_expired' }).state;
    s = fenceBroker(s, { brokerId: a, reason: 'session_expired' }).state;
    const clean = registerBroker(s, reg(b)).state;
    expect(partition(clean, 'orders', 0)).toMatchObject({ leader: NO_LEADER, isr: [a] });

    const permissive = alterTopic(s, { name: 'orders', partitions: 0, replicationFactor: 0, config: { 'unclean.leader.election.enable': 'true' }, replaceConfig: false }).state;
    const out = registerBroker(permissive, reg(b));
    expect(partition(out.state, 'orders', 0)).toMatchObject({ leader: b, isr: [b] });
    expect(out.events).toContainEqual(expect.objectContaining({ type: 'partition_changed', unclean: true, reason: 'registered' }));
  });

  it('refuses malformed registrations', () => {
    expectRefused(() => registerBroker(cluster(), { ...reg(1), host: '' }), 'INVALID_REQUEST', /host is empty/);
    expectRefused(() => registerBroker(cluster(), { ...reg(1), port: 0 }), 'INVALID_REQUEST', /port/);
    expectRefused(() => registerBroker(cluster(), { ...reg(1), incarnationId: '' }), 'INVALID_REQUEST', /incarnation_id/);
    expectRefused(() => registerBroker(cluster(), { ...reg(1), brokerId: -1 }), 'INVALID_REQUEST', /broker_id/);
  });
});

describe('fenceBroker', () => {
  it('moves leadership to the next live ISR member in replica order and shrinks the ISR', () => {
    let s = cluster(1, 2, 3);
    s = withTopic(s, 'orders', 1, 3);
    s = setPartition(s, 'orders', 0, { replicas: [1, 3, 2], isr: [1, 3, 2], leader: 1 });
    s = fenceBroker(s, { brokerId: 1, reason: 'session_expired' }).state;
    expect(partition(s, 'orders', 0)).toMatchObject({ leader: 3, isr: [3, 2], leaderEpoch: 1, partitionEpoch: 1 });
  });

  it('bumps only the partition epoch when a follower leaves the ISR', () => {
    let s = withTopic(cluster(1, 2), 'orders', 1, 2);
    const { leader } = partition(s, 'orders', 0);
    const follower = leader === 1 ? 2 : 1;
    s = fenceBroker(s, { brokerId: follower, reason: 'session_expired' }).state;
    expect(partition(s, 'orders', 0)).toMatchObject({ leader, isr: [leader], leaderEpoch: 0, partitionEpoch: 1 });
  });

  it('takes an RF=1 partition offline, keeping the broker as the last ISR member, and bumps epochs', () => {
    let s = withTopic(cluster(1), 'orders', 1, 1);
    const out = fenceBroker(s, { brokerId: 1, reason: 'session_expired' });
    s = out.state;
    expect(partition(s, 'orders', 0)).toMatchObject({ leader: NO_LEADER, isr: [1], leaderEpoch: 1, partitionEpoch: 1 });
    expect(findBroker(s, 1)!.state).toBe('fenced');
    expect(out.events).toContainEqual(expect.objectContaining({ type: 'partition_changed', reason: 'fenced', unclean: false }));
  });

  it('elects any live replica when the ISR has none left and the topic allows unclean election, recording it', () => {
    let s = withTopic(cluster(1, 2), 'orders', 1, 2, { 'unclean.leader.election.enable': true });
    const [a, b] = partition(s, 'orders', 0).replicas as [number, number];
    s = alterPartition(s, { brokerId: a, brokerEpoch: epochOf(s, a), topic: 'orders', partition: 0, leaderEpoch: 0, partitionEpoch: 0, newIsr: [a] }).state;
    const out = fenceBroker(s, { brokerId: a, reason: 'session_expired' });
    expect(partition(out.state, 'orders', 0)).toMatchObject({ leader: b, isr: [b], leaderEpoch: 1 });
    expect(out.events).toContainEqual(expect.objectContaining({ type: 'partition_changed', unclean: true }));
  });

  it('ignores a fence aimed at another incarnation or an already fenced broker', () => {
    const s = cluster(1);
    expect(fenceBroker(s, { brokerId: 1, brokerEpoch: 99, reason: 'session_expired' }).state).toBe(s);
    const fenced = fenceBroker(s, { brokerId: 1, reason: 'session_expired' }).state;
    expect(fenceBroker(fenced, { brokerId: 1, reason: 'session_expired' }).state).toBe(fenced);
    expect(fenceBroker(s, { brokerId: 42, reason: 'session_expired' }).state).toBe(s);
  });
});

describe('controlledShutdown', () => {
  it('moves leaderships to active ISR members, leaves follower ISRs, and counts what it could not move', () => {
    let s = cluster(1, 2);
    s = withTopic(s, 'moves', 1, 2);
    s = setPartition(s, 'moves', 0, { replicas: [1, 2], isr: [1, 2], leader: 1 });
    s = withTopic(s, 'stuck', 1, 1);
    s = setPartition(s, 'stuck', 0, { replicas: [1], isr: [1], leader: 1 });
    s = withTopic(s, 'follows', 1, 2);
    s = setPartition(s, 'follows', 0, { replicas: [2, 1], isr: [2, 1], leader: 2 });
    const out = controlledShutdown(s, { brokerId: 1, brokerEpoch: epochOf(s, 1) });
    expect(out.result.remainingLeaderships).toBe(1);
    expect(findBroker(out.state, 1)!.state).toBe('shutting_down');
    expect(partition(out.state, 'moves', 0)).toMatchObject({ leader: 2, isr: [2], leaderEpoch: 1 });
    expect(partition(out.state, 'stuck', 0)).toMatchObject({ leader: 1, isr: [1], leaderEpoch: 0 });
    expect(partition(out.state, 'follows', 0)).toMatchObject({ leader: 2, isr: [2], leaderEpoch: 0, partitionEpoch: 1 });
    // A retry changes nothing more.
    const again = controlledShutdown(out.state, { brokerId: 1, brokerEpoch: epochOf(s, 1) });
    expect(again.state).toBe(out.state);
    expect(again.result.remainingLeaderships).toBe(1);
  });

  it('does not move leadership to another broker that is itself shutting down', () => {
    let s = withTopic(cluster(1, 2), 'orders', 1, 2);
    s = setPartition(s, 'orders', 0, { replicas: [1, 2], isr: [1, 2], leader: 1 });
    s = { ...s, brokers: s.brokers.map((b) => (b.id === 2 ? { ...b, state: 'shutting_down' as const } : b)) };
    const out = controlledShutdown(s, { brokerId: 1, brokerEpoch: epochOf(s, 1) });
    expect(out.result.remainingLeaderships).toBe(1);
  });

  it('refuses a stale broker epoch', () => {
    expectRefused(() => controlledShutdown(cluster(1), { brokerId: 1, brokerEpoch: 7 }), 'STALE_BROKER_EPOCH', /epoch 7 of broker 1 is stale: the current epoch is 1/);
    expectRefused(() => controlledShutdown(cluster(1), { brokerId: 5, brokerEpoch: 1 }), 'STALE_BROKER_EPOCH', /not registered/);
  });
});

describe('alterPartition', () => {
  function twoReplicas() {
    let s = withTopic(cluster(1, 2, 3), 'orders', 1, 3);
    s = setPartition(s, 'orders', 0, { replicas: [1, 2, 3], isr: [1, 2, 3], leader: 1 });
    return s;
  }
  const base = (s: ClusterState) => ({ brokerId: 1, brokerEpoch: epochOf(s, 1), topic: 'orders', partition: 0, leaderEpoch: 0, partitionEpoch: 0 });

  it('commits a shrink and then an expand, bumping the partition epoch each time', () => {
    let s = twoReplicas();
    const shrink = alterPartition(s, { ...base(s), newIsr: [3, 1] });
    expect(shrink.result).toMatchObject({ isr: [1, 3], leaderEpoch: 0, partitionEpoch: 1 });
    s = shrink.state;
    const expand = alterPartition(s, { ...base(s), partitionEpoch: 1, newIsr: [1, 2, 3] });
    expect(expand.result).toMatchObject({ isr: [1, 2, 3], partitionEpoch: 2 });
    expect(expand.state.metadataVersion).toBe(s.metadataVersion + 1);
  });

  it('refuses an old leader epoch with FENCED_LEADER_EPOCH and a stale partition epoch with INVALID_REQUEST', () => {
    let s = twoReplicas();
    s = alterPartition(s, { ...base(s), newIsr: [1, 2] }).state;
    expectRefused(() => alterPartition(s, { ...base(s), leaderEpoch: 5, partitionEpoch: 1, newIsr: [1] }), 'FENCED_LEADER_EPOCH', /not the current one \(0\)/);
    expectRefused(() => alterPartition(s, { ...base(s), partitionEpoch: 0, newIsr: [1] }), 'INVALID_REQUEST', /partition epoch 0 of orders-0 is stale \(current 1\)/);
  });

  it('refuses a proposal from a broker that does not lead', () => {
    const s = twoReplicas();
    const e = refusal(() => alterPartition(s, { ...base(s), brokerId: 2, brokerEpoch: epochOf(s, 2), newIsr: [1, 2] }));
    expect(e.code).toBe('NOT_LEADER');
    expect(e.details.leaderId).toBe(1);
  });

  it('refuses ISRs that are empty, leave out the leader, repeat or leave the replicas', () => {
    const s = twoReplicas();
    expectRefused(() => alterPartition(s, { ...base(s), newIsr: [] }), 'INVALID_REQUEST', /empty/);
    expectRefused(() => alterPartition(s, { ...base(s), newIsr: [2, 3] }), 'INVALID_REQUEST', /leaves out the leader 1/);
    expectRefused(() => alterPartition(s, { ...base(s), newIsr: [1, 1] }), 'INVALID_REQUEST', /twice/);
    expectRefused(() => alterPartition(s, { ...base(s), newIsr: [1, 4] }), 'INVALID_REQUEST', /outside the replicas/);
  });

  it('refuses to add a fenced or stopping broker to the ISR', () => {
    let s = twoReplicas();
    s = fenceBroker(s, { brokerId: 3, reason: 'session_expired' }).state;
    expectRefused(() => alterPartition(s, { ...base(s), partitionEpoch: 1, newIsr: [1, 2, 3] }), 'INVALID_REQUEST', /broker 3 cannot join .* fenced/);
    s = controlledShutdown(s, { brokerId: 2, brokerEpoch: epochOf(s, 2) }).state;
    expectRefused(() => alterPartition(s, { ...base(s), partitionEpoch: 2, newIsr: [1, 2] }), 'INVALID_REQUEST', /shutting down/);
  });

  it('answers an unchanged ISR with the current state and no change', () => {
    const s = twoReplicas();
    const out = alterPartition(s, { ...base(s), newIsr: [3, 2, 1] });
    expect(out.state).toBe(s);
    expect(out.result).toBe(partition(s, 'orders', 0));
  });

  it('refuses unknown topics and partitions and stale brokers', () => {
    const s = twoReplicas();
    expectRefused(() => alterPartition(s, { ...base(s), topic: 'nope', newIsr: [1] }), 'UNKNOWN_TOPIC_OR_PARTITION', /"nope" does not exist/);
    expectRefused(() => alterPartition(s, { ...base(s), partition: 3, newIsr: [1] }), 'UNKNOWN_TOPIC_OR_PARTITION', /partitions 0..0/);
    expectRefused(() => alterPartition(s, { ...base(s), brokerEpoch: 99, newIsr: [1] }), 'STALE_BROKER_EPOCH', /stale/);
  });
});

describe('preferred leaders', () => {
  /** orders-0 on [1, 2, 3] led by 2 with the ISR given (1 is the preferred replica). */
  function ledByTwo(isr: number[]): ClusterState {
    let s = withTopic(cluster(1, 2, 3), 'orders', 1, 3);
    return setPartition(s, 'orders', 0, { replicas: [1, 2, 3], isr, leader: 2, leaderEpoch: 4, partitionEpoch: 6 });
  }

  it('lists a partition only when its preferred replica is active, in the ISR and not leading', () => {
    expect(preferredLeaderCandidates(ledByTwo([1, 2, 3]))).toEqual([{ topic: 'orders', partition: 0 }]);
    expect(preferredLeaderCandidates(ledByTwo([2, 3]))).toEqual([]);
    const stopping = ledByTwo([1, 2, 3]);
    const shuttingDown = { ...stopping, brokers: stopping.brokers.map((b) => (b.id === 1 ? { ...b, state: 'shutting_down' as const } : b)) };
    expect(preferredLeaderCandidates(shuttingDown)).toEqual([]);
    const led = setPartition(ledByTwo([1, 2, 3]), 'orders', 0, { leader: 1 });
    expect(preferredLeaderCandidates(led)).toEqual([]);
  });

  it('moves leadership back to the preferred replica, bumping both epochs, as a clean election with reason preferred', () => {
    const s = ledByTwo([1, 2, 3]);
    const out = electPreferredLeaders(s);
    expect(out.result).toEqual([{ topic: 'orders', partition: 0 }]);
    expect(partition(out.state, 'orders', 0)).toMatchObject({ leader: 1, isr: [1, 2, 3], leaderEpoch: 5, partitionEpoch: 7 });
    expect(out.events).toEqual([expect.objectContaining({ type: 'partition_changed', reason: 'preferred', unclean: false })]);
    expect(electPreferredLeaders(out.state).state).toBe(out.state);
  });

  it('moves only the partitions named, and re-checks that each is still eligible', () => {
    let s = withTopic(cluster(1, 2), 'a', 1, 2);
    s = setPartition(s, 'a', 0, { replicas: [1, 2], isr: [1, 2], leader: 2, leaderEpoch: 1, partitionEpoch: 1 });
    s = withTopic(s, 'b', 1, 2);
    s = setPartition(s, 'b', 0, { replicas: [1, 2], isr: [2], leader: 2, leaderEpoch: 1, partitionEpoch: 1 });
    const out = electPreferredLeaders(s, [{ topic: 'b', partition: 0 }]);
    expect(out.state).toBe(s);
    expect(out.result).toEqual([]);
    expect(electPreferredLeaders(s, [{ topic: 'a', partition: 0 }, { topic: 'gone', partition: 3 }]).result).toEqual([{ topic: 'a', partition: 0 }]);
  });
});

describe('unclean elections', () => {
  it('are recorded per partition with the leader epoch they started', () => {
    let s = withTopic(cluster(1, 2), 'orders', 1, 2, { 'unclean.leader.election.enable': true });
    s = setPartition(s, 'orders', 0, { replicas: [1, 2], isr: [1], leader: 1 });
    expect(partition(s, 'orders', 0).lastUncleanLeaderEpoch).toBe(-1);
    s = fenceBroker(s, { brokerId: 1, reason: 'session_expired' }).state;
    expect(partition(s, 'orders', 0)).toMatchObject({ leader: 2, leaderEpoch: 1, lastUncleanLeaderEpoch: 1 });
    // A later clean election keeps the record: the records lost then stay lost.
    s = registerBroker(s, reg(1)).state;
    s = alterPartition(s, { brokerId: 2, brokerEpoch: epochOf(s, 2), topic: 'orders', partition: 0, leaderEpoch: 1, partitionEpoch: partition(s, 'orders', 0).partitionEpoch, newIsr: [1, 2] }).state;
    s = electPreferredLeaders(s).state;
    expect(partition(s, 'orders', 0)).toMatchObject({ leader: 1, leaderEpoch: 2, lastUncleanLeaderEpoch: 1 });
  });
});

describe('allocateProducerIds', () => {
  it('hands out contiguous blocks of 1000 that never overlap', () => {
    let s = cluster(1);
    const a = allocateProducerIds(s, { brokerId: 1, brokerEpoch: 1 });
    s = a.state;
    const b = allocateProducerIds(s, { brokerId: 1, brokerEpoch: 1 });
    expect(a.result).toEqual({ firstProducerId: 1, count: PRODUCER_ID_BLOCK_SIZE });
    expect(b.result.firstProducerId).toBe(1 + PRODUCER_ID_BLOCK_SIZE);
    expect(b.state.metadataVersion).toBe(s.metadataVersion + 1);
    expect(changesBrokerMetadata(b.events)).toBe(false);
  });

  it('refuses a stale broker epoch', () => {
    expectRefused(() => allocateProducerIds(cluster(1), { brokerId: 1, brokerEpoch: 0 }), 'STALE_BROKER_EPOCH', /stale/);
  });
});

describe('skipPastLostChange', () => {
  it('moves every counter past what one lost change could have issued', () => {
    const s = withTopic(cluster(1), 'orders', 1, 1);
    const skipped = skipPastLostChange(s);
    expect(skipped.metadataVersion).toBe(s.metadataVersion + 2);
    expect(skipped.nextBrokerEpoch).toBe(s.nextBrokerEpoch + 1);
    expect(skipped.nextProducerId).toBe(s.nextProducerId + PRODUCER_ID_BLOCK_SIZE);
    expect(partition(skipped, 'orders', 0)).toMatchObject({ leaderEpoch: MAX_EPOCH_BUMP_PER_CHANGE, partitionEpoch: MAX_EPOCH_BUMP_PER_CHANGE });
    expect(clusterStateViolations(skipped)).toEqual([]);
  });
});

// ---------------------------------------------------------------------------------------------
// Property: any sequence of requests keeps every invariant and every epoch rule.

type Op =
  | { kind: 'register'; broker: number; incarnation: number; rack: number }
  | { kind: 'fence'; broker: number; pinEpoch: boolean }
  | { kind: 'create'; topic: number; partitions: number; rf: number; unclean: boolean }
  | { kind: 'alter'; topic: number; partitions: number; unclean: boolean | null }
  | { kind: 'delete'; topic: number }
  | { kind: 'shutdown'; broker: number }
  | { kind: 'isr'; topic: number; partition: number; members: number; staleBy: number }
  | { kind: 'rf'; topic: number; rf: number; minIsr: number | null }
  | { kind: 'preferred' }
  | { kind: 'allocate'; broker: number };

const opArb: fc.Arbitrary<Op> = fc.oneof(
  { weight: 4, arbitrary: fc.record({ kind: fc.constant('register' as const), broker: fc.integer({ min: 0, max: 4 }), incarnation: fc.integer({ min: 0, max: 2 }), rack: fc.integer({ min: 0, max: 2 }) }) },
  { weight: 3, arbitrary: fc.record({ kind: fc.constant('fence' as const), broker: fc.integer({ min: 0, max: 4 }), pinEpoch: fc.boolean() }) },
  { weight: 3, arbitrary: fc.record({ kind: fc.constant('create' as const), topic: fc.integer({ min: 0, max: 3 }), partitions: fc.integer({ min: 0, max: 5 }), rf: fc.integer({ min: 0, max: 4 }), unclean: fc.boolean() }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('alter' as const), topic: fc.integer({ min: 0, max: 3 }), partitions: fc.integer({ min: 0, max: 8 }), unclean: fc.option(fc.boolean()) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('delete' as const), topic: fc.integer({ min: 0, max: 3 }) }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('shutdown' as const), broker: fc.integer({ min: 0, max: 4 }) }) },
  { weight: 5, arbitrary: fc.record({ kind: fc.constant('isr' as const), topic: fc.integer({ min: 0, max: 3 }), partition: fc.integer({ min: 0, max: 7 }), members: fc.integer({ min: 0, max: 31 }), staleBy: fc.constantFrom(0, 0, 0, 1) }) },
  { weight: 3, arbitrary: fc.record({ kind: fc.constant('rf' as const), topic: fc.integer({ min: 0, max: 3 }), rf: fc.integer({ min: 0, max: 5 }), minIsr: fc.option(fc.integer({ min: 1, max: 3 })) }) },
  { weight: 1, arbitrary: fc.constant({ kind: 'preferred' as const }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('allocate' as const), broker: fc.integer({ min: 0, max: 4 }) }) },
);

/** A cluster to start from: some brokers, then some topics on them. */
const setupArb: fc.Arbitrary<Op[]> = fc
  .tuple(
    fc.array(fc.integer({ min: 0, max: 2 }), { minLength: 1, maxLength: 5 }),
    fc.array(fc.record({ partitions: fc.integer({ min: 1, max: 5 }), rf: fc.integer({ min: 1, max: 3 }), unclean: fc.boolean() }), { minLength: 1, maxLength: 4 }),
  )
  .map(([racks, topics]) => [
    ...racks.map((rack, broker): Op => ({ kind: 'register', broker, incarnation: 0, rack })),
    ...topics.map((t, topic): Op => ({ kind: 'create', topic, partitions: t.partitions, rf: Math.min(t.rf, racks.length), unclean: t.unclean })),
  ]);

let topicIds = 0;
function apply(s: ClusterState, op: Op) {
  const epoch = (id: number) => findBroker(s, id)?.brokerEpoch ?? 1;
  switch (op.kind) {
    case 'register':
      return registerBroker(s, { brokerId: op.broker, incarnationId: `i${op.broker}-${op.incarnation}`, host: 'h', port: 9000 + op.broker, rack: ['', 'r1', 'r2'][op.rack]! });
    case 'fence':
      return fenceBroker(s, { brokerId: op.broker, brokerEpoch: op.pinEpoch ? epoch(op.broker) : undefined, reason: 'session_expired' });
    case 'create':
      return createTopic(s, { name: `t${op.topic}`, topicId: `tid-${topicIds++}`, partitions: op.partitions, replicationFactor: op.rf, config: { 'unclean.leader.election.enable': String(op.unclean) } });
    case 'alter':
      return alterTopic(s, { name: `t${op.topic}`, partitions: op.partitions, replicationFactor: 0, config: op.unclean === null ? {} : { 'unclean.leader.election.enable': op.unclean }, replaceConfig: false });
    case 'delete':
      return deleteTopic(s, `t${op.topic}`);
    case 'shutdown':
      return controlledShutdown(s, { brokerId: op.broker, brokerEpoch: epoch(op.broker) });
    case 'allocate':
      return allocateProducerIds(s, { brokerId: op.broker, brokerEpoch: epoch(op.broker) });
    case 'rf':
      return alterTopic(s, { name: `t${op.topic}`, partitions: 0, replicationFactor: op.rf, config: op.minIsr === null ? {} : { 'min.insync.replicas': op.minIsr }, replaceConfig: false });
    case 'preferred':
      return electPreferredLeaders(s);
    case 'isr': {
      const t = findTopic(s, `t${op.topic}`);
      const p = t?.partitions[op.partition % Math.max(1, t.partitions.length)];
      if (!t || !p || p.leader === NO_LEADER) return { state: s, events: [], result: undefined };
      const newIsr = [p.leader, ...p.replicas.filter((r, i) => r !== p.leader && op.members & (1 << i))];
      return alterPartition(s, { brokerId: p.leader, brokerEpoch: epoch(p.leader), topic: t.name, partition: p.partition, leaderEpoch: p.leaderEpoch - op.staleBy, partitionEpoch: p.partitionEpoch, newIsr });
    }
  }
}

function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const v of Object.values(value)) deepFreeze(v);
  }
  return value;
}

function partitionsById(s: ClusterState): Map<string, { p: PartitionRecord; unclean: boolean }> {
  const m = new Map<string, { p: PartitionRecord; unclean: boolean }>();
  for (const t of s.topics) for (const p of t.partitions) m.set(`${t.topicId}/${p.partition}`, { p, unclean: t.config['unclean.leader.election.enable'] === true });
  return m;
}

describe('transitions, property', () => {
  it('keep invariants, epoch rules and producer id uniqueness over random request sequences', () => {
    fc.assert(
      fc.property(setupArb, fc.array(opArb, { minLength: 1, maxLength: 60, size: 'large' }), (setup, ops) => {
        let s = deepFreeze(initialClusterState('prop'));
        for (const op of setup) {
          try {
            s = deepFreeze(apply(s, op).state);
          } catch (e) {
            if (!(e instanceof SluiceError)) throw e;
          }
        }
        let highestBrokerEpoch = 0;
        const producerBlocks: [number, number][] = [];
        const history: ElectionRecord[] = [];
        for (const op of ops) {
          let out: ReturnType<typeof apply>;
          try {
            out = apply(s, op);
          } catch (e) {
            if (e instanceof SluiceError) continue; // a refused request changes nothing
            throw e;
          }
          const next = deepFreeze(out.state);
          const ctx = JSON.stringify(op);
          expect(clusterStateViolations(next), ctx).toEqual([]);

          if (out.events.length === 0) {
            expect(next, ctx).toBe(s);
            continue;
          }
          expect(next.metadataVersion, ctx).toBe(s.metadataVersion + 1);
          history.push(...electionsIn(out.events));

          // Partition epochs.
          const before = partitionsById(s);
          for (const [key, { p: after }] of partitionsById(next)) {
            const prev = before.get(key)?.p;
            if (!prev) continue;
            expect(after.leaderEpoch, ctx).toBeGreaterThanOrEqual(prev.leaderEpoch);
            expect(after.partitionEpoch, ctx).toBeGreaterThanOrEqual(prev.partitionEpoch);
            expect(after.leaderEpoch - prev.leaderEpoch, ctx).toBeLessThanOrEqual(MAX_EPOCH_BUMP_PER_CHANGE);
            expect(after.partitionEpoch - prev.partitionEpoch, ctx).toBeLessThanOrEqual(MAX_EPOCH_BUMP_PER_CHANGE);
            if (after.leader !== prev.leader) expect(after.leaderEpoch, ctx).toBeGreaterThan(prev.leaderEpoch);
            const changed = after.leader !== prev.leader || after.isr.join() !== prev.isr.join() || after.replicas.join() !== prev.replicas.join();
            if (changed) expect(after.partitionEpoch, ctx).toBeGreaterThan(prev.partitionEpoch);
            // A leader may leave and come back within one change (a restarted broker that was the
            // last ISR member): same content, higher epochs. Without an epoch bump, nothing moved.
            if (after.partitionEpoch === prev.partitionEpoch) expect(after, ctx).toEqual(prev);
            // Only a reassignment changes replicas, and never below what is in sync.
            if (after.replicas.join() !== prev.replicas.join()) expect(out.events.some((e) => e.type === 'partition_changed' && e.reason === 'reassignment'), ctx).toBe(true);
          }

          // Elections: a new leader comes from the committed ISR unless recorded as unclean,
          // which only a topic that allows it may do.
          for (const e of out.events as ClusterEvent[]) {
            if (e.type !== 'partition_changed' || e.current.leader === e.previous.leader || e.current.leader === NO_LEADER) continue;
            if (e.unclean) {
              expect(findTopic(next, e.topic)!.config['unclean.leader.election.enable'], ctx).toBe(true);
              expect(e.previous.isr, ctx).not.toContain(e.current.leader);
            } else {
              expect(e.previous.isr, ctx).toContain(e.current.leader);
            }
          }

          // Broker epochs: the same incarnation keeps its epoch; any other incarnation (a restart)
          // gets an epoch higher than every one issued before.
          for (const b of next.brokers) {
            const prev = findBroker(s, b.id);
            if (prev && prev.incarnationId === b.incarnationId) {
              expect(b.brokerEpoch, ctx).toBe(prev.brokerEpoch);
            } else {
              expect(b.brokerEpoch, ctx).toBeGreaterThan(highestBrokerEpoch);
              highestBrokerEpoch = b.brokerEpoch;
            }
          }

          for (const e of out.events) {
            if (e.type !== 'producer_ids_allocated') continue;
            const end = e.firstProducerId + e.count;
            for (const [a, b] of producerBlocks) expect(end <= a || e.firstProducerId >= b, ctx).toBe(true);
            producerBlocks.push([e.firstProducerId, end]);
          }
          s = next;
        }
        // The whole run as a controller history: every leader from the committed ISR unless
        // recorded unclean, no leader epoch reused.
        expect(electionHistoryViolations(history)).toEqual([]);
      }),
      { numRuns: 400 },
    );
  });
});
