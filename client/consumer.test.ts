import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { SluiceError } from '../common/errors.ts';
import { silentLogger } from '../common/logger.ts';
import { encodeRecordBatch } from '../common/record-batch.ts';
import { Admin } from './admin.ts';
import { Consumer } from './consumer.ts';
import type { ConsumerOptions } from './client-options.ts';
import { Producer } from './producer.ts';
import type { ConsumerRecord } from './records.ts';
import { FakeCluster } from './test-support/fake-broker.ts';

let cluster: FakeCluster;
let closers: (() => Promise<void>)[] = [];

beforeEach(async () => {
  cluster = await FakeCluster.start({ brokers: 2 });
});

afterEach(async () => {
  await Promise.all(closers.map((c) => c()));
  closers = [];
  await cluster.stop();
});

function consumer(options: Partial<ConsumerOptions<string | null, string | null>> = {}): Consumer<string | null, string | null> {
  const c = new Consumer<string | null, string | null>({
    bootstrapServers: cluster.bootstrapServers,
    logger: silentLogger(),
    retryBackoffMs: 20,
    maxWaitMs: 200,
    keyDeserializer: 'string',
    valueDeserializer: 'string',
    ...options,
  });
  closers.push(() => c.close());
  return c;
}

let producerInstance: Producer | null = null;
async function produce(topic: string, items: (string | { value: string; partition?: number; timestamp?: number; key?: string })[]): Promise<void> {
  if (!producerInstance) {
    const p = new Producer({ bootstrapServers: cluster.bootstrapServers, logger: silentLogger(), retryBackoffMs: 20, lingerMs: 1 });
    producerInstance = p;
    closers.push(async () => {
      producerInstance = null;
      await p.close();
    });
  }
  const p = producerInstance;
  await Promise.all(items.map((item) => p.send(typeof item === 'string' ? { topic, value: item } : { topic, ...item })));
}

async function pollUntil(c: Consumer<string | null, string | null>, count: number, timeoutMs = 5000): Promise<ConsumerRecord<string | null, string | null>[]> {
  const out: ConsumerRecord<string | null, string | null>[] = [];
  const deadline = Date.now() + timeoutMs;
  while (out.length < count && Date.now() < deadline) out.push(...(await c.poll(100)));
  return out;
}

function tenValues(prefix = 'v'): string[] {
  return Array.from({ length: 10 }, (_, i) => `${prefix}${i}`);
}

describe('consumer', () => {
  it('reads an assigned partition from the beginning, in order, deserialized', async () => {
    cluster.createTopic('t', 1);
    await produce('t', [{ key: 'k', value: 'hello' }, ...tenValues()]);
    const c = consumer({ autoOffsetReset: 'earliest' });
    c.assign([{ topic: 't', partition: 0 }]);
    const records = await pollUntil(c, 11);
    expect(records.map((r) => r.offset)).toEqual([...Array(11).keys()]);
    expect(records[0]).toMatchObject({ topic: 't', partition: 0, key: 'k', value: 'hello', headers: [] });
    expect(records.slice(1).map((r) => r.value)).toEqual(tenValues());
    expect(await c.position({ topic: 't', partition: 0 })).toBe(11);
  });

  it('subscribes to every partition of a topic, each in offset order, at most maxPollRecords per poll', async () => {
    cluster.createTopic('multi', 3);
    const items = Array.from({ length: 90 }, (_, i) => ({ value: `p${i % 3}-${Math.floor(i / 3)}`, partition: i % 3 }));
    await produce('multi', items);
    const c = consumer({ autoOffsetReset: 'earliest', maxPollRecords: 7 });
    c.subscribe(['multi']);
    const seen: ConsumerRecord<string | null, string | null>[] = [];
    const deadline = Date.now() + 5000;
    while (seen.length < 90 && Date.now() < deadline) {
      const batch = await c.poll(100);
      expect(batch.length).toBeLessThanOrEqual(7);
      seen.push(...batch);
    }
    expect(c.assignment().map((tp) => tp.partition).sort()).toEqual([0, 1, 2]);
    for (const partition of [0, 1, 2]) {
      const mine = seen.filter((r) => r.partition === partition);
      expect(mine.map((r) => r.offset)).toEqual([...Array(30).keys()]);
      expect(mine.map((r) => r.value)).toEqual(Array.from({ length: 30 }, (_, i) => `p${partition}-${i}`));
    }
  });

  it('seeks into the middle of a batch and skips the records before the position', async () => {
    cluster.createTopic('mid', 1);
    await produce('mid', tenValues());
    expect(cluster.partition('mid', 0).batches).toHaveLength(1);
    const c = consumer();
    c.assign([{ topic: 'mid', partition: 0 }]);
    c.seek({ topic: 'mid', partition: 0 }, 6);
    const records = await pollUntil(c, 4);
    expect(records.map((r) => r.offset)).toEqual([6, 7, 8, 9]);
  });

  it('seekToEnd skips what is there; seekToBeginning replays it', async () => {
    cluster.createTopic('replay', 1);
    await produce('replay', ['old']);
    const c = consumer({ autoOffsetReset: 'earliest' });
    const tp = { topic: 'replay', partition: 0 };
    c.assign([tp]);
    await c.seekToEnd();
    expect(await c.position(tp)).toBe(1);
    await produce('replay', ['new']);
    expect((await pollUntil(c, 1)).map((r) => r.value)).toEqual(['new']);
    await c.seekToBeginning([tp]);
    expect((await pollUntil(c, 2)).map((r) => r.value)).toEqual(['old', 'new']);
  });

  it('seekToTimestamp starts at the first record at or after the time', async () => {
    cluster.createTopic('time', 1);
    await produce('time', [
      { value: 'a', timestamp: 1000 },
      { value: 'b', timestamp: 2000 },
      { value: 'c', timestamp: 3000 },
    ]);
    const c = consumer();
    const tp = { topic: 'time', partition: 0 };
    c.assign([tp]);
    await c.seekToTimestamp([tp], 1500);
    const records = await pollUntil(c, 2);
    expect(records.map((r) => [r.value, r.timestamp])).toEqual([
      ['b', 2000],
      ['c', 3000],
    ]);
  });

  it('by default (latest) reads only records written after it started', async () => {
    cluster.createTopic('latest', 1);
    await produce('latest', ['before']);
    const c = consumer();
    c.assign([{ topic: 'latest', partition: 0 }]);
    expect(await c.position({ topic: 'latest', partition: 0 })).toBe(1);
    await produce('latest', ['after']);
    expect((await pollUntil(c, 1)).map((r) => r.value)).toEqual(['after']);
  });

  it('resets by autoOffsetReset when its offset fell out of the log', async () => {
    cluster.createTopic('gone', 1);
    await produce('gone', tenValues());
    const c = consumer({ autoOffsetReset: 'earliest' });
    const tp = { topic: 'gone', partition: 0 };
    c.assign([tp]);
    c.seek(tp, 0);
    cluster.deleteRecordsBefore('gone', 0, 4);
    const records = await pollUntil(c, 6);
    expect(records.map((r) => r.offset)).toEqual([4, 5, 6, 7, 8, 9]);
  });

  it("with autoOffsetReset 'none' reports an out-of-range offset with the valid range, until seek()", async () => {
    cluster.createTopic('none', 1);
    await produce('none', tenValues());
    cluster.deleteRecordsBefore('none', 0, 4);
    const c = consumer({ autoOffsetReset: 'none' });
    const tp = { topic: 'none', partition: 0 };
    c.assign([tp]);
    await expect(c.poll(100)).rejects.toThrow(/no position and autoOffsetReset is 'none'; seek\(\)/);
    c.seek(tp, 1);
    let error: SluiceError | undefined;
    for (let i = 0; i < 20 && !error; i++) await c.poll(100).catch((e: SluiceError) => (error = e));
    expect(error?.code).toBe('OFFSET_OUT_OF_RANGE');
    expect(error?.message).toContain('offset 1 of none-0 is out of range (valid offsets: 4 to 10)');
    expect(error?.details).toMatchObject({ logStartOffset: 4, logEndOffset: 10 });
    c.seek(tp, 8);
    expect((await pollUntil(c, 2)).map((r) => r.offset)).toEqual([8, 9]);
  });

  it('never returns records at or above the high watermark, even inside a returned batch', async () => {
    cluster.createTopic('hw', 1);
    await produce('hw', tenValues());
    cluster.partition('hw', 0).heldHighWatermark = 3;
    const c = consumer({ autoOffsetReset: 'earliest' });
    c.assign([{ topic: 'hw', partition: 0 }]);
    const first = await pollUntil(c, 3);
    expect(first.map((r) => r.offset)).toEqual([0, 1, 2]);
    expect(await c.poll(150)).toEqual([]);
    const p = cluster.partition('hw', 0);
    p.heldHighWatermark = null;
    p.notify();
    expect((await pollUntil(c, 7)).map((r) => r.offset)).toEqual([3, 4, 5, 6, 7, 8, 9]);
  });

  it('delivers the records before an undecodable batch, then names it so the application can seek past it', async () => {
    cluster.createTopic('t', 1);
    const p = cluster.partition('t', 0);
    const store = (baseOffset: number, values: string[], damage = false): void => {
      const bytes = encodeRecordBatch(values.map((v) => ({ value: Buffer.from(v), timestamp: 1000 })), { baseOffset, partitionLeaderEpoch: 0 });
      if (damage) bytes[bytes.length - 2]! ^= 0xff; // fails its CRC
      p.batches.push({ baseOffset, lastOffset: baseOffset + values.length - 1, bytes });
      p.logEndOffset = baseOffset + values.length;
    };
    store(0, ['a0', 'a1', 'a2']);
    store(3, ['b0', 'b1', 'b2'], true);
    store(6, ['c0', 'c1', 'c2']);
    const c = consumer({ autoOffsetReset: 'earliest' });
    c.assign([{ topic: 't', partition: 0 }]);
    expect((await pollUntil(c, 3)).map((r) => r.value)).toEqual(['a0', 'a1', 'a2']);
    for (let attempt = 0; attempt < 2; attempt++) {
      // It stays on the bad batch (nothing after it is skipped silently) until the application decides.
      const err = await c.poll(1000).then(
        () => null,
        (e: unknown) => e,
      );
      expect(err).toBeInstanceOf(SluiceError);
      expect(err).toMatchObject({ code: 'CORRUPT_MESSAGE', details: { topic: 't', partition: 0 } });
      expect((err as SluiceError).message).toMatch(/^t-0: the record batch at offset 3 \(offsets 3 to 5\) cannot be decoded: .*CRC.*seek\(\) past it, to offset 6/);
    }
    c.seek({ topic: 't', partition: 0 }, 6);
    expect((await pollUntil(c, 3)).map((r) => [r.offset, r.value])).toEqual([
      [6, 'c0'],
      [7, 'c1'],
      [8, 'c2'],
    ]);
  });

  it('follows a moved leader named by NOT_LEADER', async () => {
    cluster.createTopic('follow', 1, { leaders: [0] });
    await produce('follow', ['a']);
    const c = consumer({ autoOffsetReset: 'earliest' });
    c.assign([{ topic: 'follow', partition: 0 }]);
    expect((await pollUntil(c, 1)).map((r) => r.value)).toEqual(['a']);
    const fetchesBefore = cluster.broker(1).fetchRequests;
    cluster.moveLeader('follow', 0, 1, { publish: false });
    await produce('follow', ['b', 'c']);
    expect((await pollUntil(c, 2)).map((r) => r.value)).toEqual(['b', 'c']);
    expect(cluster.broker(1).fetchRequests).toBeGreaterThan(fetchesBefore);
  });

  it('long-polls: an empty poll lasts its timeout, and a record arriving meanwhile ends it early', async () => {
    cluster.createTopic('wait', 1);
    const c = consumer({ maxWaitMs: 1000 });
    c.assign([{ topic: 'wait', partition: 0 }]);
    await c.position({ topic: 'wait', partition: 0 });
    let started = Date.now();
    expect(await c.poll(150)).toEqual([]);
    expect(Date.now() - started).toBeGreaterThanOrEqual(140);
    setTimeout(() => void produce('wait', ['x']), 100);
    started = Date.now();
    const records = await c.poll(3000);
    expect(records.map((r) => r.value)).toEqual(['x']);
    expect(Date.now() - started).toBeLessThan(1500);
  });

  it('picks up partitions added to a subscribed topic', async () => {
    cluster.createTopic('grow', 1);
    const c = consumer({ autoOffsetReset: 'earliest', metadataMaxAgeMs: 100 });
    c.subscribe(['grow']);
    await c.poll(50);
    expect(c.assignment()).toEqual([{ topic: 'grow', partition: 0 }]);
    const admin = new Admin({ bootstrapServers: cluster.bootstrapServers, logger: silentLogger() });
    closers.push(() => admin.close());
    await admin.alterTopic({ name: 'grow', partitions: 2 });
    await produce('grow', [{ value: 'new-partition', partition: 1 }]);
    const records = await pollUntil(c, 1);
    expect(records.map((r) => [r.partition, r.value])).toEqual([[1, 'new-partition']]);
  });

  it('iterates with for await until closed', async () => {
    cluster.createTopic('iter', 1);
    await produce('iter', tenValues());
    const c = consumer({ autoOffsetReset: 'earliest' });
    c.subscribe(['iter']);
    const seen: string[] = [];
    for await (const record of c) {
      seen.push(record.value!);
      if (seen.length === 10) await c.close();
    }
    expect(seen).toEqual(tenValues());
    await expect(c.poll(10)).rejects.toMatchObject({ code: 'CLOSED' });
  });

  it('refuses to seek a partition it does not own, or to a negative offset', async () => {
    cluster.createTopic('own', 1);
    const c = consumer();
    c.assign([{ topic: 'own', partition: 0 }]);
    expect(() => c.seek({ topic: 'own', partition: 1 }, 0)).toThrow(/own-1 is not assigned/);
    expect(() => c.seek({ topic: 'own', partition: 0 }, -1)).toThrow(/whole number >= 0/);
  });
});
