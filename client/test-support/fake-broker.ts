// TEST DOUBLE. An in-process fake Sluice cluster for the client's unit tests: real grpc-js
// servers on 127.0.0.1 (port 0) serving LogService, MetadataService and AdminService over an
// in-memory log shared by all fake brokers. It is faithful where the client depends on the
// broker (leader checks with NOT_LEADER hints, idempotent duplicate and gap detection, high
// watermark, long-poll fetch, ListOffsets) and lets a test inject what real brokers do under
// failure: moved leaders with stale metadata, broken produce streams before or after an
// append, error replies, delays. It is not the broker and shares no code with it.
import * as grpc from '@grpc/grpc-js';
import { SluiceError, type ErrorCode } from '../../common/errors.ts';
import { toErrorDetail, toServiceError } from '../../common/grpc-errors.ts';
import { GRPC_SERVER_OPTIONS, loadSluiceProto } from '../../common/proto.ts';
import { decodeRecordBatches, stampBatch, validateBatches, type DecodedRecord } from '../../common/record-batch.ts';
import type { ErrorDetail } from '../../proto/gen/sluice/v1/ErrorDetail.ts';
import type { FetchPartitionResult } from '../../proto/gen/sluice/v1/FetchPartitionResult.ts';
import type { FetchRequest__Output } from '../../proto/gen/sluice/v1/FetchRequest.ts';
import type { ProduceRequest__Output } from '../../proto/gen/sluice/v1/ProduceRequest.ts';
import type { ProduceResponse } from '../../proto/gen/sluice/v1/ProduceResponse.ts';
import type { ListOffsetsPartitionResult } from '../../proto/gen/sluice/v1/ListOffsetsPartitionResult.ts';
import type { TopicState } from '../../proto/gen/sluice/v1/TopicState.ts';

export type ProduceFault =
  /** Reply with this error; nothing is appended. */
  | { kind: 'error'; code: ErrorCode; message?: string }
  /** Append, then reply with this error (e.g. REQUEST_TIMED_OUT, NOT_ENOUGH_REPLICAS_AFTER_APPEND). */
  | { kind: 'error-after-append'; code: ErrorCode }
  /** Kill the produce stream without appending. */
  | { kind: 'break-before-append' }
  /** Append, then kill the stream instead of replying (the reply is lost). */
  | { kind: 'break-after-append' }
  /** Hold this request (and the ones after it on the stream) for ms. */
  | { kind: 'delay'; ms: number };

export interface ProduceLogEntry {
  brokerId: number;
  topic: string;
  partition: number;
  producerId: number;
  baseSequence: number;
  records: number;
  outcome: 'appended' | 'duplicate' | ErrorCode | 'broken';
}

interface StoredBatch {
  baseOffset: number;
  lastOffset: number;
  bytes: Buffer;
}

interface ProducerState {
  lastSequence: number;
  recent: { firstSequence: number; count: number; baseOffset: number }[];
}

const SEQUENCE_MODULO = 2 ** 31;

export class FakePartition {
  readonly topic: string;
  readonly partition: number;
  leaderId: number;
  leaderEpoch = 0;
  /** What Metadata reports: lags behind leaderId after moveLeader(..., { publish: false }). */
  publishedLeaderId: number;
  publishedLeaderEpoch = 0;
  replicas: number[];
  readonly batches: StoredBatch[] = [];
  logStartOffset = 0;
  logEndOffset = 0;
  /** When set, the high watermark stays here instead of following the log end. */
  heldHighWatermark: number | null = null;
  readonly producers = new Map<number, ProducerState>();
  readonly waiters = new Set<() => void>();

  constructor(topic: string, partition: number, leaderId: number, replicas: number[]) {
    this.topic = topic;
    this.partition = partition;
    this.leaderId = leaderId;
    this.publishedLeaderId = leaderId;
    this.replicas = replicas;
  }

  get highWatermark(): number {
    return this.heldHighWatermark ?? this.logEndOffset;
  }

  notify(): void {
    for (const w of [...this.waiters]) w();
  }
}

function errorDetail(code: ErrorCode, message: string, extra: Partial<ErrorDetail> = {}): ErrorDetail {
  return { ...toErrorDetail(new SluiceError(code, message)), ...extra };
}

export class FakeBroker {
  readonly id: number;
  readonly cluster: FakeCluster;
  readonly server = new grpc.Server(GRPC_SERVER_OPTIONS);
  port = 0;
  /** Consumed one per produce request (stream or unary) that matches, in order. */
  readonly produceFaults: (ProduceFault & { match?: (req: ProduceRequest__Output) => boolean })[] = [];
  /** NOT_LEADER replies name no leader (leader_id -1), as a broker that does not know it. */
  omitLeaderHint = false;
  /**
   * Consumed one per admin call of that method (CreateTopic, DeleteTopic, ...): the call fails
   * with UNAVAILABLE as a lost connection would, before it took effect or after (the reply lost).
   */
  readonly adminFaults: { method: string; afterEffect: boolean }[] = [];
  readonly produceStreams = new Set<grpc.ServerDuplexStream<ProduceRequest__Output, ProduceResponse>>();
  fetchRequests = 0;
  metadataRequests = 0;

  constructor(id: number, cluster: FakeCluster) {
    this.id = id;
    this.cluster = cluster;
  }

  get address(): string {
    return `127.0.0.1:${this.port}`;
  }

  /** Ends every open produce stream with UNAVAILABLE, as a broker whose connection reset. */
  breakProduceStreams(): void {
    for (const call of this.produceStreams) this.kill(call);
  }

  kill(call: grpc.ServerDuplexStream<ProduceRequest__Output, ProduceResponse>): void {
    if (!this.produceStreams.delete(call)) return;
    call.emit('error', { code: grpc.status.UNAVAILABLE, details: `fake broker ${this.id} broke the produce stream` });
  }

  async start(): Promise<void> {
    const { proto } = loadSluiceProto();
    const v1 = proto.sluice.v1;
    this.server.addService(v1.LogService.service, {
      Produce: (call: grpc.ServerUnaryCall<ProduceRequest__Output, ProduceResponse>, cb: grpc.sendUnaryData<ProduceResponse>) => {
        void this.handleProduce(call.request, null).then((reply) => cb(null, reply ?? {}));
      },
      ProduceStream: (call: grpc.ServerDuplexStream<ProduceRequest__Output, ProduceResponse>) => this.serveProduceStream(call),
      Fetch: (call: grpc.ServerUnaryCall<FetchRequest__Output, unknown>, cb: grpc.sendUnaryData<unknown>) => {
        this.fetchRequests++;
        void this.cluster.fetch(this, call.request).then((partitions) => cb(null, { partitions }));
      },
      ListOffsets: (call: grpc.ServerUnaryCall<{ partitions: { topic: string; partition: number; spec: string; timestamp: number }[] }, unknown>, cb: grpc.sendUnaryData<unknown>) => {
        cb(null, { partitions: call.request.partitions.map((p) => this.cluster.listOffset(this, p)) });
      },
      InitProducerId: (_call: unknown, cb: grpc.sendUnaryData<unknown>) => {
        cb(null, { producer_id: this.cluster.nextProducerId++, producer_epoch: 0 });
      },
      Subscribe: (call: grpc.ServerWritableStream<unknown, unknown>) => {
        call.emit('error', { code: grpc.status.UNIMPLEMENTED, details: 'the fake broker does not serve Subscribe' });
      },
    });
    this.server.addService(v1.MetadataService.service, {
      Metadata: (call: grpc.ServerUnaryCall<{ topics: string[] }, unknown>, cb: grpc.sendUnaryData<unknown>) => {
        this.metadataRequests++;
        this.cluster.metadataRequests++;
        cb(null, this.cluster.metadataResponse(call.request.topics));
      },
    });
    this.server.addService(v1.AdminService.service, this.withAdminFaults(this.cluster.adminHandlers(this)));
    this.port = await new Promise<number>((resolve, reject) => {
      this.server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (err, port) => (err ? reject(err) : resolve(port)));
    });
  }

  private withAdminFaults(handlers: grpc.UntypedServiceImplementation): grpc.UntypedServiceImplementation {
    const wrapped: grpc.UntypedServiceImplementation = {};
    for (const [method, handler] of Object.entries(handlers)) {
      const serve = handler as (call: unknown, cb: grpc.sendUnaryData<unknown>) => void;
      wrapped[method] = (call: unknown, cb: grpc.sendUnaryData<unknown>) => {
        const i = this.adminFaults.findIndex((f) => f.method === method);
        if (i < 0) return serve(call, cb);
        const [fault] = this.adminFaults.splice(i, 1);
        const lost = { code: grpc.status.UNAVAILABLE, details: `fake broker ${this.id} lost the connection during ${method}` };
        if (fault!.afterEffect) serve(call, () => cb(lost));
        else cb(lost);
      };
    }
    return wrapped;
  }

  private serveProduceStream(call: grpc.ServerDuplexStream<ProduceRequest__Output, ProduceResponse>): void {
    this.produceStreams.add(call);
    let chain = Promise.resolve();
    call.on('data', (req: ProduceRequest__Output) => {
      chain = chain.then(async () => {
        if (!this.produceStreams.has(call)) return;
        const reply = await this.handleProduce(req, call);
        if (reply && this.produceStreams.has(call) && req.acks !== 'ACKS_NONE') call.write({ ...reply, correlation_id: req.correlation_id });
      });
    });
    call.on('end', () => {
      void chain.then(() => {
        if (this.produceStreams.delete(call)) call.end();
      });
    });
    call.on('cancelled', () => this.produceStreams.delete(call));
    call.on('error', () => this.produceStreams.delete(call));
  }

  private takeFault(req: ProduceRequest__Output): ProduceFault | undefined {
    const i = this.produceFaults.findIndex((f) => f.match === undefined || f.match(req));
    return i < 0 ? undefined : this.produceFaults.splice(i, 1)[0];
  }

  /** The reply, or null when the stream was broken instead. */
  private async handleProduce(req: ProduceRequest__Output, call: grpc.ServerDuplexStream<ProduceRequest__Output, ProduceResponse> | null): Promise<ProduceResponse | null> {
    const fault = this.takeFault(req);
    const log = (outcome: ProduceLogEntry['outcome']) => this.cluster.logProduce(this, req, outcome);
    if (fault?.kind === 'delay') await new Promise((r) => setTimeout(r, fault.ms));
    if (fault?.kind === 'break-before-append' && call) {
      log('broken');
      this.kill(call);
      return null;
    }
    if (fault?.kind === 'error') {
      log(fault.code);
      return { error: errorDetail(fault.code, fault.message ?? `injected ${fault.code}`, { topic: req.topic, partition: req.partition }), base_offset: -1 };
    }
    const reply = this.cluster.append(this, req);
    log(reply.duplicate ? 'duplicate' : reply.error ? ((reply.error.code as string).replace('ERROR_CODE_', '') as ErrorCode) : 'appended');
    if (fault?.kind === 'break-after-append' && call) {
      this.kill(call);
      return null;
    }
    if (fault?.kind === 'error-after-append') {
      return { error: errorDetail(fault.code, `injected ${fault.code} after append`, { topic: req.topic, partition: req.partition }), base_offset: -1 };
    }
    return reply;
  }
}

export interface FakeClusterOptions {
  brokers?: number;
  /** The topics' max.message.bytes. */
  maxMessageBytes?: number;
}

export class FakeCluster {
  readonly clusterId = 'fake-cluster';
  readonly brokers: FakeBroker[] = [];
  readonly topics = new Map<string, { id: string; config: Record<string, string>; partitions: FakePartition[] }>();
  readonly produceLog: ProduceLogEntry[] = [];
  readonly maxMessageBytes: number;
  nextProducerId = 1000;
  metadataRequests = 0;
  private nextTopicId = 1;

  private constructor(options: FakeClusterOptions) {
    this.maxMessageBytes = options.maxMessageBytes ?? 1_048_588;
  }

  static async start(options: FakeClusterOptions = {}): Promise<FakeCluster> {
    const cluster = new FakeCluster(options);
    for (let id = 0; id < (options.brokers ?? 1); id++) cluster.brokers.push(new FakeBroker(id, cluster));
    await Promise.all(cluster.brokers.map((b) => b.start()));
    return cluster;
  }

  get bootstrapServers(): string[] {
    return [this.brokers[0]!.address];
  }

  broker(id: number): FakeBroker {
    const b = this.brokers[id];
    if (!b) throw new Error(`no fake broker ${id}`);
    return b;
  }

  async stop(): Promise<void> {
    for (const t of this.topics.values()) for (const p of t.partitions) p.notify();
    for (const b of this.brokers) b.server.forceShutdown();
  }

  /** Leaders default to round robin over the brokers. */
  createTopic(name: string, partitions: number, options: { leaders?: number[] } = {}): void {
    if (this.topics.has(name)) throw new SluiceError('TOPIC_ALREADY_EXISTS', `topic "${name}" already exists`);
    const list: FakePartition[] = [];
    for (let i = 0; i < partitions; i++) list.push(this.newPartition(name, i, options.leaders?.[i]));
    this.topics.set(name, { id: `topic-${this.nextTopicId++}`, config: {}, partitions: list });
  }

  private newPartition(topic: string, i: number, leader?: number): FakePartition {
    const n = this.brokers.length;
    const leaderId = leader ?? i % n;
    const replicas = [leaderId, ...this.brokers.map((b) => b.id).filter((id) => id !== leaderId)].slice(0, Math.min(3, n));
    return new FakePartition(topic, i, leaderId, replicas);
  }

  partition(topic: string, partition: number): FakePartition {
    const p = this.topics.get(topic)?.partitions[partition];
    if (!p) throw new Error(`no fake partition ${topic}-${partition}`);
    return p;
  }

  /** Elects another leader (epoch + 1). With publish false, Metadata keeps naming the old one. */
  moveLeader(topic: string, partition: number, leaderId: number, options: { publish?: boolean } = {}): void {
    const p = this.partition(topic, partition);
    p.leaderId = leaderId;
    p.leaderEpoch++;
    if (options.publish ?? true) this.publish(topic, partition);
    p.notify();
  }

  publish(topic: string, partition: number): void {
    const p = this.partition(topic, partition);
    p.publishedLeaderId = p.leaderId;
    p.publishedLeaderEpoch = p.leaderEpoch;
  }

  /** Every record stored in the partition, in offset order. */
  records(topic: string, partition: number): DecodedRecord[] {
    const p = this.partition(topic, partition);
    return p.batches.flatMap((b) => decodeRecordBatches(b.bytes).flatMap((d) => d.records));
  }

  /** Deletes the batches below `offset` (as retention would) and moves the log start there. */
  deleteRecordsBefore(topic: string, partition: number, offset: number): void {
    const p = this.partition(topic, partition);
    while (p.batches.length > 0 && p.batches[0]!.lastOffset < offset) p.batches.shift();
    p.logStartOffset = offset;
  }

  logProduce(broker: FakeBroker, req: ProduceRequest__Output, outcome: ProduceLogEntry['outcome']): void {
    let producerId = -1;
    let baseSequence = -1;
    let records = 0;
    if (req.records.length >= 61) {
      producerId = req.records.readInt32BE(43) * 2 ** 32 + req.records.readUInt32BE(47);
      baseSequence = req.records.readInt32BE(53);
      records = req.records.readInt32BE(57);
    }
    this.produceLog.push({ brokerId: broker.id, topic: req.topic, partition: req.partition, producerId, baseSequence, records, outcome });
  }

  private leaderCheck(broker: FakeBroker, topic: string, partition: number): { p: FakePartition } | { error: ErrorDetail } {
    const p = this.topics.get(topic)?.partitions[partition];
    if (!p) return { error: errorDetail('UNKNOWN_TOPIC_OR_PARTITION', `fake: ${topic}-${partition} does not exist`, { topic, partition }) };
    if (p.leaderId !== broker.id) {
      const leader = this.brokers[p.leaderId];
      return {
        error: errorDetail('NOT_LEADER', `fake broker ${broker.id} does not lead ${topic}-${partition}`, {
          topic,
          partition,
          leader_id: broker.omitLeaderHint || !leader ? -1 : p.leaderId,
          leader_address: broker.omitLeaderHint || !leader ? '' : leader.address,
          leader_epoch: broker.omitLeaderHint ? -1 : p.leaderEpoch,
        }),
      };
    }
    return { p };
  }

  append(broker: FakeBroker, req: ProduceRequest__Output): ProduceResponse {
    const check = this.leaderCheck(broker, req.topic, req.partition);
    if ('error' in check) return { error: check.error, base_offset: -1 };
    const p = check.p;
    let headers;
    try {
      headers = validateBatches(req.records, this.maxMessageBytes, { fromProducer: true });
    } catch (err) {
      const e = err as SluiceError;
      return { error: errorDetail(e.code, e.message, { topic: req.topic, partition: req.partition }), base_offset: -1 };
    }
    const baseOffset = p.logEndOffset;
    let offset = baseOffset;
    let pos = 0;
    for (const h of headers) {
      if (h.producerId >= 0) {
        const state = p.producers.get(h.producerId);
        const dup = state?.recent.find((b) => b.firstSequence === h.baseSequence && b.count === h.recordsCount);
        if (dup) return { base_offset: dup.baseOffset, duplicate: true, log_start_offset: p.logStartOffset };
        const expected = state ? (state.lastSequence + 1) % SEQUENCE_MODULO : 0;
        if (h.baseSequence !== expected) {
          return {
            error: errorDetail('OUT_OF_ORDER_SEQUENCE', `fake: producer ${h.producerId} sent sequence ${h.baseSequence} to ${req.topic}-${req.partition}, expected ${expected}`, { topic: req.topic, partition: req.partition }),
            base_offset: -1,
          };
        }
      }
      const bytes = Buffer.from(req.records.subarray(pos, pos + h.sizeInBytes));
      stampBatch(bytes, 0, offset, p.leaderEpoch);
      p.batches.push({ baseOffset: offset, lastOffset: offset + h.recordsCount - 1, bytes });
      if (h.producerId >= 0) {
        const state = p.producers.get(h.producerId) ?? { lastSequence: -1, recent: [] };
        state.lastSequence = (h.baseSequence + h.recordsCount - 1) % SEQUENCE_MODULO;
        state.recent.push({ firstSequence: h.baseSequence, count: h.recordsCount, baseOffset: offset });
        if (state.recent.length > 5) state.recent.shift();
        p.producers.set(h.producerId, state);
      }
      offset += h.recordsCount;
      pos += h.sizeInBytes;
    }
    p.logEndOffset = offset;
    p.notify();
    return { base_offset: baseOffset, log_start_offset: p.logStartOffset, duplicate: false };
  }

  async fetch(broker: FakeBroker, req: FetchRequest__Output): Promise<FetchPartitionResult[]> {
    const compute = (): { results: FetchPartitionResult[]; bytes: number } => {
      let total = 0;
      const results = req.partitions.map((fp): FetchPartitionResult => {
        const check = this.leaderCheck(broker, fp.topic, fp.partition);
        if ('error' in check) return { topic: fp.topic, partition: fp.partition, error: check.error, high_watermark: -1, log_start_offset: -1 };
        const p = check.p;
        const hw = p.highWatermark;
        if (fp.fetch_offset < p.logStartOffset || fp.fetch_offset > hw) {
          return {
            topic: fp.topic,
            partition: fp.partition,
            error: errorDetail('OFFSET_OUT_OF_RANGE', `fake: offset ${fp.fetch_offset} is outside [${p.logStartOffset}, ${hw}]`, {
              topic: fp.topic,
              partition: fp.partition,
              log_start_offset: p.logStartOffset,
              log_end_offset: hw,
            }),
            high_watermark: hw,
            log_start_offset: p.logStartOffset,
          };
        }
        const chunks: Buffer[] = [];
        let size = 0;
        for (const b of p.batches) {
          if (b.lastOffset < fp.fetch_offset || b.baseOffset >= hw) continue;
          if (chunks.length > 0 && size + b.bytes.length > fp.max_bytes) break;
          chunks.push(b.bytes);
          size += b.bytes.length;
        }
        total += size;
        return { topic: fp.topic, partition: fp.partition, high_watermark: hw, log_start_offset: p.logStartOffset, records: Buffer.concat(chunks) };
      });
      return { results, bytes: total };
    };
    let now = compute();
    if (now.bytes >= Math.max(1, req.min_bytes) || req.max_wait_ms <= 0) return now.results;
    const parts = req.partitions.map((fp) => this.topics.get(fp.topic)?.partitions[fp.partition]).filter((p): p is FakePartition => p !== undefined);
    await new Promise<void>((resolve) => {
      const done = (): void => {
        clearTimeout(timer);
        for (const p of parts) p.waiters.delete(done);
        resolve();
      };
      const timer = setTimeout(done, req.max_wait_ms);
      for (const p of parts) p.waiters.add(done);
    });
    now = compute();
    return now.results;
  }

  listOffset(broker: FakeBroker, q: { topic: string; partition: number; spec: string; timestamp: number }): ListOffsetsPartitionResult {
    const check = this.leaderCheck(broker, q.topic, q.partition);
    if ('error' in check) return { topic: q.topic, partition: q.partition, error: check.error, offset: -1, timestamp: -1 };
    const p = check.p;
    const base = { topic: q.topic, partition: q.partition, leader_epoch: p.leaderEpoch };
    if (q.spec === 'OFFSET_SPEC_EARLIEST') return { ...base, offset: p.logStartOffset, timestamp: -1 };
    if (q.spec === 'OFFSET_SPEC_LATEST') return { ...base, offset: p.highWatermark, timestamp: -1 };
    for (const r of this.records(q.topic, q.partition)) {
      if (r.offset >= p.logStartOffset && r.offset < p.highWatermark && r.timestamp >= q.timestamp) return { ...base, offset: r.offset, timestamp: r.timestamp };
    }
    return { ...base, offset: p.highWatermark, timestamp: -1 };
  }

  metadataResponse(topics: string[]): unknown {
    const names = topics.length > 0 ? topics : [...this.topics.keys()];
    return {
      cluster_id: this.clusterId,
      controller_id: 0,
      brokers: this.brokers.map((b) => ({ broker_id: b.id, host: '127.0.0.1', port: b.port, rack: '' })),
      topics: names.map((name) => {
        const t = this.topics.get(name);
        if (!t) return { name, error: errorDetail('UNKNOWN_TOPIC_OR_PARTITION', `fake: topic "${name}" does not exist`, { topic: name }), partitions: [] };
        return {
          name,
          topic_id: t.id,
          partitions: t.partitions.map((p) => ({
            partition: p.partition,
            leader_id: p.publishedLeaderId,
            leader_epoch: p.publishedLeaderEpoch,
            replicas: p.replicas,
            isr: p.replicas,
            offline_replicas: [],
          })),
        };
      }),
    };
  }

  private topicState(name: string): TopicState {
    const t = this.topics.get(name)!;
    return {
      name,
      topic_id: t.id,
      config: t.config,
      partitions: t.partitions.map((p) => ({ partition: p.partition, replicas: p.replicas, leader: p.leaderId, leader_epoch: p.leaderEpoch, isr: p.replicas, partition_epoch: p.leaderEpoch })),
    };
  }

  adminHandlers(broker: FakeBroker): grpc.UntypedServiceImplementation {
    type Cb = grpc.sendUnaryData<unknown>;
    type Req<T> = grpc.ServerUnaryCall<T, unknown>;
    const guard = (cb: Cb, fn: () => unknown): void => {
      try {
        cb(null, fn());
      } catch (err) {
        cb(toServiceError(err));
      }
    };
    return {
      CreateTopic: (call: Req<{ name: string; partitions: number; config: Record<string, string>; validate_only: boolean }>, cb: Cb) =>
        guard(cb, () => {
          const r = call.request;
          if (this.topics.has(r.name)) throw new SluiceError('TOPIC_ALREADY_EXISTS', `topic "${r.name}" already exists`);
          if (r.validate_only) return { topic: { name: r.name, config: r.config, partitions: [] } };
          this.createTopic(r.name, r.partitions);
          this.topics.get(r.name)!.config = { ...r.config };
          return { topic: this.topicState(r.name) };
        }),
      AlterTopic: (call: Req<{ name: string; partitions: number; config: Record<string, string> }>, cb: Cb) =>
        guard(cb, () => {
          const r = call.request;
          const t = this.topics.get(r.name);
          if (!t) throw new SluiceError('UNKNOWN_TOPIC_OR_PARTITION', `topic "${r.name}" does not exist`);
          if (r.partitions > 0 && r.partitions < t.partitions.length) throw new SluiceError('INVALID_PARTITIONS', 'partitions never shrink');
          for (let i = t.partitions.length; i < r.partitions; i++) t.partitions.push(this.newPartition(r.name, i));
          Object.assign(t.config, r.config);
          return { topic: this.topicState(r.name) };
        }),
      DeleteTopic: (call: Req<{ name: string }>, cb: Cb) =>
        guard(cb, () => {
          if (!this.topics.delete(call.request.name)) throw new SluiceError('UNKNOWN_TOPIC_OR_PARTITION', `topic "${call.request.name}" does not exist`);
          return {};
        }),
      ListTopics: (_call: unknown, cb: Cb) =>
        guard(cb, () => ({
          topics: [...this.topics].map(([name, t]) => ({ name, topic_id: t.id, partitions: t.partitions.length, replication_factor: t.partitions[0]?.replicas.length ?? 0 })),
        })),
      DescribeTopic: (call: Req<{ name: string }>, cb: Cb) =>
        guard(cb, () => {
          if (!this.topics.has(call.request.name)) throw new SluiceError('UNKNOWN_TOPIC_OR_PARTITION', `topic "${call.request.name}" does not exist`);
          return { topic: this.topicState(call.request.name) };
        }),
      DescribeCluster: (_call: unknown, cb: Cb) =>
        guard(cb, () => ({
          cluster_id: this.clusterId,
          controller_id: 0,
          brokers: this.brokers.map((b) => ({ endpoint: { broker_id: b.id, host: '127.0.0.1', port: b.port, rack: '' }, state: 'BROKER_STATE_ACTIVE', broker_epoch: 1 })),
        })),
      DescribeReplicas: (_call: unknown, cb: Cb) =>
        guard(cb, () => ({
          broker_id: broker.id,
          replicas: [...this.topics.values()].flatMap((t) =>
            t.partitions
              .filter((p) => p.replicas.includes(broker.id))
              .map((p) => ({
                topic: p.topic,
                partition: p.partition,
                is_leader: p.leaderId === broker.id,
                leader_epoch: p.leaderEpoch,
                log_start_offset: p.logStartOffset,
                high_watermark: p.highWatermark,
                log_end_offset: p.logEndOffset,
                size_bytes: p.batches.reduce((n, b) => n + b.bytes.length, 0),
              })),
          ),
        })),
    };
  }
}
