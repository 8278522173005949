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
