// LogService end to end over real gRPC: a broker in-process with real logs, driven by a fake
// controller, called through generated grpc-js clients.
import * as grpc from '@grpc/grpc-js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fromErrorDetail, fromServiceError } from '../../common/grpc-errors.ts';
import { decodeRecordBatches, encodeRecordBatch, stampBatch, type EncodeOptions, type RecordInput } from '../../common/record-batch.ts';
import type { FetchResponse__Output } from '../../proto/gen/sluice/v1/FetchResponse.ts';
import type { ListOffsetsResponse__Output } from '../../proto/gen/sluice/v1/ListOffsetsResponse.ts';
import type { ProduceRequest } from '../../proto/gen/sluice/v1/ProduceRequest.ts';
import type { ProduceResponse__Output } from '../../proto/gen/sluice/v1/ProduceResponse.ts';
import type { SubscribeResponse__Output } from '../../proto/gen/sluice/v1/SubscribeResponse.ts';
import { eventually, rpc, rpcError, startTestBroker, type TestBroker } from '../test-support/broker-harness.ts';
import { FakeController, topicState } from '../test-support/fake-controller.ts';

const EPOCH = 3;
const OTHER_BROKER = { broker_id: 7, host: '10.0.0.7', port: 9099, rack: '' };

let controller: FakeController;
let b: TestBroker;

function batch(values: string[], opts: EncodeOptions & { timestamp?: number } = {}): Buffer {
  const records: RecordInput[] = values.map((v) => ({ value: Buffer.from(v), ...(opts.timestamp !== undefined && { timestamp: opts.timestamp }) }));
  return encodeRecordBatch(records, opts);
}

/** What the broker stores for a produced batch: the same bytes with offset and epoch stamped. */
function stamped(sent: Buffer, baseOffset: number): Buffer {
  const copy = Buffer.from(sent);
  stampBatch(copy, 0, baseOffset, EPOCH);
  return copy;
}

function produce(req: ProduceRequest): Promise<ProduceResponse__Output> {
  return rpc((cb) => b.log.Produce(req, cb));
}

function fetch(topic: string, partition: number, offset: number, extra: { max_wait_ms?: number; min_bytes?: number; max_bytes?: number; partition_max_bytes?: number } = {}): Promise<FetchResponse__Output> {
  return rpc((cb) =>
    b.log.Fetch({ partitions: [{ topic, partition, fetch_offset: offset, max_bytes: extra.partition_max_bytes ?? 0 }], max_wait_ms: extra.max_wait_ms ?? 0, min_bytes: extra.min_bytes ?? 0, max_bytes: extra.max_bytes ?? 0 }, cb),
  );
}

function listOffsets(topic: string, spec: string, timestamp = 0): Promise<ListOffsetsResponse__Output> {
  return rpc((cb) => b.log.ListOffsets({ partitions: [{ topic, partition: 0, spec: spec as never, timestamp }] }, cb));
}

beforeAll(async () => {
  controller = new FakeController();
  await controller.start();
  controller.setMetadata(
    [
      topicState({ name: 'orders', partitions: 2, replicas: [0], leaderEpoch: EPOCH }),
      topicState({ name: 'budget', partitions: 2, replicas: [0], leaderEpoch: EPOCH }),
      topicState({ name: 'stream', partitions: 2, replicas: [0], leaderEpoch: EPOCH }),
      topicState({ name: 'acks', partitions: 1, replicas: [0], leaderEpoch: EPOCH }),
      topicState({ name: 'strict', partitions: 1, replicas: [0], leaderEpoch: EPOCH, config: { 'min.insync.replicas': '2' } }),
      // An in-sync follower that never fetches: the HW cannot pass anything appended.
      topicState({ name: 'stuck', partitions: 2, replicas: [0, 7], isr: [0, 7], leaderEpoch: EPOCH }),
      topicState({ name: 'elsewhere', partitions: 1, replicas: [7, 0], leader: 7, leaderEpoch: EPOCH }),
      topicState({ name: 'small', partitions: 1, replicas: [0], leaderEpoch: EPOCH, config: { 'max.message.bytes': '1024' } }),
      topicState({ name: 'retained', partitions: 1, replicas: [0], leaderEpoch: EPOCH, config: { 'segment.bytes': '1024', 'retention.bytes': '1' } }),
      topicState({ name: 'idem', partitions: 1, replicas: [0], leaderEpoch: EPOCH }),
      topicState({ name: 'poll', partitions: 2, replicas: [0], leaderEpoch: EPOCH }),
      topicState({ name: 'slow', partitions: 1, replicas: [0], leaderEpoch: EPOCH }),
      topicState({ name: 'subs', partitions: 1, replicas: [0], leaderEpoch: EPOCH }),
      topicState({ name: 'times', partitions: 1, replicas: [0], leaderEpoch: EPOCH }),
      topicState({ name: 'raw', partitions: 1, replicas: [0], leaderEpoch: EPOCH }),
      topicState({ name: 'bad', partitions: 1, replicas: [0], leaderEpoch: EPOCH }),
    ],
    [OTHER_BROKER],
  );
  b = await startTestBroker(controller, { config: { retentionCheckIntervalMs: 50 } });
});

afterAll(async () => {
  await b?.destroy();
  await controller?.stop();
});

describe('Produce and Fetch', () => {
  it('stores the produced bytes unchanged except for the stamped offset and epoch', async () => {
    const first = batch(['a', 'b', 'c']);
    const second = batch(['d', 'e']);
    const r1 = await produce({ topic: 'orders', partition: 0, acks: 'ACKS_LEADER', records: first });
    const r2 = await produce({ topic: 'orders', partition: 0, acks: 'ACKS_LEADER', records: second });
    expect([r1.base_offset, r2.base_offset]).toEqual([0, 3]);
    expect(r1.error).toBeNull();

    const f = await fetch('orders', 0, 0);
    const p = f.partitions[0]!;
    expect(p.error).toBeNull();
    expect(p.high_watermark).toBe(5);
    expect(p.log_start_offset).toBe(0);
    expect(p.records.equals(Buffer.concat([stamped(first, 0), stamped(second, 3)]))).toBe(true);
    const decoded = decodeRecordBatches(p.records).flatMap((d) => d.records.map((r) => [r.offset, r.value?.toString()]));
    expect(decoded).toEqual([[0, 'a'], [1, 'b'], [2, 'c'], [3, 'd'], [4, 'e']]);

    // A fetch from the middle of a batch returns that whole batch (the consumer skips ahead).
    const mid = await fetch('orders', 0, 4);
    expect(mid.partitions[0]!.records.equals(stamped(second, 3))).toBe(true);
    // The other partition is independent.
    const other = await fetch('orders', 1, 0);
    expect(other.partitions[0]!.high_watermark).toBe(0);
    expect(other.partitions[0]!.records.length).toBe(0);
  });

  it('honours per-partition and request max_bytes, but always returns at least one batch', async () => {
    const batches = [batch(['x'.repeat(300)]), batch(['y'.repeat(300)]), batch(['z'.repeat(300)])];
    for (const partition of [0, 1]) {
      for (const records of batches) await produce({ topic: 'budget', partition, acks: 'ACKS_LEADER', records: Buffer.from(records) });
    }
    const size = batches[0]!.length;
    const one = await fetch('budget', 0, 0, { partition_max_bytes: 10 });
    expect(one.partitions[0]!.records.length).toBe(size);
    const two = await fetch('budget', 0, 0, { partition_max_bytes: 2 * size + 1 });
    expect(two.partitions[0]!.records.length).toBe(2 * size);
    // Request budget of 1.5 batches over two partitions: the first gets one whole batch, the
    // second nothing (it may not exceed what is left), but both report their HW.
    const both = await rpc<FetchResponse__Output>((cb) =>
      b.log.Fetch({ partitions: [{ topic: 'budget', partition: 0, fetch_offset: 0 }, { topic: 'budget', partition: 1, fetch_offset: 0 }], max_bytes: Math.floor(1.5 * size) }, cb),
    );
    expect(both.partitions.map((p) => p.records.length)).toEqual([size, 0]);
    expect(both.partitions.map((p) => p.high_watermark)).toEqual([3, 3]);
    // With room for 2.5 batches the second partition gets the one whole batch that fits.
    const more = await rpc<FetchResponse__Output>((cb) =>
      b.log.Fetch({ partitions: [{ topic: 'budget', partition: 0, fetch_offset: 0, max_bytes: size }, { topic: 'budget', partition: 1, fetch_offset: 0 }], max_bytes: Math.floor(2.5 * size) }, cb),
    );
    expect(more.partitions.map((p) => p.records.length)).toEqual([size, size]);
  });

  it('answers fetches outside [log start, HW] with OFFSET_OUT_OF_RANGE and the range', async () => {
    const f = await fetch('orders', 0, 6);
    const err = fromErrorDetail(f.partitions[0]!.error);
    expect(err?.code).toBe('OFFSET_OUT_OF_RANGE');
    expect(err?.details).toMatchObject({ logStartOffset: 0, logEndOffset: 5 });
    expect(f.partitions[0]!.records.length).toBe(0);
  });

  it('reports the log start offset moved by retention to a fetch below it', async () => {
    for (let i = 0; i < 8; i++) await produce({ topic: 'retained', partition: 0, acks: 'ACKS_LEADER', records: batch([`r${i}`.repeat(200)]) });
    const earliest = await eventually(async () => {
      const r = await listOffsets('retained', 'OFFSET_SPEC_EARLIEST');
      return r.partitions[0]!.offset > 0 ? r.partitions[0]!.offset : 0;
    }, 5_000, 'retention to delete a segment');
    const f = await fetch('retained', 0, 0);
    const err = fromErrorDetail(f.partitions[0]!.error);
    expect(err?.code).toBe('OFFSET_OUT_OF_RANGE');
    expect(err?.details).toMatchObject({ logStartOffset: earliest, logEndOffset: 8 });
    expect((await fetch('retained', 0, earliest)).partitions[0]!.records.length).toBeGreaterThan(0);
  });

  it('refuses a batch with a wrong CRC as CORRUPT_MESSAGE and writes nothing', async () => {
    const good = batch(['fine']);
    const corrupt = Buffer.from(good);
    corrupt[corrupt.length - 3]! ^= 0xff;
    const err = await rpcError((cb) => b.log.Produce({ topic: 'bad', partition: 0, acks: 'ACKS_LEADER', records: corrupt }, cb));
    expect(err.code).toBe(grpc.status.INVALID_ARGUMENT);
    expect(fromServiceError(err).code).toBe('CORRUPT_MESSAGE');
    expect(err.details).toMatch(/CRC/);

    const truncated = await rpcError((cb) => b.log.Produce({ topic: 'bad', partition: 0, acks: 'ACKS_LEADER', records: good.subarray(0, good.length - 4) }, cb));
    expect(truncated.code).toBe(grpc.status.INVALID_ARGUMENT);
    expect(fromServiceError(truncated).code).toBe('CORRUPT_MESSAGE');
    expect(truncated.details).toMatch(/truncated/);

    const latest = await listOffsets('bad', 'OFFSET_SPEC_LATEST');
    expect(latest.partitions[0]!.offset).toBe(0);
    expect(b.broker.replicas.getPartition('bad', 0)!.log.logEndOffset).toBe(0);
    // The partition still takes good batches afterwards.
    expect((await produce({ topic: 'bad', partition: 0, acks: 'ACKS_LEADER', records: good })).base_offset).toBe(0);
  });

  it('refuses a batch over max.message.bytes as MESSAGE_TOO_LARGE', async () => {
    const err = await rpcError((cb) => b.log.Produce({ topic: 'small', partition: 0, acks: 'ACKS_LEADER', records: batch(['x'.repeat(2000)]) }, cb));
    expect(err.code).toBe(grpc.status.INVALID_ARGUMENT);
    const sluice = fromServiceError(err);
    expect(sluice.code).toBe('MESSAGE_TOO_LARGE');
    expect(sluice.message).toMatch(/max\.message\.bytes/);
    expect(b.broker.replicas.getPartition('small', 0)!.log.logEndOffset).toBe(0);
  });

  it('answers a produce to another broker\'s partition with NOT_LEADER naming that leader', async () => {
    const err = await rpcError((cb) => b.log.Produce({ topic: 'elsewhere', partition: 0, acks: 'ACKS_LEADER', records: batch(['x']) }, cb));
    expect(err.code).toBe(grpc.status.FAILED_PRECONDITION);
    const sluice = fromServiceError(err);
    expect(sluice.code).toBe('NOT_LEADER');
    expect(sluice.details).toMatchObject({ leaderId: 7, leaderAddress: '10.0.0.7:9099', leaderEpoch: EPOCH, topic: 'elsewhere', partition: 0 });
    // The follower still hosts its log (replication comes later), but serves no client reads.
    expect(b.broker.replicas.getPartition('elsewhere', 0)).toBeDefined();
    const f = await fetch('elsewhere', 0, 0);
    expect(fromErrorDetail(f.partitions[0]!.error)).toMatchObject({ code: 'NOT_LEADER', details: { leaderAddress: '10.0.0.7:9099' } });
  });

  it('answers unknown topics and partitions with UNKNOWN_TOPIC_OR_PARTITION', async () => {
    for (const [topic, partition] of [['nope', 0], ['orders', 9]] as const) {
      const err = await rpcError((cb) => b.log.Produce({ topic, partition, acks: 'ACKS_LEADER', records: batch(['x']) }, cb));
      expect(err.code).toBe(grpc.status.NOT_FOUND);
      expect(fromServiceError(err).code).toBe('UNKNOWN_TOPIC_OR_PARTITION');
      const f = await fetch(topic, partition, 0);
      expect(fromErrorDetail(f.partitions[0]!.error)?.code).toBe('UNKNOWN_TOPIC_OR_PARTITION');
    }
  });

  it('refuses malformed requests with INVALID_REQUEST saying which field to fix', async () => {
    const cases: [ProduceRequest, RegExp][] = [
      [{ topic: '', partition: 0, records: batch(['x']) }, /topic is empty/],
      [{ topic: 'orders', partition: -1, records: batch(['x']) }, /partition is -1/],
      [{ topic: 'orders', partition: 0, records: Buffer.alloc(0) }, /records is empty/],
      [{ topic: 'orders', partition: 0, records: batch(['x']), timeout_ms: -5 }, /timeout_ms is -5/],
    ];
    for (const [req, message] of cases) {
      const err = await rpcError((cb) => b.log.Produce(req, cb));
      expect(err.code).toBe(grpc.status.INVALID_ARGUMENT);
      expect(fromServiceError(err).code).toBe('INVALID_REQUEST');
      expect(err.details).toMatch(message);
    }
    const f = await rpcError((cb) => b.log.Fetch({ partitions: [{ topic: 'orders', partition: 0, fetch_offset: -1 }] }, cb));
    expect(f.code).toBe(grpc.status.INVALID_ARGUMENT);
    expect(f.details).toMatch(/fetch_offset is -1/);
  });

  it('refuses bytes that are not a protobuf message as INVALID_REQUEST and keeps serving', async () => {
    const raw = new grpc.Client(b.address, grpc.credentials.createInsecure());
    // A length-delimited field whose length runs far past the end of the message.
    const garbage = (): Buffer => Buffer.from([0x2a, 0xff, 0xff, 0xff, 0x0f, 0x01, 0x02]);
    try {
      const unary = await new Promise<grpc.ServiceError>((resolve, reject) => {
        raw.makeUnaryRequest('/sluice.v1.LogService/Produce', garbage, (buf: Buffer) => buf, {}, (e, res) => (e ? resolve(e) : reject(new Error(`unexpected success: ${String(res)}`))));
      });
      expect(unary.code).toBe(grpc.status.INVALID_ARGUMENT);
      expect(fromServiceError(unary).code).toBe('INVALID_REQUEST');
      expect(unary.details).toMatch(/not a valid ProduceRequest/);

      const subscribe = raw.makeServerStreamRequest('/sluice.v1.LogService/Subscribe', garbage, (buf: Buffer) => buf, {});
      subscribe.on('data', () => {});
      const subscribeErr = await new Promise<grpc.ServiceError>((resolve) => subscribe.on('error', resolve));
      expect(subscribeErr.code).toBe(grpc.status.INVALID_ARGUMENT);
      expect(fromServiceError(subscribeErr).code).toBe('INVALID_REQUEST');

      // On ProduceStream a message that does not parse has no correlation id to answer: the
      // stream ends with the same status.
      const stream = raw.makeBidiStreamRequest('/sluice.v1.LogService/ProduceStream', (buf: Buffer) => buf, (buf: Buffer) => buf, {});
      stream.on('data', () => {});
      const streamErr = new Promise<grpc.ServiceError>((resolve) => stream.on('error', resolve));
      stream.write(garbage());
      expect((await streamErr).code).toBe(grpc.status.INVALID_ARGUMENT);
    } finally {
      raw.close();
    }
    const ok = await produce({ topic: 'raw', partition: 0, acks: 'ACKS_LEADER', records: batch(['still here']) });
    expect(ok.base_offset).toBe(0);
  });
});

describe('acks', () => {
  it('acks=none answers at once and the batch is appended', async () => {
    const r = await produce({ topic: 'acks', partition: 0, acks: 'ACKS_NONE', records: batch(['n1', 'n2']) });
    expect(r.error).toBeNull();
    expect(r.base_offset).toBe(-1);
    await eventually(async () => (await fetch('acks', 0, 0)).partitions[0]!.high_watermark === 2, 5_000, 'the acks=none batch to be committed');
  });

  it('acks=leader answers with the offset once appended', async () => {
    const r = await produce({ topic: 'acks', partition: 0, acks: 'ACKS_LEADER', records: batch(['l1']) });
    expect(r.base_offset).toBe(2);
  });

  it('acks=all (and unspecified) answers once the HW passed the batch', async () => {
    const all = await produce({ topic: 'acks', partition: 0, acks: 'ACKS_ALL', records: batch(['a1']) });
    expect(all.base_offset).toBe(3);
    const unspecified = await produce({ topic: 'acks', partition: 0, records: batch(['a2']) });
    expect(unspecified.base_offset).toBe(4);
    expect(b.broker.replicas.getPartition('acks', 0)!.log.highWatermark).toBe(5);
  });

  it('acks=all with the ISR below min.insync.replicas is refused before appending', async () => {
    const err = await rpcError((cb) => b.log.Produce({ topic: 'strict', partition: 0, acks: 'ACKS_ALL', records: batch(['x']) }, cb));
    expect(err.code).toBe(grpc.status.UNAVAILABLE);
    expect(fromServiceError(err).code).toBe('NOT_ENOUGH_REPLICAS');
    expect(b.broker.replicas.getPartition('strict', 0)!.log.logEndOffset).toBe(0);
    // acks=leader is still accepted, but the HW stays frozen below min.insync.replicas.
    expect((await produce({ topic: 'strict', partition: 0, acks: 'ACKS_LEADER', records: batch(['y']) })).base_offset).toBe(0);
    expect((await fetch('strict', 0, 0)).partitions[0]!.high_watermark).toBe(0);
  });

  it('acks=all waits for the HW and times out with REQUEST_TIMED_OUT when it does not move', async () => {
    const started = Date.now();
    const err = await rpcError((cb) => b.log.Produce({ topic: 'stuck', partition: 0, acks: 'ACKS_ALL', timeout_ms: 300, records: batch(['x']) }, cb));
    expect(Date.now() - started).toBeGreaterThanOrEqual(290);
    expect(err.code).toBe(grpc.status.DEADLINE_EXCEEDED);
    expect(fromServiceError(err).code).toBe('REQUEST_TIMED_OUT');
    // Appended but never committed: consumers do not see it.
    const f = await fetch('stuck', 0, 0);
    expect(f.partitions[0]!.high_watermark).toBe(0);
    expect(f.partitions[0]!.records.length).toBe(0);
  });
});

describe('idempotent producer', () => {
  it('hands out distinct producer ids from the controller block', async () => {
    const a = await rpc<{ producer_id: number; producer_epoch: number }>((cb) => b.log.InitProducerId({}, cb));
    const c = await rpc<{ producer_id: number; producer_epoch: number }>((cb) => b.log.InitProducerId({}, cb));
    expect(c.producer_id).toBe(a.producer_id + 1);
    expect(a.producer_epoch).toBe(0);
    expect(controller.producerIdRequests).toEqual([{ broker_id: 0, broker_epoch: 1 }]);
  });

  it('answers a retried batch with its original offset and does not write it twice', async () => {
    const { producer_id } = await rpc<{ producer_id: number }>((cb) => b.log.InitProducerId({}, cb));
    const first = batch(['p0', 'p1'], { producerId: producer_id, producerEpoch: 0, baseSequence: 0 });
    const r1 = await produce({ topic: 'idem', partition: 0, acks: 'ACKS_ALL', records: Buffer.from(first) });
    const retry = await produce({ topic: 'idem', partition: 0, acks: 'ACKS_ALL', records: Buffer.from(first) });
    expect(r1).toMatchObject({ base_offset: 0, duplicate: false });
    expect(retry).toMatchObject({ base_offset: 0, duplicate: true, error: null });
    const next = await produce({ topic: 'idem', partition: 0, acks: 'ACKS_ALL', records: batch(['p2'], { producerId: producer_id, producerEpoch: 0, baseSequence: 2 }) });
    expect(next.base_offset).toBe(2);
    expect((await fetch('idem', 0, 0)).partitions[0]!.high_watermark).toBe(3);

    const gap = await rpcError((cb) => b.log.Produce({ topic: 'idem', partition: 0, acks: 'ACKS_ALL', records: batch(['p9'], { producerId: producer_id, producerEpoch: 0, baseSequence: 9 }) }, cb));
    expect(fromServiceError(gap).code).toBe('OUT_OF_ORDER_SEQUENCE');
  });
});

describe('ProduceStream', () => {
  function openStream(): { call: grpc.ClientDuplexStream<ProduceRequest, ProduceResponse__Output>; replies: ProduceResponse__Output[]; next(n: number): Promise<ProduceResponse__Output[]> } {
    const call = b.log.ProduceStream();
    const replies: ProduceResponse__Output[] = [];
    const waiters: (() => void)[] = [];
    call.on('data', (r: ProduceResponse__Output) => {
      replies.push(r);
      for (const w of waiters.splice(0)) w();
    });
    call.on('error', () => {});
    return {
      call,
      replies,
      next: (n) =>
        eventually(() => (replies.length >= n ? replies.slice(0, n) : null), 5_000, `${n} replies`),
    };
  }

  it('pipelines many requests and answers them in order with contiguous offsets', async () => {
    const s = openStream();
    for (let i = 1; i <= 200; i++) s.call.write({ topic: 'stream', partition: 0, acks: 'ACKS_LEADER', records: batch([`m${i}`, `n${i}`]), correlation_id: i });
    const replies = await s.next(200);
    expect(replies.map((r) => r.correlation_id)).toEqual(Array.from({ length: 200 }, (_, i) => i + 1));
    expect(replies.map((r) => r.base_offset)).toEqual(Array.from({ length: 200 }, (_, i) => 2 * i));
    s.call.end();
  });

  it('keeps replies of one partition in request order even when a later one completes first', async () => {
    const s = openStream();
    // acks=all on a partition whose HW cannot move parks until its timeout; the acks=leader
    // request behind it is appended at once, but its reply must wait.
    s.call.write({ topic: 'stuck', partition: 1, acks: 'ACKS_ALL', timeout_ms: 300, records: batch(['slow']), correlation_id: 1 });
    s.call.write({ topic: 'stuck', partition: 1, acks: 'ACKS_LEADER', records: batch(['fast']), correlation_id: 2 });
    // Another partition is not held up by it.
    s.call.write({ topic: 'stream', partition: 1, acks: 'ACKS_LEADER', records: batch(['other']), correlation_id: 3 });
    const replies = await s.next(3);
    expect(replies.map((r) => r.correlation_id)).toEqual([3, 1, 2]);
    expect(fromErrorDetail(replies[1]!.error)?.code).toBe('REQUEST_TIMED_OUT');
    expect(replies[2]).toMatchObject({ error: null, base_offset: 1 });
    s.call.end();
  });

  it('sends no reply for acks=none, and answers a failed request without ending the stream', async () => {
    const s = openStream();
    s.call.write({ topic: 'stream', partition: 1, acks: 'ACKS_NONE', records: batch(['fire', 'forget']), correlation_id: 10 });
    s.call.write({ topic: 'stream', partition: 1, acks: 'ACKS_LEADER', records: Buffer.alloc(0), correlation_id: 11 });
    s.call.write({ topic: 'nope', partition: 0, acks: 'ACKS_LEADER', records: batch(['x']), correlation_id: 12 });
    s.call.write({ topic: 'stream', partition: 1, acks: 'ACKS_LEADER', records: batch(['after']), correlation_id: 13 });
    const replies = await s.next(3);
    const byId = new Map(replies.map((r) => [r.correlation_id, r]));
    expect([...byId.keys()].sort()).toEqual([11, 12, 13]);
    expect(fromErrorDetail(byId.get(11)!.error)?.code).toBe('INVALID_REQUEST');
    expect(byId.get(11)!.base_offset).toBe(-1);
    expect(fromErrorDetail(byId.get(12)!.error)?.code).toBe('UNKNOWN_TOPIC_OR_PARTITION');
    // The acks=none batch was written before it: offsets 1 and 2 (offset 0 is 'other' above).
    expect(byId.get(13)).toMatchObject({ error: null, base_offset: 3 });
    const status = new Promise<grpc.StatusObject>((resolve) => s.call.on('status', resolve));
    s.call.end();
    expect((await status).code).toBe(grpc.status.OK);
  });
});

describe('Fetch long-poll', () => {
  it('waits for data and wakes as soon as a produce moves the HW', async () => {
    const started = Date.now();
    const pending = fetch('poll', 0, 0, { max_wait_ms: 10_000, min_bytes: 1 });
    await new Promise((r) => setTimeout(r, 150));
    const sent = batch(['wake up']);
    await produce({ topic: 'poll', partition: 0, acks: 'ACKS_LEADER', records: sent });
    const f = await pending;
    const elapsed = Date.now() - started;
    expect(elapsed).toBeGreaterThanOrEqual(140);
    expect(elapsed).toBeLessThan(5_000);
    expect(f.partitions[0]!.records.equals(stamped(sent, 0))).toBe(true);
  });

  it('answers with what there is after max_wait_ms when min_bytes is not reached', async () => {
    const started = Date.now();
    const f = await fetch('poll', 1, 0, { max_wait_ms: 250, min_bytes: 1 });
    expect(Date.now() - started).toBeGreaterThanOrEqual(240);
    expect(f.partitions[0]!.records.length).toBe(0);
    expect(f.partitions[0]!.error).toBeNull();
  });

  it('waits across partitions until min_bytes are there in total', async () => {
    const sent = batch(['q'.repeat(100)]);
    const pending = rpc<FetchResponse__Output>((cb) =>
      b.log.Fetch({ partitions: [{ topic: 'poll', partition: 0, fetch_offset: 1 }, { topic: 'poll', partition: 1, fetch_offset: 0 }], max_wait_ms: 10_000, min_bytes: sent.length * 2 }, cb),
    );
    await produce({ topic: 'poll', partition: 1, acks: 'ACKS_LEADER', records: Buffer.from(sent) });
    let settled = false;
    void pending.then(() => (settled = true));
    await new Promise((r) => setTimeout(r, 100));
    expect(settled).toBe(false);
    await produce({ topic: 'poll', partition: 0, acks: 'ACKS_LEADER', records: Buffer.from(sent) });
    const f = await pending;
    expect(f.partitions.map((p) => p.records.length)).toEqual([sent.length, sent.length]);
  });
});

describe('Subscribe', () => {
  it('pushes committed batches as they are appended', async () => {
    const call = b.log.Subscribe({ topic: 'subs', partition: 0, offset: 0 });
    const received: SubscribeResponse__Output[] = [];
    call.on('data', (m: SubscribeResponse__Output) => received.push(m));
    call.on('error', () => {});
    const sent = [batch(['s1']), batch(['s2', 's3']), batch(['s4'])];
    for (const records of sent) {
      await produce({ topic: 'subs', partition: 0, acks: 'ACKS_LEADER', records: Buffer.from(records) });
      await new Promise((r) => setTimeout(r, 20));
    }
    await eventually(() => Buffer.concat(received.map((m) => m.records)).length === sent.reduce((n, s) => n + s.length, 0), 5_000, 'all batches pushed');
    expect(Buffer.concat(received.map((m) => m.records)).equals(Buffer.concat([stamped(sent[0]!, 0), stamped(sent[1]!, 1), stamped(sent[2]!, 3)]))).toBe(true);
    expect(received.at(-1)!.high_watermark).toBe(4);
    const status = new Promise<grpc.StatusObject>((resolve) => call.on('status', resolve));
    call.cancel();
    expect((await status).code).toBe(grpc.status.CANCELLED);
    // The cancelled subscription no longer waits on the partition.
    await eventually(() => b.broker.replicas.getPartition('subs', 0) !== undefined, 1_000);
  });

  it('starts from the requested offset and ends with OUT_OF_RANGE beyond the HW', async () => {
    const call = b.log.Subscribe({ topic: 'subs', partition: 0, offset: 3 });
    const first = await new Promise<SubscribeResponse__Output>((resolve) => call.once('data', resolve));
    expect(decodeRecordBatches(first.records)[0]!.records.map((r) => r.value?.toString())).toEqual(['s4']);
    call.cancel();
    call.on('error', () => {});

    const beyond = b.log.Subscribe({ topic: 'subs', partition: 0, offset: 99 });
    const err = await new Promise<grpc.ServiceError>((resolve) => beyond.on('error', resolve));
    expect(err.code).toBe(grpc.status.OUT_OF_RANGE);
    expect(fromServiceError(err).details).toMatchObject({ logStartOffset: 0, logEndOffset: 4 });
  });

  it('delivers every batch in order to a subscriber that stops reading for a while', async () => {
    const call = b.log.Subscribe({ topic: 'slow', partition: 0, offset: 0, max_bytes: 1 });
    call.on('error', () => {});
    const offsets: number[] = [];
    call.on('data', (m: SubscribeResponse__Output) => {
      for (const d of decodeRecordBatches(m.records)) for (const r of d.records) offsets.push(r.offset);
    });
    call.pause();
    const total = 2_000;
    const stream = b.log.ProduceStream();
    stream.on('data', () => {});
    stream.on('error', () => {});
    // ~1 KiB per batch, one batch per pushed message: far more than the HTTP/2 window holds,
    // so the broker has to wait for 'drain' many times.
    for (let i = 0; i < total; i++) stream.write({ topic: 'slow', partition: 0, acks: 'ACKS_LEADER', records: batch([`${i}`.padEnd(1000, '.')]), correlation_id: i });
    await eventually(() => b.broker.replicas.getPartition('slow', 0)!.log.highWatermark === total, 10_000, 'all batches appended');
    stream.end();
    await new Promise((r) => setTimeout(r, 200));
    expect(offsets.length).toBeLessThan(total);
    call.resume();
    await eventually(() => offsets.length === total, 10_000, 'the subscriber to catch up');
    expect(offsets).toEqual(Array.from({ length: total }, (_, i) => i));
    call.cancel();
  });

  it('ends with NOT_LEADER for a partition this broker follows', async () => {
    const call = b.log.Subscribe({ topic: 'elsewhere', partition: 0, offset: 0 });
    const err = await new Promise<grpc.ServiceError>((resolve) => call.on('error', resolve));
    expect(fromServiceError(err)).toMatchObject({ code: 'NOT_LEADER', details: { leaderId: 7 } });
  });
});

describe('ListOffsets', () => {
  it('finds the first record at or after a timestamp, and earliest / latest', async () => {
    await produce({ topic: 'times', partition: 0, acks: 'ACKS_LEADER', records: batch(['t1', 't1b'], { timestamp: 1_000 }) });
    await produce({ topic: 'times', partition: 0, acks: 'ACKS_LEADER', records: batch(['t2'], { timestamp: 2_000 }) });
    await produce({ topic: 'times', partition: 0, acks: 'ACKS_LEADER', records: batch(['t3'], { timestamp: 3_000 }) });
    expect((await listOffsets('times', 'OFFSET_SPEC_TIMESTAMP', 1_500)).partitions[0]).toMatchObject({ error: null, offset: 2, timestamp: 2_000, leader_epoch: EPOCH });
    expect((await listOffsets('times', 'OFFSET_SPEC_TIMESTAMP', 0)).partitions[0]).toMatchObject({ offset: 0, timestamp: 1_000 });
    expect((await listOffsets('times', 'OFFSET_SPEC_TIMESTAMP', 9_000)).partitions[0]).toMatchObject({ offset: 4, timestamp: -1 });
    expect((await listOffsets('times', 'OFFSET_SPEC_EARLIEST')).partitions[0]).toMatchObject({ offset: 0, timestamp: -1 });
    expect((await listOffsets('times', 'OFFSET_SPEC_LATEST')).partitions[0]).toMatchObject({ offset: 4, timestamp: -1 });
  });

  it('reports per-partition errors', async () => {
    const r = await rpc<ListOffsetsResponse__Output>((cb) =>
      b.log.ListOffsets(
        {
          partitions: [
            { topic: 'times', partition: 0, spec: 'OFFSET_SPEC_LATEST' },
            { topic: 'nope', partition: 0, spec: 'OFFSET_SPEC_LATEST' },
            { topic: 'elsewhere', partition: 0, spec: 'OFFSET_SPEC_LATEST' },
            { topic: 'times', partition: 0, spec: 'OFFSET_SPEC_UNSPECIFIED' },
          ],
        },
        cb,
      ),
    );
    expect(r.partitions.map((p) => fromErrorDetail(p.error)?.code ?? 'NONE')).toEqual(['NONE', 'UNKNOWN_TOPIC_OR_PARTITION', 'NOT_LEADER', 'INVALID_REQUEST']);
    // LATEST is the HW, not the LEO: on 'stuck' the appended batch is not committed.
    expect((await listOffsets('stuck', 'OFFSET_SPEC_LATEST')).partitions[0]!.offset).toBe(0);
  });
});
