// One LogService.ProduceStream call: many produce requests in flight, replies matched by
// correlation_id. Replies for one partition leave in request order even when a later request
// (acks=leader) completes before an earlier one (acks=all, parked until the HW passes it): a
// pipelining producer treats an out-of-order reply as a lost request and would retry or fail
// batches that were in fact written.
import * as diagnostics from 'node:diagnostics_channel';
import type * as http2 from 'node:http2';
import type * as grpc from '@grpc/grpc-js';
import { SluiceError } from '../../common/errors.ts';
import { toErrorDetail, toServiceError } from '../../common/grpc-errors.ts';
import type { RequestObserver } from '../broker-metrics.ts';
import type { Logger } from '../../common/logger.ts';
import type { ProduceRequest__Output } from '../../proto/gen/sluice/v1/ProduceRequest.ts';
import type { ProduceResponse } from '../../proto/gen/sluice/v1/ProduceResponse.ts';
import { malformedRequestError } from '../malformed-request.ts';
import type { ProduceOutcome, ReplicaManager } from '../replica-manager.ts';
import { checkProduceRequest } from './request-checks.ts';

type Call = grpc.ServerDuplexStream<ProduceRequest__Output, ProduceResponse>;

const PRODUCE_STREAM_PATH = '/sluice.v1.LogService/ProduceStream';

/**
 * HTTP/2 receive window (per stream and per connection) of a connection that carries a
 * ProduceStream. HTTP/2 starts every window at 64 KiB and neither Node nor grpc-js (it has no
 * server-side option) raises it: a producer may then have only 64 KiB on the wire before it
 * must wait for a WINDOW_UPDATE, which the broker sends after its event loop has read the
 * data. With 256 KiB batches that round trip between two busy event loops, not CPU, bounded
 * produce throughput (bench/README.md). grpc-java's servers default to 1 MiB. The cost is
 * memory: a broker that stops reading a stream (back-pressure) may have this much buffered per
 * connection.
 */
export const PRODUCE_RECEIVE_WINDOW_BYTES = 4 * 1024 * 1024;

let receiveWindowHooked = false;

/**
 * Raises the receive window of every HTTP/2 connection of this process that opens a
 * ProduceStream, through Node's public `http2.server.stream.created` diagnostics channel
 * (grpc-js does not expose its sessions). Idempotent: one process-wide hook, however many
 * brokers (tests run several in one process) call it.
 */
export function raiseProduceReceiveWindow(logger: Logger, bytes = PRODUCE_RECEIVE_WINDOW_BYTES): void {
  if (receiveWindowHooked) return;
  receiveWindowHooked = true;
  const raised = new WeakSet<http2.Http2Session>();
  diagnostics.subscribe('http2.server.stream.created', (message) => {
    const { stream, headers } = message as { stream: http2.ServerHttp2Stream; headers: http2.IncomingHttpHeaders };
    if (headers[':path'] !== PRODUCE_STREAM_PATH) return;
    const session = stream.session;
    if (session === undefined || session.destroyed || raised.has(session)) return;
    raised.add(session);
    try {
      // Connection window at once (a WINDOW_UPDATE); stream windows through SETTINGS, which by
      // RFC 9113 §6.9.2 also enlarges the streams already open, this one included.
      session.setLocalWindowSize(bytes);
      session.settings({ initialWindowSize: bytes });
    } catch (err) {
      // A session closing under us: the producer reconnects and gets the window then.
      logger.warn({ err }, 'could not raise the HTTP/2 receive window of a produce connection');
    }
  });
}

interface Slot {
  correlationId: number;
  response: ProduceResponse | null;
}

export function toProduceResponse(correlationId: number, outcome: ProduceOutcome): ProduceResponse {
  return {
    correlation_id: correlationId,
    error: outcome.error ? toErrorDetail(outcome.error) : null,
    base_offset: outcome.baseOffset,
    log_start_offset: outcome.logStartOffset,
    duplicate: outcome.duplicate,
  };
}

/** Logs what is not a client-visible condition but a broker bug or I/O failure. */
export function logIfUnexpected(logger: Logger, error: SluiceError | null, topic: string, partition: number): void {
  if (error && (error.code === 'UNKNOWN' || error.code === 'STORAGE_ERROR')) logger.error({ err: error.cause ?? error, topic, partition, code: error.code }, 'produce failed');
}

export class ProduceStreamSession {
  readonly #call: Call;
  readonly #replicas: ReplicaManager;
  readonly #logger: Logger;
  readonly #observe: RequestObserver;
  readonly #onClose: (s: ProduceStreamSession) => void;
  /** Replies not yet written, per topic-partition, in request order. */
  readonly #pending = new Map<string, Slot[]>();
  #inFlight = 0;
  #clientDone = false;
  #closed = false;
  #paused = false;
  #shutdownError: SluiceError | null = null;

  constructor(call: Call, replicas: ReplicaManager, logger: Logger, observe: RequestObserver, onClose: (s: ProduceStreamSession) => void) {
    this.#observe = observe;
    this.#call = call;
    this.#replicas = replicas;
    this.#logger = logger;
    this.#onClose = onClose;
    call.on('data', (req: ProduceRequest__Output) => {
      try {
        this.#onRequest(req);
      } catch (err) {
        this.#logger.error({ err, topic: req.topic, partition: req.partition }, 'produce stream request failed unexpectedly');
        this.#fail(new SluiceError('UNKNOWN', `internal error: ${(err as Error).message}`));
      }
    });
    call.on('end', () => {
      this.#clientDone = true;
      this.#maybeFinish();
    });
    call.on('drain', () => {
      if (this.#paused && !this.#closed) {
        this.#paused = false;
        call.resume();
      }
    });
    call.on('cancelled', () => this.#close());
    call.on('error', () => this.#close());
    call.on('close', () => this.#close());
  }

  /**
   * Stops taking requests and ends the stream with `error` once the replies already owed are
   * written (the broker is stopping, or the client sent bytes that do not parse).
   */
  shutdown(error: SluiceError): void {
    if (this.#closed) return;
    this.#shutdownError = error;
    this.#call.pause();
    this.#clientDone = true;
    this.#maybeFinish();
  }

  #onRequest(req: ProduceRequest__Output): void {
    if (this.#closed || this.#shutdownError) return;
    const malformed = malformedRequestError(req);
    if (malformed) {
      // Without a correlation id there is nothing to answer on the stream: end it, after the
      // replies already owed, with the same status a unary call would get.
      this.shutdown(malformed);
      return;
    }
    const { topic, partition } = req;
    const correlationId = req.correlation_id;
    const key = `${topic}-${partition}`;
    const checked = checkProduceRequest(req);
    if (checked instanceof SluiceError) {
      if (req.acks === 'ACKS_NONE') return;
      this.#enqueue(key, correlationId).response = toProduceResponse(correlationId, { error: checked, baseOffset: -1, logStartOffset: -1, duplicate: false });
      this.#flush(key);
      return;
    }
    if (checked.acks === 'none') {
      // Fire and forget: no reply on the stream, whatever happens.
      this.#replicas.appendRecords(topic, partition, req.records, 'none', checked.timeoutMs, (o) => logIfUnexpected(this.#logger, o.error, topic, partition));
      return;
    }
    const slot = this.#enqueue(key, correlationId);
    this.#inFlight++;
    const startedAt = performance.now();
    this.#replicas.appendRecords(topic, partition, req.records, checked.acks, checked.timeoutMs, (outcome) => {
      this.#inFlight--;
      this.#observe('ProduceStream', startedAt, outcome.error);
      logIfUnexpected(this.#logger, outcome.error, topic, partition);
      slot.response = toProduceResponse(correlationId, outcome);
      this.#flush(key);
    });
  }

  #enqueue(key: string, correlationId: number): Slot {
    const slot: Slot = { correlationId, response: null };
    let queue = this.#pending.get(key);
    if (!queue) {
      queue = [];
      this.#pending.set(key, queue);
    }
    queue.push(slot);
    return slot;
  }

  #flush(key: string): void {
    const queue = this.#pending.get(key);
    if (!queue) return;
    while (queue.length > 0 && queue[0]!.response !== null) {
      const slot = queue.shift()!;
      if (this.#closed) continue;
      // Back-pressure: a client that does not read its replies stops being read from, so it
      // cannot make the broker buffer replies (and the appends behind them) without bound.
      if (!this.#call.write(slot.response!) && !this.#paused) {
        this.#paused = true;
        this.#call.pause();
      }
    }
    if (queue.length === 0) this.#pending.delete(key);
    this.#maybeFinish();
  }

  #maybeFinish(): void {
    if (this.#closed || !this.#clientDone || this.#pending.size > 0 || this.#inFlight > 0) return;
    const error = this.#shutdownError;
    this.#close();
    if (error) this.#call.emit('error', toServiceError(error));
    else this.#call.end();
  }

  #fail(error: SluiceError): void {
    if (this.#closed) return;
    this.#close();
    this.#call.emit('error', toServiceError(error));
  }

  #close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#pending.clear();
    this.#onClose(this);
  }
}
