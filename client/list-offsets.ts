// ListOffsets for the consumer (seekToBeginning/End/Timestamp, auto offset reset) and the
// admin client: each partition's question goes to its leader, grouped per broker, and
// retriable answers (moved leader, election in progress, broker gone) are retried within the
// deadline after a metadata update.
import { SluiceError } from '../common/errors.ts';
import { fromErrorDetail } from '../common/grpc-errors.ts';
import { callUnary, type ConnectionPool } from './connection-pool.ts';
import type { ClusterMetadata } from './cluster-metadata.ts';
import type { OffsetSpec } from '../proto/gen/sluice/v1/OffsetSpec.ts';

export type OffsetSpecInput = 'earliest' | 'latest' | { timestamp: number };

export interface ListOffsetsRequest {
  topic: string;
  partition: number;
  spec: OffsetSpecInput;
}

export interface ListOffsetsResult {
  topic: string;
  partition: number;
  /** earliest: log start offset; latest: high watermark; timestamp: first offset at or after it (high watermark if none). */
  offset: number;
  /** The found record's timestamp for a timestamp query, otherwise -1. */
  timestamp: number;
  leaderEpoch: number;
}

function specToProto(spec: OffsetSpecInput): { spec: OffsetSpec; timestamp: number } {
  if (spec === 'earliest') return { spec: 'OFFSET_SPEC_EARLIEST', timestamp: 0 };
  if (spec === 'latest') return { spec: 'OFFSET_SPEC_LATEST', timestamp: 0 };
  if (typeof spec === 'object' && spec !== null && Number.isSafeInteger(spec.timestamp) && spec.timestamp >= 0) {
    return { spec: 'OFFSET_SPEC_TIMESTAMP', timestamp: spec.timestamp };
  }
  throw new SluiceError('INVALID_REQUEST', `offset spec must be 'earliest', 'latest' or { timestamp: ms since the epoch >= 0 } (got ${JSON.stringify(spec)})`);
}

export async function listOffsets(
  pool: ConnectionPool,
  metadata: ClusterMetadata,
  requests: readonly ListOffsetsRequest[],
  options: { timeoutMs: number; retryBackoffMs: number; signal?: AbortSignal },
): Promise<ListOffsetsResult[]> {
  const protoSpecs = requests.map((r) => specToProto(r.spec));
  const results: (ListOffsetsResult | undefined)[] = new Array(requests.length);
  let pending = requests.map((_, i) => i);
  const deadline = Date.now() + options.timeoutMs;
  let lastError: SluiceError | null = null;

  for (const topic of new Set(requests.map((r) => r.topic))) {
    await metadata.waitForTopic(topic, Math.max(0, deadline - Date.now()));
  }

  while (pending.length > 0) {
    if (options.signal?.aborted) throw new SluiceError('CLOSED', 'the client was closed while listing offsets');
    const byLeader = new Map<string, number[]>();
    const retry: number[] = [];
    for (const i of pending) {
      const r = requests[i]!;
      const count = metadata.topic(r.topic)?.partitions.length ?? 0;
      if (!Number.isInteger(r.partition) || r.partition < 0 || (count > 0 && r.partition >= count)) {
        throw new SluiceError('UNKNOWN_TOPIC_OR_PARTITION', `partition ${r.partition} of topic "${r.topic}" does not exist (the topic has ${count} partitions)`, { topic: r.topic, partition: r.partition });
      }
      const leader = metadata.leaderFor(r.topic, r.partition);
      if (!leader) {
        lastError = new SluiceError('LEADER_NOT_AVAILABLE', `partition ${r.topic}-${r.partition} has no leader right now`, { topic: r.topic, partition: r.partition });
        retry.push(i);
        continue;
      }
      const group = byLeader.get(leader.address) ?? [];
      group.push(i);
      byLeader.set(leader.address, group);
    }
    await Promise.all(
      [...byLeader].map(async ([address, indexes]) => {
        try {
          const conn = pool.get(address);
          const response = await callUnary(
            conn.log,
            conn.log.ListOffsets,
            { partitions: indexes.map((i) => ({ topic: requests[i]!.topic, partition: requests[i]!.partition, ...protoSpecs[i]! })) },
            Math.max(1, Math.min(deadline - Date.now(), options.timeoutMs)),
            options.signal,
          );
          const answered = new Set<number>();
          for (const res of response.partitions) {
            const i = indexes.find((j) => !answered.has(j) && requests[j]!.topic === res.topic && requests[j]!.partition === res.partition);
            if (i === undefined) continue;
            answered.add(i);
            const error = fromErrorDetail(res.error);
            if (!error) {
              results[i] = { topic: res.topic, partition: res.partition, offset: res.offset, timestamp: res.timestamp, leaderEpoch: res.leader_epoch };
              continue;
            }
            if (!error.retriable) throw error;
            lastError = error;
            if (error.code === 'NOT_LEADER') metadata.applyLeaderHint(res.topic, res.partition, error, address);
            else metadata.requestRefresh();
            retry.push(i);
          }
          for (const i of indexes) if (!answered.has(i)) retry.push(i);
        } catch (err) {
          const error = err instanceof SluiceError ? err : new SluiceError('UNKNOWN', String(err), {}, { cause: err });
          if (!error.retriable) throw error;
          lastError = error;
          metadata.requestRefresh();
          retry.push(...indexes);
        }
      }),
    );
    pending = retry;
    if (pending.length === 0) break;
    if (Date.now() + options.retryBackoffMs >= deadline) {
      const what = pending.map((i) => `${requests[i]!.topic}-${requests[i]!.partition}`).join(', ');
      throw new SluiceError(lastError?.code ?? 'REQUEST_TIMED_OUT', `could not list offsets of ${what} within ${options.timeoutMs} ms: ${lastError?.message ?? 'no answer'}`, lastError?.details ?? {});
    }
    await new Promise((r) => setTimeout(r, options.retryBackoffMs));
  }
  return results as ListOffsetsResult[];
}
