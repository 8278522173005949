// The consumer's I/O half: one Fetch in flight per broker, asking for every assigned
// partition that broker leads, and fetching ahead (up to about maxPartitionFetchBytes per
// partition) while the application works through what it already has. Fetched batches are
// decoded here; records below the requested offset (the head of the first batch) and at or
// above the high watermark are dropped, so the application sees each offset once, in order,
// and never an uncommitted record. A batch that cannot be decoded stops its partition there:
// the batches before it are delivered, then poll() reports it until the application seeks.
import type * as grpc from '@grpc/grpc-js';
import { SluiceError } from '../common/errors.ts';
import { fromErrorDetail, fromServiceError } from '../common/grpc-errors.ts';
import type { Logger } from '../common/logger.ts';
import { batchSizeAt, decodeRecordBatch, type DecodedBatch, type DecodedRecord } from '../common/record-batch.ts';
import type { ClusterMetadata } from './cluster-metadata.ts';
import type { ResolvedConsumerOptions } from './client-options.ts';
import type { ConnectionPool } from './connection-pool.ts';
import type { OffsetSpecInput } from './list-offsets.ts';
import { topicPartitionKey } from './records.ts';
import type { FetchPartitionResult__Output } from '../proto/gen/sluice/v1/FetchPartitionResult.ts';

export interface FetchedChunk {
  records: DecodedRecord[];
  /** Next record to hand out. */
  index: number;
  /** Where the partition's position goes once the chunk is consumed (past compacted gaps). */
  nextOffset: number;
  bytes: number;
}

/** Fetch state of one assigned partition. */
export class PartitionState {
  readonly topic: string;
  readonly partition: number;
  readonly key: string;
  /** Next offset handed to the application; null until known (reset pending). */
  position: number | null = null;
  /** Next offset to fetch: ahead of position by what is buffered. */
  fetchOffset: number | null = null;
  /** Bumped by every seek or reset: answers to older requests are dropped. */
  generation = 0;
  readonly buffered: FetchedChunk[] = [];
  bufferedBytes = 0;
  highWatermark = -1;
  logStartOffset = -1;
  retryAt = 0;
  /** A position to look up (auto offset reset, seekToBeginning/End/Timestamp). */
  resetTo: OffsetSpecInput | null = null;
  resetting = false;
  /** Reported by poll() once the buffered records are delivered; cleared by a seek. */
  error: SluiceError | null = null;
  fetching = false;
  fetchMaxBytes: number;

  constructor(topic: string, partition: number, fetchMaxBytes: number) {
    this.topic = topic;
    this.partition = partition;
    this.key = topicPartitionKey(topic, partition);
    this.fetchMaxBytes = fetchMaxBytes;
  }

  /** Sets the position and forgets everything fetched or being fetched for the old one. */
  moveTo(offset: number): void {
    this.generation++;
    this.position = offset;
    this.fetchOffset = offset;
    this.buffered.length = 0;
    this.bufferedBytes = 0;
    this.error = null;
    this.resetTo = null;
    this.retryAt = 0;
  }

  requestReset(spec: OffsetSpecInput): void {
    this.generation++;
    this.position = null;
    this.fetchOffset = null;
    this.buffered.length = 0;
    this.bufferedBytes = 0;
    this.error = null;
    this.resetTo = spec;
    this.retryAt = 0;
  }
}

export interface FetcherDeps {
  pool: ConnectionPool;
  metadata: ClusterMetadata;
  options: ResolvedConsumerOptions;
  logger: Logger;
  partitions: () => Iterable<PartitionState>;
  /** Data or an error arrived for some partition. */
  onData: () => void;
}

export class Fetcher {
  private readonly deps: FetcherDeps;
  private readonly inFlight = new Map<string, grpc.ClientUnaryCall>();
  private timer: NodeJS.Timeout | null = null;
  private timerAt = Number.POSITIVE_INFINITY;
  private closed = false;

  constructor(deps: FetcherDeps) {
    this.deps = deps;
  }

  close(): void {
    this.closed = true;
    if (this.timer) clearTimeout(this.timer);
    for (const call of this.inFlight.values()) call.cancel();
    this.inFlight.clear();
  }

  /** Sends a Fetch to every broker that leads a fetchable partition and has none in flight. */
  maybeFetch(): void {
    if (this.closed) return;
    const now = Date.now();
    const { options, metadata } = this.deps;
    const byBroker = new Map<string, PartitionState[]>();
    let nextRetry = Number.POSITIVE_INFINITY;
    for (const p of this.deps.partitions()) {
      if (p.fetchOffset === null || p.fetching || p.error !== null || p.resetTo !== null) continue;
      if (p.bufferedBytes >= options.maxPartitionFetchBytes) continue;
      if (p.retryAt > now) {
        nextRetry = Math.min(nextRetry, p.retryAt);
        continue;
      }
      const leader = metadata.leaderFor(p.topic, p.partition);
      if (leader === null) {
        metadata.track([p.topic]);
        metadata.requestRefresh();
        p.retryAt = now + Math.max(1, options.retryBackoffMs);
        nextRetry = Math.min(nextRetry, p.retryAt);
        continue;
      }
      if (this.inFlight.has(leader.address)) continue;
      const list = byBroker.get(leader.address) ?? [];
      list.push(p);
      byBroker.set(leader.address, list);
    }
    for (const [address, parts] of byBroker) this.fetch(address, parts);
    if (nextRetry !== Number.POSITIVE_INFINITY) this.arm(nextRetry, now);
  }

  private arm(at: number, now: number): void {
    if (this.timer && this.timerAt <= at) return;
    if (this.timer) clearTimeout(this.timer);
    this.timerAt = at;
    this.timer = setTimeout(() => {
      this.timer = null;
      this.timerAt = Number.POSITIVE_INFINITY;
      this.maybeFetch();
    }, Math.max(0, at - now));
  }

  private fetch(address: string, parts: PartitionState[]): void {
    const { options } = this.deps;
    const requested = parts.map((p) => ({ state: p, generation: p.generation, offset: p.fetchOffset! }));
    for (const p of parts) p.fetching = true;
    const conn = this.deps.pool.get(address);
    const call = conn.log.Fetch(
      {
        partitions: parts.map((p) => ({ topic: p.topic, partition: p.partition, fetch_offset: p.fetchOffset!, max_bytes: p.fetchMaxBytes })),
        max_wait_ms: options.maxWaitMs,
        min_bytes: options.minBytes,
        max_bytes: options.maxBytes,
      },
      { deadline: Date.now() + options.maxWaitMs + options.requestTimeoutMs },
      (err, response) => {
        this.inFlight.delete(address);
        for (const p of parts) p.fetching = false;
        if (this.closed) return;
        if (err) {
          this.onFetchFailed(address, requested.map((r) => r.state), fromServiceError(err));
        } else {
          const results = new Map<string, FetchPartitionResult__Output>();
          for (const r of response!.partitions) results.set(topicPartitionKey(r.topic, r.partition), r);
          for (const r of requested) {
            const result = results.get(r.state.key);
            if (result && r.state.generation === r.generation && r.state.fetchOffset === r.offset) this.onResult(r.state, r.offset, result, address);
          }
        }
        this.deps.onData();
        this.maybeFetch();
      },
    );
    this.inFlight.set(address, call);
  }

  private onFetchFailed(address: string, parts: PartitionState[], error: SluiceError): void {
    const retryAt = Date.now() + this.deps.options.retryBackoffMs;
    if (error.retriable) {
      this.deps.logger.warn({ broker: address, err: error }, 'fetch failed; retrying after metadata refresh');
      this.deps.metadata.requestRefresh();
      for (const p of parts) p.retryAt = retryAt;
      return;
    }
    for (const p of parts) p.error = error;
  }

  private onResult(p: PartitionState, requestedOffset: number, result: FetchPartitionResult__Output, address: string): void {
    const error = fromErrorDetail(result.error);
    if (error !== null) {
      this.onPartitionError(p, requestedOffset, error, address);
      return;
    }
    p.highWatermark = result.high_watermark;
    p.logStartOffset = result.log_start_offset;
    const bytes = result.records;
    if (bytes.length === 0) return;
    // Batch by batch, so that one that cannot be decoded costs only itself and what follows.
    const batches: DecodedBatch[] = [];
    let undecodable: { pos: number; err: unknown } | null = null;
    for (let pos = 0; pos < bytes.length; ) {
      try {
        const size = batchSizeAt(bytes, pos);
        // A partial batch at the very end is what a size-limited fetch returns, not damage.
        if (size === -1 || size > bytes.length - pos) break;
        batches.push(decodeRecordBatch(bytes, pos));
        pos += size;
      } catch (err) {
        undecodable = { pos, err };
        break;
      }
    }
    if (batches.length === 0 && undecodable === null) {
      // Only part of one batch fit: ask for more next time (the broker should send a whole
      // first batch whatever the limit; this keeps a smaller limit from stalling us).
      p.fetchMaxBytes = Math.min(this.deps.options.maxBytes, p.fetchMaxBytes * 2);
      return;
    }
    const hw = result.high_watermark >= 0 ? result.high_watermark : Number.POSITIVE_INFINITY;
    const records: DecodedRecord[] = [];
    let nextOffset = requestedOffset;
    for (const batch of batches) {
      for (const record of batch.records) {
        if (record.offset < nextOffset || record.offset >= hw) continue;
        records.push(record);
        nextOffset = record.offset + 1;
      }
      // Compaction can leave offsets of a batch without records; step over them, but never
      // past the high watermark.
      const end = batch.header.lastOffset + 1;
      if (end > nextOffset && end <= hw) nextOffset = end;
    }
    // A damaged batch at or above the high watermark is not readable yet; a later fetch meets it
    // again once it is committed (or finds it replaced, if the leader truncated it away).
    if (undecodable !== null && nextOffset < hw) p.error = this.undecodableBatch(p, bytes, undecodable.pos, undecodable.err, nextOffset);
    if (nextOffset === requestedOffset) return;
    p.buffered.push({ records, index: 0, nextOffset, bytes: bytes.length });
    p.bufferedBytes += bytes.length;
    p.fetchOffset = nextOffset;
    p.fetchMaxBytes = this.deps.options.maxPartitionFetchBytes;
  }

  /**
   * The error for a batch that cannot be decoded (as Kafka's consumer, which asks the user to
   * "seek past the record to continue consumption"): fetching again would return the same
   * bytes, so the partition stops there and the application decides. Names the batch by the
   * offsets its header claims when they are plausible, else by the first undelivered offset.
   */
  private undecodableBatch(p: PartitionState, bytes: Buffer, pos: number, err: unknown, nextOffset: number): SluiceError {
    let range = '';
    let skipTo = 'past it';
    let at = nextOffset;
    if (bytes.length - pos >= 27) {
      const base = bytes.readInt32BE(pos) * 2 ** 32 + bytes.readUInt32BE(pos + 4);
      const lastOffsetDelta = bytes.readInt32BE(pos + 23);
      if (Number.isSafeInteger(base + lastOffsetDelta) && base >= 0 && lastOffsetDelta >= 0 && base + lastOffsetDelta >= nextOffset) {
        at = base;
        range = ` (offsets ${base} to ${base + lastOffsetDelta})`;
        skipTo = `past it, to offset ${base + lastOffsetDelta + 1}`;
      }
    }
    const problem = err instanceof Error ? err.message : String(err);
    return new SluiceError(
      'CORRUPT_MESSAGE',
      `${p.topic}-${p.partition}: the record batch at offset ${at}${range} cannot be decoded: ${problem}; the records before it were delivered, and this partition stops here until you seek() ${skipTo}`,
      { topic: p.topic, partition: p.partition },
      { cause: err },
    );
  }

  private onPartitionError(p: PartitionState, requestedOffset: number, error: SluiceError, address: string): void {
    const { options, metadata, logger } = this.deps;
    const where = `${p.topic}-${p.partition}`;
    if (error.code === 'OFFSET_OUT_OF_RANGE') {
      const { logStartOffset, logEndOffset } = error.details;
      const range = logStartOffset !== undefined && logEndOffset !== undefined ? ` (valid offsets: ${logStartOffset} to ${logEndOffset})` : '';
      if (options.autoOffsetReset === 'none') {
        p.error = new SluiceError(
          'OFFSET_OUT_OF_RANGE',
          `offset ${requestedOffset} of ${where} is out of range${range}, and autoOffsetReset is 'none'; seek() to a valid offset, or use autoOffsetReset 'earliest' or 'latest'`,
          { ...error.details, topic: p.topic, partition: p.partition },
        );
        return;
      }
      logger.warn({ topic: p.topic, partition: p.partition, offset: requestedOffset, range }, `offset out of range; resetting to ${options.autoOffsetReset}`);
      p.requestReset(options.autoOffsetReset);
      return;
    }
    if (!error.retriable) {
      p.error = new SluiceError(error.code, `fetching ${where} at offset ${requestedOffset} failed: ${error.message}`, { ...error.details, topic: p.topic, partition: p.partition }, { cause: error });
      return;
    }
    const rerouted = error.code === 'NOT_LEADER' && metadata.applyLeaderHint(p.topic, p.partition, error, address);
    if (!rerouted) {
      metadata.requestRefresh();
      p.retryAt = Date.now() + options.retryBackoffMs;
    }
    logger.debug({ topic: p.topic, partition: p.partition, code: error.code, rerouted }, 'fetch of partition failed; retrying');
  }
}
