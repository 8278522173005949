// The shapes that cross the client API: what an application sends, what it gets back when a
// record is acknowledged, and what a consumer yields.
import type { RecordHeader } from '../common/record-batch.ts';

export type { RecordHeader };

export interface TopicPartition {
  topic: string;
  partition: number;
}

export interface ProducerRecord<K = unknown, V = unknown> {
  topic: string;
  key?: K;
  value: V;
  headers?: RecordHeader[];
  /** Chosen by the partitioner when absent. */
  partition?: number;
  /** Milliseconds since the epoch (CreateTime); the send time when absent. */
  timestamp?: number;
}

export interface RecordMetadata {
  topic: string;
  partition: number;
  /** -1 with acks 0: the broker does not say where the record went. */
  offset: number;
  timestamp: number;
}

export interface ConsumerRecord<K = Buffer | null, V = Buffer | null> {
  topic: string;
  partition: number;
  offset: number;
  timestamp: number;
  key: K;
  value: V;
  headers: RecordHeader[];
}

export function topicPartitionKey(topic: string, partition: number): string {
  return `${topic}-${partition}`;
}
