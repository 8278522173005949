// Replica placement (DESIGN §6): which brokers hold the replicas of new partitions, and which of
// them is the preferred leader (the first replica). Pure and deterministic, so a restarted
// controller or the Kubernetes shell computes the same assignment from the same state.
//
// Greedy and load-aware rather than Kafka's random start index: each partition's preferred
// leader is the broker leading the fewest partitions of this topic, then of the whole cluster;
// followers prefer racks the partition does not use yet, then the least-loaded brokers. The
// cluster-wide tie-break is what varies the "start index" between topics, so single-partition
// topics do not all land their leader on the lowest broker id.
import { SluiceError } from '../../common/errors.ts';
import type { BrokerLifecycle } from './cluster-state.ts';
import { NO_LEADER } from './election.ts';

export interface PlacementBroker {
  readonly id: number;
  /** Zone or rack; '' when the broker has none (all rack-less brokers count as one rack). */
  readonly rack: string;
}

export interface PlacementRequest {
  /** Brokers that may receive replicas (the active ones). */
  readonly brokers: readonly PlacementBroker[];
  readonly replicationFactor: number;
  /** How many new partitions to place. */
  readonly count: number;
  /** Replica lists of the topic's existing partitions (empty for a new topic). */
  readonly topicAssignments: readonly (readonly number[])[];
  /** Replica lists of every partition of the other topics, so load spreads across topics. */
  readonly otherAssignments: readonly (readonly number[])[];
}

/** The Topic CRD allows 1..32 (DESIGN §7). */
export const MAX_REPLICATION_FACTOR = 32;

/** Kafka's default.replication.factor is 1; Sluice defaults to 3 copies where brokers allow. */
export function defaultReplicationFactor(liveBrokers: number): number {
  return Math.min(3, liveBrokers);
}

/**
 * The replication factor to use for a request (0 = the default), refused with
 * INVALID_REPLICATION_FACTOR when out of range or larger than the number of live brokers.
 */
export function resolveReplicationFactor(requested: number, liveBrokerIds: readonly number[]): number {
  if (!Number.isInteger(requested) || requested < 0 || requested > MAX_REPLICATION_FACTOR) {
    throw new SluiceError(
      'INVALID_REPLICATION_FACTOR',
      `replication factor must be an integer from 1 to ${MAX_REPLICATION_FACTOR}, or 0 for the default min(3, live brokers) (got ${requested})`,
    );
  }
  const n = liveBrokerIds.length;
  if (n === 0) {
    throw new SluiceError('INVALID_REPLICATION_FACTOR', 'no broker is live, so no replica can be placed; start a broker (or wait until brokers have registered) and retry');
  }
  const rf = requested === 0 ? defaultReplicationFactor(n) : requested;
  if (rf > n) {
    const ids = [...liveBrokerIds].sort((a, b) => a - b).join(', ');
    throw new SluiceError(
      'INVALID_REPLICATION_FACTOR',
      `replication factor ${rf} needs ${rf} live brokers, but ${n} ${n === 1 ? 'broker is' : 'brokers are'} live (${ids}); use a replication factor of at most ${n}, or start more brokers`,
    );
  }
  return rf;
}

/** Replica lists for `count` new partitions; the first replica of each is its preferred leader. */
export function placePartitions(request: PlacementRequest): number[][] {
  const brokers = [...request.brokers].sort((a, b) => a.id - b.id);
  const rf = resolveReplicationFactor(request.replicationFactor, brokers.map((b) => b.id));
  if (new Set(brokers.map((b) => b.id)).size !== brokers.length) {
    throw new SluiceError('INVALID_REQUEST', 'placement got the same broker id twice');
  }

  const load = new Map<number, { topicLeaders: number; topicReplicas: number; leaders: number; replicas: number }>();
  for (const b of brokers) load.set(b.id, { topicLeaders: 0, topicReplicas: 0, leaders: 0, replicas: 0 });
  // Replicas on brokers outside the placement set (fenced ones) are not counted: they carry no
  // live load to balance against.
  const count = (replicas: readonly number[], ofTopic: boolean): void => {
    replicas.forEach((id, i) => {
      const l = load.get(id);
      if (!l) return;
      l.replicas++;
      if (ofTopic) l.topicReplicas++;
      if (i === 0) {
        l.leaders++;
        if (ofTopic) l.topicLeaders++;
      }
    });
  };
  for (const r of request.topicAssignments) count(r, true);
  for (const r of request.otherAssignments) count(r, false);

  const loadOf = (id: number) => load.get(id)!;
  const placed: number[][] = [];
  for (let p = 0; p < request.count; p++) {
    const leader = argMin(brokers, (b) => {
      const l = loadOf(b.id);
      return [l.topicLeaders, l.leaders, l.topicReplicas, l.replicas, b.id];
    });
    const replicas = [leader.id];
    const racksUsed = new Map<string, number>([[leader.rack, 1]]);
    while (replicas.length < rf) {
      const candidates = brokers.filter((b) => !replicas.includes(b.id));
      // Rack first: replicas of one partition on distinct racks whenever enough racks exist,
      // so losing a zone never takes all copies (DESIGN §6).
      const next = argMin(candidates, (b) => {
        const l = loadOf(b.id);
        return [racksUsed.get(b.rack) ?? 0, l.topicReplicas, l.replicas, b.id];
      });
      replicas.push(next.id);
      racksUsed.set(next.rack, (racksUsed.get(next.rack) ?? 0) + 1);
    }
    count(replicas, true);
    placed.push(replicas);
  }
  return placed;
}

export interface ReassignmentBroker extends PlacementBroker {
  readonly state: BrokerLifecycle;
}

/** A partition as a replication-factor change finds it (possibly in the middle of an earlier one). */
export interface CurrentReplicas {
  /** Current replicas (during a reassignment: the full set, target first); preference order. */
  readonly replicas: readonly number[];
  /** Replicas an ongoing reassignment is still adding: they hold the least data, so they go first. */
  readonly adding: readonly number[];
  readonly leader: number;
  readonly isr: readonly number[];
}

export interface ReassignmentRequest {
  /** Every registered broker: fenced ones still hold data; only active ones receive new replicas. */
  readonly brokers: readonly ReassignmentBroker[];
  readonly replicationFactor: number;
  /** The topic's partitions, in partition order. */
  readonly partitions: readonly CurrentReplicas[];
  /** Replica lists of every partition of the other topics, so new replicas spread across topics. */
  readonly otherAssignments: readonly (readonly number[])[];
}

/**
 * Target replica lists for a replication-factor change (DESIGN §6), one per partition.
 *
 * Growing keeps every current replica (its data is the copy the new ones are made from) and adds
 * active brokers on racks the partition does not use yet, then the least-loaded ones. Shrinking
 * keeps the leader, then prefers replicas in the ISR (so no in-sync copy is dropped while an
 * out-of-sync one stays), live brokers, racks not kept yet, replicas that were there before an
 * ongoing change, and finally the preference order. Targets keep the current preference order,
 * so the preferred leader stays the same whenever it is kept.
 */
export function reassignmentTargets(request: ReassignmentRequest): number[][] {
  const rf = request.replicationFactor;
  if (!Number.isInteger(rf) || rf < 1 || rf > MAX_REPLICATION_FACTOR) {
    throw new SluiceError('INVALID_REPLICATION_FACTOR', `replication factor must be an integer from 1 to ${MAX_REPLICATION_FACTOR} (got ${rf})`);
  }
  const byId = new Map(request.brokers.map((b) => [b.id, b]));
  const rackOf = (id: number) => byId.get(id)?.rack ?? '';
  const liveness = (id: number) => ({ active: 0, shutting_down: 1, fenced: 2 })[byId.get(id)?.state ?? 'fenced'];
  const active = request.brokers.filter((b) => b.state === 'active').sort((a, b) => a.id - b.id);

  const topicLoad = new Map<number, number>();
  const totalLoad = new Map<number, number>();
  const bump = (m: Map<number, number>, id: number) => m.set(id, (m.get(id) ?? 0) + 1);
  for (const r of request.otherAssignments) for (const id of r) bump(totalLoad, id);
  for (const p of request.partitions) {
    for (const id of p.replicas) {
      bump(topicLoad, id);
      bump(totalLoad, id);
    }
  }

  return request.partitions.map((p, index) => {
    const racksUsed = new Map<string, number>();
    const useRack = (id: number) => racksUsed.set(rackOf(id), (racksUsed.get(rackOf(id)) ?? 0) + 1);

    if (rf >= p.replicas.length) {
      const target = [...p.replicas];
      for (const id of target) useRack(id);
      const free = active.filter((b) => !target.includes(b.id));
      if (free.length < rf - target.length) {
        throw new SluiceError(
          'INVALID_REPLICATION_FACTOR',
          `replication factor ${rf} needs ${rf - target.length} more ${rf - target.length === 1 ? 'replica' : 'replicas'} for partition ${index} (replicas [${p.replicas.join(', ')}]), ` +
            `but only ${free.length} other active ${free.length === 1 ? 'broker is' : 'brokers are'} available${free.length > 0 ? ` (${free.map((b) => b.id).join(', ')})` : ''}; ` +
            `start more brokers or ask for a replication factor of at most ${target.length + free.length}`,
        );
      }
      while (target.length < rf) {
        const next = argMin(
          active.filter((b) => !target.includes(b.id)),
          (b) => [racksUsed.get(b.rack) ?? 0, topicLoad.get(b.id) ?? 0, totalLoad.get(b.id) ?? 0, b.id],
        );
        target.push(next.id);
        useRack(next.id);
        bump(topicLoad, next.id);
        bump(totalLoad, next.id);
      }
      return target;
    }

    const isr = new Set(p.isr);
    const adding = new Set(p.adding);
    const kept: number[] = [];
    // The leader holds every committed record and serves clients: dropping it would force an
    // election for nothing.
    if (p.leader !== NO_LEADER && p.replicas.includes(p.leader)) {
      kept.push(p.leader);
      useRack(p.leader);
    }
    while (kept.length < rf) {
      const next = argMin(
        p.replicas.filter((id) => !kept.includes(id)),
        (id) => [isr.has(id) ? 0 : 1, liveness(id), racksUsed.get(rackOf(id)) ?? 0, adding.has(id) ? 1 : 0, p.replicas.indexOf(id)],
      );
      kept.push(next);
      useRack(next);
    }
    return p.replicas.filter((id) => kept.includes(id));
  });
}

function argMin<T>(items: readonly T[], key: (item: T) => number[]): T {
  let best = items[0]!;
  let bestKey = key(best);
  for (let i = 1; i < items.length; i++) {
    const k = key(items[i]!);
    if (lexLess(k, bestKey)) {
      best = items[i]!;
      bestKey = k;
    }
  }
  return best;
}

function lexLess(a: readonly number[], b: readonly number[]): boolean {
  for (let i = 0; i < a.length; i++) {
    if (a[i]! !== b[i]!) return a[i]! < b[i]!;
  }
  return false;
}
