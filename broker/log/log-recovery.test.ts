import { appendFile, open, readdir, readFile, rm, stat, truncate, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { decodeRecordBatches } from '../../common/record-batch.ts';
import { batch, capturingLogger, crashCopy, offsetsIn, openLog, removeTempDirs, tempDir } from './log-test-fixtures.ts';
import type { PartitionLog } from './partition-log.ts';

afterAll(removeTempDirs);

const BATCH_SIZE = batch({ tag: 'x' }).length;
const SEGMENT_BYTES = BATCH_SIZE * 7; // 7 batches (21 offsets) per segment

const segmentPath = (dir: string, base: number, suffix = '.log'): string => join(dir, `${String(base).padStart(20, '0')}${suffix}`);

async function flipByte(path: string, position: number): Promise<void> {
  const handle = await open(path, 'r+');
  try {
    const one = Buffer.alloc(1);
    await handle.read(one, 0, 1, position);
    one[0]! ^= 0x5a;
    await handle.write(one, 0, 1, position);
  } finally {
    await handle.close();
  }
}

/** A log of `batches` same-sized 3-record batches; epoch 1 up to batch `epochSwitch` (default: half), 2 after. */
async function buildLog(batches: number, segmentBytes = SEGMENT_BYTES, epochSwitch = batches / 2): Promise<PartitionLog> {
  const log = await openLog(await tempDir(), { config: { segmentBytes } });
  for (let i = 0; i < batches; i++) {
    await log.appendAsLeader(batch({ tag: 'x', producerId: 5, producerEpoch: 0, baseSequence: i * 3, timestamp: 1000 + i * 10 }), i < epochSwitch ? 1 : 2);
  }
  return log;
}

/** Every offset below the log end reads back as itself, and the log accepts and serves new appends. */
async function expectServing(log: PartitionLog): Promise<void> {
  const leo = log.logEndOffset;
  for (let offset = log.logStartOffset; offset < leo; offset++) {
    const first = decodeRecordBatches(await log.read(offset, { maxBytes: 1 }))[0]!;
    expect(first.header.baseOffset).toBeLessThanOrEqual(offset);
    expect(first.header.lastOffset).toBeGreaterThanOrEqual(offset);
  }
  const appended = await log.appendAsLeader(batch({ tag: 'y' }), 9);
  expect(appended.baseOffset).toBe(leo);
  expect(offsetsIn(await log.read(leo, { maxBytes: 1 << 20 }))).toEqual([leo, leo + 1, leo + 2]);
}

async function recoverCopy(log: PartitionLog, damage: (dir: string) => Promise<void>, segmentBytes = SEGMENT_BYTES): Promise<PartitionLog> {
  const copy = await crashCopy(log);
  await log.close();
  await damage(copy);
  return openLog(copy, { recover: true, config: { segmentBytes } });
}

describe('recovery after a crash', () => {
  it('cuts a torn last batch and keeps serving', async () => {
    const log = await buildLog(10);
    const active = log.segmentBaseOffsets().at(-1)!;
    const recovered = await recoverCopy(log, async (dir) => {
      const path = segmentPath(dir, active);
      await truncate(path, (await stat(path)).size - 10);
    });
    expect(recovered.logEndOffset).toBe(27);
    expect((await stat(segmentPath(recovered.dir, active))).size).toBe(2 * BATCH_SIZE);
    await expectServing(recovered);
    await recovered.close();
  });

  it('cuts the last batch when a byte in it is flipped', async () => {
    const log = await buildLog(10);
    const recovered = await recoverCopy(log, async (dir) => flipByte(segmentPath(dir, 21), 3 * BATCH_SIZE - 5));
    expect(recovered.logEndOffset).toBe(27);
    await expectServing(recovered);
    await recovered.close();
  });

  it('cuts at a damaged batch in the middle of the active segment', async () => {
    const log = await buildLog(12, 1 << 20);
    const recovered = await recoverCopy(log, async (dir) => flipByte(segmentPath(dir, 0), 4 * BATCH_SIZE + 30), 1 << 20);
    expect(recovered.logEndOffset).toBe(12);
    await expectServing(recovered);
    await recovered.close();
  });

  it('cuts at a damaged batch in an older segment and drops every later segment', async () => {
    const log = await buildLog(20);
    expect(log.segmentBaseOffsets()).toEqual([0, 21, 42]);
    const recovered = await recoverCopy(log, async (dir) => {
      // Without an offsets checkpoint the recovery point is unknown: everything is validated.
      await rm(join(dir, 'log-offsets-checkpoint'));
      await flipByte(segmentPath(dir, 21), 2 * BATCH_SIZE + 40);
    });
    expect(recovered.segmentBaseOffsets()).toEqual([0, 21]);
    expect(recovered.logEndOffset).toBe(27);
    expect(await readdir(recovered.dir)).not.toContain('00000000000000000042.log');
    // Leader epoch 2 started at offset 30, which is gone.
    expect(recovered.leaderEpochs.entries()).toEqual([{ epoch: 1, startOffset: 0 }]);
    await expectServing(recovered);
    await recovered.close();
  });

  it('detects a damaged base offset, which the CRC does not cover', async () => {
    const log = await buildLog(10);
    const recovered = await recoverCopy(log, async (dir) => flipByte(segmentPath(dir, 21), BATCH_SIZE + 7));
    expect(recovered.logEndOffset).toBe(24);
    await expectServing(recovered);
    await recovered.close();
  });

  it('removes garbage after the last batch', async () => {
    const log = await buildLog(10);
    const recovered = await recoverCopy(log, async (dir) => appendFile(segmentPath(dir, 21), Buffer.from('\x00\x00\x00\x00\x00\x00\x00\x1egarbage-garbage-garbage-garbage')));
    expect(recovered.logEndOffset).toBe(30);
    expect((await stat(segmentPath(recovered.dir, 21))).size).toBe(3 * BATCH_SIZE);
    await expectServing(recovered);
    await recovered.close();
  });

  it('handles an empty active segment left by a roll, and an empty one in the middle', async () => {
    const log = await buildLog(14); // segments 0 and 21, the second one full
    const recovered = await recoverCopy(log, async (dir) => {
      await writeFile(segmentPath(dir, 42), '');
      await writeFile(segmentPath(dir, 30), '');
    });
    expect(recovered.segmentBaseOffsets()).toEqual([0, 21, 42]);
    expect(recovered.logEndOffset).toBe(42);
    await expectServing(recovered);
    await recovered.close();
  });

  it('rebuilds producer state and epochs from the recovered log', async () => {
    const log = await buildLog(10);
    const recovered = await recoverCopy(log, async (dir) => {
      const path = segmentPath(dir, 21);
      await truncate(path, (await stat(path)).size - 1);
    });
    expect(recovered.logEndOffset).toBe(27);
    // The producer's batch at 27 was lost, so its retry is written again, not answered as a duplicate.
    expect(await recovered.appendAsLeader(batch({ tag: 'x', producerId: 5, producerEpoch: 0, baseSequence: 27 }), 2)).toMatchObject({ baseOffset: 27, duplicate: false });
    expect(await recovered.appendAsLeader(batch({ tag: 'x', producerId: 5, producerEpoch: 0, baseSequence: 24 }), 2)).toMatchObject({ baseOffset: 24, duplicate: true });
    expect(recovered.leaderEpochs.entries()).toEqual([{ epoch: 1, startOffset: 0 }, { epoch: 2, startOffset: 15 }]);
    await recovered.close();
  });
});

describe('leader epochs across recovery', () => {
  it('keeps the start of an epoch that began before the recovery point', async () => {
    const log = await buildLog(20); // epoch 1 from 0, epoch 2 from 30; segments 0, 21, 42
    const recovered = await recoverCopy(log, async () => undefined); // recovery point: 42
    expect(recovered.leaderEpochs.entries()).toEqual([{ epoch: 1, startOffset: 0 }, { epoch: 2, startOffset: 30 }]);
    await recovered.close();
  });

  it('keeps the start of an epoch that continues into the recovered segment', async () => {
    const log = await buildLog(20, SEGMENT_BYTES, 16); // epoch 2 from 48, inside the segment at 42 that recovery validates
    const recovered = await recoverCopy(log, async () => undefined);
    expect(recovered.leaderEpochs.entries()).toEqual([{ epoch: 1, startOffset: 0 }, { epoch: 2, startOffset: 48 }]);
    await recovered.close();
  });

  it('rebuilds a damaged epoch checkpoint from every batch header, not just the recovered ones', async () => {
    const log = await buildLog(20);
    const recovered = await recoverCopy(log, async (dir) => writeFile(join(dir, 'leader-epoch-checkpoint'), '0\n2\n1 0\n'));
    expect(recovered.leaderEpochs.entries()).toEqual([{ epoch: 1, startOffset: 0 }, { epoch: 2, startOffset: 30 }]);
    await recovered.close();
  });

  it('rebuilds a missing epoch checkpoint from every batch header on a clean start', async () => {
    const log = await buildLog(20);
    await log.close();
    await rm(join(log.dir, 'leader-epoch-checkpoint'));
    const reopened = await openLog(log.dir, { config: { segmentBytes: SEGMENT_BYTES } });
    expect(reopened.leaderEpochs.entries()).toEqual([{ epoch: 1, startOffset: 0 }, { epoch: 2, startOffset: 30 }]);
    await reopened.close();
  });
});

describe('loading after a clean shutdown', () => {
  async function closedLog(batches = 20): Promise<string> {
    const log = await buildLog(batches);
    await log.close();
    return log.dir;
  }

  it('rebuilds deleted index files', async () => {
    const dir = await closedLog();
    for (const name of await readdir(dir)) if (name.endsWith('index')) await rm(join(dir, name));
    const log = await openLog(dir, { config: { segmentBytes: SEGMENT_BYTES } });
    expect(log.logEndOffset).toBe(60);
    expect(await log.offsetForTimestamp(1101)).toEqual({ offset: 31, timestamp: 1101 });
    await expectServing(log);
    await log.close();
    const names = await readdir(dir);
    const logs = names.filter((n) => n.endsWith('.log'));
    expect(logs.length).toBeGreaterThanOrEqual(3);
    for (const name of logs) expect(names).toContain(name.replace('.log', '.index'));
  });

  it('rebuilds index files that fail the sanity checks', async () => {
    const dir = await closedLog();
    await truncate(segmentPath(dir, 0, '.index'), 5); // not a multiple of the entry size
    const index21 = await readFile(segmentPath(dir, 21, '.index'));
    index21.writeInt32BE(0x7fff0000, 4); // first entry points far past the segment
    await writeFile(segmentPath(dir, 21, '.index'), index21);
    await writeFile(segmentPath(dir, 42, '.timeindex'), Buffer.alloc(24, 0xff)); // timestamps not increasing
    const { logger, messages } = capturingLogger();
    const log = await openLog(dir, { config: { segmentBytes: SEGMENT_BYTES }, logger });
    expect(log.logEndOffset).toBe(60);
    expect(await log.offsetForTimestamp(1185)).toEqual({ offset: 57, timestamp: 1190 });
    await expectServing(log);
    expect(messages.filter((m) => m === 'index failed its sanity check; rebuilding it from the log')).toHaveLength(2);
    expect(messages).toContain('time index of the active segment is damaged');
    await log.close();
  });

  it('reads correctly through an index whose entries are plausible but wrong', async () => {
    const dir = await closedLog();
    const path = segmentPath(dir, 0, '.index');
    const index = await readFile(path);
    expect(index.length).toBeGreaterThan(8);
    for (let at = 0; at < index.length; at += 8) index.writeInt32BE(index.readInt32BE(at + 4) + 1, at + 4); // every position off by one
    await writeFile(path, index);
    const { logger, messages } = capturingLogger();
    const log = await openLog(dir, { config: { segmentBytes: SEGMENT_BYTES }, logger });
    await expectServing(log);
    expect(messages).toContain('offset index entry does not point at its batch; scanning the segment from its start');
    await log.close();
  });

  it('survives garbage in every checkpoint file, rebuilding what matters from the log', async () => {
    const dir = await closedLog();
    const original = await openLog(dir, { config: { segmentBytes: SEGMENT_BYTES } });
    const epochs = original.leaderEpochs.entries();
    await original.close();
    await writeFile(join(dir, 'log-offsets-checkpoint'), 'this is not a checkpoint');
    await writeFile(join(dir, 'leader-epoch-checkpoint'), '0\n2\n1 0\n');
    await writeFile(join(dir, 'partition.metadata'), Buffer.from([0xff, 0xfe, 0x00]));
    for (const name of await readdir(dir)) if (name.endsWith('.snapshot')) await writeFile(join(dir, name), 'garbage');
    const log = await openLog(dir, { config: { segmentBytes: SEGMENT_BYTES } });
    expect(log.logEndOffset).toBe(60);
    expect(log.leaderEpochs.entries()).toEqual(epochs);
    expect(log.topicId).toBe('topic-id-1');
    expect(await log.appendAsLeader(batch({ tag: 'x', producerId: 5, producerEpoch: 0, baseSequence: 57 }), 2)).toMatchObject({ baseOffset: 57, duplicate: true });
    await expectServing(log);
    await log.close();
    expect(await readFile(join(dir, 'partition.metadata'), 'utf8')).toBe('version: 0\ntopic_id: topic-id-1\n');
  });

  it('removes stray tmp files and index files without a segment', async () => {
    const dir = await closedLog();
    await writeFile(join(dir, 'leader-epoch-checkpoint.tmp'), 'half');
    await writeFile(segmentPath(dir, 0, '.index.tmp'), 'half');
    await writeFile(segmentPath(dir, 999, '.index'), Buffer.alloc(8));
    const log = await openLog(dir, { config: { segmentBytes: SEGMENT_BYTES } });
    const names = await readdir(dir);
    expect(names.filter((n) => n.endsWith('.tmp'))).toEqual([]);
    expect(names).not.toContain('00000000000000000999.index');
    await expectServing(log);
    await log.close();
  });

  it('recovers the active segment when its tail is torn despite a clean shutdown', async () => {
    const dir = await closedLog(10);
    const path = segmentPath(dir, 21);
    await truncate(path, (await stat(path)).size - 3);
    const log = await openLog(dir, { config: { segmentBytes: SEGMENT_BYTES } });
    expect(log.logEndOffset).toBe(27);
    await expectServing(log);
    await log.close();
  });
});

describe('a damaged length field in a sealed segment, loaded without recovery', () => {
  /** Settles within 2 s or fails: the damage used to send the batch walk around in circles. */
  function bounded<T>(promise: Promise<T>): Promise<T> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error('the read did not finish within 2 s')), 2000);
    });
    return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
  }

  // batchLength 0 lands the walk inside the batch's own header; -12 makes a 0-byte "batch" that
  // never advances; a large negative one moves the walk to a negative file position.
  for (const batchLength of [0, -12, -1_000_000]) {
    it(`fails reads past it with CORRUPT_MESSAGE naming the segment and byte (batchLength ${batchLength})`, async () => {
      // One index entry per segment, so every lookup walks the batch headers from the start.
      const log = await openLog(await tempDir(), { config: { segmentBytes: SEGMENT_BYTES, indexIntervalBytes: 1 << 20 } });
      for (let i = 0; i < 20; i++) await log.appendAsLeader(batch({ tag: 'x', timestamp: 1000 + i * 10 }), 1);
      await log.close();
      const damagedAt = 3 * BATCH_SIZE; // batch 3 (offsets 9-11) of the sealed segment 0
      const bytes = await readFile(segmentPath(log.dir, 0));
      bytes.writeInt32BE(batchLength, damagedAt + 8);
      await writeFile(segmentPath(log.dir, 0), bytes);

      const reopened = await openLog(log.dir, { config: { segmentBytes: SEGMENT_BYTES, indexIntervalBytes: 1 << 20 } });
      expect(offsetsIn(await bounded(reopened.read(0, { maxBytes: 1 << 20 })))).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8]);
      const attempts: (() => Promise<unknown>)[] = [() => reopened.read(9, { maxBytes: 1 << 20 }), () => reopened.read(13, { maxBytes: 1 }), () => reopened.offsetForTimestamp(1050)];
      for (const attempt of attempts) {
        const err = await bounded(attempt()).then(
          () => new Error('the read succeeded'),
          (e: unknown) => e,
        );
        expect(err).toMatchObject({ code: 'CORRUPT_MESSAGE', details: { topic: 'orders', partition: 0 } });
        expect((err as Error).message).toContain(`00000000000000000000.log is damaged: the batch at byte ${damagedAt} `);
      }
      // The other segments are unaffected.
      expect(offsetsIn(await bounded(reopened.read(21, { maxBytes: 1 })))).toEqual([21, 22, 23]);
      await reopened.close();
    });
  }
});
