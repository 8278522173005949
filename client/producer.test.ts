import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { SluiceError } from '../common/errors.ts';
import { silentLogger } from '../common/logger.ts';
import { kafkaPartitionForKey } from './partitioner.ts';
import { Producer } from './producer.ts';
import type { ProducerOptions } from './client-options.ts';
import type { RecordMetadata } from './records.ts';
import type { RawData } from './serializers.ts';
import { FakeCluster } from './test-support/fake-broker.ts';

let cluster: FakeCluster;
let producers: Producer[] = [];

beforeEach(async () => {
  cluster = await FakeCluster.start({ brokers: 2 });
});

afterEach(async () => {
  await Promise.all(producers.map((p) => p.close({ timeoutMs: 2000 })));
  producers = [];
  await cluster.stop();
});

function producer(options: Partial<ProducerOptions<RawData, RawData>> = {}): Producer {
  const p = new Producer({ bootstrapServers: cluster.bootstrapServers, logger: silentLogger(), retryBackoffMs: 20, ...options });
  producers.push(p);
  return p;
}

function values(topic: string, partition = 0): string[] {
  return cluster.records(topic, partition).map((r) => r.value!.toString());
}

function sendAll(p: Producer, topic: string, count: number, extra: { size?: number } = {}): Promise<RecordMetadata>[] {
  return Array.from({ length: count }, (_, i) => p.send({ topic, value: extra.size ? `v${i}`.padEnd(extra.size, '.') : `v${i}` }));
}

function appendedOf(topic: string) {
  return cluster.produceLog.filter((e) => e.topic === topic && e.outcome === 'appended');
}

async function rejection(promise: Promise<unknown>): Promise<SluiceError> {
  try {
    await promise;
  } catch (err) {
    expect(err).toBeInstanceOf(SluiceError);
    return err as SluiceError;
  }
  throw new Error('expected the promise to reject');
}

describe('producer: sending', () => {
  it('acknowledges each record with its offset, and the log holds them in send order', async () => {
    cluster.createTopic('t', 1);
    const p = producer();
    await p.connect();
    const metas = await Promise.all(sendAll(p, 't', 100));
    expect(metas.map((m) => m.offset)).toEqual([...Array(100).keys()]);
    expect(metas.every((m) => m.topic === 't' && m.partition === 0 && m.timestamp > 0)).toBe(true);
    expect(values('t')).toEqual(metas.map((_, i) => `v${i}`));
  });

  it('puts a keyed record on the partition Kafka would choose for the key', async () => {
    cluster.createTopic('keyed', 6);
    const p = producer();
    const keys = ['alice', 'bob', 'carol', 'dave', 'erin', 'frank', 'grace'];
    const metas = await Promise.all(keys.map((key) => p.send({ topic: 'keyed', key, value: 'x' })));
    metas.forEach((m, i) => expect(m.partition).toBe(kafkaPartitionForKey(Buffer.from(keys[i]!), 6)));
  });

  it('keeps unkeyed records sent together on one partition (sticky), so they form one batch', async () => {
    cluster.createTopic('sticky', 6);
    const p = producer({ lingerMs: 20 });
    await p.connect();
    const metas = await Promise.all(sendAll(p, 'sticky', 50));
    expect(new Set(metas.map((m) => m.partition)).size).toBe(1);
    expect(appendedOf('sticky')).toHaveLength(1);
  });

  it('collects records into one batch for lingerMs', async () => {
    cluster.createTopic('linger', 1);
    const p = producer({ lingerMs: 40 });
    await p.connect();
    const started = Date.now();
    await Promise.all(sendAll(p, 'linger', 30));
    expect(Date.now() - started).toBeGreaterThanOrEqual(35);
    expect(appendedOf('linger').map((e) => e.records)).toEqual([30]);
  });

  it('sends a batch as soon as it reaches batchSize, without waiting for lingerMs', async () => {
    cluster.createTopic('full', 1);
    // 100-byte values are charged 136 bytes each: five fill a batch exactly.
    const p = producer({ lingerMs: 60_000, batchSize: 61 + 136 * 5 });
    await p.connect();
    const metas = await Promise.all(sendAll(p, 'full', 50, { size: 100 }));
    expect(metas).toHaveLength(50);
    expect(appendedOf('full').map((e) => e.records)).toEqual(Array(10).fill(5));
  });

  it('reuses the buffers of acknowledged full batches without mixing up their bytes', async () => {
    cluster.createTopic('reuse', 2);
    // Full batches of five 100-byte records take pooled buffers; waves after the first
    // encode into buffers whose earlier batches were acknowledged.
    const p = producer({ lingerMs: 60_000, batchSize: 61 + 136 * 5 });
    await p.connect();
    const sent: string[][] = [[], []];
    for (let wave = 0; wave < 4; wave++) {
      const metas = await Promise.all(
        Array.from({ length: 40 }, (_, i) => {
          const value = `w${wave}-${i}-`.padEnd(100, String.fromCharCode(97 + ((wave * 40 + i) % 26)));
          const partition = i % 2;
          sent[partition]!.push(value);
          return p.send({ topic: 'reuse', partition, value });
        }),
      );
      expect(metas).toHaveLength(40);
    }
    expect(values('reuse', 0)).toEqual(sent[0]);
    expect(values('reuse', 1)).toEqual(sent[1]);
  });

  it('flush() sends lingering records at once and resolves when they are acknowledged', async () => {
    cluster.createTopic('flush', 1);
    const p = producer({ lingerMs: 60_000 });
    await p.connect();
    const sent = sendAll(p, 'flush', 3);
    let acked = 0;
    for (const s of sent) void s.then(() => acked++);
    await p.flush();
    expect(acked).toBe(3);
    expect(values('flush')).toEqual(['v0', 'v1', 'v2']);
  });

  it('applies onSend interceptors and reports every acknowledgement', async () => {
    cluster.createTopic('icpt', 1);
    const acks: (number | string)[] = [];
    const p = producer({
      interceptors: [
        {
          onSend: (r) => ({ ...r, value: String(r.value).toUpperCase() }),
          onAcknowledgement: (m, e) => acks.push(m ? m.offset : e!.code),
        },
      ],
    });
    await Promise.all([p.send({ topic: 'icpt', value: 'a' }), p.send({ topic: 'icpt', value: 'b' })]);
    expect(values('icpt')).toEqual(['A', 'B']);
    expect(acks).toEqual([0, 1]);
    await rejection(p.send({ topic: 'icpt', value: 'x', timestamp: -5 }));
    expect(acks).toEqual([0, 1, 'INVALID_TIMESTAMP']);
  });

  it('with acks 0 resolves once written, with offset -1', async () => {
    cluster.createTopic('fire', 1);
    const p = producer({ acks: 0 });
    const metas = await Promise.all(sendAll(p, 'fire', 5));
    expect(metas.map((m) => m.offset)).toEqual([-1, -1, -1, -1, -1]);
    for (let i = 0; i < 50 && values('fire').length < 5; i++) await new Promise((r) => setTimeout(r, 10));
    expect(values('fire')).toEqual(['v0', 'v1', 'v2', 'v3', 'v4']);
  });

  it('compresses batches with gzip', async () => {
    cluster.createTopic('gz', 1);
    const p = producer({ compression: 'gzip' });
    await Promise.all(sendAll(p, 'gz', 20, { size: 200 }));
    expect(values('gz')).toHaveLength(20);
    expect(cluster.partition('gz', 0).batches[0]!.bytes.readInt16BE(21) & 0x07).toBe(1);
  });

  it('rejects records it can never send, with the reason, and keeps going', async () => {
    cluster.createTopic('bad', 1);
    const p = producer();
    expect((await rejection(p.send({ topic: '', value: 'x' }))).code).toBe('INVALID_TOPIC');
    expect((await rejection(p.send({ topic: 'bad', value: 'x', partition: -1 }))).code).toBe('INVALID_REQUEST');
    expect((await rejection(p.send({ topic: 'bad', value: 42 as never }))).message).toContain('pass a Buffer or a string');
    expect((await p.send({ topic: 'bad', value: 'ok' })).offset).toBe(0);
  });

  it('fails with UNKNOWN_TOPIC_OR_PARTITION after maxBlockMs when the topic does not exist', async () => {
    const p = producer({ maxBlockMs: 200 });
    const e = await rejection(p.send({ topic: 'nope', value: 'x' }));
    expect(e.code).toBe('UNKNOWN_TOPIC_OR_PARTITION');
    expect(e.message).toContain('"nope"');
    expect(e.message).toContain('maxBlockMs');
  });

  it('waits for a topic that appears within maxBlockMs', async () => {
    const p = producer({ maxBlockMs: 5000 });
    await p.connect();
    const sent = p.send({ topic: 'late', value: 'x' });
    setTimeout(() => cluster.createTopic('late', 1), 100);
    expect((await sent).offset).toBe(0);
  });

  it('close() waits for buffered records, then refuses new ones', async () => {
    cluster.createTopic('close', 1);
    const p = producer({ lingerMs: 60_000 });
    const sent = p.send({ topic: 'close', value: 'last' });
    await p.close();
    expect((await sent).offset).toBe(0);
    expect((await rejection(p.send({ topic: 'close', value: 'late' }))).code).toBe('CLOSED');
  });
});

describe('producer: back-pressure', () => {
  it('makes send() wait while bufferMemory is full, keeping send order', async () => {
    cluster.createTopic('bp', 1);
    // Room for 4 records of 100 bytes; each record its own batch.
    const p = producer({ bufferMemory: 136 * 4 + 61, batchSize: 1, lingerMs: 0 });
    await p.connect();
    cluster.broker(0).produceFaults.push({ kind: 'delay', ms: 300 });
    const started = Date.now();
    const sent = sendAll(p, 'bp', 12, { size: 100 });
    const settledAt: number[] = [];
    sent.forEach((s, i) => void s.then(() => (settledAt[i] = Date.now() - started)));
    const metas = await Promise.all(sent);
    expect(metas.map((m) => m.offset)).toEqual([...Array(12).keys()]);
    expect(values('bp')).toEqual(metas.map((_, i) => `v${i}`.padEnd(100, '.')));
    // Records past the first four could not even be appended before the delayed reply freed memory.
    expect(Math.min(...settledAt.slice(4))).toBeGreaterThanOrEqual(290);
  });

  it('fails a send with BUFFER_EXHAUSTED after maxBlockMs', async () => {
    cluster.createTopic('bx', 1);
    const p = producer({ bufferMemory: 136 * 2 + 61, batchSize: 1, lingerMs: 0, maxBlockMs: 100 });
    await p.connect();
    cluster.broker(0).produceFaults.push({ kind: 'delay', ms: 600 });
    const sent = sendAll(p, 'bx', 4, { size: 100 });
    const blocked = await rejection(sent[2]!);
    expect(blocked.code).toBe('BUFFER_EXHAUSTED');
    const e = await rejection(sent[3]!);
    expect(e.code).toBe('BUFFER_EXHAUSTED');
    expect(e.message).toContain('bufferMemory');
    expect((await sent[0]!).offset).toBe(0);
    expect((await sent[1]!).offset).toBe(1);
  });
});

describe('producer: failures and retries', () => {
  it('re-routes to the leader named by NOT_LEADER without a metadata round trip or backoff', async () => {
    cluster.createTopic('moved', 1, { leaders: [0] });
    const p = producer({ retryBackoffMs: 5000 });
    await p.send({ topic: 'moved', value: 'before' });
    const metadataCalls = cluster.metadataRequests;
    cluster.moveLeader('moved', 0, 1, { publish: false });
    const started = Date.now();
    const metas = await Promise.all(sendAll(p, 'moved', 5));
    expect(Date.now() - started).toBeLessThan(2000);
    expect(metas.map((m) => m.offset)).toEqual([1, 2, 3, 4, 5]);
    expect(cluster.metadataRequests).toBe(metadataCalls);
    const outcomes = cluster.produceLog.filter((e) => e.topic === 'moved').map((e) => `${e.brokerId}:${e.outcome}`);
    expect(outcomes).toEqual(['0:appended', '0:NOT_LEADER', '1:appended']);
  });

  it('refreshes metadata when NOT_LEADER names no leader', async () => {
    cluster.createTopic('lost', 1, { leaders: [0] });
    const p = producer();
    await p.send({ topic: 'lost', value: 'before' });
    const metadataCalls = cluster.metadataRequests;
    cluster.broker(0).omitLeaderHint = true;
    cluster.moveLeader('lost', 0, 1, { publish: false });
    setTimeout(() => cluster.publish('lost', 0), 150);
    expect((await p.send({ topic: 'lost', value: 'after' })).offset).toBe(1);
    expect(cluster.metadataRequests).toBeGreaterThan(metadataCalls);
    expect(values('lost')).toEqual(['before', 'after']);
  });

  it('retries a batch whose reply was lost, and the leader recognises the duplicate', async () => {
    cluster.createTopic('dup', 1);
    const p = producer({ lingerMs: 10 });
    await p.connect();
    cluster.broker(0).produceFaults.push({ kind: 'break-after-append' });
    const metas = await Promise.all(sendAll(p, 'dup', 3));
    expect(metas.map((m) => m.offset)).toEqual([0, 1, 2]);
    expect(values('dup')).toEqual(['v0', 'v1', 'v2']);
    const attempts = cluster.produceLog.filter((e) => e.topic === 'dup');
    expect(attempts.map((e) => e.outcome)).toEqual(['appended', 'duplicate']);
    expect(attempts[0]!.baseSequence).toBe(attempts[1]!.baseSequence);
    expect(attempts[0]!.producerId).toBeGreaterThanOrEqual(0);
  });

  it('assigns sequences in send order and, after a failure with batches in flight, resends them in that order', async () => {
    cluster.createTopic('order', 1);
    const p = producer({ batchSize: 1, lingerMs: 0, maxInFlight: 5 });
    await p.connect();
    // The first batch is refused; the ones already in flight behind it then hit a sequence gap.
    cluster.broker(0).produceFaults.push({ kind: 'error', code: 'NOT_ENOUGH_REPLICAS' });
    const metas = await Promise.all(sendAll(p, 'order', 20));
    expect(metas.map((m) => m.offset)).toEqual([...Array(20).keys()]);
    expect(values('order')).toEqual(metas.map((_, i) => `v${i}`));
    const log = cluster.produceLog.filter((e) => e.topic === 'order');
    expect(log[0]!.outcome).toBe('NOT_ENOUGH_REPLICAS');
    expect(log.some((e) => e.outcome === 'OUT_OF_ORDER_SEQUENCE')).toBe(true);
    expect(appendedOf('order').map((e) => e.baseSequence)).toEqual([...Array(20).keys()]);
  });

  it('keeps order and writes each record once when the stream breaks with batches in flight', async () => {
    cluster.createTopic('broken', 1);
    const p = producer({ batchSize: 1, lingerMs: 0 });
    await p.connect();
    let n = 0;
    cluster.broker(0).produceFaults.push({ kind: 'break-after-append', match: () => ++n === 3 });
    const metas = await Promise.all(sendAll(p, 'broken', 15));
    expect(metas.map((m) => m.offset)).toEqual([...Array(15).keys()]);
    expect(values('broken')).toEqual(metas.map((_, i) => `v${i}`));
  });

  it('keeps order without idempotence when maxInFlight is 1', async () => {
    cluster.createTopic('plain', 1);
    const p = producer({ acks: 1, maxInFlight: 1, batchSize: 1, lingerMs: 0 });
    await p.connect();
    cluster.broker(0).produceFaults.push({ kind: 'error', code: 'STORAGE_ERROR', match: (r) => r.records.length > 0 && cluster.produceLog.length === 2 });
    const metas = await Promise.all(sendAll(p, 'plain', 8));
    expect(values('plain')).toEqual(metas.map((_, i) => `v${i}`));
    expect(cluster.produceLog.some((e) => e.outcome === 'STORAGE_ERROR')).toBe(true);
    expect(cluster.produceLog.every((e) => e.producerId === -1)).toBe(true);
  });

  it('fails a batch the leader refuses for good, with what to change, and later records still go through', async () => {
    await cluster.stop();
    cluster = await FakeCluster.start({ brokers: 1, maxMessageBytes: 500 });
    cluster.createTopic('big', 1);
    const p = producer({ batchSize: 1, lingerMs: 0 });
    await p.connect();
    const [a, b, c] = [p.send({ topic: 'big', value: 'a' }), p.send({ topic: 'big', value: 'b'.repeat(600) }), p.send({ topic: 'big', value: 'c' })];
    expect((await a).offset).toBe(0);
    const e = await rejection(b);
    expect(e.code).toBe('MESSAGE_TOO_LARGE');
    expect(e.message).toContain('batchSize');
    expect(e.details).toMatchObject({ topic: 'big', partition: 0 });
    // c was sent with the sequence after b's; it is renumbered and written next.
    expect((await c).offset).toBe(1);
    expect((await p.send({ topic: 'big', value: 'd' })).offset).toBe(2);
    expect(values('big')).toEqual(['a', 'c', 'd']);
  });

  it('takes a new producer id when the leader no longer knows it', async () => {
    cluster.createTopic('pid', 1);
    const p = producer();
    await p.send({ topic: 'pid', value: 'one' });
    cluster.broker(0).produceFaults.push({ kind: 'error', code: 'UNKNOWN_PRODUCER_ID' });
    expect((await p.send({ topic: 'pid', value: 'two' })).offset).toBe(1);
    const ids = new Set(appendedOf('pid').map((e) => e.producerId));
    expect(ids.size).toBe(2);
    expect(appendedOf('pid').map((e) => e.baseSequence)).toEqual([0, 0]);
  });

  it('gives up after deliveryTimeoutMs, reporting the error that kept the records out', async () => {
    cluster.createTopic('dead', 1);
    const p = producer({ deliveryTimeoutMs: 700, requestTimeoutMs: 500, lingerMs: 0 });
    await p.connect();
    for (let i = 0; i < 1000; i++) cluster.broker(0).produceFaults.push({ kind: 'error', code: 'NOT_ENOUGH_REPLICAS' });
    const started = Date.now();
    const e = await rejection(p.send({ topic: 'dead', value: 'x' }));
    expect(Date.now() - started).toBeGreaterThanOrEqual(650);
    expect(e.code).toBe('NOT_ENOUGH_REPLICAS');
    expect(e.message).toContain('not acknowledged within deliveryTimeoutMs (700 ms)');
    expect(e.message).toContain('NOT_ENOUGH_REPLICAS');
  });

  it('gives up on a partition that never has a leader with LEADER_NOT_AVAILABLE', async () => {
    cluster.createTopic('leaderless', 1);
    cluster.partition('leaderless', 0).publishedLeaderId = -1;
    const p = producer({ deliveryTimeoutMs: 600, requestTimeoutMs: 500, lingerMs: 0 });
    const e = await rejection(p.send({ topic: 'leaderless', value: 'x' }));
    expect(e.code).toBe('LEADER_NOT_AVAILABLE');
    expect(e.message).toContain('never sent');
    expect(cluster.produceLog).toHaveLength(0);
  });

  it('stops after `retries` attempts when retries is finite', async () => {
    cluster.createTopic('few', 1);
    const p = producer({ retries: 2, lingerMs: 0 });
    await p.connect();
    for (let i = 0; i < 5; i++) cluster.broker(0).produceFaults.push({ kind: 'error', code: 'STORAGE_ERROR' });
    const e = await rejection(p.send({ topic: 'few', value: 'x' }));
    expect(e.code).toBe('STORAGE_ERROR');
    expect(e.message).toContain('after 3 attempt(s)');
    expect(cluster.produceLog.filter((x) => x.topic === 'few')).toHaveLength(3);
  });

  it('reports a bootstrap list with nothing listening', async () => {
    const p = new Producer({ bootstrapServers: ['127.0.0.1:1'], logger: silentLogger(), requestTimeoutMs: 300, deliveryTimeoutMs: 1000, retryBackoffMs: 50 });
    producers.push(p);
    const e = await rejection(p.connect());
    expect(e.code).toBe('BROKER_NOT_AVAILABLE');
    expect(e.message).toContain('127.0.0.1:1');
    expect((await rejection(p.send({ topic: 't', value: 'x' }))).code).toBe('BROKER_NOT_AVAILABLE');
  });
});
