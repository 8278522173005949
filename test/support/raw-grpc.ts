// Raw gRPC access to a broker for protocol-level checks: the tests see exactly what a client in
// any language would see (status code, Sluice code, trailers, bytes), with no client library
// retrying or translating in between.
import * as grpc from '@grpc/grpc-js';
import { GRPC_CHANNEL_OPTIONS, loadSluiceProto } from '../../common/proto.ts';
import { fromErrorDetail, fromServiceError } from '../../common/grpc-errors.ts';
import { decodeRecordBatch, batchSizeAt, type DecodedRecord, type BatchHeader } from '../../common/record-batch.ts';
import { ERROR_CODES, type ErrorCode, type ErrorDetails } from '../../common/errors.ts';
import type { LogServiceClient } from '../../proto/gen/sluice/v1/LogService.ts';
import type { MetadataServiceClient } from '../../proto/gen/sluice/v1/MetadataService.ts';
import type { AdminServiceClient } from '../../proto/gen/sluice/v1/AdminService.ts';
import type { ProduceRequest } from '../../proto/gen/sluice/v1/ProduceRequest.ts';
import type { ProduceResponse__Output } from '../../proto/gen/sluice/v1/ProduceResponse.ts';
import type { FetchPartition } from '../../proto/gen/sluice/v1/FetchPartition.ts';
import type { FetchRequest } from '../../proto/gen/sluice/v1/FetchRequest.ts';
import type { FetchResponse__Output } from '../../proto/gen/sluice/v1/FetchResponse.ts';
import type { ListOffsetsRequest } from '../../proto/gen/sluice/v1/ListOffsetsRequest.ts';
import type { ListOffsetsResponse__Output } from '../../proto/gen/sluice/v1/ListOffsetsResponse.ts';
import type { InitProducerIdResponse__Output } from '../../proto/gen/sluice/v1/InitProducerIdResponse.ts';
import type { MetadataResponse__Output } from '../../proto/gen/sluice/v1/MetadataResponse.ts';
import type { ErrorDetail__Output } from '../../proto/gen/sluice/v1/ErrorDetail.ts';
import type { CreateTopicRequest } from '../../proto/gen/sluice/v1/CreateTopicRequest.ts';
import type { CreateTopicResponse__Output } from '../../proto/gen/sluice/v1/CreateTopicResponse.ts';
import { waitFor } from './cluster.ts';

export const RPC_TIMEOUT_MS = 10_000;

export class RawBroker {
  readonly address: string;
  readonly log: LogServiceClient;
  readonly metadataService: MetadataServiceClient;
  readonly admin: AdminServiceClient;

  constructor(address: string) {
    const { proto } = loadSluiceProto();
    const creds = grpc.credentials.createInsecure();
    this.address = address;
    this.log = new proto.sluice.v1.LogService(address, creds, GRPC_CHANNEL_OPTIONS);
    this.metadataService = new proto.sluice.v1.MetadataService(address, creds, GRPC_CHANNEL_OPTIONS);
    this.admin = new proto.sluice.v1.AdminService(address, creds, GRPC_CHANNEL_OPTIONS);
  }

  produce(request: ProduceRequest, timeoutMs = RPC_TIMEOUT_MS): Promise<ProduceResponse__Output> {
    return unary((md, opts, cb) => this.log.Produce(request, md, opts, cb), timeoutMs);
  }

  fetch(request: FetchRequest, timeoutMs = RPC_TIMEOUT_MS): Promise<FetchResponse__Output> {
    return unary((md, opts, cb) => this.log.Fetch(request, md, opts, cb), timeoutMs);
  }

  listOffsets(request: ListOffsetsRequest, timeoutMs = RPC_TIMEOUT_MS): Promise<ListOffsetsResponse__Output> {
    return unary((md, opts, cb) => this.log.ListOffsets(request, md, opts, cb), timeoutMs);
  }

  initProducerId(timeoutMs = RPC_TIMEOUT_MS): Promise<InitProducerIdResponse__Output> {
    return unary((md, opts, cb) => this.log.InitProducerId({}, md, opts, cb), timeoutMs);
  }

  metadata(topics: string[] = [], timeoutMs = RPC_TIMEOUT_MS): Promise<MetadataResponse__Output> {
    return unary((md, opts, cb) => this.metadataService.Metadata({ topics }, md, opts, cb), timeoutMs);
  }

  createTopic(request: CreateTopicRequest, timeoutMs = RPC_TIMEOUT_MS): Promise<CreateTopicResponse__Output> {
    return unary((md, opts, cb) => this.admin.CreateTopic(request, md, opts, cb), timeoutMs);
  }

  /**
   * A produce that must be refused, as the client sees the refusal: either the call fails
   * with a gRPC status (and the Sluice detail in the trailer), or it succeeds with the error in
   * ProduceResponse.error — the contract allows both for Produce.
   */
  async produceFailure(request: ProduceRequest, what: string, timeoutMs = RPC_TIMEOUT_MS): Promise<Refusal> {
    let res: ProduceResponse__Output;
    try {
      res = await this.produce(request, timeoutMs);
    } catch (err) {
      return refusalFromStatus(err);
    }
    const sluice = fromErrorDetail(res.error);
    if (!sluice) throw new Error(`${what}: expected the broker to refuse the produce, but it wrote it at offset ${res.base_offset}`);
    return { via: 'field', grpcCode: null, code: sluice.code, message: sluice.message, details: sluice.details, response: res };
  }

  /** A fetch of one partition that must be refused: a failed call, or the partition's error field. */
  async fetchFailure(partition: FetchPartition, what: string, timeoutMs = RPC_TIMEOUT_MS): Promise<Refusal> {
    let res: FetchResponse__Output;
    try {
      res = await this.fetch({ partitions: [partition], max_wait_ms: 0, min_bytes: 0 }, timeoutMs);
    } catch (err) {
      return refusalFromStatus(err);
    }
    const p = res.partitions[0];
    const sluice = fromErrorDetail(p?.error);
    if (!sluice) throw new Error(`${what}: expected the broker to refuse the fetch, but it answered ${JSON.stringify(p, bufferReplacer)}`);
    return { via: 'field', grpcCode: null, code: sluice.code, message: sluice.message, details: sluice.details, response: p };
  }

  /** Produces and fails the test with the broker's error when the reply carries one. */
  async produceOk(topic: string, partition: number, records: Buffer, timeoutMs = RPC_TIMEOUT_MS): Promise<ProduceResponse__Output> {
    const res = await this.produce({ topic, partition, acks: 'ACKS_ALL', records }, timeoutMs);
    if (res.error && res.error.code !== 'ERROR_CODE_UNSPECIFIED') {
      throw new Error(`produce to ${topic}-${partition} failed: ${describeDetail(res.error)}`);
    }
    return res;
  }

  /** Latest (= high watermark) and earliest offsets of a partition, asked of its leader. */
  async offsets(topic: string, partition: number): Promise<{ earliest: number; latest: number }> {
    const res = await this.listOffsets({
      partitions: [
        { topic, partition, spec: 'OFFSET_SPEC_EARLIEST' },
        { topic, partition, spec: 'OFFSET_SPEC_LATEST' },
      ],
    });
    for (const p of res.partitions) {
      if (p.error && p.error.code !== 'ERROR_CODE_UNSPECIFIED') throw new Error(`ListOffsets ${topic}-${partition}: ${describeDetail(p.error)}`);
    }
    return { earliest: Number(res.partitions[0]!.offset), latest: Number(res.partitions[1]!.offset) };
  }

  /**
   * Every batch of a partition from `from` up to the high watermark, as raw bytes (exactly what
   * the broker stored) and decoded.
   */
  async readAll(topic: string, partition: number, from = 0): Promise<PartitionContent> {
    const batches: RawBatch[] = [];
    let offset = from;
    let highWatermark = -1;
    let logStartOffset = -1;
    for (let round = 0; round < 10_000; round++) {
      const res = await this.fetch({ partitions: [{ topic, partition, fetch_offset: offset, max_bytes: 1 << 20 }], max_wait_ms: 0, min_bytes: 0 });
      const p = res.partitions[0];
      if (!p) throw new Error(`Fetch ${topic}-${partition} at ${offset}: the response holds no partition`);
      if (p.error && p.error.code !== 'ERROR_CODE_UNSPECIFIED') throw new Error(`Fetch ${topic}-${partition} at ${offset}: ${describeDetail(p.error)}`);
      highWatermark = Number(p.high_watermark);
      logStartOffset = Number(p.log_start_offset);
      const got = splitBatches(p.records);
      for (const b of got) {
        // A fetch may start inside a batch that holds earlier offsets; keep each batch once.
        if (b.header.lastOffset >= offset) batches.push(b);
      }
      const last = got.at(-1);
      if (!last) break;
      offset = last.header.lastOffset + 1;
      if (offset >= highWatermark) break;
    }
    return {
      batches,
      records: batches.flatMap((b) => b.records.filter((r) => r.offset >= from)),
      highWatermark,
      logStartOffset,
    };
  }

  /** Resolves once every partition of the topic has a leader that answers ListOffsets. */
  async waitForLeaders(topic: string, partitions: number, timeoutMs = 20_000): Promise<void> {
    await waitFor(`a serving leader for each of the ${partitions} partitions of "${topic}" on ${this.address}`, async () => {
      const md = await this.metadata([topic], 2_000);
      const t = md.topics.find((x) => x.name === topic);
      if (!t || t.partitions.length !== partitions || t.partitions.some((p) => Number(p.leader_id) < 0)) return undefined;
      for (let p = 0; p < partitions; p++) await this.offsets(topic, p);
      return true;
    }, timeoutMs, 100);
  }

  close(): void {
    this.log.close();
    this.metadataService.close();
    this.admin.close();
  }
}

export interface RawBatch {
  /** The batch exactly as fetched. */
  bytes: Buffer;
  header: BatchHeader;
  records: DecodedRecord[];
}

export interface PartitionContent {
  batches: RawBatch[];
  records: DecodedRecord[];
  highWatermark: number;
  logStartOffset: number;
}

/** Splits concatenated whole batches; a partial batch at the end (size-limited fetch) is dropped. */
export function splitBatches(buf: Buffer): RawBatch[] {
  const out: RawBatch[] = [];
  let pos = 0;
  for (;;) {
    const size = batchSizeAt(buf, pos);
    if (size === -1 || size > buf.length - pos) return out;
    const bytes = Buffer.from(buf.subarray(pos, pos + size));
    const decoded = decodeRecordBatch(bytes, 0);
    out.push({ bytes, header: decoded.header, records: decoded.records });
    pos += size;
  }
}

type UnaryStart<Res> = (md: grpc.Metadata, opts: grpc.CallOptions, cb: grpc.requestCallback<Res>) => unknown;

export function unary<Res>(start: UnaryStart<Res>, timeoutMs = RPC_TIMEOUT_MS): Promise<Res> {
  return new Promise<Res>((resolve, reject) => {
    start(new grpc.Metadata(), { deadline: Date.now() + timeoutMs }, (err, res) => {
      if (err) reject(err);
      else resolve(res as Res);
    });
  });
}

/** A refused request: where the refusal came (status or response field) and what it said. */
export interface Refusal {
  via: 'status' | 'field';
  /** The gRPC status when the call failed as a whole; null when the error was a response field. */
  grpcCode: grpc.status | null;
  code: ErrorCode;
  message: string;
  details: ErrorDetails;
  hasDetailTrailer?: boolean;
  response?: unknown;
}

export function refusalFromStatus(err: unknown): Refusal {
  const e = err as Partial<grpc.ServiceError>;
  if (typeof e.code !== 'number') throw err;
  const sluice = fromServiceError(err);
  return {
    via: 'status',
    grpcCode: e.code,
    code: sluice.code,
    message: e.details ?? '',
    details: sluice.details,
    hasDetailTrailer: (e.metadata?.get('sluice-error-bin').length ?? 0) > 0,
  };
}

/**
 * The user-visible shape of a refusal, for one readable assertion: the Sluice code, the gRPC
 * status it travelled with (or "in-response" for an error field), and whether a message came.
 */
export function refusalSummary(r: Refusal): { code: ErrorCode; grpc: string; hasMessage: boolean; hasDetailTrailer: boolean | undefined } {
  return {
    code: r.code,
    grpc: r.grpcCode === null ? 'in-response' : (grpc.status[r.grpcCode] ?? String(r.grpcCode)),
    hasMessage: r.message.trim().length > 0,
    hasDetailTrailer: r.hasDetailTrailer,
  };
}

/** What refusalSummary should say for `code`: its mapped gRPC status when it failed the call. */
export function expectedSummary(r: Refusal, code: ErrorCode): ReturnType<typeof refusalSummary> {
  return {
    code,
    grpc: r.via === 'field' ? 'in-response' : (grpc.status[ERROR_CODES[code].grpc] ?? ''),
    hasMessage: true,
    hasDetailTrailer: r.via === 'status' ? true : undefined,
  };
}

/** Awaits a call that must fail as a whole and returns the refusal; fails the test when it succeeded. */
export async function expectCallFailure(call: Promise<unknown>, what: string): Promise<Refusal> {
  let result: unknown;
  try {
    result = await call;
  } catch (err) {
    return refusalFromStatus(err);
  }
  throw new Error(`${what}: expected the call to fail, but it succeeded with ${JSON.stringify(result, bufferReplacer)}`);
}

export function describeDetail(d: ErrorDetail__Output): string {
  return `${d.code}: ${d.message}`;
}

function bufferReplacer(_key: string, value: unknown): unknown {
  if (value && typeof value === 'object' && (value as { type?: string }).type === 'Buffer') return '<bytes>';
  return value;
}

/**
 * One RawBroker per broker id, made on first use from the id's current address and closed
 * together: `const { raw, closeAll } = rawBrokers((id) => cluster.brokerAddress(id))`.
 */
export function rawBrokers(addressOf: (id: number) => string): { raw(id: number): RawBroker; closeAll(): void } {
  const made = new Map<number, RawBroker>();
  return {
    raw(id) {
      let r = made.get(id);
      if (!r) {
        r = new RawBroker(addressOf(id));
        made.set(id, r);
      }
      return r;
    },
    closeAll() {
      for (const r of made.values()) r.close();
      made.clear();
    },
  };
}
