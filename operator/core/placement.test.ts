import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { SluiceError } from '../../common/errors.ts';
import { defaultReplicationFactor, placePartitions, resolveReplicationFactor, type PlacementBroker } from './placement.ts';

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
