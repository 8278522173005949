// One LogService.Subscribe call: pushes the committed batches of one partition from an offset
// on, each time the high watermark advances. It waits on the partition in the purgatory (woken
// by the append that moves the HW, never by a timer) and on the stream's 'drain' when the
// client reads slower than the partition grows, so a slow subscriber holds at most one
// message of buffered data on the broker.
import type * as grpc from '@grpc/grpc-js';
import { SluiceError } from '../../common/errors.ts';
import { asSluiceError, toServiceError } from '../../common/grpc-errors.ts';
import type { Logger } from '../../common/logger.ts';
import { batchSizeAt, readBatchHeader } from '../../common/record-batch.ts';
import type { SubscribeRequest__Output } from '../../proto/gen/sluice/v1/SubscribeRequest.ts';
import type { SubscribeResponse } from '../../proto/gen/sluice/v1/SubscribeResponse.ts';
import type { WatchedOperation } from '../delayed-operations.ts';
import type { ReplicaManager } from '../replica-manager.ts';

type Call = grpc.ServerWritableStream<SubscribeRequest__Output, SubscribeResponse>;

/** Offset after the last batch of a non-empty buffer of whole batches. */
export function nextOffsetAfter(records: Buffer): number {
  let pos = 0;
  let last = 0;
  while (pos < records.length) {
    last = pos;
    pos += batchSizeAt(records, pos);
  }
  return readBatchHeader(records, last).lastOffset + 1;
}

export class Subscription {
  readonly #call: Call;
  readonly #replicas: ReplicaManager;
  readonly #logger: Logger;
  readonly #onClose: (s: Subscription) => void;
  readonly #topic: string;
  readonly #partition: number;
  readonly #maxBytes: number;
  #nextOffset: number;
  #waiting: WatchedOperation | null = null;
  #drainWaiter: (() => void) | null = null;
  #closed = false;

  constructor(call: Call, replicas: ReplicaManager, logger: Logger, maxBytes: number, onClose: (s: Subscription) => void) {
    this.#call = call;
    this.#replicas = replicas;
    this.#logger = logger;
    this.#onClose = onClose;
    this.#topic = call.request.topic;
    this.#partition = call.request.partition;
    this.#nextOffset = call.request.offset;
    this.#maxBytes = maxBytes;
    call.on('drain', () => this.#drained());
    call.on('cancelled', () => this.#close());
    call.on('close', () => this.#close());
    call.on('error', () => this.#close());
  }

  start(): void {
    this.#run();
  }

  /** Ends the stream with `error` (the broker is stopping). */
  shutdown(error: SluiceError): void {
    this.#end(error);
  }

  #run(): void {
    this.#pump().catch((err: unknown) => {
      this.#logger.error({ err, topic: this.#topic, partition: this.#partition }, 'subscription failed unexpectedly');
      this.#end(asSluiceError(err));
    });
  }

  async #pump(): Promise<void> {
    while (!this.#closed) {
      let read: Awaited<ReturnType<ReplicaManager['readCommitted']>>;
      try {
        read = await this.#replicas.readCommitted(this.#topic, this.#partition, this.#nextOffset, this.#maxBytes);
      } catch (err) {
        // NOT_LEADER, OFFSET_OUT_OF_RANGE (retention passed the subscriber), topic deleted:
        // the status tells the client what to do next.
        this.#end(asSluiceError(err));
        return;
      }
      if (this.#closed) return;
      if (read.records.length === 0) {
        // Resumed by a new call to #run once the HW passes nextOffset or leadership changes.
        this.#waiting = this.#replicas.waitForHighWatermark(
          this.#topic,
          this.#partition,
          this.#nextOffset,
          () => {
            this.#waiting = null;
            queueMicrotask(() => this.#run());
          },
          () => {
            this.#waiting = null;
            this.#end(new SluiceError('BROKER_NOT_AVAILABLE', 'the broker is shutting down; subscribe again to another replica or after it restarts', { topic: this.#topic, partition: this.#partition }));
          },
        );
        return;
      }
      this.#nextOffset = nextOffsetAfter(read.records);
      const writable = this.#call.write({ high_watermark: read.highWatermark, log_start_offset: read.logStartOffset, records: read.records });
      if (!writable) await new Promise<void>((resolve) => (this.#drainWaiter = resolve));
    }
  }

  #drained(): void {
    const waiter = this.#drainWaiter;
    this.#drainWaiter = null;
    waiter?.();
  }

  #end(error: SluiceError): void {
    if (this.#closed) return;
    this.#close();
    this.#call.emit('error', toServiceError(error));
  }

  #close(): void {
    if (this.#closed) return;
    this.#closed = true;
    if (this.#waiting) this.#replicas.cancelWait(this.#waiting);
    this.#waiting = null;
    // Releases a pump blocked on 'drain'; it sees #closed and stops.
    this.#drained();
    this.#onClose(this);
  }
}
