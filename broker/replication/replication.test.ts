// Replication between two in-process brokers driven by a fake controller that decides every
// leadership: followers copy the leader's bytes, the HW follows the ISR's LEOs, and a former
// leader with records nobody else has truncates them by leader epoch when it follows again.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { fromServiceError } from '../../common/grpc-errors.ts';
import { decodeRecordBatches, encodeRecordBatch } from '../../common/record-batch.ts';
import type { ProduceResponse__Output } from '../../proto/gen/sluice/v1/ProduceResponse.ts';
import type { TopicState } from '../../proto/gen/sluice/v1/TopicState.ts';
import type { PartitionLog } from '../log/partition-log.ts';
import { eventually, rpc, rpcError, startTestBroker, type TestBroker } from '../test-support/broker-harness.ts';
import { FakeController, topicState } from '../test-support/fake-controller.ts';

const TOPIC = 'replicated';

let controller: FakeController;
const dirs: string[] = [];
const running: TestBroker[] = [];

async function start(id: number, dataDir?: string): Promise<TestBroker> {
  const dir = dataDir ?? (await mkdtemp(join(tmpdir(), `sluice-repl-${id}-`)));
  if (!dataDir) dirs.push(dir);
  const b = await startTestBroker(controller, { id, dataDir: dir, config: { replicaFetchWaitMaxMs: 200, retentionCheckIntervalMs: 50 } });
  running.push(b);
  return b;
}

function produce(b: TestBroker, value: string, acks: 'ACKS_ALL' | 'ACKS_LEADER' = 'ACKS_LEADER', timeoutMs = 5_000): Promise<ProduceResponse__Output> {
  return rpc((cb) => b.log.Produce({ topic: TOPIC, partition: 0, acks, timeout_ms: timeoutMs, records: encodeRecordBatch([{ value: Buffer.from(value) }]) }, cb));
}

/** Every batch of a log from `from` to its end (reads stop at segment ends, so loop). */
async function readFrom(log: PartitionLog, from: number): Promise<Buffer> {
  const parts: Buffer[] = [];
  let offset = from;
  while (offset < log.logEndOffset) {
    const chunk = await log.read(offset, { maxBytes: 1 << 30 });
    if (chunk.length === 0) break;
    parts.push(chunk);
    const batches = decodeRecordBatches(chunk);
    offset = batches.at(-1)!.header.lastOffset + 1;
  }
  return Buffer.concat(parts);
}

async function logBytes(b: TestBroker): Promise<Buffer> {
  const log = b.broker.replicas.getPartition(TOPIC, 0)!.log;
  return readFrom(log, log.logStartOffset);
}

function state(spec: { leader: number; epoch: number; isr: number[]; partitionEpoch?: number; minIsr?: number; config?: Record<string, string> }): TopicState {
  const config = { ...spec.config, ...(spec.minIsr === undefined ? {} : { 'min.insync.replicas': String(spec.minIsr) }) };
  const t = topicState({ name: TOPIC, partitions: 1, replicas: [0, 1], leader: spec.leader, leaderEpoch: spec.epoch, isr: spec.isr, config });
  t.partitions![0]!.partition_epoch = spec.partitionEpoch ?? spec.epoch;
  return t;
}

beforeAll(async () => {
  controller = new FakeController();
  await controller.start();
});

afterEach(async () => {
  await Promise.all(running.splice(0).map((b) => b.stop()));
});

afterAll(async () => {
  await controller?.stop();
  await Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true })));
});

describe('replica fetching between two brokers', () => {
  it('copies the leader\'s bytes to the follower and commits acks=all once the follower has them', async () => {
    controller.setMetadata([state({ leader: 0, epoch: 1, isr: [0, 1] })]);
    const leader = await start(0);
    const follower = await start(1);
    const acked = await produce(leader, 'a', 'ACKS_ALL');
    expect(Number(acked.base_offset)).toBe(0);
    for (const v of ['b', 'c', 'd']) await produce(leader, v, 'ACKS_ALL');
    const lp = leader.broker.replicas.getPartition(TOPIC, 0)!;
    const fp = follower.broker.replicas.getPartition(TOPIC, 0)!;
    expect(lp.log.highWatermark).toBe(4);
    await eventually(() => fp.log.logEndOffset === 4, 5_000, 'the follower to copy every batch');
    expect((await logBytes(follower)).equals(await logBytes(leader))).toBe(true);
    // The follower learns the HW from the leader's answers, capped at its own LEO.
    await produce(leader, 'e', 'ACKS_ALL');
    await eventually(() => fp.log.highWatermark === 4 || fp.log.highWatermark === 5, 5_000, 'the follower HW');
    expect(fp.log.leaderEpochs.entries()).toEqual(lp.log.leaderEpochs.entries());
    expect(follower.broker.replicas.describeFetchers()).toEqual([{ leaderId: 0, address: leader.address, partitions: [`${TOPIC}-0`] }]);
  });

  it('truncates a former leader\'s uncommitted records by leader epoch and replaces them with the new leader\'s', async () => {
    controller.setMetadata([state({ leader: 0, epoch: 1, isr: [0] })]);
    const a = await start(0);
    let b = await start(1);
    for (const v of ['c0', 'c1', 'c2']) await produce(a, v);
    const bp0 = b.broker.replicas.getPartition(TOPIC, 0)!;
    await eventually(() => bp0.log.logEndOffset === 3, 5_000, 'b to copy the first records');
    const bDir = b.config.dataDir;
    await b.stop();
    // Written while b is away: a's alone, never committed by an ISR that includes b.
    for (const v of ['lost0', 'lost1']) await produce(a, v);
    expect(a.broker.replicas.getPartition(TOPIC, 0)!.log.logEndOffset).toBe(5);

    // b is elected in epoch 2 (as after a's loss) and takes a new write; a follows it.
    controller.setMetadata([state({ leader: 1, epoch: 2, isr: [1] })]);
    b = await start(1, bDir);
    // The fake pushes nothing on registration; the real controller pushes b's new address.
    controller.setMetadata([state({ leader: 1, epoch: 2, isr: [1] })]);
    const bp = b.broker.replicas.getPartition(TOPIC, 0)!;
    await eventually(() => bp.isLeader, 5_000, 'b to lead');
    expect(Number((await produce(b, 'new3')).base_offset)).toBe(3);
    const ap = a.broker.replicas.getPartition(TOPIC, 0)!;
    await eventually(() => !ap.isLeader && ap.log.logEndOffset === 4 && ap.log.leaderEpochs.latestEpoch() === 2, 5_000, 'a to truncate and follow b');
    expect((await logBytes(a)).equals(await logBytes(b))).toBe(true);
    expect(ap.log.leaderEpochs.entries()).toEqual([
      { epoch: 1, startOffset: 0 },
      { epoch: 2, startOffset: 3 },
    ]);
  });

  it('restarts a follower\'s log at the leader\'s log start when retention deleted what it still needed', async () => {
    const config = { 'segment.bytes': '1024', 'retention.bytes': '1' };
    controller.setMetadata([state({ leader: 0, epoch: 4, isr: [0], partitionEpoch: 4, config })]);
    const a = await start(0);
    let b = await start(1);
    await produce(a, 'first'.repeat(100));
    const bp0 = b.broker.replicas.getPartition(TOPIC, 0)!;
    await eventually(() => bp0.log.logEndOffset === 1, 5_000, 'b to copy the first record');
    const bDir = b.config.dataDir;
    await b.stop();
    for (let i = 0; i < 8; i++) await produce(a, `r${i}`.repeat(200));
    const ap = a.broker.replicas.getPartition(TOPIC, 0)!;
    await eventually(() => ap.log.logStartOffset > 1, 5_000, 'retention to delete the segments b lacks');
    b = await start(1, bDir);
    controller.setMetadata([state({ leader: 0, epoch: 4, isr: [0], partitionEpoch: 4, config })]);
    const bp = b.broker.replicas.getPartition(TOPIC, 0)!;
    await eventually(() => bp.log.logEndOffset === ap.log.logEndOffset, 5_000, 'b to continue from the leader\'s log start');
    expect(bp.log.logStartOffset).toBeGreaterThan(1);
    // Both run retention on their own; compare what both still have.
    const from = Math.max(ap.log.logStartOffset, bp.log.logStartOffset);
    expect((await readFrom(bp.log, from)).equals(await readFrom(ap.log, from))).toBe(true);
  });

  it('lets a consumer positioned past a new leader\'s HW (but not past its LEO) wait instead of resetting it', async () => {
    // b leads with a follower that has not reported yet: its HW trails its LEO, as right after
    // an election, while a consumer of the previous leader already read up to the LEO.
    controller.setMetadata([state({ leader: 1, epoch: 3, isr: [1, 0], partitionEpoch: 3 })]);
    const b = await start(1);
    await produce(b, 'x0');
    await produce(b, 'x1');
    const bp = b.broker.replicas.getPartition(TOPIC, 0)!;
    expect(bp.log.logEndOffset).toBe(2);
    expect(bp.log.highWatermark).toBe(0);
    const f = await rpc<{ partitions: { error: unknown; high_watermark: number; records: Buffer }[] }>((cb) =>
      b.log.Fetch({ partitions: [{ topic: TOPIC, partition: 0, fetch_offset: 2, max_bytes: 0 }], max_wait_ms: 0, min_bytes: 0, max_bytes: 0 }, cb),
    );
    expect(f.partitions[0]!.error).toBeNull();
    expect(f.partitions[0]!.records.length).toBe(0);
    const beyond = await rpc<{ partitions: { error: { code: string } | null }[] }>((cb) =>
      b.log.Fetch({ partitions: [{ topic: TOPIC, partition: 0, fetch_offset: 3, max_bytes: 0 }], max_wait_ms: 0, min_bytes: 0, max_bytes: 0 }, cb),
    );
    expect(beyond.partitions[0]!.error?.code).toBe('ERROR_CODE_OFFSET_OUT_OF_RANGE');
  });
});

describe('an acks=all produce parked for the HW', () => {
  /** A leader whose in-sync follower never fetches: the HW cannot pass anything it appends. */
  async function stuckLeader(): Promise<TestBroker> {
    controller.setMetadata([state({ leader: 0, epoch: 7, isr: [0, 1], partitionEpoch: 7, minIsr: 2 })]);
    return start(0);
  }

  it('fails with NOT_ENOUGH_REPLICAS_AFTER_APPEND when the committed ISR shrinks below min.insync.replicas', async () => {
    const a = await stuckLeader();
    const parked = rpcError((cb) => a.log.Produce({ topic: TOPIC, partition: 0, acks: 'ACKS_ALL', timeout_ms: 10_000, records: encodeRecordBatch([{ value: Buffer.from('p') }]) }, cb));
    await eventually(() => a.broker.replicas.getPartition(TOPIC, 0)!.log.logEndOffset === 1, 5_000, 'the append');
    controller.setMetadata([state({ leader: 0, epoch: 7, isr: [0], partitionEpoch: 8, minIsr: 2 })]);
    expect(fromServiceError(await parked).code).toBe('NOT_ENOUGH_REPLICAS_AFTER_APPEND');
    // And the next one is refused before it is appended.
    const refused = await rpcError((cb) => a.log.Produce({ topic: TOPIC, partition: 0, acks: 'ACKS_ALL', records: encodeRecordBatch([{ value: Buffer.from('q') }]) }, cb));
    expect(fromServiceError(refused).code).toBe('NOT_ENOUGH_REPLICAS');
    expect(a.broker.replicas.getPartition(TOPIC, 0)!.log.logEndOffset).toBe(1);
  });

  it('fails with NOT_LEADER naming the new leader when leadership moves while it waits', async () => {
    const a = await stuckLeader();
    const parked = rpcError((cb) => a.log.Produce({ topic: TOPIC, partition: 0, acks: 'ACKS_ALL', timeout_ms: 10_000, records: encodeRecordBatch([{ value: Buffer.from('p') }]) }, cb));
    await eventually(() => a.broker.replicas.getPartition(TOPIC, 0)!.log.logEndOffset === 1, 5_000, 'the append');
    controller.setMetadata([state({ leader: 1, epoch: 8, isr: [1], partitionEpoch: 9, minIsr: 2 })]);
    const err = fromServiceError(await parked);
    expect(err.code).toBe('NOT_LEADER');
    expect(err.details.leaderId).toBe(1);
  });
});
