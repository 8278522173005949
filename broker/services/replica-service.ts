// sluice.v1.ReplicaService on the leader: one ReplicaFetch stream per follower broker. The
// follower sends a request and waits for its answer before the next one; a request is
// long-polled by the replica manager (woken by appends, not a timer) and answered with records
// up to the LEO, a diverging epoch, or a per-partition error. Malformed requests end the stream
// with INVALID_ARGUMENT + INVALID_REQUEST.
import type * as grpc from '@grpc/grpc-js';
import { SluiceError } from '../../common/errors.ts';
import { asSluiceError, toErrorDetail, toServiceError } from '../../common/grpc-errors.ts';
import type { RequestObserver } from '../broker-metrics.ts';
import type { Logger } from '../../common/logger.ts';
import type { ReplicaFetchRequest__Output } from '../../proto/gen/sluice/v1/ReplicaFetchRequest.ts';
import type { ReplicaFetchResponse } from '../../proto/gen/sluice/v1/ReplicaFetchResponse.ts';
import type { ReplicaServiceHandlers } from '../../proto/gen/sluice/v1/ReplicaService.ts';
import { malformedRequestError } from '../malformed-request.ts';
import type { ReplicaFetchPartitionRequest, ReplicaManager } from '../replica-manager.ts';
import { checkNonNegative, checkTopicPartition } from './request-checks.ts';

/** ReplicaFetchRequest.max_bytes = 0. */
export const DEFAULT_REPLICA_FETCH_MAX_BYTES = 10 * 1024 * 1024;
/** ReplicaFetchPartition.max_bytes = 0. */
export const DEFAULT_REPLICA_PARTITION_FETCH_MAX_BYTES = 1024 * 1024;
/** A follower may not park a fetch longer than this (its own answer timeout is shorter). */
const MAX_WAIT_CAP_MS = 30_000;

type Call = grpc.ServerDuplexStream<ReplicaFetchRequest__Output, ReplicaFetchResponse>;

export interface ReplicaServiceOptions {
  replicas: ReplicaManager;
  logger: Logger;
  /** Times each fetch on the stream (metrics). */
  observeRequest?: RequestObserver;
}

const NOT_OBSERVED: RequestObserver = () => {};

export class ReplicaService {
  readonly handlers: ReplicaServiceHandlers;
  readonly #streams = new Set<ReplicaFetchStream>();
  #closed = false;

  constructor(opts: ReplicaServiceOptions) {
    this.handlers = {
      ReplicaFetch: (call) => {
        const stream = new ReplicaFetchStream(call, opts.replicas, opts.logger, opts.observeRequest ?? NOT_OBSERVED, (s) => this.#streams.delete(s));
        this.#streams.add(stream);
        if (this.#closed) stream.shutdown();
      },
    };
  }

  /** Answers what is parked and ends every stream: followers reconnect to the next leader. */
  closeStreams(): void {
    this.#closed = true;
    for (const s of [...this.#streams]) s.shutdown();
  }
}

class ReplicaFetchStream {
  readonly #call: Call;
  readonly #replicas: ReplicaManager;
  readonly #logger: Logger;
  readonly #observe: RequestObserver;
  readonly #onClose: (s: ReplicaFetchStream) => void;
  readonly #queue: ReplicaFetchRequest__Output[] = [];
  #pending: { cancel(): void } | null = null;
  #closed = false;

  constructor(call: Call, replicas: ReplicaManager, logger: Logger, observe: RequestObserver, onClose: (s: ReplicaFetchStream) => void) {
    this.#observe = observe;
    this.#call = call;
    this.#replicas = replicas;
    this.#logger = logger;
    this.#onClose = onClose;
    call.on('data', (req: ReplicaFetchRequest__Output) => {
      const bad = malformedRequestError(req) ?? checkRequest(req);
      if (bad) {
        this.#fail(bad);
        return;
      }
      // The protocol has one request out at a time; a follower that sends more is served in order.
      this.#queue.push(req);
      this.#pump();
    });
    call.on('end', () => this.#close(true));
    call.on('cancelled', () => this.#close(false));
    call.on('error', () => this.#close(false));
  }

  shutdown(): void {
    this.#close(true);
  }

  #pump(): void {
    if (this.#closed || this.#pending || this.#queue.length === 0) return;
    const req = this.#queue.shift()!;
    const partitions: ReplicaFetchPartitionRequest[] = req.partitions.map((p) => ({
      topic: p.topic,
      partition: p.partition,
      fetchOffset: p.fetch_offset,
      lastFetchedEpoch: p.last_fetched_epoch,
      currentLeaderEpoch: p.current_leader_epoch,
      maxBytes: p.max_bytes === 0 ? DEFAULT_REPLICA_PARTITION_FETCH_MAX_BYTES : p.max_bytes,
    }));
    const params = {
      maxWaitMs: Math.min(req.max_wait_ms, MAX_WAIT_CAP_MS),
      minBytes: req.min_bytes,
      maxBytes: req.max_bytes === 0 ? DEFAULT_REPLICA_FETCH_MAX_BYTES : req.max_bytes,
    };
    const startedAt = performance.now();
    try {
      let answered = false;
      const pending = this.#replicas.replicaFetch(req.replica_id, req.broker_epoch, partitions, params, (results) => {
        answered = true;
        this.#pending = null;
        this.#observe('ReplicaFetch', startedAt, results.find((r) => r.error)?.error ?? null);
        if (this.#closed) return;
        const response: ReplicaFetchResponse = {
          correlation_id: req.correlation_id,
          partitions: results.map((r) => ({
            topic: r.topic,
            partition: r.partition,
            error: r.error ? toErrorDetail(r.error) : null,
            high_watermark: r.highWatermark,
            log_start_offset: r.logStartOffset,
            log_end_offset: r.logEndOffset,
            diverging_epoch: r.diverging ? { epoch: r.diverging.epoch, end_offset: r.diverging.endOffset } : null,
            records: r.records,
          })),
        };
        this.#call.write(response);
        this.#pump();
      });
      if (!answered) this.#pending = pending;
    } catch (err) {
      this.#logger.error({ err, replica: req.replica_id }, 'replica fetch handler failed unexpectedly');
      this.#fail(asSluiceError(err));
    }
  }

  #fail(err: SluiceError): void {
    if (this.#closed) return;
    this.#close(false);
    this.#call.emit('error', toServiceError(err));
  }

  #close(endCall: boolean): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#pending?.cancel();
    this.#pending = null;
    this.#queue.length = 0;
    this.#onClose(this);
    if (endCall) this.#call.end();
  }
}

function checkRequest(req: ReplicaFetchRequest__Output): SluiceError | null {
  if (!Number.isInteger(req.replica_id) || req.replica_id < 0) {
    return new SluiceError('INVALID_REQUEST', `ReplicaFetchRequest.replica_id is ${req.replica_id}; set it to the follower's broker id`);
  }
  const problem =
    checkNonNegative('ReplicaFetchRequest.max_wait_ms', req.max_wait_ms) ??
    checkNonNegative('ReplicaFetchRequest.min_bytes', req.min_bytes) ??
    checkNonNegative('ReplicaFetchRequest.max_bytes', req.max_bytes);
  if (problem) return problem;
  for (const p of req.partitions) {
    const bad =
      checkTopicPartition('ReplicaFetchPartition', p.topic, p.partition) ??
      checkNonNegative('ReplicaFetchPartition.fetch_offset', p.fetch_offset, p.topic, p.partition) ??
      checkNonNegative('ReplicaFetchPartition.max_bytes', p.max_bytes, p.topic, p.partition);
    if (bad) return bad;
  }
  return null;
}
