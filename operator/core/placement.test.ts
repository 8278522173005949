import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { SluiceError } from '../../common/errors.ts';
import type { BrokerLifecycle } from './cluster-state.ts';
import { NO_LEADER } from './election.ts';
import { defaultReplicationFactor, placePartitions, reassignmentTargets, resolveReplicationFactor, type CurrentReplicas, type PlacementBroker, type ReassignmentBroker } from './placement.ts';

function brokersOf(ids: number[], racks?: string[]): PlacementBroker[] {
  return ids.map((id, i) => ({ id, rack: racks ? racks[i % racks.length]! : '' }));
}

function spread(counts: Map<number, number>, ids: readonly number[]): number {
  const values = ids.map((id) => counts.get(id) ?? 0);
  return Math.max(...values) - Math.min(...values);
}

function leaderCounts(assignments: readonly (readonly number[])[]): Map<number, number> {
  const m = new Map<number, number>();
  for (const r of assignments) m.set(r[0]!, (m.get(r[0]!) ?? 0) + 1);
  return m;
}

function replicaCounts(assignments: readonly (readonly number[])[]): Map<number, number> {
  const m = new Map<number, number>();
  for (const r of assignments) for (const id of r) m.set(id, (m.get(id) ?? 0) + 1);
  return m;
}

function place(ids: number[], replicationFactor: number, count: number, racks?: string[]) {
  return placePartitions({ brokers: brokersOf(ids, racks), replicationFactor, count, topicAssignments: [], otherAssignments: [] });
}

describe('placePartitions on a fresh cluster, every small case', () => {
  it('places rf distinct live brokers per partition with leaders and replicas balanced within ±1', () => {
    for (const ids of [[0], [1, 2], [0, 1, 2], [5, 9, 2, 7], [0, 1, 2, 3, 4], [10, 20, 30, 40, 50, 60]]) {
      for (let rf = 1; rf <= Math.min(ids.length, 4); rf++) {
        for (let count = 1; count <= 2 * ids.length + 1; count++) {
          const placed = place(ids, rf, count);
          const ctx = JSON.stringify({ ids, rf, count, placed });
          expect(placed, ctx).toHaveLength(count);
          for (const replicas of placed) {
            expect(replicas, ctx).toHaveLength(rf);
            expect(new Set(replicas).size, ctx).toBe(rf);
            for (const id of replicas) expect(ids, ctx).toContain(id);
          }
          expect(spread(leaderCounts(placed), ids), ctx).toBeLessThanOrEqual(1);
          expect(spread(replicaCounts(placed), ids), ctx).toBeLessThanOrEqual(1);
        }
      }
    }
  });

  it('is deterministic, so a restarted controller computes the same assignment', () => {
    expect(place([3, 1, 2], 2, 7)).toEqual(place([1, 2, 3], 2, 7));
  });

  it('uses every broker as preferred leader when partitions equal brokers', () => {
    expect(place([0, 1, 2], 3, 3).map((r) => r[0]).sort()).toEqual([0, 1, 2]);
  });
});

describe('rack awareness', () => {
  it('puts the replicas of a partition on distinct racks (six brokers, three zones, rf 3)', () => {
    const racks = ['zone-a', 'zone-a', 'zone-b', 'zone-b', 'zone-c', 'zone-c'];
    const ids = [0, 1, 2, 3, 4, 5];
    const rackOf = new Map(ids.map((id, i) => [id, racks[i]!]));
    const placed = placePartitions({ brokers: ids.map((id, i) => ({ id, rack: racks[i]! })), replicationFactor: 3, count: 12, topicAssignments: [], otherAssignments: [] });
    for (const replicas of placed) expect(new Set(replicas.map((id) => rackOf.get(id))).size).toBe(3);
    expect(spread(leaderCounts(placed), ids)).toBeLessThanOrEqual(1);
    expect(spread(replicaCounts(placed), ids)).toBeLessThanOrEqual(1);
  });

  it('keeps racks distinct even when a rack has a single broker, and leaders still balance', () => {
    const brokers = [{ id: 1, rack: 'a' }, { id: 2, rack: 'b' }, { id: 3, rack: 'b' }];
    const placed = placePartitions({ brokers, replicationFactor: 2, count: 9, topicAssignments: [], otherAssignments: [] });
    for (const replicas of placed) expect(replicas).toContain(1);
    expect(spread(leaderCounts(placed), [1, 2, 3])).toBeLessThanOrEqual(1);
  });

  it('spreads over as many racks as exist when there are fewer racks than replicas', () => {
    const brokers = [{ id: 1, rack: 'a' }, { id: 2, rack: 'a' }, { id: 3, rack: 'b' }, { id: 4, rack: 'b' }];
    const placed = placePartitions({ brokers, replicationFactor: 3, count: 8, topicAssignments: [], otherAssignments: [] });
    const rack = (id: number) => brokers.find((b) => b.id === id)!.rack;
    for (const replicas of placed) expect(new Set(replicas.map(rack))).toEqual(new Set(['a', 'b']));
  });

  it('property: distinct racks whenever racks >= rf, at most ceil(rf/racks) per rack otherwise', () => {
    fc.assert(
      fc.property(
        fc.array(fc.constantFrom('a', 'b', 'c', 'd'), { minLength: 1, maxLength: 8 }),
        fc.integer({ min: 1, max: 8 }),
        fc.integer({ min: 1, max: 20 }),
        (racks, rfWanted, count) => {
          const brokers = racks.map((rack, id) => ({ id, rack }));
          const rf = Math.min(rfWanted, brokers.length);
          const placed = placePartitions({ brokers, replicationFactor: rf, count, topicAssignments: [], otherAssignments: [] });
          const rackNames = new Set(racks);
          const perRack = new Map([...rackNames].map((r) => [r, racks.filter((x) => x === r).length]));
          const cap = Math.ceil(rf / rackNames.size);
          const everyRackCanHoldCap = [...perRack.values()].every((n) => n >= cap);
          for (const replicas of placed) {
            expect(new Set(replicas).size).toBe(rf);
            const used = new Map<string, number>();
            for (const id of replicas) used.set(racks[id]!, (used.get(racks[id]!) ?? 0) + 1);
            if (rackNames.size >= rf) expect(used.size).toBe(rf);
            else if (everyRackCanHoldCap) expect(Math.max(...used.values())).toBeLessThanOrEqual(cap);
          }
          expect(spread(leaderCounts(placed), brokers.map((b) => b.id))).toBeLessThanOrEqual(1);
        },
      ),
      { numRuns: 300 },
    );
  });
});

describe('load across topics and partition increases', () => {
  it('property: preferred leaders stay within ±1 cluster-wide as topics are created one after another', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 6 }),
        fc.array(fc.record({ partitions: fc.integer({ min: 1, max: 9 }), rf: fc.integer({ min: 1, max: 3 }) }), { minLength: 1, maxLength: 12 }),
        (n, topics) => {
          const ids = Array.from({ length: n }, (_, i) => i);
          const cluster: number[][] = [];
          for (const t of topics) {
            const placed = placePartitions({ brokers: brokersOf(ids), replicationFactor: Math.min(t.rf, n), count: t.partitions, topicAssignments: [], otherAssignments: cluster });
            expect(spread(leaderCounts(placed), ids)).toBeLessThanOrEqual(1);
            cluster.push(...placed);
            expect(spread(leaderCounts(cluster), ids)).toBeLessThanOrEqual(1);
          }
        },
      ),
      { numRuns: 300 },
    );
  });

  it('varies the leader of single-partition topics instead of always using the lowest id', () => {
    const cluster: number[][] = [];
    const leaders: number[] = [];
    for (let t = 0; t < 6; t++) {
      const [replicas] = placePartitions({ brokers: brokersOf([0, 1, 2]), replicationFactor: 1, count: 1, topicAssignments: [], otherAssignments: cluster });
      leaders.push(replicas![0]!);
      cluster.push(replicas!);
    }
    expect(leaders).toEqual([0, 1, 2, 0, 1, 2]);
  });

  it('gives new partitions to a broker that joined after the topic was created', () => {
    const existing = [[1, 2], [2, 3], [3, 1]];
    const placed = placePartitions({ brokers: brokersOf([1, 2, 3, 4]), replicationFactor: 2, count: 1, topicAssignments: existing, otherAssignments: [] });
    expect(placed[0]![0]).toBe(4);
    expect(placed[0]).toHaveLength(2);
  });

  it('property: a partition increase never widens the topic leader spread beyond max(1, what it was)', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 5 }),
        fc.array(fc.array(fc.integer({ min: 0, max: 4 }), { minLength: 1, maxLength: 1 }), { maxLength: 10 }),
        fc.integer({ min: 1, max: 10 }),
        (n, rawExisting, added) => {
          const ids = Array.from({ length: n }, (_, i) => i);
          const existing = rawExisting.map(([id]) => [id! % n]);
          const before = spread(leaderCounts(existing), ids);
          const placed = placePartitions({ brokers: brokersOf(ids), replicationFactor: 1, count: added, topicAssignments: existing, otherAssignments: [] });
          expect(placed).toHaveLength(added);
          expect(spread(leaderCounts([...existing, ...placed]), ids)).toBeLessThanOrEqual(Math.max(1, before));
        },
      ),
      { numRuns: 300 },
    );
  });
});

describe('replication factor', () => {
  it('defaults to min(3, live brokers)', () => {
    expect([1, 2, 3, 4, 9].map(defaultReplicationFactor)).toEqual([1, 2, 3, 3, 3]);
    expect(resolveReplicationFactor(0, [4])).toBe(1);
    expect(resolveReplicationFactor(0, [1, 2, 3, 4])).toBe(3);
    expect(place([1, 2], 0, 2).every((r) => r.length === 2)).toBe(true);
  });

  it('refuses more replicas than live brokers, saying how many are live', () => {
    const err = (() => {
      try {
        resolveReplicationFactor(3, [1, 2]);
      } catch (e) {
        return e as SluiceError;
      }
      throw new Error('expected a refusal');
    })();
    expect(err.code).toBe('INVALID_REPLICATION_FACTOR');
    expect(err.message).toContain('2 brokers are live (1, 2)');
    expect(err.message).toContain('at most 2');
    expect(() => resolveReplicationFactor(2, [7])).toThrow(/1 broker is live \(7\)/);
  });

  it('refuses out-of-range values and an empty cluster', () => {
    for (const bad of [-1, 33, 1.5]) {
      expect(() => resolveReplicationFactor(bad, [1, 2, 3])).toThrow(expect.objectContaining({ code: 'INVALID_REPLICATION_FACTOR' }));
    }
    expect(() => resolveReplicationFactor(0, [])).toThrow(/no broker is live/);
  });
});

describe('reassignmentTargets', () => {
  const active = (ids: number[], racks?: string[]): ReassignmentBroker[] => brokersOf(ids, racks).map((b) => ({ ...b, state: 'active' }));
  const stable = (replicas: number[], isr = replicas, leader = replicas[0]!): CurrentReplicas => ({ replicas, adding: [], leader, isr });
  const targets = (brokers: ReassignmentBroker[], rf: number, partitions: CurrentReplicas[], otherAssignments: number[][] = []) =>
    reassignmentTargets({ brokers, replicationFactor: rf, partitions, otherAssignments });

  it('grows every partition onto distinct racks, keeping the current replicas first and replica load within ±1', () => {
    const racks = ['a', 'a', 'b', 'b', 'c', 'c'];
    const ids = [0, 1, 2, 3, 4, 5];
    const rackOf = (id: number) => racks[id]!;
    const current = ids.map((id) => stable([id]));
    const placed = targets(active(ids, racks), 3, current);
    placed.forEach((replicas, i) => {
      expect(replicas[0]).toBe(i);
      expect(new Set(replicas.map(rackOf)).size).toBe(3);
    });
    expect(spread(replicaCounts(placed), ids)).toBeLessThanOrEqual(1);
  });

  it('shrinks by keeping the leader, then in-sync replicas, then live brokers, then new racks, then original over added replicas', () => {
    const brokers: ReassignmentBroker[] = [
      { id: 1, rack: 'a', state: 'active' },
      { id: 2, rack: 'a', state: 'active' },
      { id: 3, rack: 'b', state: 'active' },
      { id: 4, rack: 'b', state: 'fenced' },
      { id: 5, rack: 'c', state: 'shutting_down' },
    ];
    const shrink = (p: CurrentReplicas, rf: number) => targets(brokers, rf, [p])[0];
    // Leader first even when it is not the preferred replica; order is kept.
    expect(shrink(stable([1, 2, 3], [1, 2, 3], 3), 1)).toEqual([3]);
    // An in-sync replica beats a new rack.
    expect(shrink(stable([1, 2, 3], [1, 2], 1), 2)).toEqual([1, 2]);
    // Among out-of-sync ones: active beats stopping beats fenced.
    expect(shrink(stable([1, 4, 5, 2], [1], 1), 2)).toEqual([1, 2]);
    expect(shrink(stable([1, 4, 5], [1], 1), 2)).toEqual([1, 5]);
    // All else equal, a rack not kept yet wins.
    expect(shrink(stable([1, 2, 3]), 2)).toEqual([1, 3]);
    // Then a replica that was there before an ongoing move beats one it is still adding.
    expect(targets(active([1, 2, 3]), 2, [{ replicas: [1, 3, 2], adding: [3], leader: 1, isr: [1] }])[0]).toEqual([1, 2]);
    // An offline partition keeps its last in-sync replica.
    expect(shrink({ replicas: [1, 4], adding: [], leader: NO_LEADER, isr: [4] }, 1)).toEqual([4]);
  });

  it('keeps replicas on fenced brokers when growing, and gives new replicas to active brokers only', () => {
    const brokers: ReassignmentBroker[] = [
      { id: 1, rack: '', state: 'fenced' },
      { id: 2, rack: '', state: 'active' },
      { id: 3, rack: '', state: 'shutting_down' },
      { id: 4, rack: '', state: 'active' },
    ];
    expect(targets(brokers, 3, [stable([1, 2])])).toEqual([[1, 2, 4]]);
  });

  it('refuses to grow past the active brokers, naming the partition and what is available', () => {
    const brokers: ReassignmentBroker[] = [...active([1, 2]), { id: 3, rack: '', state: 'fenced' }];
    expect(() => targets(brokers, 3, [stable([1, 2])])).toThrow(/replication factor 3 needs 1 more replica for partition 0 \(replicas \[1, 2\]\), but only 0 other active brokers are available; start more brokers or ask for a replication factor of at most 2/);
    expect(() => targets(active([1, 2, 3]), 0, [stable([1])])).toThrow(expect.objectContaining({ code: 'INVALID_REPLICATION_FACTOR' }));
  });

  it('property: growing keeps the current list as a prefix; shrinking keeps the leader and as many in-sync replicas as fit, in order', () => {
    const LIFECYCLES: BrokerLifecycle[] = ['active', 'active', 'shutting_down', 'fenced'];
    fc.assert(
      fc.property(
        fc.array(fc.record({ rack: fc.constantFrom('', 'a', 'b'), state: fc.constantFrom(...LIFECYCLES) }), { minLength: 1, maxLength: 7 }),
        fc.array(fc.record({ picks: fc.array(fc.nat(), { minLength: 7, maxLength: 7 }), size: fc.integer({ min: 1, max: 7 }), isrMask: fc.nat(), leaderPick: fc.nat(), offline: fc.boolean() }), { minLength: 1, maxLength: 4 }),
        fc.integer({ min: 1, max: 7 }),
        (brokerSpecs, partitionSpecs, rf) => {
          const brokers = brokerSpecs.map((b, id) => ({ id, ...b }));
          const ids = brokers.map((b) => b.id);
          const partitions: CurrentReplicas[] = partitionSpecs.map((spec) => {
            const pool = [...ids];
            const replicas = spec.picks.slice(0, Math.min(spec.size, ids.length)).map((pick) => pool.splice(pick % pool.length, 1)[0]!);
            const isr = replicas.filter((_, i) => spec.isrMask & (1 << i));
            const inIsr = isr.length > 0 ? isr : [replicas[0]!];
            return { replicas, adding: [], isr: inIsr, leader: spec.offline ? NO_LEADER : inIsr[spec.leaderPick % inIsr.length]! };
          });
          const state = new Map(brokers.map((b) => [b.id, b.state]));
          let out: number[][];
          try {
            out = reassignmentTargets({ brokers, replicationFactor: rf, partitions, otherAssignments: [] });
          } catch (e) {
            // Refused only when some partition cannot grow onto enough active brokers.
            expect((e as SluiceError).code).toBe('INVALID_REPLICATION_FACTOR');
            const free = (p: CurrentReplicas) => brokers.filter((b) => b.state === 'active' && !p.replicas.includes(b.id)).length;
            expect(partitions.some((p) => rf - p.replicas.length > free(p))).toBe(true);
            return;
          }
          out.forEach((target, i) => {
            const p = partitions[i]!;
            expect(target).toHaveLength(rf);
            expect(new Set(target).size).toBe(rf);
            if (rf >= p.replicas.length) {
              expect(target.slice(0, p.replicas.length)).toEqual(p.replicas);
              for (const id of target.slice(p.replicas.length)) expect(state.get(id)).toBe('active');
            } else {
              expect(target).toEqual(p.replicas.filter((id) => target.includes(id)));
              if (p.leader !== NO_LEADER) expect(target).toContain(p.leader);
              expect(target.filter((id) => p.isr.includes(id))).toHaveLength(Math.min(rf, p.isr.length));
            }
          });
        },
      ),
      { numRuns: 400 },
    );
  });
});
