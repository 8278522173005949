// Partition choice on the producer. Keyed records use exactly the Kafka Java client's rule,
// toPositive(murmur2(key)) % numPartitions, so a topic written by Sluice and by Kafka clients
// keeps every key on one partition. Unkeyed records use the sticky rule of KIP-480: stay on one
// partition until its batch is sent, then move, which fills batches instead of spreading
// one-record batches over every partition.
import { SluiceError } from '../common/errors.ts';

export interface Partitioner {
  partition(topic: string, key: Buffer | null, numPartitions: number): number;
  /** Called when the batch for prevPartition was closed; a sticky partitioner moves on. */
  onNewBatch?(topic: string, numPartitions: number, prevPartition: number): void;
}

const SEED = 0x9747b28c;
const M = 0x5bd1e995;
const R = 24;

/** Kafka's org.apache.kafka.common.utils.Utils.murmur2: MurmurHash2, 32-bit signed result. */
export function murmur2(key: Buffer): number {
  const length = key.length;
  let h = SEED ^ length;
  const tail = length & ~3;
  for (let i = 0; i < tail; i += 4) {
    let k = key[i]! | (key[i + 1]! << 8) | (key[i + 2]! << 16) | (key[i + 3]! << 24);
    k = Math.imul(k, M);
    k ^= k >>> R;
    k = Math.imul(k, M);
    h = Math.imul(h, M) ^ k;
  }
  // Java's switch falls through 3 -> 2 -> 1; spelled out because fallthrough is banned here.
  const rest = length & 3;
  if (rest === 3) h ^= key[tail + 2]! << 16;
  if (rest >= 2) h ^= key[tail + 1]! << 8;
  if (rest >= 1) h = Math.imul(h ^ key[tail]!, M);
  h ^= h >>> 13;
  h = Math.imul(h, M);
  h ^= h >>> 15;
  return h | 0;
}

/** Kafka's Utils.toPositive: clears the sign bit (not Math.abs, which fails for -2^31). */
export function toPositive(n: number): number {
  return n & 0x7fffffff;
}

function requirePartitionCount(numPartitions: number): void {
  if (!Number.isInteger(numPartitions) || numPartitions < 1) {
    throw new SluiceError('INVALID_PARTITIONS', `cannot pick a partition among ${numPartitions}; a topic has at least 1 partition (refresh metadata)`);
  }
}

export function kafkaPartitionForKey(key: Buffer, numPartitions: number): number {
  requirePartitionCount(numPartitions);
  return toPositive(murmur2(key)) % numPartitions;
}

function randomPartition(numPartitions: number): number {
  return Math.floor(Math.random() * numPartitions);
}

/** Keyed: murmur2. Null key: sticky per topic until onNewBatch reports its batch closed. */
export function createDefaultPartitioner(): Partitioner {
  const sticky = new Map<string, number>();
  return {
    partition(topic, key, numPartitions) {
      if (key !== null) return kafkaPartitionForKey(key, numPartitions);
      requirePartitionCount(numPartitions);
      const current = sticky.get(topic);
      // A partition count that changed under us (topic recreated, stale metadata) voids the choice.
      if (current !== undefined && current < numPartitions) return current;
      const chosen = randomPartition(numPartitions);
      sticky.set(topic, chosen);
      return chosen;
    },
    onNewBatch(topic, numPartitions, prevPartition) {
      requirePartitionCount(numPartitions);
      const current = sticky.get(topic);
      // Only the batch of the current sticky partition moves us; a late call about an older
      // partition must not make us skip the one we just started filling.
      if (current !== undefined && current !== prevPartition) return;
      let next = randomPartition(numPartitions);
      // Draw from the other numPartitions - 1 partitions so the move is real.
      if (numPartitions > 1 && prevPartition >= 0 && prevPartition < numPartitions) {
        next = Math.floor(Math.random() * (numPartitions - 1));
        if (next >= prevPartition) next++;
      }
      sticky.set(topic, next);
    },
  };
}

/** Cycles through partitions per topic, ignoring the key. */
export function createRoundRobinPartitioner(): Partitioner {
  const next = new Map<string, number>();
  return {
    partition(topic, _key, numPartitions) {
      requirePartitionCount(numPartitions);
      const counter = next.get(topic) ?? 0;
      const chosen = counter % numPartitions;
      // Kept small so the counter never loses integer precision on a long-lived producer.
      next.set(topic, chosen + 1);
      return chosen;
    },
  };
}

export const partitioners: {
  default: () => Partitioner;
  roundRobin: () => Partitioner;
  /** Same as default: Kafka's default partitioner is murmur2 for keys, sticky for null keys. */
  murmur2: () => Partitioner;
} = {
  default: createDefaultPartitioner,
  roundRobin: createRoundRobinPartitioner,
  murmur2: createDefaultPartitioner,
};
