// A broker process killed with SIGKILL (a crash: no flush, no goodbye) and then stopped cleanly
// with SIGTERM must come back with every acknowledged record at the same offset with the same
// bytes, and with its idempotent-producer state rebuilt: a retried batch is recognised, never
// written twice.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { encodeRecordBatch } from '../common/record-batch.ts';
import { Producer } from '../client/index.ts';
import type { ChildExit } from '../client/cli/embedded-cluster.ts';
import { silentLogger } from '../common/logger.ts';
import { useTestCluster } from './support/cluster.ts';
import { RawBroker, type PartitionContent } from './support/raw-grpc.ts';

// Tests print nothing on success; the client library's own warnings would.
const quiet = silentLogger();

const TOPIC = 'restart-durable';
const PARTITIONS = 3;
const RECORDS = 300;

const getCluster = useTestCluster({ brokers: 1 });
let raw: RawBroker;

/** The idempotent batch a producer would retry: same producer id, epoch and base sequence. */
let retriedBatch: Buffer;
let retriedBatchOffset: number;
let producerId: number;
let producerEpoch: number;
let nextSequence: number;

async function readEverything(): Promise<PartitionContent[]> {
  const out: PartitionContent[] = [];
  for (let p = 0; p < PARTITIONS; p++) out.push(await raw.readAll(TOPIC, p));
  return out;
}

/** What a comparison failure should show: per partition, the batches as offset ranges and bytes. */
function shape(content: PartitionContent[]): { partition: number; highWatermark: number; batches: { offsets: string; hex: string }[] }[] {
  return content.map((c, partition) => ({
    partition,
    highWatermark: c.highWatermark,
    batches: c.batches.map((b) => ({ offsets: `${b.header.baseOffset}..${b.header.lastOffset}`, hex: b.bytes.toString('hex') })),
  }));
}

async function expectRetryIsDuplicate(): Promise<void> {
  const res = await raw.produceOk(TOPIC, 0, retriedBatch);
  expect({ baseOffset: Number(res.base_offset), duplicate: res.duplicate }).toEqual({ baseOffset: retriedBatchOffset, duplicate: true });
}

async function restartedAndServing(start: () => Promise<unknown>): Promise<void> {
  await start();
  await raw.waitForLeaders(TOPIC, PARTITIONS);
}

beforeAll(async () => {
  const cluster = getCluster();
  raw = new RawBroker(cluster.brokerAddress());
  await raw.createTopic({ name: TOPIC, partitions: PARTITIONS, replication_factor: 1 });
  await raw.waitForLeaders(TOPIC, PARTITIONS);
}, 30_000);

afterAll(() => {
  raw?.close();
}, 5_000);

describe('a broker restarted after SIGKILL', () => {
  let beforeCrash: PartitionContent[];

  it('has acknowledged every record of an idempotent acks=all producer', async () => {
    const producer = new Producer({ bootstrapServers: getCluster().bootstrapServers, acks: 'all', idempotence: true, lingerMs: 2, logger: quiet });
    await producer.connect();
    let acked: { topic: string; partition: number; offset: number }[];
    try {
      acked = await Promise.all(
        Array.from({ length: RECORDS }, (_, i) => producer.send({ topic: TOPIC, key: `key-${i % 17}`, value: `value-${i}` })),
      );
    } finally {
      await producer.close();
    }
    beforeCrash = await readEverything();
    const stored = new Map<string, string | undefined>(beforeCrash.flatMap((c, p) => c.records.map((r) => [`${p}@${r.offset}`, r.value?.toString()] as const)));
    const missing = acked
      .map((a, i) => ({ at: `${a.partition}@${a.offset}`, value: `value-${i}` }))
      .filter((a) => stored.get(a.at) !== a.value);
    expect(missing, 'acknowledged records that the broker does not hold at their acknowledged offset').toEqual([]);
    expect(stored.size).toBe(RECORDS);
  }, 30_000);

  it('answers a retried idempotent batch with its original offset before the crash', async () => {
    const ids = await raw.initProducerId();
    producerId = Number(ids.producer_id);
    producerEpoch = ids.producer_epoch;
    retriedBatch = encodeRecordBatch(
      ['idem-0', 'idem-1', 'idem-2'].map((v) => ({ key: Buffer.from('idem'), value: Buffer.from(v) })),
      { producerId, producerEpoch, baseSequence: 0 },
    );
    nextSequence = 3;
    const first = await raw.produceOk(TOPIC, 0, retriedBatch);
    retriedBatchOffset = Number(first.base_offset);
    expect({ baseOffset: retriedBatchOffset, duplicate: first.duplicate }).toEqual({ baseOffset: beforeCrash[0]!.highWatermark, duplicate: false });
    await expectRetryIsDuplicate();
    beforeCrash = await readEverything();
    expect(beforeCrash[0]!.highWatermark, 'the retry was written a second time').toBe(retriedBatchOffset + 3);
  }, 20_000);

  it('comes back with the same records at the same offsets, byte for byte', async () => {
    const cluster = getCluster();
    await cluster.cluster.killBroker(0, 'SIGKILL');
    await restartedAndServing(() => cluster.cluster.startBroker(0));
    const after = await readEverything();
    expect(shape(after)).toEqual(shape(beforeCrash));
  }, 30_000);

  it('still recognises the retried batch: original offset, duplicate, nothing written twice', async () => {
    await expectRetryIsDuplicate();
    const after = await readEverything();
    expect(after[0]!.highWatermark).toBe(beforeCrash[0]!.highWatermark);
    const idem = after[0]!.records.filter((r) => r.key?.toString() === 'idem').map((r) => [r.offset, r.value?.toString()]);
    expect(idem).toEqual([[retriedBatchOffset, 'idem-0'], [retriedBatchOffset + 1, 'idem-1'], [retriedBatchOffset + 2, 'idem-2']]);
  }, 20_000);

  it('continues the producer sequence and the offsets where they were', async () => {
    const next = encodeRecordBatch([{ key: Buffer.from('idem'), value: Buffer.from('idem-3') }], { producerId, producerEpoch, baseSequence: nextSequence });
    nextSequence += 1;
    const res = await raw.produceOk(TOPIC, 0, next);
    expect({ baseOffset: Number(res.base_offset), duplicate: res.duplicate }).toEqual({ baseOffset: beforeCrash[0]!.highWatermark, duplicate: false });

    // A fresh client-library producer lands right after the existing records too.
    const producer = new Producer({ bootstrapServers: getCluster().bootstrapServers, acks: 'all', idempotence: true, logger: quiet });
    await producer.connect();
    try {
      const ack = await producer.send({ topic: TOPIC, partition: 1, value: 'after-crash' });
      expect({ partition: ack.partition, offset: ack.offset }).toEqual({ partition: 1, offset: beforeCrash[1]!.highWatermark });
    } finally {
      await producer.close();
    }
    beforeCrash = await readEverything();
  }, 30_000);
});

describe('a broker stopped cleanly with SIGTERM', () => {
  it('exits on its own promptly and serves again quickly with the same records', async () => {
    const cluster = getCluster();
    const before = await readEverything();
    const exits: ChildExit[] = [];
    const onExit = (e: ChildExit): void => {
      exits.push(e);
    };
    cluster.cluster.on('exit', onExit);
    let stopMs: number;
    let startMs: number;
    try {
      const t0 = Date.now();
      await cluster.cluster.stopBroker(0);
      stopMs = Date.now() - t0;
      const t1 = Date.now();
      await restartedAndServing(() => cluster.cluster.startBroker(0));
      startMs = Date.now() - t1;
    } finally {
      cluster.cluster.off('exit', onExit);
    }
    // Exit code 0 by itself, not the SIGKILL EmbeddedCluster sends after its stop timeout.
    expect(exits.map((e) => ({ name: e.name, code: e.code, signal: e.signal }))).toEqual([{ name: 'broker-0', code: 0, signal: null }]);
    expect(stopMs, 'SIGTERM to exit, in ms').toBeLessThan(8_000);
    expect(startMs, 'start to serving every partition again, in ms').toBeLessThan(8_000);

    const after = await readEverything();
    expect(shape(after)).toEqual(shape(before));
  }, 40_000);

  it('still recognises the retried batch and continues at the next offset', async () => {
    const before = await readEverything();
    await expectRetryIsDuplicate();
    const next = encodeRecordBatch([{ key: Buffer.from('idem'), value: Buffer.from('idem-4') }], { producerId, producerEpoch, baseSequence: nextSequence });
    const res = await raw.produceOk(TOPIC, 0, next);
    expect({ baseOffset: Number(res.base_offset), duplicate: res.duplicate }).toEqual({ baseOffset: before[0]!.highWatermark, duplicate: false });
    const after = await readEverything();
    expect(after[0]!.records.filter((r) => r.key?.toString() === 'idem').map((r) => r.value?.toString()))
      .toEqual(['idem-0', 'idem-1', 'idem-2', 'idem-3', 'idem-4']);
  }, 20_000);
});
