// Bad input against a real broker process, over raw gRPC: every refusal must carry the precise
// gRPC status, the Sluice code and a message a user can act on — and none of it may damage
// what was written before or stop the broker from serving.
import * as grpc from '@grpc/grpc-js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { encodeRecordBatch } from '../common/record-batch.ts';
import { Admin } from '../client/index.ts';
import { isSluiceError, type ErrorCode } from '../common/errors.ts';
import { silentLogger } from '../common/logger.ts';
import { useTestCluster, waitFor } from './support/cluster.ts';
import {
  RawBroker,
  expectCallFailure,
  expectedSummary,
  refusalSummary,
  type PartitionContent,
  type Refusal,
} from './support/raw-grpc.ts';

// Tests print nothing on success; the client library's own warnings would.
const quiet = silentLogger();

const TEST_TIMEOUT_MS = 20_000;
const GOOD = 'bad-input-good';
const SMALL = 'bad-input-small-batches';
const RETAINED = 'bad-input-retained';
const SMALL_MAX_MESSAGE_BYTES = 1024;

// Retention runs every 200 ms here so that a partition whose log start moved past 0 exists
// within the test's time budget (the default check interval is 5 minutes).
const getCluster = useTestCluster({ brokers: 1, brokerArgs: ['--retention-check-interval-ms', '200'] });

let raw: RawBroker;
let admin: Admin;
let goodBefore: PartitionContent;
let retainedBefore: PartitionContent;

function batch(values: string[], extra: { producerId?: number; producerEpoch?: number; baseSequence?: number } = {}): Buffer {
  return encodeRecordBatch(values.map((v, i) => ({ key: Buffer.from(`k${i}`), value: Buffer.from(v) })), extra);
}

/**
 * A unary Produce or CreateTopic refers to one thing, so its refusal fails the call: gRPC status
 * plus the `sluice-error-bin` trailer (common.proto). A Fetch may instead carry the error in
 * the partition's result.
 */
function expectRefused(r: Refusal, code: ErrorCode, wholeCall = true): void {
  const summary = refusalSummary(r);
  expect(wholeCall ? { ...summary, via: r.via } : summary, `refusal message: ${r.message}`)
    .toEqual(wholeCall ? { ...expectedSummary(r, code), via: 'status' } : expectedSummary(r, code));
}

beforeAll(async () => {
  const cluster = getCluster();
  raw = new RawBroker(cluster.brokerAddress());
  admin = new Admin({ bootstrapServers: cluster.bootstrapServers, logger: quiet });
  await raw.createTopic({ name: GOOD, partitions: 1, replication_factor: 1 });
  await raw.createTopic({ name: SMALL, partitions: 1, replication_factor: 1, config: { 'max.message.bytes': String(SMALL_MAX_MESSAGE_BYTES) } });
  await raw.createTopic({
    name: RETAINED, partitions: 1, replication_factor: 1,
    config: { 'segment.bytes': '1024', 'retention.bytes': '1024', 'retention.ms': '-1' },
  });
  await raw.waitForLeaders(GOOD, 1);
  await raw.waitForLeaders(SMALL, 1);
  await raw.waitForLeaders(RETAINED, 1);
  for (let i = 0; i < 3; i++) await raw.produceOk(GOOD, 0, batch([`good-${i}-a`, `good-${i}-b`]));
  for (let i = 0; i < 12; i++) await raw.produceOk(RETAINED, 0, encodeRecordBatch([{ value: Buffer.alloc(300, i) }]));
  await waitFor('retention to move the log start offset of a partition past 0', async () => {
    const { earliest } = await raw.offsets(RETAINED, 0);
    return earliest > 0 ? earliest : undefined;
  }, 10_000);
  // Retention may take a few passes; compare against a log it has finished with.
  let stable = { earliest: -1, since: Date.now() };
  await waitFor('retention to settle', async () => {
    const { earliest } = await raw.offsets(RETAINED, 0);
    if (earliest !== stable.earliest) stable = { earliest, since: Date.now() };
    return Date.now() - stable.since >= 1_000 ? true : undefined;
  }, 10_000);
  goodBefore = await raw.readAll(GOOD, 0);
  retainedBefore = await raw.readAll(RETAINED, 0, (await raw.offsets(RETAINED, 0)).earliest);
  expect(goodBefore.records.map((r) => r.value?.toString())).toEqual(['good-0-a', 'good-0-b', 'good-1-a', 'good-1-b', 'good-2-a', 'good-2-b']);
}, 40_000);

afterAll(async () => {
  raw?.close();
  await admin?.close();
}, 10_000);

describe('a broker refusing bad produce requests', () => {
  it('answers bytes that are not a ProduceRequest with INVALID_ARGUMENT and INVALID_REQUEST', async () => {
    const call = new Promise<unknown>((resolve, reject) => {
      raw.log.makeUnaryRequest(
        '/sluice.v1.LogService/Produce',
        () => Buffer.from([0xff, 0xff, 0xff]),
        (b: Buffer) => b,
        null,
        new grpc.Metadata(),
        { deadline: Date.now() + 5_000 },
        (err, res) => (err ? reject(err) : resolve(res)),
      );
    });
    const r = await expectCallFailure(call, 'malformed protobuf');
    // A parse failure is the client's mistake, not a server fault: INVALID_ARGUMENT with a
    // Sluice code, not grpc-js's default INTERNAL "Error deserializing request".
    expectRefused(r, 'INVALID_REQUEST');
  }, TEST_TIMEOUT_MS);

  it('refuses a batch whose CRC-32C does not match with CORRUPT_MESSAGE', async () => {
    const damaged = batch(['crc-a', 'crc-b']);
    damaged[damaged.length - 3]! ^= 0x55;
    const r = await raw.produceFailure({ topic: GOOD, partition: 0, acks: 'ACKS_ALL', records: damaged }, 'wrong CRC');
    expectRefused(r, 'CORRUPT_MESSAGE');
    expect(r.message).toMatch(/crc/i);
  }, TEST_TIMEOUT_MS);

  it('refuses a truncated batch with CORRUPT_MESSAGE', async () => {
    const whole = batch(['truncated-a', 'truncated-b']);
    const r = await raw.produceFailure({ topic: GOOD, partition: 0, acks: 'ACKS_ALL', records: whole.subarray(0, whole.length - 7) }, 'truncated batch');
    expectRefused(r, 'CORRUPT_MESSAGE');
    expect(r.message).toMatch(/truncated/i);
  }, TEST_TIMEOUT_MS);

  it('refuses a batch over the topic max.message.bytes with MESSAGE_TOO_LARGE', async () => {
    const big = encodeRecordBatch([{ value: Buffer.alloc(SMALL_MAX_MESSAGE_BYTES * 2, 7) }]);
    const r = await raw.produceFailure({ topic: SMALL, partition: 0, acks: 'ACKS_ALL', records: big }, 'oversized batch');
    expectRefused(r, 'MESSAGE_TOO_LARGE');
    expect(r.message).toContain('max.message.bytes');
    // The limit is per topic: a batch under it is accepted on the same partition.
    const ok = await raw.produceOk(SMALL, 0, encodeRecordBatch([{ value: Buffer.alloc(100, 1) }]));
    expect(ok.base_offset).toBe(0);
  }, TEST_TIMEOUT_MS);

  it('refuses a produce to an unknown topic or partition with UNKNOWN_TOPIC_OR_PARTITION', async () => {
    const records = batch(['nowhere']);
    const topic = await raw.produceFailure({ topic: 'no-such-topic', partition: 0, acks: 'ACKS_ALL', records }, 'unknown topic');
    expectRefused(topic, 'UNKNOWN_TOPIC_OR_PARTITION');
    expect(topic.message).toContain('no-such-topic');
    const partition = await raw.produceFailure({ topic: GOOD, partition: 7, acks: 'ACKS_ALL', records }, 'unknown partition');
    expectRefused(partition, 'UNKNOWN_TOPIC_OR_PARTITION');
    expect(partition.message).toContain('7');
  }, TEST_TIMEOUT_MS);
});

describe('a broker refusing bad fetches', () => {
  it('refuses a fetch of an unknown topic or partition with UNKNOWN_TOPIC_OR_PARTITION', async () => {
    const topic = await raw.fetchFailure({ topic: 'no-such-topic', partition: 0, fetch_offset: 0, max_bytes: 1024 }, 'fetch unknown topic');
    expectRefused(topic, 'UNKNOWN_TOPIC_OR_PARTITION', false);
    const partition = await raw.fetchFailure({ topic: GOOD, partition: 7, fetch_offset: 0, max_bytes: 1024 }, 'fetch unknown partition');
    expectRefused(partition, 'UNKNOWN_TOPIC_OR_PARTITION', false);
  }, TEST_TIMEOUT_MS);

  it('answers a fetch below the log start or past the end with OFFSET_OUT_OF_RANGE and the valid range', async () => {
    const { earliest, latest } = await raw.offsets(RETAINED, 0);
    expect(earliest).toBeGreaterThan(0);
    const below = await raw.fetchFailure({ topic: RETAINED, partition: 0, fetch_offset: 0, max_bytes: 1 << 16 }, 'fetch below the log start');
    expectRefused(below, 'OFFSET_OUT_OF_RANGE', false);
    expect({ logStartOffset: below.details.logStartOffset, logEndOffset: below.details.logEndOffset }).toEqual({ logStartOffset: earliest, logEndOffset: latest });

    const above = await raw.fetchFailure({ topic: RETAINED, partition: 0, fetch_offset: latest + 10, max_bytes: 1 << 16 }, 'fetch past the end');
    expectRefused(above, 'OFFSET_OUT_OF_RANGE', false);
    expect({ logStartOffset: above.details.logStartOffset, logEndOffset: above.details.logEndOffset }).toEqual({ logStartOffset: earliest, logEndOffset: latest });

    // Exactly at the end is where a caught-up consumer waits: no error, just no records.
    const atEnd = await raw.fetch({ partitions: [{ topic: RETAINED, partition: 0, fetch_offset: latest, max_bytes: 1 << 16 }], max_wait_ms: 0, min_bytes: 0 });
    expect(atEnd.partitions[0]?.error?.code ?? 'ERROR_CODE_UNSPECIFIED').toBe('ERROR_CODE_UNSPECIFIED');
    expect(atEnd.partitions[0]?.records.length).toBe(0);
  }, TEST_TIMEOUT_MS);
});

describe('topic administration refusing bad requests', () => {
  const badNames = ['', 'has space', 'slash/name', '..', 'x'.repeat(250)];

  it.each(badNames.map((name) => [name.length > 20 ? `${name.slice(0, 8)}… (${name.length} chars)` : JSON.stringify(name), name]))(
    'refuses the topic name %s with INVALID_TOPIC',
    async (_label, name) => {
      const viaClient = await admin.createTopic({ name, partitions: 1, replicationFactor: 1 }).then(
        () => null,
        (err: unknown) => err,
      );
      expect(isSluiceError(viaClient) ? viaClient.code : viaClient, 'Admin.createTopic').toBe('INVALID_TOPIC');
      expect(isSluiceError(viaClient) && viaClient.message.length > 0).toBe(true);

      const r = await expectCallFailure(raw.createTopic({ name, partitions: 1, replication_factor: 1 }), `CreateTopic ${JSON.stringify(name)}`);
      expectRefused(r, 'INVALID_TOPIC');
    },
    TEST_TIMEOUT_MS,
  );

  it.each([[0], [-1], [10_001]])('refuses %i partitions with INVALID_PARTITIONS', async (partitions) => {
    const name = `bad-partitions-${partitions < 0 ? 'neg' : partitions}`;
    const viaClient = await admin.createTopic({ name, partitions, replicationFactor: 1 }).then(() => null, (err: unknown) => err);
    expect(isSluiceError(viaClient) ? viaClient.code : viaClient, 'Admin.createTopic').toBe('INVALID_PARTITIONS');

    const r = await expectCallFailure(raw.createTopic({ name, partitions, replication_factor: 1 }), `CreateTopic with ${partitions} partitions`);
    expectRefused(r, 'INVALID_PARTITIONS');
    expect(r.message).toContain(String(partitions));
  }, TEST_TIMEOUT_MS);

  it('refuses an unknown config key with INVALID_CONFIG naming the key', async () => {
    const viaClient = await admin.createTopic({ name: 'bad-config', partitions: 1, replicationFactor: 1, config: { 'retention.msec': '1000' } })
      .then(() => null, (err: unknown) => err);
    expect(isSluiceError(viaClient) ? viaClient.code : viaClient, 'Admin.createTopic').toBe('INVALID_CONFIG');

    const r = await expectCallFailure(
      raw.createTopic({ name: 'bad-config', partitions: 1, replication_factor: 1, config: { 'retention.msec': '1000' } }),
      'CreateTopic with an unknown config key',
    );
    expectRefused(r, 'INVALID_CONFIG');
    expect(r.message).toContain('retention.msec');
  }, TEST_TIMEOUT_MS);

  it('created none of the refused topics', async () => {
    const md = await raw.metadata();
    const names = md.topics.map((t) => t.name).sort();
    expect(names).toEqual([GOOD, RETAINED, SMALL].sort());
  }, TEST_TIMEOUT_MS);
});

describe('after all the bad input', () => {
  it('still holds every earlier record unchanged and keeps serving', async () => {
    const cluster = getCluster();
    expect(cluster.brokerProcessAlive(0), cluster.describeCrashes() || 'broker process is gone').toBe(true);
    expect(cluster.unexpectedExits).toEqual([]);

    const good = await raw.readAll(GOOD, 0);
    expect(good.batches.map((b) => b.bytes)).toEqual(goodBefore.batches.map((b) => b.bytes));
    expect(good.highWatermark).toBe(goodBefore.highWatermark);
    // Retention may have deleted more old segments since; whatever is still there is unchanged.
    const { earliest } = await raw.offsets(RETAINED, 0);
    const retained = await raw.readAll(RETAINED, 0, earliest);
    expect(retained.highWatermark).toBe(retainedBefore.highWatermark);
    expect(retained.batches.map((b) => b.bytes)).toEqual(retainedBefore.batches.filter((b) => b.header.baseOffset >= earliest).map((b) => b.bytes));

    const next = await raw.produceOk(GOOD, 0, batch(['after-a', 'after-b']));
    expect(next.base_offset).toBe(goodBefore.highWatermark);
    const after = await raw.readAll(GOOD, 0);
    expect(after.records.map((r) => [r.offset, r.value?.toString()])).toEqual([
      ...goodBefore.records.map((r) => [r.offset, r.value?.toString()]),
      [goodBefore.highWatermark, 'after-a'],
      [goodBefore.highWatermark + 1, 'after-b'],
    ]);
  }, TEST_TIMEOUT_MS);
});
