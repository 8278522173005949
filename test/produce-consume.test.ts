// The path a new user takes first: one broker, the client library, records in and out. Checks
// what an application relies on — every acknowledged record comes back, in send order per
// partition, on the partition Kafka's partitioner would pick, at dense offsets — plus gzip,
// replay by timestamp, and the Subscribe push stream.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Admin, Consumer, Producer } from '../client/index.ts';
import type { ConsumerRecord, TopicPartition } from '../client/records.ts';
import { kafkaPartitionForKey } from '../client/partitioner.ts';
import type { DecodedRecord } from '../common/record-batch.ts';
import { silentLogger } from '../common/logger.ts';
import { useTestCluster } from './support/cluster.ts';
import { RawBroker, splitBatches } from './support/raw-grpc.ts';

// Tests print nothing on success; the client library's own warnings would.
const quiet = silentLogger();

const getCluster = useTestCluster({ brokers: 1 });
let admin: Admin;
let raw: RawBroker;

const KEYED = 'pc-keyed';
const KEYED_PARTITIONS = 6;
const KEYED_RECORDS = 1_000;
const GZIP = 'pc-gzip';
const TIMED = 'pc-timed';
const PUSHED = 'pc-pushed';

function partitionsOf(topic: string, count: number): TopicPartition[] {
  return Array.from({ length: count }, (_, partition) => ({ topic, partition }));
}

/** Polls until `count` records arrived or the deadline passed; returns what arrived. */
async function pollRecords(consumer: Consumer, count: number, timeoutMs: number): Promise<ConsumerRecord[]> {
  const out: ConsumerRecord[] = [];
  const deadline = Date.now() + timeoutMs;
  while (out.length < count && Date.now() < deadline) {
    out.push(...(await consumer.poll(Math.min(500, Math.max(1, deadline - Date.now())))));
  }
  return out;
}

async function withConsumer<T>(fn: (consumer: Consumer) => Promise<T>): Promise<T> {
  const consumer = new Consumer({ bootstrapServers: getCluster().bootstrapServers, autoOffsetReset: 'earliest', logger: quiet });
  try {
    return await fn(consumer);
  } finally {
    await consumer.close();
  }
}

async function withProducer<T>(options: { compression?: 'gzip' }, fn: (producer: Producer) => Promise<T>): Promise<T> {
  const producer = new Producer({ bootstrapServers: getCluster().bootstrapServers, acks: 'all', idempotence: true, lingerMs: 5, logger: quiet, ...options });
  await producer.connect();
  try {
    return await fn(producer);
  } finally {
    await producer.close();
  }
}

beforeAll(async () => {
  const cluster = getCluster();
  admin = new Admin({ bootstrapServers: cluster.bootstrapServers, logger: quiet });
  raw = new RawBroker(cluster.brokerAddress());
  await admin.createTopic({ name: KEYED, partitions: KEYED_PARTITIONS, replicationFactor: 1 });
  await admin.createTopic({ name: GZIP, partitions: 1, replicationFactor: 1 });
  await admin.createTopic({ name: TIMED, partitions: 1, replicationFactor: 1 });
  await admin.createTopic({ name: PUSHED, partitions: 1, replicationFactor: 1 });
  await raw.waitForLeaders(KEYED, KEYED_PARTITIONS);
  await raw.waitForLeaders(GZIP, 1);
  await raw.waitForLeaders(TIMED, 1);
  await raw.waitForLeaders(PUSHED, 1);
}, 40_000);

afterAll(async () => {
  raw?.close();
  await admin?.close();
}, 10_000);

describe('producing and consuming through the client library', () => {
  it('returns all 1,000 keyed records in send order per partition, on Kafka\'s partition for each key, at dense offsets', async () => {
    const sent = Array.from({ length: KEYED_RECORDS }, (_, i) => ({ key: `user-${i % 97}`, value: `value-${i}` }));
    // All sends are in flight at once, as an application pipelining its writes would have them.
    const acks = await withProducer({}, (producer) => Promise.all(sent.map((r) => producer.send({ topic: KEYED, key: r.key, value: r.value }))));

    const wrongPartition = sent
      .map((r, i) => ({ key: r.key, got: acks[i]!.partition, want: kafkaPartitionForKey(Buffer.from(r.key), KEYED_PARTITIONS) }))
      .filter((x) => x.got !== x.want);
    expect(wrongPartition, 'records not on the partition Kafka\'s murmur2 partitioner picks for their key').toEqual([]);

    const consumed = await withConsumer(async (consumer) => {
      const tps = partitionsOf(KEYED, KEYED_PARTITIONS);
      consumer.assign(tps);
      await consumer.seekToBeginning(tps);
      return pollRecords(consumer, KEYED_RECORDS, 20_000);
    });
    expect(consumed.length, 'records consumed from the beginning').toBe(KEYED_RECORDS);

    for (let p = 0; p < KEYED_PARTITIONS; p++) {
      const got = consumed.filter((r) => r.partition === p);
      const expected = sent.filter((_, i) => acks[i]!.partition === p);
      expect(got.map((r) => r.offset), `offsets of partition ${p}`).toEqual(expected.map((_, i) => i));
      expect(got.map((r) => `${r.key?.toString()}=${r.value?.toString()}`), `records of partition ${p}, in send order`)
        .toEqual(expected.map((r) => `${r.key}=${r.value}`));
    }
    const ackedAt = new Map(acks.map((a, i) => [`${a.partition}@${a.offset}`, sent[i]!.value]));
    expect(consumed.filter((r) => ackedAt.get(`${r.partition}@${r.offset}`) !== r.value?.toString()), 'records not at their acknowledged offset').toEqual([]);
  }, 60_000);

  it('round-trips gzip-compressed batches, headers included, and stores them compressed', async () => {
    const sent = Array.from({ length: 200 }, (_, i) => ({
      key: `gz-${i}`,
      // Repetitive on purpose: gzip must make the stored batches much smaller than the values.
      value: `gzip payload ${i} `.repeat(40),
      headers: [{ key: 'trace', value: Buffer.from(`t-${i}`) }],
    }));
    await withProducer({ compression: 'gzip' }, (producer) => Promise.all(sent.map((r) => producer.send({ topic: GZIP, ...r }))));

    const consumed = await withConsumer(async (consumer) => {
      const tps = partitionsOf(GZIP, 1);
      consumer.assign(tps);
      await consumer.seekToBeginning(tps);
      return pollRecords(consumer, sent.length, 15_000);
    });
    expect(consumed.map((r) => ({ offset: r.offset, key: r.key?.toString(), value: r.value?.toString(), headers: r.headers.map((h) => `${h.key}=${h.value?.toString()}`) })))
      .toEqual(sent.map((r, offset) => ({ offset, key: r.key, value: r.value, headers: [`trace=t-${offset}`] })));

    const stored = await raw.readAll(GZIP, 0);
    expect(new Set(stored.batches.map((b) => b.header.compression)), 'compression of the stored batches').toEqual(new Set(['gzip']));
    const storedBytes = stored.batches.reduce((n, b) => n + b.bytes.length, 0);
    const valueBytes = sent.reduce((n, r) => n + Buffer.byteLength(r.value), 0);
    expect(storedBytes).toBeLessThan(valueBytes / 4);
  }, 40_000);

  it('seekToTimestamp starts at the first record at or after the timestamp', async () => {
    const base = Math.floor(Date.now() / 1000) * 1000 - 60_000;
    // Sent together so they share a batch: the lookup must find a record inside a batch.
    await withProducer({}, (producer) =>
      Promise.all(Array.from({ length: 10 }, (_, i) => producer.send({ topic: TIMED, partition: 0, value: `at-${i}`, timestamp: base + i * 1000 }))));

    const firstAfter = async (timestamp: number): Promise<{ offset: number; timestamp: number; value: string | undefined } | null> =>
      withConsumer(async (consumer) => {
        const tps = partitionsOf(TIMED, 1);
        consumer.assign(tps);
        await consumer.seekToTimestamp(tps, timestamp);
        const [first] = await pollRecords(consumer, 1, 1_500);
        return first ? { offset: first.offset, timestamp: first.timestamp, value: first.value?.toString() } : null;
      });

    expect(await firstAfter(base + 4_500), 'between two records').toEqual({ offset: 5, timestamp: base + 5_000, value: 'at-5' });
    expect(await firstAfter(base + 3_000), 'exactly a record\'s timestamp').toEqual({ offset: 3, timestamp: base + 3_000, value: 'at-3' });
    expect(await firstAfter(base - 3_600_000), 'before every record').toEqual({ offset: 0, timestamp: base, value: 'at-0' });
    expect(await firstAfter(base + 3_600_000), 'after every record: nothing to read').toBeNull();
  }, 40_000);
});

describe('the Subscribe stream', () => {
  it('pushes records produced after it started, as they are committed', async () => {
    const start = (await raw.offsets(PUSHED, 0)).latest;
    const received: DecodedRecord[] = [];
    const stream = raw.log.Subscribe({ topic: PUSHED, partition: 0, offset: start, max_bytes: 0 });
    let streamError: Error | undefined;
    stream.on('data', (msg: { records: Buffer }) => {
      for (const b of splitBatches(msg.records)) received.push(...b.records);
    });
    stream.on('error', (err: Error) => {
      streamError = err;
    });
    const waitForCount = async (n: number, what: string): Promise<void> => {
      const deadline = Date.now() + 10_000;
      while (received.length < n && !streamError && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
      if (streamError) throw new Error(`the Subscribe stream failed while waiting for ${what}: ${streamError.message}`);
      expect(received.length, `records pushed after ${what}`).toBe(n);
    };
    try {
      await withProducer({}, async (producer) => {
        await Promise.all([0, 1, 2].map((i) => producer.send({ topic: PUSHED, partition: 0, value: `first-${i}` })));
        await waitForCount(3, 'the first wave');
        // A quiet moment, then more: the stream must still be live and push again.
        await new Promise((r) => setTimeout(r, 300));
        await Promise.all([0, 1].map((i) => producer.send({ topic: PUSHED, partition: 0, value: `second-${i}` })));
        await waitForCount(5, 'the second wave');
      });
    } finally {
      stream.cancel();
    }
    expect(received.map((r) => [r.offset, r.value?.toString()])).toEqual([
      [start, 'first-0'], [start + 1, 'first-1'], [start + 2, 'first-2'], [start + 3, 'second-0'], [start + 4, 'second-1'],
    ]);
  }, 30_000);
});
