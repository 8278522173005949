// One long-lived LogService.ProduceStream per broker: requests are written back to back and
// matched to replies by correlation id, so the producer keeps many batches in flight without
// paying a round trip per batch. When the stream dies (broker gone, connection reset, request
// timeout) every request still in flight is handed back at once, in send order, as failed
// with an outcome the caller must treat as unknown.
import * as grpc from '@grpc/grpc-js';
import { SluiceError } from '../common/errors.ts';
import { fromServiceError } from '../common/grpc-errors.ts';
import { loadSluiceProto } from '../common/proto.ts';
import { withHeadroom } from '../common/record-batch.ts';
import type { LogServiceClient } from '../proto/gen/sluice/v1/LogService.ts';
import type { ProduceRequest } from '../proto/gen/sluice/v1/ProduceRequest.ts';
import type { ProduceResponse__Output } from '../proto/gen/sluice/v1/ProduceResponse.ts';

const PRODUCE_STREAM_PATH = '/sluice.v1.LogService/ProduceStream';
const ACKS_NUMBER: Record<string, number> = { ACKS_UNSPECIFIED: 0, ACKS_NONE: 1, ACKS_LEADER: 2, ACKS_ALL: 3 };

function sizeOfVarint(n: number): number {
  let size = 1;
  while (n >= 0x80) {
    n = Math.floor(n / 0x80);
    size++;
  }
  return size;
}

function writeVarint(buf: Buffer, n: number, pos: number): number {
  while (n >= 0x80) {
    buf[pos++] = (n % 0x80) | 0x80;
    n = Math.floor(n / 0x80);
  }
  buf[pos++] = n;
  return pos;
}

// Largest varints of the header fields: int32 fields are written as unsigned here (negative
// values are refused), and correlation ids stay below 2^53, which is 8 varint bytes.
const MAX_INT32_VARINT = 5;
const MAX_SAFE_INTEGER_VARINT = 8;

/**
 * Bytes to reserve in front of a record batch (encodeRecordBatch's `headroom`) so that
 * encodeProduceRequest can frame it for `topic` in place, whatever the other fields hold.
 */
export function produceRequestHeadroom(topic: string): number {
  const topicBytes = Buffer.byteLength(topic, 'utf8');
  return (
    1 + MAX_INT32_VARINT + topicBytes + // topic
    1 + MAX_INT32_VARINT + // partition
    1 + 1 + // acks
    1 + MAX_INT32_VARINT + // timeout_ms
    1 + MAX_SAFE_INTEGER_VARINT + // correlation_id
    1 + MAX_INT32_VARINT // records: tag and length
  );
}

/** A produce request whose records may have been encoded with produceRequestHeadroom(topic) bytes in front. */
export interface OutgoingProduceRequest extends ProduceRequest {
  recordsHeadroom?: number;
}

/**
 * sluice.v1.ProduceRequest in protobuf wire format, written directly: protobufjs would build a
 * writer chain and copy the 256 KiB records field through it for every batch, which is the
 * hot path of the producer. The records field goes last (protobuf readers accept fields in
 * any order), so when the batch was encoded with headroom the other fields are written into
 * the bytes just before it and the batch is not copied at all; grpc-js then makes the one copy
 * that frames the message. Field numbers and types follow proto/sluice/v1/log.proto; the round
 * trip through the generated decoder is checked by produce-stream.test.ts.
 */
export function encodeProduceRequest(req: OutgoingProduceRequest): Buffer {
  const topic = req.topic ?? '';
  const topicBytes = Buffer.byteLength(topic, 'utf8');
  const partition = req.partition ?? 0;
  const acks = typeof req.acks === 'number' ? req.acks : ACKS_NUMBER[req.acks ?? 'ACKS_UNSPECIFIED']!;
  const timeoutMs = req.timeout_ms ?? 0;
  const records = req.records as Buffer;
  const correlationId = Number(req.correlation_id ?? 0);
  if (partition < 0 || timeoutMs < 0 || !Number.isSafeInteger(correlationId) || correlationId < 0) {
    throw new SluiceError('INVALID_REQUEST', `cannot encode a produce request with partition ${partition}, timeout ${timeoutMs}, correlation id ${correlationId}`);
  }
  const headerSize =
    1 + sizeOfVarint(topicBytes) + topicBytes +
    1 + sizeOfVarint(partition) +
    1 + sizeOfVarint(acks) +
    1 + sizeOfVarint(timeoutMs) +
    1 + sizeOfVarint(correlationId) +
    1 + sizeOfVarint(records.length);
  let buf: Buffer;
  if ((req.recordsHeadroom ?? 0) >= headerSize) {
    buf = withHeadroom(records, headerSize);
  } else {
    buf = Buffer.allocUnsafe(headerSize + records.length);
    buf.set(records, headerSize);
  }
  let pos = 0;
  buf[pos++] = 0x0a; // 1: topic, length-delimited
  pos = writeVarint(buf, topicBytes, pos);
  pos += buf.write(topic, pos, topicBytes, 'utf8');
  buf[pos++] = 0x10; // 2: partition, varint
  pos = writeVarint(buf, partition, pos);
  buf[pos++] = 0x18; // 3: acks, varint
  pos = writeVarint(buf, acks, pos);
  buf[pos++] = 0x20; // 4: timeout_ms, varint
  pos = writeVarint(buf, timeoutMs, pos);
  buf[pos++] = 0x30; // 6: correlation_id, varint
  pos = writeVarint(buf, correlationId, pos);
  buf[pos++] = 0x2a; // 5: records, length-delimited
  pos = writeVarint(buf, records.length, pos);
  if (pos !== headerSize) {
    throw new SluiceError('UNKNOWN', `produce request encoder wrote a ${pos}-byte header where it sized ${headerSize}`);
  }
  return buf;
}

interface InFlight<T> {
  payload: T;
  sentAt: number;
}

export interface ProduceStreamHandlers<T> {
  onReply(payload: T, reply: ProduceResponse__Output): void;
  /** acks 0: the request left the process; no reply will come. */
  onWritten(payload: T): void;
  /** The stream is dead; `lost` were in flight on it, oldest first. Called once. */
  onBroken(lost: T[], error: SluiceError): void;
}

export class ProduceStream<T> {
  readonly address: string;
  private readonly call: grpc.ClientDuplexStream<OutgoingProduceRequest, ProduceResponse__Output>;
  private readonly handlers: ProduceStreamHandlers<T>;
  // Map iteration is insertion order, so the first entry is always the oldest request.
  private readonly inFlight = new Map<number, InFlight<T>>();
  private nextCorrelationId = 1;
  private dead = false;

  constructor(address: string, client: LogServiceClient, handlers: ProduceStreamHandlers<T>) {
    this.address = address;
    this.handlers = handlers;
    const { proto } = loadSluiceProto();
    this.call = client.makeBidiStreamRequest<OutgoingProduceRequest, ProduceResponse__Output>(
      PRODUCE_STREAM_PATH,
      encodeProduceRequest,
      proto.sluice.v1.LogService.service.ProduceStream.responseDeserialize,
    );
    this.call.on('data', (reply: ProduceResponse__Output) => this.onData(reply));
    this.call.on('error', (err: unknown) => this.fail(fromServiceError(err)));
    // A stream the broker ends cleanly is as unusable as one that failed.
    this.call.on('status', (status: grpc.StatusObject) => {
      if (status.code === grpc.status.OK) this.fail(new SluiceError('BROKER_NOT_AVAILABLE', `broker ${address} closed the produce stream`));
    });
  }

  get alive(): boolean {
    return !this.dead;
  }

  /** Send time of the oldest request without a reply, or undefined. */
  oldestSentAt(): number | undefined {
    for (const entry of this.inFlight.values()) return entry.sentAt;
    return undefined;
  }

  send(request: OutgoingProduceRequest, payload: T, expectReply: boolean, now: number): void {
    if (this.dead) throw new SluiceError('BROKER_NOT_AVAILABLE', `the produce stream to ${this.address} is closed`);
    const correlationId = this.nextCorrelationId++;
    request.correlation_id = correlationId;
    this.inFlight.set(correlationId, { payload, sentAt: now });
    if (expectReply) {
      this.call.write(request);
      return;
    }
    // acks 0 has no reply: the request is done once written, or lost with the stream.
    this.call.write(request, (err: unknown) => {
      if (!this.inFlight.delete(correlationId)) return;
      if (err) {
        this.inFlight.set(correlationId, { payload, sentAt: now });
        this.fail(new SluiceError('BROKER_NOT_AVAILABLE', `could not write to ${this.address}: ${String(err)}`));
      } else {
        this.handlers.onWritten(payload);
      }
    });
  }

  /** Ends the stream and fails what is in flight with `error` (request timeout, close). */
  abort(error: SluiceError): void {
    this.fail(error);
  }

  private onData(reply: ProduceResponse__Output): void {
    const entry = this.inFlight.get(reply.correlation_id);
    if (entry === undefined) return;
    this.inFlight.delete(reply.correlation_id);
    this.handlers.onReply(entry.payload, reply);
  }

  private fail(error: SluiceError): void {
    if (this.dead) return;
    this.dead = true;
    const lost = [...this.inFlight.values()].map((e) => e.payload);
    this.inFlight.clear();
    this.call.cancel();
    this.handlers.onBroken(lost, error);
  }
}
