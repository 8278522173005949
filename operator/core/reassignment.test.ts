import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { SluiceError } from '../../common/errors.ts';
import {
  alterPartition,
  alterTopic,
  controlledShutdown,
  createTopic,
  electPreferredLeaders,
  fenceBroker,
  findBroker,
  findTopic,
  initialClusterState,
  isUnderReplicated,
  registerBroker,
  replicationFactorOf,
  type BrokerLifecycle,
  type ClusterEvent,
  type ClusterState,
  type Outcome,
  type PartitionRecord,
} from './cluster-state.ts';
import { clusterStateViolations } from './cluster-invariants.ts';
import { NO_LEADER } from './election.ts';
import { beginReassignment, isReassigning, reassignmentCompletion, targetReplicas } from './reassignment.ts';

const reg = (id: number, rack = '', incarnationId = `inc-${id}`) => ({ brokerId: id, incarnationId, host: 'h', port: 9000 + id, rack });

function cluster(brokers: [number, string][]): ClusterState {
  let s = initialClusterState('c');
  for (const [id, rack] of brokers) s = registerBroker(s, reg(id, rack)).state;
  return s;
}

const part = (s: ClusterState, p = 0, topic = 'orders'): PartitionRecord => findTopic(s, topic)!.partitions[p]!;
const epochOf = (s: ClusterState, id: number) => findBroker(s, id)!.brokerEpoch;

/** Sets orders-0 directly, for layouts placement would not produce. */
function setPartition(s: ClusterState, patch: Partial<PartitionRecord>, p = 0): ClusterState {
  return { ...s, topics: s.topics.map((t) => (t.name !== 'orders' ? t : { ...t, partitions: t.partitions.map((x) => (x.partition === p ? { ...x, ...patch } : x)) })) };
}

function changeRf(s: ClusterState, rf: number, config?: Record<string, unknown>): Outcome<unknown> {
  return alterTopic(s, { name: 'orders', partitions: 0, replicationFactor: rf, config, replaceConfig: false });
}

/** The leader of orders-p proposes `isr`. */
function propose(s: ClusterState, isr: number[], p = 0): Outcome<PartitionRecord> {
  const x = part(s, p);
  return alterPartition(s, { brokerId: x.leader, brokerEpoch: epochOf(s, x.leader), topic: 'orders', partition: p, leaderEpoch: x.leaderEpoch, partitionEpoch: x.partitionEpoch, newIsr: isr });
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

function reasons(events: readonly ClusterEvent[]): string[] {
  return events.flatMap((e) => (e.type === 'partition_changed' ? [e.reason] : []));
}

describe('replication factor increase', () => {
  it('adds replicas, keeps the ISR and leader until they are in sync, then completes', () => {
    let s = cluster([[1, ''], [2, ''], [3, '']]);
    s = createTopic(s, { name: 'orders', topicId: 't', partitions: 1, replicationFactor: 1 }).state;
    s = setPartition(s, { replicas: [1], isr: [1], leader: 1 });
    const begun = changeRf(s, 3);
    s = begun.state;
    expect(part(s)).toMatchObject({ replicas: [1, 2, 3], addingReplicas: [2, 3], removingReplicas: [], isr: [1], leader: 1, leaderEpoch: 0, partitionEpoch: 1 });
    expect(begun.events[0]).toEqual({ type: 'topic_altered', topic: 'orders', addedPartitions: 0, configChanged: false, previousReplicationFactor: 1, replicationFactor: 3 });
    expect(replicationFactorOf(findTopic(s, 'orders')!)).toBe(3);
    expect(isUnderReplicated(part(s))).toBe(true);

    // One new replica caught up: still adding, nothing else moves.
    s = propose(s, [1, 2]).state;
    expect(part(s)).toMatchObject({ replicas: [1, 2, 3], addingReplicas: [2, 3], isr: [1, 2], partitionEpoch: 2 });

    const done = propose(s, [1, 2, 3]);
    expect(done.result).toMatchObject({ replicas: [1, 2, 3], addingReplicas: [], removingReplicas: [], isr: [1, 2, 3], leader: 1, leaderEpoch: 0, partitionEpoch: 4 });
    expect(reasons(done.events)).toEqual(['alter_partition', 'reassignment']);
    expect(isUnderReplicated(done.result)).toBe(false);
  });

  it('keeps replicas on fenced brokers (their data may come back) and places new ones on active brokers only, on new racks first', () => {
    let s = cluster([[1, 'a'], [2, 'a'], [3, 'a'], [4, 'b'], [5, 'c']]);
    s = createTopic(s, { name: 'orders', topicId: 't', partitions: 1, replicationFactor: 2 }).state;
    s = setPartition(s, { replicas: [1, 2], isr: [1, 2], leader: 1 });
    s = fenceBroker(s, { brokerId: 2, reason: 'session_expired' }).state;
    s = fenceBroker(s, { brokerId: 5, reason: 'session_expired' }).state;
    s = changeRf(s, 3).state;
    // 4 is the only active broker on a rack the partition does not use.
    expect(part(s)).toMatchObject({ replicas: [1, 2, 4], addingReplicas: [4], isr: [1] });
    s = propose(s, [1, 4]).state;
    expect(part(s)).toMatchObject({ replicas: [1, 2, 4], addingReplicas: [], isr: [1, 4] });
  });

  it('refuses when there are not enough active brokers, saying how many are available', () => {
    let s = cluster([[1, ''], [2, ''], [3, '']]);
    s = createTopic(s, { name: 'orders', topicId: 't', partitions: 2, replicationFactor: 2 }).state;
    s = fenceBroker(s, { brokerId: 3, reason: 'session_expired' }).state;
    const e = refusal(() => changeRf(s, 3));
    expect(e.code).toBe('INVALID_REPLICATION_FACTOR');
    expect(e.message).toMatch(/needs 1 more replica for partition 0 .* but only 0 other active brokers are available; start more brokers or ask for a replication factor of at most 2/);
  });

  it('refuses out-of-range values', () => {
    let s = cluster([[1, '']]);
    s = createTopic(s, { name: 'orders', topicId: 't', partitions: 1, replicationFactor: 1 }).state;
    for (const bad of [-1, 33, 1.5]) expect(refusal(() => changeRf(s, bad)).code).toBe('INVALID_REPLICATION_FACTOR');
  });

  it('places partitions added during the move with the new replication factor', () => {
    let s = cluster([[1, ''], [2, ''], [3, '']]);
    s = createTopic(s, { name: 'orders', topicId: 't', partitions: 1, replicationFactor: 1 }).state;
    s = changeRf(s, 2).state;
    s = alterTopic(s, { name: 'orders', partitions: 3, replicationFactor: 0, replaceConfig: false }).state;
    expect(findTopic(s, 'orders')!.partitions.slice(1).map((p) => [p.replicas.length, p.addingReplicas])).toEqual([[2, []], [2, []]]);
    expect(clusterStateViolations(s)).toEqual([]);
  });
});

describe('replication factor decrease', () => {
  it('completes at once, keeping the leader and then rack spread, dropping a non-leader', () => {
    let s = cluster([[1, 'a'], [2, 'a'], [3, 'b']]);
    s = createTopic(s, { name: 'orders', topicId: 't', partitions: 1, replicationFactor: 3 }).state;
    s = setPartition(s, { replicas: [1, 2, 3], isr: [1, 2, 3], leader: 1 });
    const out = changeRf(s, 2);
    expect(part(out.state)).toMatchObject({ replicas: [1, 3], isr: [1, 3], leader: 1, leaderEpoch: 0, partitionEpoch: 2, addingReplicas: [], removingReplicas: [] });
    expect(reasons(out.events)).toEqual(['reassignment', 'reassignment']);
  });

  it('drops out-of-sync replicas before in-sync ones, even against rack spread', () => {
    let s = cluster([[1, 'a'], [2, 'b'], [3, 'a']]);
    s = createTopic(s, { name: 'orders', topicId: 't', partitions: 1, replicationFactor: 3 }).state;
    s = setPartition(s, { replicas: [2, 1, 3], isr: [1, 3], leader: 1 });
    expect(part(changeRf(s, 2).state)).toMatchObject({ replicas: [1, 3], isr: [1, 3], leader: 1 });
  });

  it('refuses to go below min.insync.replicas unless that is lowered in the same request', () => {
    let s = cluster([[1, ''], [2, ''], [3, '']]);
    s = createTopic(s, { name: 'orders', topicId: 't', partitions: 1, replicationFactor: 3, config: { 'min.insync.replicas': 2 } }).state;
    const e = refusal(() => changeRf(s, 1));
    expect(e.code).toBe('INVALID_REPLICATION_FACTOR');
    expect(e.message).toMatch(/from 3 to 1 would leave fewer replicas than its min.insync.replicas \(2\).*NOT_ENOUGH_REPLICAS; keep at least 2 replicas, or lower min.insync.replicas to 1/);
    expect(part(changeRf(s, 2).state).replicas).toHaveLength(2);
    const lowered = changeRf(s, 1, { 'min.insync.replicas': 1 }).state;
    expect(part(lowered).replicas).toHaveLength(1);
  });
});

describe('a reassignment replaced by another', () => {
  it('cancels an increase by asking for the old replication factor', () => {
    let s = cluster([[1, ''], [2, ''], [3, '']]);
    s = createTopic(s, { name: 'orders', topicId: 't', partitions: 1, replicationFactor: 1 }).state;
    s = setPartition(s, { replicas: [1], isr: [1], leader: 1 });
    s = changeRf(s, 3).state;
    s = propose(s, [1, 2]).state;
    const out = changeRf(s, 1);
    expect(part(out.state)).toMatchObject({ replicas: [1], isr: [1], leader: 1, addingReplicas: [], removingReplicas: [] });
  });

  it('keeps an added replica that is already in sync when shrinking back part of the way', () => {
    let s = cluster([[1, ''], [2, ''], [3, '']]);
    s = createTopic(s, { name: 'orders', topicId: 't', partitions: 1, replicationFactor: 1 }).state;
    s = setPartition(s, { replicas: [1], isr: [1], leader: 1 });
    s = changeRf(s, 3).state;
    s = propose(s, [1, 3]).state;
    expect(part(changeRf(s, 2).state)).toMatchObject({ replicas: [1, 3], isr: [1, 3], addingReplicas: [], removingReplicas: [] });
  });

  it('waits rather than drop an in-sync copy for a laggard, and moves leadership off a removed leader at completion', () => {
    // Racks make the shrink keep the added replica 3 (rack b) over the original 2 (rack a, out of
    // sync at the time).
    let s = cluster([[1, 'a'], [2, 'a'], [3, 'b']]);
    s = createTopic(s, { name: 'orders', topicId: 't', partitions: 1, replicationFactor: 2 }).state;
    s = setPartition(s, { replicas: [1, 2], isr: [1], leader: 1 });
    s = changeRf(s, 3).state;
    s = changeRf(s, 2).state;
    expect(part(s)).toMatchObject({ replicas: [1, 3, 2], addingReplicas: [3], removingReplicas: [2], isr: [1] });

    s = propose(s, [1, 2]).state; // 2 caught up after all; 3 has not
    s = controlledShutdown(s, { brokerId: 1, brokerEpoch: epochOf(s, 1) }).state;
    expect(part(s)).toMatchObject({ leader: 2, isr: [2], removingReplicas: [2] });
    s = propose(s, [2, 3]).state;
    // 3 is in sync, but finishing now would keep one in-sync copy (3) out of the two there are.
    expect(part(s)).toMatchObject({ replicas: [1, 3, 2], isr: [3, 2], leader: 2, addingReplicas: [3], removingReplicas: [2] });

    s = registerBroker(s, reg(1, 'a', 'inc-1-restarted')).state;
    const done = propose(s, [1, 2, 3]);
    const p = done.result;
    expect(p).toMatchObject({ replicas: [1, 3], isr: [1, 3], leader: 1, addingReplicas: [], removingReplicas: [] });
    const completion = done.events.find((e) => e.type === 'partition_changed' && e.reason === 'reassignment');
    expect(completion).toMatchObject({ previous: { leader: 2, leaderEpoch: 1 }, current: { leader: 1, leaderEpoch: 2 }, unclean: false });
    expect(clusterStateViolations(done.state)).toEqual([]);
  });
});

// ---------------------------------------------------------------------------------------------
// reassignmentCompletion over every small partition

const LIFECYCLES: BrokerLifecycle[] = ['active', 'shutting_down', 'fenced'];

function* subsets<T>(items: readonly T[]): Generator<T[]> {
  for (let mask = 0; mask < 1 << items.length; mask++) yield items.filter((_, i) => mask & (1 << i));
}

describe('reassignmentCompletion, every small case', () => {
  it('completes exactly when the added replicas are in sync, no in-sync copy the target could hold is lost, and a successor exists if the leader goes', () => {
    let completed = 0;
    let waited = 0;
    for (const replicas of [[1, 2, 3, 4], [2, 4, 1, 3], [3, 1, 2]]) {
      for (const removing of subsets(replicas)) {
        if (removing.length >= replicas.length) continue;
        const full = [...replicas.filter((r) => !removing.includes(r)), ...removing];
        const target = full.slice(0, full.length - removing.length);
        for (const adding of subsets(target)) {
          for (const isr of subsets(full)) {
            if (isr.length === 0) continue;
            for (const leader of [NO_LEADER, ...isr]) {
              for (const lifecycleOf of [() => 'active' as const, (id: number) => LIFECYCLES[id % 3]]) {
                const p: PartitionRecord = { partition: 0, replicas: full, leader, leaderEpoch: 3, isr, partitionEpoch: 5, addingReplicas: adding, removingReplicas: removing, lastUncleanLeaderEpoch: -1 };
                const out = reassignmentCompletion(p, lifecycleOf);
                const ctx = JSON.stringify({ p, out });
                const keptIsr = isr.filter((r) => target.includes(r));
                const reassigning = adding.length > 0 || removing.length > 0;
                const addedInSync = adding.every((r) => isr.includes(r));
                const keepsCopies = keptIsr.length >= Math.min(isr.length, target.length);
                const successor = target.find((r) => keptIsr.includes(r) && lifecycleOf(r) === 'active');
                const leaderOk = leader === NO_LEADER || target.includes(leader) || successor !== undefined;
                if (!(reassigning && addedInSync && keepsCopies && leaderOk)) {
                  expect(out, ctx).toBeUndefined();
                  if (reassigning) waited++;
                  continue;
                }
                completed++;
                const expectedLeader = leader === NO_LEADER || target.includes(leader) ? leader : successor;
                expect(out, ctx).toEqual({ leader: expectedLeader, replicas: target, isr: keptIsr, addingReplicas: [], removingReplicas: [] });
                if (out!.leader !== NO_LEADER) expect(out!.isr, ctx).toContain(out!.leader);
              }
            }
          }
        }
      }
    }
    expect(completed).toBeGreaterThan(1000);
    expect(waited).toBeGreaterThan(1000);
  });

  it('begins with the full set target-first, adding only what is new since before any earlier move', () => {
    const p: PartitionRecord = { partition: 0, replicas: [1, 2, 3, 4], leader: 1, leaderEpoch: 0, isr: [1, 2, 4], partitionEpoch: 2, addingReplicas: [3, 4], removingReplicas: [], lastUncleanLeaderEpoch: -1 };
    expect(beginReassignment(p, [1, 4, 5])).toEqual({ replicas: [1, 4, 5, 2], addingReplicas: [4, 5], removingReplicas: [2] });
    // 4 got in sync, so it stays until the target is; 3 never did and goes at once.
    expect(beginReassignment(p, [1, 2])).toEqual({ replicas: [1, 2, 4], addingReplicas: [], removingReplicas: [4] });
    const still: PartitionRecord = { ...p, replicas: [1, 2], addingReplicas: [] };
    expect(isReassigning(still)).toBe(false);
    expect(targetReplicas({ ...p, removingReplicas: [3, 4] })).toEqual([1, 2]);
  });
});

// ---------------------------------------------------------------------------------------------
// Property: replication-factor changes under random failures, ISR moves and elections.

type Op =
  | { kind: 'rf'; rf: number }
  | { kind: 'isr'; partition: number; members: number }
  | { kind: 'fence'; broker: number }
  | { kind: 'register'; broker: number; restart: boolean }
  | { kind: 'shutdown'; broker: number }
  | { kind: 'preferred' };

const BROKERS = 5;
const opArb: fc.Arbitrary<Op> = fc.oneof(
  { weight: 3, arbitrary: fc.record({ kind: fc.constant('rf' as const), rf: fc.integer({ min: 1, max: BROKERS }) }) },
  { weight: 8, arbitrary: fc.record({ kind: fc.constant('isr' as const), partition: fc.integer({ min: 0, max: 2 }), members: fc.integer({ min: 0, max: 31 }) }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('fence' as const), broker: fc.integer({ min: 0, max: BROKERS - 1 }) }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('register' as const), broker: fc.integer({ min: 0, max: BROKERS - 1 }), restart: fc.boolean() }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('shutdown' as const), broker: fc.integer({ min: 0, max: BROKERS - 1 }) }) },
  { weight: 1, arbitrary: fc.constant({ kind: 'preferred' as const }) },
);

/**
 * A random starting layout, often in the middle of a reassignment: a target of rf brokers, some
 * brokers being removed, some of the target being added, any ISR with a leader in it.
 */
const layoutArb = fc.record({
  order: fc.shuffledSubarray([0, 1, 2, 3, 4], { minLength: BROKERS, maxLength: BROKERS }),
  removing: fc.integer({ min: 0, max: 2 }),
  addingMask: fc.integer({ min: 0, max: 7 }),
  isrMask: fc.integer({ min: 1, max: 31 }),
  leaderPick: fc.nat(),
});

function partitionLayout(rf: number, l: { order: number[]; removing: number; addingMask: number; isrMask: number; leaderPick: number }): Partial<PartitionRecord> {
  const target = l.order.slice(0, rf);
  const removingReplicas = l.order.slice(rf, rf + l.removing);
  const replicas = [...target, ...removingReplicas];
  const isr = replicas.filter((_, i) => l.isrMask & (1 << i));
  const inIsr = isr.length > 0 ? isr : [replicas[0]!];
  return {
    replicas,
    removingReplicas,
    addingReplicas: target.filter((_, i) => l.addingMask & (1 << i)),
    isr: inIsr,
    leader: inIsr[l.leaderPick % inIsr.length]!,
  };
}

let restarts = 0;
function apply(s: ClusterState, op: Op): Outcome<unknown> {
  const epoch = (id: number) => findBroker(s, id)?.brokerEpoch ?? 1;
  switch (op.kind) {
    case 'rf':
      return changeRf(s, op.rf);
    case 'fence':
      return fenceBroker(s, { brokerId: op.broker, reason: 'session_expired' });
    case 'register':
      return registerBroker(s, reg(op.broker, `r${op.broker % 3}`, op.restart ? `inc-${op.broker}-${restarts++}` : findBroker(s, op.broker)!.incarnationId));
    case 'shutdown':
      return controlledShutdown(s, { brokerId: op.broker, brokerEpoch: epoch(op.broker) });
    case 'preferred':
      return electPreferredLeaders(s);
    case 'isr': {
      const p = part(s, op.partition);
      if (p.leader === NO_LEADER) return { state: s, events: [], result: undefined };
      // The leader proposes any subset of the full replica set that includes itself; joining
      // members must be active (alterPartition refuses the others).
      const newIsr = [p.leader, ...p.replicas.filter((r, i) => r !== p.leader && op.members & (1 << i))];
      return propose(s, newIsr, op.partition);
    }
  }
}

describe('replication-factor changes, property', () => {
  it('never lose an in-sync copy to a reassignment step, keep replicas ⊇ ISR and the leader in the ISR, and complete once possible', () => {
    let completions = 0;
    let begun = 0;
    let moved = 0;
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 3 }), fc.boolean(), fc.array(layoutArb, { minLength: 3, maxLength: 3 }), fc.array(opArb, { minLength: 1, maxLength: 50, size: 'large' }), (rf0, unclean, layouts, ops) => {
        let s = initialClusterState('prop');
        for (let id = 0; id < BROKERS; id++) s = registerBroker(s, reg(id, `r${id % 3}`)).state;
        const config = { 'unclean.leader.election.enable': unclean };
        s = createTopic(s, { name: 'orders', topicId: 't', partitions: 3, replicationFactor: rf0, config }).state;
        layouts.forEach((layout, p) => {
          s = setPartition(s, partitionLayout(rf0, layout), p);
        });
        // Layouts whose reassignment could complete at once are not states a controller leaves.
        fc.pre(clusterStateViolations(s).length === 0);
        for (const op of ops) {
          let out: Outcome<unknown>;
          try {
            out = apply(s, op);
          } catch (e) {
            if (e instanceof SluiceError) continue;
            throw e;
          }
          const ctx = JSON.stringify(op);
          expect(clusterStateViolations(out.state), ctx).toEqual([]);
          for (const p of findTopic(out.state, 'orders')!.partitions) {
            for (const r of p.isr) expect(p.replicas, ctx).toContain(r);
            if (p.leader !== NO_LEADER) expect(p.isr, ctx).toContain(p.leader);
          }
          // An 'rf' op begins a move on each partition (its first reassignment change there);
          // every other reassignment change is a completion.
          const begunHere = new Set<number>();
          for (const e of out.events) {
            if (e.type !== 'partition_changed' || e.reason !== 'reassignment') continue;
            const { previous: before, current: after } = e;
            for (const r of after.isr) expect(before.isr, ctx).toContain(r);
            if (op.kind === 'rf' && !begunHere.has(e.partition)) {
              // Starting (or replacing) a move touches neither the ISR nor the leader, and drops
              // only replicas an earlier move was adding that never got in sync. (The ISR is kept
              // in replica order, which the new full set may change.)
              begunHere.add(e.partition);
              begun++;
              expect([...after.isr].sort(), ctx).toEqual([...before.isr].sort());
              expect(after.leader, ctx).toBe(before.leader);
              expect(after.leaderEpoch, ctx).toBe(before.leaderEpoch);
              for (const r of before.replicas) if (!after.replicas.includes(r)) expect(before.addingReplicas.includes(r) && !before.isr.includes(r), ctx).toBe(true);
            } else {
              // Completing: every added replica was in sync, no in-sync copy that the target
              // could hold was dropped, and a moved leadership went to an in-sync replica.
              completions++;
              expect(isReassigning(after), ctx).toBe(false);
              expect(after.replicas, ctx).toEqual(targetReplicas(before));
              for (const r of before.addingReplicas) expect(before.isr, ctx).toContain(r);
              expect(after.isr.length, ctx).toBeGreaterThanOrEqual(Math.min(before.isr.length, after.replicas.length));
              if (after.leader !== before.leader) {
                moved++;
                expect(before.isr, ctx).toContain(after.leader);
                expect(after.leaderEpoch, ctx).toBe(before.leaderEpoch + 1);
              }
            }
          }
          s = out.state;
        }
      }),
      { numRuns: 500 },
    );
    // The generator must reach both steps often, or the property proves little.
    expect(begun).toBeGreaterThan(200);
    expect(completions).toBeGreaterThan(200);
    expect(moved).toBeGreaterThan(10);
  });
});
