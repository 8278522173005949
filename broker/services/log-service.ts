// sluice.v1.LogService: the data plane. Handlers only translate between the wire and the
// replica manager; record bytes pass through as the Buffer slices grpc-js decoded, never
// decoded or copied here.
import type * as grpc from '@grpc/grpc-js';
import { SluiceError } from '../../common/errors.ts';
import { asSluiceError, toErrorDetail, toServiceError } from '../../common/grpc-errors.ts';
import type { RequestObserver } from '../broker-metrics.ts';
import type { Logger } from '../../common/logger.ts';
import type { FetchResponse } from '../../proto/gen/sluice/v1/FetchResponse.ts';
import type { ListOffsetsPartition__Output } from '../../proto/gen/sluice/v1/ListOffsetsPartition.ts';
import type { ListOffsetsPartitionResult } from '../../proto/gen/sluice/v1/ListOffsetsPartitionResult.ts';
import type { LogServiceHandlers } from '../../proto/gen/sluice/v1/LogService.ts';
import type { ProducerIdManager } from '../producer-id-manager.ts';
import type { FetchPartitionRequest, ReplicaManager } from '../replica-manager.ts';
import { ProduceStreamSession, logIfUnexpected, raiseProduceReceiveWindow, toProduceResponse } from './produce-stream.ts';
import { checkNonNegative, checkProduceRequest, checkTopicPartition } from './request-checks.ts';
import { Subscription } from './subscription.ts';

/** FetchRequest.max_bytes = 0 (the proto's documented default). */
export const DEFAULT_FETCH_MAX_BYTES = 50 * 1024 * 1024;
/** FetchPartition.max_bytes = 0: Kafka's max.partition.fetch.bytes default. */
export const DEFAULT_PARTITION_FETCH_MAX_BYTES = 1024 * 1024;
/** SubscribeRequest.max_bytes = 0 (the proto's documented default). */
export const DEFAULT_SUBSCRIBE_MAX_BYTES = 1024 * 1024;
/** Answer a long-poll this long before the caller's deadline, so the answer can still arrive. */
const DEADLINE_MARGIN_MS = 50;

export interface LogServiceOptions {
  replicas: ReplicaManager;
  producerIds: ProducerIdManager;
  logger: Logger;
  /** Times each produce on a ProduceStream (unary calls are timed by the gRPC server). */
  observeRequest?: RequestObserver;
}

export class LogService {
  readonly handlers: LogServiceHandlers;
  readonly #replicas: ReplicaManager;
  readonly #producerIds: ProducerIdManager;
  readonly #logger: Logger;
  readonly #observe: RequestObserver;
  readonly #streams = new Set<ProduceStreamSession>();
  readonly #subscriptions = new Set<Subscription>();
  #stopping: SluiceError | null = null;

  constructor(opts: LogServiceOptions) {
    this.#replicas = opts.replicas;
    this.#producerIds = opts.producerIds;
    this.#logger = opts.logger;
    this.#observe = opts.observeRequest ?? (() => {});
    raiseProduceReceiveWindow(opts.logger);
    this.handlers = {
      Produce: (call, callback) => this.#guard('Produce', callback, () => this.#produce(call, callback)),
      ProduceStream: (call) => this.#produceStream(call),
      Fetch: (call, callback) => this.#guard('Fetch', callback, () => this.#fetch(call, callback)),
      Subscribe: (call) => this.#subscribe(call),
      ListOffsets: (call, callback) => this.#guard('ListOffsets', callback, () => this.#listOffsets(call, callback)),
      InitProducerId: (_call, callback) => this.#guard('InitProducerId', callback, () => this.#initProducerId(callback)),
    };
  }

  /** Ends open streams with `error` once their owed replies are out (the broker is stopping). */
  closeStreams(error: SluiceError): void {
    this.#stopping = error;
    for (const s of [...this.#streams]) s.shutdown(error);
    for (const s of [...this.#subscriptions]) s.shutdown(error);
  }

  /** Runs a unary handler body; a throw becomes a status instead of grpc-js's bare UNKNOWN. */
  #guard(method: string, callback: grpc.sendUnaryData<never>, body: () => void): void {
    try {
      body();
    } catch (err) {
      this.#logger.error({ err, method }, 'request handler failed unexpectedly');
      callback(toServiceError(asSluiceError(err)));
    }
  }

  #produce(call: Parameters<LogServiceHandlers['Produce']>[0], callback: Parameters<LogServiceHandlers['Produce']>[1]): void {
    const req = call.request;
    const checked = checkProduceRequest(req);
    if (checked instanceof SluiceError) {
      callback(toServiceError(checked));
      return;
    }
    const { topic, partition } = req;
    let answered = false;
    this.#replicas.appendRecords(topic, partition, req.records, checked.acks, checked.timeoutMs, (outcome) => {
      logIfUnexpected(this.#logger, outcome.error, topic, partition);
      if (answered) return;
      answered = true;
      // A unary produce fails as a whole: status + trailers, not an error field.
      if (outcome.error) callback(toServiceError(outcome.error));
      else callback(null, toProduceResponse(req.correlation_id, outcome));
    });
    if (checked.acks === 'none' && !answered) {
      // Errors known before the append (not the leader, bad request) were answered above;
      // past that point acks=none answers at once and the outcome is not waited for.
      answered = true;
      callback(null, { correlation_id: req.correlation_id, base_offset: -1, log_start_offset: -1, duplicate: false, error: null });
    }
  }

  #produceStream(call: Parameters<LogServiceHandlers['ProduceStream']>[0]): void {
    const session = new ProduceStreamSession(call, this.#replicas, this.#logger, this.#observe, (s) => this.#streams.delete(s));
    this.#streams.add(session);
    if (this.#stopping) session.shutdown(this.#stopping);
  }

  #fetch(call: Parameters<LogServiceHandlers['Fetch']>[0], callback: Parameters<LogServiceHandlers['Fetch']>[1]): void {
    const req = call.request;
    const problem =
      checkNonNegative('FetchRequest.max_wait_ms', req.max_wait_ms) ??
      checkNonNegative('FetchRequest.min_bytes', req.min_bytes) ??
      checkNonNegative('FetchRequest.max_bytes', req.max_bytes);
    if (problem) {
      callback(toServiceError(problem));
      return;
    }
    const requests: FetchPartitionRequest[] = [];
    for (const p of req.partitions) {
      const bad =
        checkTopicPartition('FetchPartition', p.topic, p.partition) ??
        checkNonNegative('FetchPartition.fetch_offset', p.fetch_offset, p.topic, p.partition) ??
        checkNonNegative('FetchPartition.max_bytes', p.max_bytes, p.topic, p.partition);
      if (bad) {
        callback(toServiceError(bad));
        return;
      }
      requests.push({ topic: p.topic, partition: p.partition, fetchOffset: p.fetch_offset, maxBytes: p.max_bytes === 0 ? DEFAULT_PARTITION_FETCH_MAX_BYTES : p.max_bytes });
    }
    let maxWaitMs = req.max_wait_ms;
    const deadline = call.getDeadline();
    const deadlineMs = deadline instanceof Date ? deadline.getTime() : deadline;
    if (Number.isFinite(deadlineMs)) maxWaitMs = Math.max(0, Math.min(maxWaitMs, deadlineMs - Date.now() - DEADLINE_MARGIN_MS));
    const params = { maxWaitMs, minBytes: req.min_bytes, maxBytes: req.max_bytes === 0 ? DEFAULT_FETCH_MAX_BYTES : req.max_bytes };
    const pending = this.#replicas.fetchMessages(requests, params, (results) => {
      const response: FetchResponse = {
        partitions: results.map((r) => ({
          topic: r.topic,
          partition: r.partition,
          error: r.error ? toErrorDetail(r.error) : null,
          high_watermark: r.highWatermark,
          log_start_offset: r.logStartOffset,
          records: r.records,
        })),
      };
      callback(null, response);
    });
    call.on('cancelled', () => pending.cancel());
  }

  #subscribe(call: Parameters<LogServiceHandlers['Subscribe']>[0]): void {
    const req = call.request;
    const bad =
      checkTopicPartition('SubscribeRequest', req.topic, req.partition) ??
      checkNonNegative('SubscribeRequest.offset', req.offset, req.topic, req.partition) ??
      checkNonNegative('SubscribeRequest.max_bytes', req.max_bytes, req.topic, req.partition) ??
      this.#stopping;
    if (bad) {
      call.emit('error', toServiceError(bad));
      return;
    }
    const subscription = new Subscription(call, this.#replicas, this.#logger, req.max_bytes === 0 ? DEFAULT_SUBSCRIBE_MAX_BYTES : req.max_bytes, (s) => this.#subscriptions.delete(s));
    this.#subscriptions.add(subscription);
    subscription.start();
  }

  #listOffsets(call: Parameters<LogServiceHandlers['ListOffsets']>[0], callback: Parameters<LogServiceHandlers['ListOffsets']>[1]): void {
    Promise.all(call.request.partitions.map((p) => this.#listOffset(p))).then(
      (partitions) => callback(null, { partitions }),
      (err: unknown) => {
        this.#logger.error({ err }, 'ListOffsets failed unexpectedly');
        callback(toServiceError(asSluiceError(err)));
      },
    );
  }

  async #listOffset(p: ListOffsetsPartition__Output): Promise<ListOffsetsPartitionResult> {
    const { topic, partition } = p;
    try {
      const bad = checkTopicPartition('ListOffsetsPartition', topic, partition);
      if (bad) throw bad;
      let spec: 'earliest' | 'latest' | 'timestamp';
      switch (p.spec) {
        case 'OFFSET_SPEC_EARLIEST':
          spec = 'earliest';
          break;
        case 'OFFSET_SPEC_LATEST':
          spec = 'latest';
          break;
        case 'OFFSET_SPEC_TIMESTAMP':
          spec = 'timestamp';
          break;
        default:
          throw new SluiceError('INVALID_REQUEST', `ListOffsetsPartition.spec is ${String(p.spec)}; use OFFSET_SPEC_EARLIEST, OFFSET_SPEC_LATEST or OFFSET_SPEC_TIMESTAMP`, { topic, partition });
      }
      const found = await this.#replicas.listOffset(topic, partition, spec, p.timestamp);
      return { topic, partition, error: null, offset: found.offset, timestamp: found.timestamp, leader_epoch: found.leaderEpoch };
    } catch (err) {
      const error = asSluiceError(err);
      if (error.code === 'UNKNOWN') this.#logger.error({ err, topic, partition }, 'ListOffsets failed for a partition');
      return { topic, partition, error: toErrorDetail(error), offset: -1, timestamp: -1, leader_epoch: -1 };
    }
  }

  #initProducerId(callback: Parameters<LogServiceHandlers['InitProducerId']>[1]): void {
    this.#producerIds.nextProducerId().then(
      (id) => callback(null, { producer_id: id, producer_epoch: 0 }),
      (err: unknown) => {
        const error = asSluiceError(err);
        if (error.code === 'UNKNOWN') this.#logger.error({ err }, 'cannot allocate a producer id');
        callback(toServiceError(error));
      },
    );
  }
}
