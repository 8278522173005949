// Damaged partition files after a crash (DESIGN §4: "validate batches from the last clean point,
// truncate at the first torn or corrupt batch, rebuild indexes; a corrupt file never crashes
// the broker"). Each case SIGKILLs the broker, damages one partition's files the way a torn
// write, a bad sector or a lost file would, restarts it and checks what a user sees: the broker
// serves, the log ends at the last good batch with everything before it unchanged, and new
// produces continue at the right offset.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { batchSizeAt, encodeRecordBatch } from '../common/record-batch.ts';
import { useTestCluster } from './support/cluster.ts';
import { RawBroker, type PartitionContent, type RawBatch } from './support/raw-grpc.ts';

const CASES = ['torn', 'flipped', 'garbage', 'no-index', 'bad-checkpoints'] as const;
type Case = (typeof CASES)[number];
const topicOf = (c: Case): string => `corrupt-${c}`;
const BATCHES = 4;
const RECORDS_PER_BATCH = 3;
const SEGMENT_FILE = /^\d{20}\.log$/;
// Files that hold data or indexes of it; everything else in a partition dir is a checkpoint
// (leader epochs, offsets, producer snapshots) or metadata.
const DATA_OR_INDEX = /^\d{20}\.(log|index|timeindex)$/;

const getCluster = useTestCluster({ brokers: 1 });
let raw: RawBroker;
const written = new Map<Case, PartitionContent>();
let producerIds: { id: number; epoch: number };

function batchFor(c: Case, n: number, idempotent = false): Buffer {
  const records = Array.from({ length: RECORDS_PER_BATCH }, (_, i) => ({ key: Buffer.from(`${c}-k${i}`), value: Buffer.from(`${c} batch ${n} record ${i}`) }));
  return encodeRecordBatch(records, idempotent ? { producerId: producerIds.id, producerEpoch: producerIds.epoch, baseSequence: n * RECORDS_PER_BATCH } : {});
}

/** The active (newest) segment of a partition and where each of its batches starts. */
function activeSegment(dir: string): { file: string; batchStarts: number[]; size: number } {
  const segments = fs.readdirSync(dir).filter((f) => SEGMENT_FILE.test(f)).sort();
  const name = segments.at(-1);
  if (!name) throw new Error(`no segment file in ${dir}; it holds: ${fs.readdirSync(dir).join(', ')}`);
  const file = path.join(dir, name);
  const bytes = fs.readFileSync(file);
  const batchStarts: number[] = [];
  for (let pos = 0; pos < bytes.length;) {
    const size = batchSizeAt(bytes, pos);
    if (size <= 0 || pos + size > bytes.length) break;
    batchStarts.push(pos);
    pos += size;
  }
  return { file, batchStarts, size: bytes.length };
}

async function crashDamageRestart(c: Case, damage: (partitionDir: string) => void): Promise<void> {
  const cluster = getCluster();
  await cluster.cluster.killBroker(0, 'SIGKILL');
  damage(cluster.partitionDir(topicOf(c), 0));
  await cluster.cluster.startBroker(0);
  await raw.waitForLeaders(topicOf(c), 1);
}

function describeBatches(batches: RawBatch[]): { offsets: string; hex: string }[] {
  return batches.map((b) => ({ offsets: `${b.header.baseOffset}..${b.header.lastOffset}`, hex: b.bytes.toString('hex') }));
}

/** The user-visible checks every case ends with. */
async function expectServesUpTo(c: Case, keptBatches: number): Promise<void> {
  const cluster = getCluster();
  const before = written.get(c)!;
  const expected = before.batches.slice(0, keptBatches);
  const end = keptBatches * RECORDS_PER_BATCH;

  const after = await raw.readAll(topicOf(c), 0);
  expect(describeBatches(after.batches), 'batches served after the restart').toEqual(describeBatches(expected));
  expect({ highWatermark: after.highWatermark, logStartOffset: after.logStartOffset }).toEqual({ highWatermark: end, logStartOffset: 0 });
  expect(await raw.offsets(topicOf(c), 0)).toEqual({ earliest: 0, latest: end });

  const res = await raw.produceOk(topicOf(c), 0, batchFor(c, 100));
  expect(Number(res.base_offset), 'offset of the first produce after the restart').toBe(end);
  const grown = await raw.readAll(topicOf(c), 0);
  expect(grown.records.map((r) => r.offset)).toEqual(Array.from({ length: end + RECORDS_PER_BATCH }, (_, i) => i));
  expect(grown.records.slice(end).map((r) => r.value?.toString())).toEqual(
    Array.from({ length: RECORDS_PER_BATCH }, (_, i) => `${c} batch 100 record ${i}`),
  );

  expect(cluster.brokerProcessAlive(0), cluster.describeCrashes() || 'the broker process is gone').toBe(true);
  expect(cluster.unexpectedExits, 'broker processes that died on their own').toEqual([]);
}

beforeAll(async () => {
  const cluster = getCluster();
  raw = new RawBroker(cluster.brokerAddress());
  const ids = await raw.initProducerId();
  producerIds = { id: Number(ids.producer_id), epoch: ids.producer_epoch };
  for (const c of CASES) {
    // Index files are written when a segment is sealed (the active one's only at a clean
    // close), so the no-index case rolls small segments to have index files to lose.
    const config: Record<string, string> = c === 'no-index' ? { 'segment.bytes': '400' } : {};
    await raw.createTopic({ name: topicOf(c), partitions: 1, replication_factor: 1, config });
  }
  for (const c of CASES) {
    await raw.waitForLeaders(topicOf(c), 1);
    // bad-checkpoints writes as an idempotent producer, so the test can also see that producer
    // state comes back from the log when its snapshot is garbage.
    for (let n = 0; n < BATCHES; n++) await raw.produceOk(topicOf(c), 0, batchFor(c, n, c === 'bad-checkpoints'));
    const content = await raw.readAll(topicOf(c), 0);
    expect(content.batches.length).toBe(BATCHES);
    written.set(c, content);
  }
}, 40_000);

afterAll(() => {
  raw?.close();
}, 5_000);

describe('a broker restarted on damaged partition files', () => {
  it('truncates a segment torn in the middle of its last batch back to the batch before', async () => {
    await crashDamageRestart('torn', (dir) => {
      const seg = activeSegment(dir);
      expect(seg.batchStarts.length).toBe(BATCHES);
      const last = seg.batchStarts.at(-1)!;
      fs.truncateSync(seg.file, last + Math.floor((seg.size - last) / 2));
    });
    await expectServesUpTo('torn', BATCHES - 1);
  }, 30_000);

  it('drops a last batch with a flipped byte (CRC mismatch) and keeps the ones before', async () => {
    await crashDamageRestart('flipped', (dir) => {
      const seg = activeSegment(dir);
      const last = seg.batchStarts.at(-1)!;
      // Inside the records, past the 61-byte header: only the CRC can tell.
      const at = last + 61 + Math.floor((seg.size - last - 61) / 2);
      const fd = fs.openSync(seg.file, 'r+');
      try {
        const b = Buffer.alloc(1);
        fs.readSync(fd, b, 0, 1, at);
        b[0]! ^= 0xff;
        fs.writeSync(fd, b, 0, 1, at);
      } finally {
        fs.closeSync(fd);
      }
    });
    await expectServesUpTo('flipped', BATCHES - 1);
  }, 30_000);

  it('ignores garbage appended after the last batch and keeps every batch', async () => {
    await crashDamageRestart('garbage', (dir) => {
      const seg = activeSegment(dir);
      fs.appendFileSync(seg.file, Buffer.concat([
        Buffer.from('this is not a record batch, just garbage at the end of the log\n'),
        Buffer.alloc(16, 0xff),
        Buffer.alloc(40, 0),
      ]));
    });
    await expectServesUpTo('garbage', BATCHES);
  }, 30_000);

  it('rebuilds a deleted offset index, so reads from any offset work', async () => {
    await crashDamageRestart('no-index', (dir) => {
      const indexes = fs.readdirSync(dir).filter((f) => f.endsWith('.index'));
      expect(indexes, `offset index files of sealed segments in ${dir}`).not.toEqual([]);
      for (const f of indexes) fs.rmSync(path.join(dir, f));
    });
    // Reads that start in the middle need the index (or a rebuild of it) to find their batch.
    const from = RECORDS_PER_BATCH * 2 + 1;
    const middle = await raw.readAll(topicOf('no-index'), 0, from);
    expect(middle.records.map((r) => r.value?.toString())).toEqual(
      written.get('no-index')!.records.slice(from).map((r) => r.value?.toString()),
    );
    await expectServesUpTo('no-index', BATCHES);
  }, 30_000);

  it('survives garbage in leader-epoch-checkpoint and the other checkpoint files', async () => {
    // A clean stop first writes every checkpoint a broker keeps (offsets, producer snapshots),
    // so the crash below leaves all of them on disk to be damaged.
    const cluster = getCluster();
    await cluster.cluster.stopBroker(0);
    await cluster.cluster.startBroker(0);
    await raw.waitForLeaders(topicOf('bad-checkpoints'), 1);

    const damaged: string[] = [];
    await crashDamageRestart('bad-checkpoints', (dir) => {
      const brokerDir = cluster.brokerDir(0);
      const inPartition = fs.readdirSync(dir).filter((f) => !DATA_OR_INDEX.test(f) && f !== 'partition.metadata').map((f) => path.join(dir, f));
      const inBroker = fs.readdirSync(brokerDir).filter((f) => /checkpoint/.test(f)).map((f) => path.join(brokerDir, f));
      for (const file of [...inPartition, ...inBroker]) {
        if (!fs.statSync(file).isFile()) continue;
        fs.writeFileSync(file, Buffer.concat([Buffer.from('0\n3\nnot a checkpoint\n\u0000\u0001'), Buffer.alloc(32, 0xfe)]));
        damaged.push(path.basename(file));
      }
    });
    expect(damaged, 'files damaged').toEqual(expect.arrayContaining(['leader-epoch-checkpoint', 'log-offsets-checkpoint']));
    expect(damaged.some((f) => f.endsWith('.snapshot')), `a producer snapshot among the damaged files ${damaged.join(', ')}`).toBe(true);

    // Producer state comes back from the log itself: a retry of the last batch is a duplicate.
    const retry = await raw.produceOk(topicOf('bad-checkpoints'), 0, batchFor('bad-checkpoints', BATCHES - 1, true));
    expect({ baseOffset: Number(retry.base_offset), duplicate: retry.duplicate }, `after damaging ${damaged.join(', ')}`)
      .toEqual({ baseOffset: (BATCHES - 1) * RECORDS_PER_BATCH, duplicate: true });
    await expectServesUpTo('bad-checkpoints', BATCHES);
  }, 30_000);
});
