import { open, readdir, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it, vi } from 'vitest';
import { crc32c } from '../../common/crc32c.ts';
import { SluiceError } from '../../common/errors.ts';
import { decodeRecordBatches, readBatchHeader, validateBatches } from '../../common/record-batch.ts';
import { ManualClock, batch, crashCopy, offsetsIn, openLog, removeTempDirs, tempDir, valuesIn } from './log-test-fixtures.ts';
import type { PartitionLog } from './partition-log.ts';

afterAll(removeTempDirs);
afterEach(() => {
  vi.restoreAllMocks();
});

async function expectCode(promise: Promise<unknown>, code: string): Promise<SluiceError> {
  const err = await promise.then(
    () => {
      throw new Error(`expected ${code}, but it succeeded`);
    },
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(SluiceError);
  expect((err as SluiceError).code).toBe(code);
  return err as SluiceError;
}

/** Appends `count` 3-record batches as leader in epoch 0; returns the log. */
async function fill(log: PartitionLog, count: number, spec: Parameters<typeof batch>[0] = {}): Promise<void> {
  for (let i = 0; i < count; i++) await log.appendAsLeader(batch({ ...spec, tag: `b${i}` }), 0);
}

describe('append and read', () => {
  it('assigns contiguous offsets and stamps base offset and leader epoch into the stored bytes', async () => {
    const log = await openLog(await tempDir());
    const a = await log.appendAsLeader(batch({ records: 3 }), 4);
    const b = await log.appendAsLeader(batch({ records: 5, timestamp: 5000 }), 4);
    expect(a).toEqual({ baseOffset: 0, lastOffset: 2, maxTimestamp: 1002, duplicate: false, logStartOffset: 0 });
    expect(b).toMatchObject({ baseOffset: 3, lastOffset: 7, maxTimestamp: 5004 });
    expect(log.logEndOffset).toBe(8);
    const stored = decodeRecordBatches(await log.read(0, { maxBytes: 1 << 20 }));
    expect(stored.map((s) => [s.header.baseOffset, s.header.partitionLeaderEpoch])).toEqual([[0, 4], [3, 4]]);
    expect(stored[1]!.records.map((r) => r.offset)).toEqual([3, 4, 5, 6, 7]);
    await log.close();
  });

  it('keeps the producer CRC valid after stamping offsets and epoch', async () => {
    const log = await openLog(await tempDir());
    await log.appendAsLeader(batch({ records: 4 }), 9);
    const stored = await log.read(0, { maxBytes: 1 << 20 });
    const header = readBatchHeader(stored, 0);
    expect(crc32c(stored, 21, header.sizeInBytes)).toBe(header.crc);
    await log.close();
  });

  it('reads from every offset, including mid-batch, starting with the batch that holds it', async () => {
    const log = await openLog(await tempDir(), { config: { segmentBytes: 700 } });
    await fill(log, 20);
    expect(log.segmentCount).toBeGreaterThan(2);
    for (let offset = 0; offset < log.logEndOffset; offset++) {
      const buf = await log.read(offset, { maxBytes: 1 });
      const batches = decodeRecordBatches(buf);
      expect(batches).toHaveLength(1);
      expect(batches[0]!.header.baseOffset).toBeLessThanOrEqual(offset);
      expect(batches[0]!.header.lastOffset).toBeGreaterThanOrEqual(offset);
    }
    await log.close();
  });

  it('returns whole batches within maxBytes, but always at least one', async () => {
    const log = await openLog(await tempDir());
    await fill(log, 10);
    const size = batch({ tag: 'b0' }).length;
    expect(decodeRecordBatches(await log.read(0, { maxBytes: 0 }))).toHaveLength(1);
    expect(decodeRecordBatches(await log.read(0, { maxBytes: size * 3 + size / 2 }))).toHaveLength(3);
    const all = await log.read(4, { maxBytes: 1 << 20 });
    expect(offsetsIn(all)).toEqual(Array.from({ length: 30 - 3 }, (_, i) => i + 3));
    expect(all.length).toBe(size * 9);
    await log.close();
  });

  it('never returns a batch starting at or after maxOffset', async () => {
    const log = await openLog(await tempDir());
    await fill(log, 5); // batches at 0, 3, 6, 9, 12
    expect(offsetsIn(await log.read(0, { maxBytes: 1 << 20, maxOffset: 7 }))).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8]);
    expect(offsetsIn(await log.read(0, { maxBytes: 1 << 20, maxOffset: 6 }))).toEqual([0, 1, 2, 3, 4, 5]);
    expect((await log.read(6, { maxBytes: 1 << 20, maxOffset: 6 })).length).toBe(0);
    expect((await log.read(10, { maxBytes: 1 << 20, maxOffset: 6 })).length).toBe(0);
    await log.close();
  });

  it('answers an empty buffer at the log end and OFFSET_OUT_OF_RANGE with the valid range past it', async () => {
    const log = await openLog(await tempDir());
    await fill(log, 2);
    expect((await log.read(6, { maxBytes: 100 })).length).toBe(0);
    const err = await expectCode(log.read(7, { maxBytes: 100 }), 'OFFSET_OUT_OF_RANGE');
    expect(err.details).toMatchObject({ topic: 'orders', partition: 0, logStartOffset: 0, logEndOffset: 6 });
    await expectCode(log.read(-1, { maxBytes: 100 }), 'OFFSET_OUT_OF_RANGE');
    await log.close();
  });

  it('reads across segment boundaries one segment at a time', async () => {
    const log = await openLog(await tempDir(), { config: { segmentBytes: 700 } });
    await fill(log, 20);
    const bases = log.segmentBaseOffsets();
    const second = bases[1]!;
    const fromBoundary = decodeRecordBatches(await log.read(second, { maxBytes: 1 << 20 }));
    expect(fromBoundary[0]!.header.baseOffset).toBe(second);
    expect(fromBoundary.at(-1)!.header.lastOffset).toBe(bases[2]! - 1);
    await log.close();
  });

  it('refuses a corrupt batch and one over max.message.bytes without writing anything', async () => {
    const log = await openLog(await tempDir(), { config: { maxMessageBytes: 200 } });
    await log.appendAsLeader(batch(), 0);
    const bad = batch();
    bad[bad.length - 1] ^= 0xff;
    const corrupt = await expectCode(log.appendAsLeader(bad, 0), 'CORRUPT_MESSAGE');
    expect(corrupt.details).toMatchObject({ topic: 'orders', partition: 0 });
    await expectCode(log.appendAsLeader(batch({ valueBytes: 300, records: 1 }), 0), 'MESSAGE_TOO_LARGE');
    expect(log.logEndOffset).toBe(3);
    expect(offsetsIn(await log.read(0, { maxBytes: 1 << 20 }))).toEqual([0, 1, 2]);
    await log.close();
  });

  it('refuses, as leader, a batch whose CRC matches but whose records no consumer could decode', async () => {
    const log = await openLog(await tempDir());
    await log.appendAsLeader(batch(), 0);
    // A one-record batch claiming a million records: its CRC is right, and it would take a million offsets.
    const liar = batch({ records: 1 });
    liar.writeInt32BE(999_999, 23); // lastOffsetDelta
    liar.writeInt32BE(1_000_000, 57); // recordsCount
    liar.writeUInt32BE(crc32c(liar, 21, liar.length), 17);
    const err = await expectCode(log.appendAsLeader(liar, 0), 'CORRUPT_MESSAGE');
    expect(err.message).toMatch(/record batch at byte 0 declares 1000000 records/);
    expect(err.details).toMatchObject({ topic: 'orders', partition: 0 });
    expect(log.logEndOffset).toBe(3);
    await log.close();
  });

  it('coalesces concurrent appends into one writev with offsets in call order', async () => {
    const log = await openLog(await tempDir());
    await log.appendAsLeader(batch(), 0); // the segment file is open from here on
    const probe = await open(join(log.dir, '00000000000000000000.log'), 'r');
    const writev = vi.spyOn(Object.getPrototypeOf(probe) as { writev: () => unknown }, 'writev');
    await probe.close();
    const results = await Promise.all(Array.from({ length: 50 }, (_, i) => log.appendAsLeader(batch({ records: 2, tag: `c${i}` }), 0)));
    expect(results.map((r) => r.baseOffset)).toEqual(Array.from({ length: 50 }, (_, i) => 3 + 2 * i));
    expect(writev).toHaveBeenCalledTimes(1);
    const values = valuesIn(await log.read(3, { maxBytes: 1 << 20 }));
    expect(values.slice(0, 4)).toEqual(['c0-0', 'c0-1', 'c1-0', 'c1-1']);
    await log.close();
  });

  it('fails only the bad request of a coalesced group', async () => {
    const log = await openLog(await tempDir());
    const [a, b, c] = await Promise.allSettled([
      log.appendAsLeader(batch({ producerId: 7, producerEpoch: 0, baseSequence: 0 }), 0),
      log.appendAsLeader(batch({ producerId: 7, producerEpoch: 0, baseSequence: 9 }), 0),
      log.appendAsLeader(batch({ producerId: 7, producerEpoch: 0, baseSequence: 3 }), 0),
    ]);
    expect(a).toMatchObject({ status: 'fulfilled', value: { baseOffset: 0 } });
    expect(b).toMatchObject({ status: 'rejected', reason: { code: 'OUT_OF_ORDER_SEQUENCE' } });
    expect(c).toMatchObject({ status: 'fulfilled', value: { baseOffset: 3 } });
    expect(log.logEndOffset).toBe(6);
    await log.close();
  });

  it('rejects appends in an epoch older than the log has seen, and records new epochs', async () => {
    const dir = await tempDir();
    const log = await openLog(dir);
    await log.appendAsLeader(batch(), 1);
    await log.appendAsLeader(batch(), 3);
    await log.appendAsLeader(batch(), 3);
    const fenced = await expectCode(log.appendAsLeader(batch(), 2), 'FENCED_LEADER_EPOCH');
    expect(fenced.details.leaderEpoch).toBe(3);
    expect(log.leaderEpochs.entries()).toEqual([{ epoch: 1, startOffset: 0 }, { epoch: 3, startOffset: 3 }]);
    await log.close();
    const reopened = await openLog(dir);
    expect(reopened.leaderEpochs.entries()).toEqual([{ epoch: 1, startOffset: 0 }, { epoch: 3, startOffset: 3 }]);
    expect(reopened.leaderEpochs.endOffsetFor(1)).toEqual({ epoch: 1, endOffset: 3 });
    expect(reopened.leaderEpochs.endOffsetFor(3)).toEqual({ epoch: 3, endOffset: 9 });
    await reopened.close();
  });

  it('takes follower batches that continue the log and refuses any that do not', async () => {
    const leader = await openLog(await tempDir());
    await leader.appendAsLeader(batch({ producerId: 3, producerEpoch: 0, baseSequence: 0 }), 2);
    await leader.appendAsLeader(batch({ producerId: 3, producerEpoch: 0, baseSequence: 3 }), 5);
    const fetched = await leader.read(0, { maxBytes: 1 << 20 });
    const follower = await openLog(await tempDir());
    const result = await follower.appendAsFollower(fetched);
    expect(result).toMatchObject({ baseOffset: 0, lastOffset: 5, duplicate: false });
    expect(follower.leaderEpochs.entries()).toEqual([{ epoch: 2, startOffset: 0 }, { epoch: 5, startOffset: 3 }]);
    const err = await expectCode(follower.appendAsFollower(fetched), 'INVALID_REQUEST');
    expect(err.details.logEndOffset).toBe(6);
    // Producer state was taken from the replicated headers: a retry is recognized on the follower.
    const retry = await follower.appendAsLeader(batch({ producerId: 3, producerEpoch: 0, baseSequence: 3 }), 5);
    expect(retry).toMatchObject({ baseOffset: 3, lastOffset: 5, duplicate: true });
    await leader.close();
    await follower.close();
  });
});

describe('concurrent readers', () => {
  it('never see a partial batch while appends are being written', async () => {
    const log = await openLog(await tempDir(), { config: { segmentBytes: 64 * 1024 } });
    let writing = true;
    const writer = (async () => {
      for (let wave = 0; wave < 40; wave++) {
        await Promise.all(Array.from({ length: 5 }, () => log.appendAsLeader(batch({ records: 5, valueBytes: 200 }), 0)));
      }
      writing = false;
    })();
    let reads = 0;
    while (writing) {
      // An empty read resolves without I/O; yield so the writer's completions can run.
      await new Promise((resolve) => setImmediate(resolve));
      const leo = log.logEndOffset;
      const from = Math.max(0, leo - 30);
      const buf = await log.read(from, { maxBytes: 1 << 20 });
      // validateBatches throws on a torn tail; every batch must also be below the LEO seen before the read.
      for (const h of validateBatches(buf, 1 << 20)) expect(h.lastOffset).toBeLessThan(log.logEndOffset);
      reads++;
    }
    await writer;
    expect(reads).toBeGreaterThan(5);
    expect(log.logEndOffset).toBe(1000);
    await log.close();
  });

  it('keep reading a segment that retention deletes under them; later reads get OFFSET_OUT_OF_RANGE', async () => {
    const clock = new ManualClock(1_000_000);
    const log = await openLog(await tempDir(), { now: clock.now, config: { segmentBytes: 700, retentionMs: 10 } });
    for (let i = 0; i < 40; i++) await log.appendAsLeader(batch({ timestamp: 1000 }), 0);
    log.setHighWatermark(log.logEndOffset);
    const inFlight = Array.from({ length: 60 }, (_, i) => log.read(i, { maxBytes: 1 << 20 }));
    const deleted = await log.enforceRetention();
    expect(deleted).toBeGreaterThan(0);
    // Reads that started before the deletion hold the files open and complete normally.
    for (const [i, buf] of (await Promise.all(inFlight)).entries()) expect(offsetsIn(buf)).toContain(i);
    for (let i = 0; i < 60; i++) {
      if (i < log.logStartOffset) await expectCode(log.read(i, { maxBytes: 100 }), 'OFFSET_OUT_OF_RANGE');
      else expect(offsetsIn(await log.read(i, { maxBytes: 1 << 20 }))).toContain(i);
    }
    // Once the last reader let go, the deleted files are unlinked.
    await expect.poll(async () => (await readdir(log.dir)).filter((n) => n.endsWith('.deleted'))).toEqual([]);
    await log.close();
  });
});

describe('segments', () => {
  it('rolls at segment.bytes, names segments by base offset and writes the sealed indexes', async () => {
    const log = await openLog(await tempDir(), { config: { segmentBytes: 1000 } });
    await fill(log, 30);
    await log.flush(); // seals run in the background; flush runs after them
    const names = (await readdir(log.dir)).sort();
    const bases = log.segmentBaseOffsets();
    expect(bases.length).toBeGreaterThan(2);
    for (const base of bases) expect(names).toContain(`${String(base).padStart(20, '0')}.log`);
    for (const base of bases.slice(0, -1)) {
      const size = (await stat(join(log.dir, `${String(base).padStart(20, '0')}.log`))).size;
      expect(size).toBeLessThanOrEqual(1000);
      expect(names).toContain(`${String(base).padStart(20, '0')}.index`);
      expect(names).toContain(`${String(base).padStart(20, '0')}.timeindex`);
      expect(names).toContain(`${String(bases[bases.indexOf(base) + 1]).padStart(20, '0')}.snapshot`);
    }
    // The recovery point follows the seals.
    expect(log.recoveryPoint).toBe(log.logEndOffset);
    await log.close();
  });

  it('rolls when the first batch of the active segment is older than segment.ms', async () => {
    const clock = new ManualClock();
    const log = await openLog(await tempDir(), { now: clock.now, config: { segmentMs: 1000 } });
    await log.appendAsLeader(batch(), 0);
    clock.advance(1000);
    await log.appendAsLeader(batch(), 0);
    expect(log.segmentCount).toBe(1);
    clock.advance(1);
    await log.appendAsLeader(batch(), 0);
    expect(log.segmentBaseOffsets()).toEqual([0, 6]);
    // The new segment's age counts from its own first batch.
    clock.advance(1000);
    await log.appendAsLeader(batch(), 0);
    expect(log.segmentBaseOffsets()).toEqual([0, 6]);
    await log.close();
  });

  it('rolls before a relative offset would overflow int32', async () => {
    const log = await openLog(await tempDir());
    // A follower batch whose offsets span almost 2^31 (as a compacted batch may).
    const wide = batch({ records: 1, baseOffset: 0, partitionLeaderEpoch: 0 });
    wide.writeInt32BE(0x7fffffff - 5, 23);
    wide.writeUInt32BE(crc32c(wide, 21), 17);
    await log.appendAsFollower(wide);
    expect(log.logEndOffset).toBe(0x7fffffff - 4);
    await log.appendAsFollower(batch({ records: 10, baseOffset: 0x7fffffff - 4, partitionLeaderEpoch: 0 }));
    expect(log.segmentBaseOffsets()).toEqual([0, 0x7fffffff - 4]);
    expect(offsetsIn(await log.read(0x7fffffff, { maxBytes: 1 }))[0]).toBe(0x7fffffff - 4);
    await log.close();
  });

  it('finds the first record at or after a timestamp, across segments and inside batches', async () => {
    const log = await openLog(await tempDir(), { config: { segmentBytes: 700 } });
    for (let i = 0; i < 20; i++) await log.appendAsLeader(batch({ timestamp: 10_000 + i * 100 }), 0); // record j of batch i: 10000 + 100i + j
    expect(log.segmentCount).toBeGreaterThan(2);
    expect(await log.offsetForTimestamp(0)).toEqual({ offset: 0, timestamp: 10_000 });
    expect(await log.offsetForTimestamp(10_501)).toEqual({ offset: 16, timestamp: 10_501 });
    expect(await log.offsetForTimestamp(10_503)).toEqual({ offset: 18, timestamp: 10_600 });
    expect(await log.offsetForTimestamp(11_902)).toEqual({ offset: 59, timestamp: 11_902 });
    expect(await log.offsetForTimestamp(11_903)).toBeNull();
    expect(await log.offsetForTimestamp(10_501, { maxOffset: 16 })).toBeNull();
    await log.close();
  });

  it('finds timestamps that go backwards between batches by the first record at or after them', async () => {
    const log = await openLog(await tempDir());
    await log.appendAsLeader(batch({ timestamp: 5000 }), 0);
    await log.appendAsLeader(batch({ timestamp: 1000 }), 0);
    await log.appendAsLeader(batch({ timestamp: 6000 }), 0);
    expect(await log.offsetForTimestamp(1001)).toEqual({ offset: 0, timestamp: 5000 });
    expect(await log.offsetForTimestamp(5002)).toEqual({ offset: 2, timestamp: 5002 });
    expect(await log.offsetForTimestamp(5003)).toEqual({ offset: 6, timestamp: 6000 });
    await log.close();
  });
});

describe('retention', () => {
  async function agedLog(): Promise<{ log: PartitionLog; clock: ManualClock }> {
    const clock = new ManualClock(100_000);
    const log = await openLog(await tempDir(), { now: clock.now, config: { segmentBytes: 700, retentionMs: 50_000 } });
    // 6 batches per segment; batch i has timestamps from i * 1000.
    for (let i = 0; i < 30; i++) await log.appendAsLeader(batch({ timestamp: i * 1000 }), 0);
    return { log, clock };
  }

  it('deletes segments whose newest record is past retention.ms, never above the HW', async () => {
    const { log } = await agedLog();
    const bases = log.segmentBaseOffsets();
    expect(bases.length).toBe(5);
    log.setHighWatermark(0);
    expect(await log.enforceRetention()).toBe(0);
    // Now 100 s; every segment is past 50 s, but the HW sits inside the third segment.
    log.setHighWatermark(bases[2]! + 1);
    expect(await log.enforceRetention()).toBe(2);
    expect(log.logStartOffset).toBe(bases[2]);
    expect(log.segmentBaseOffsets()).toEqual(bases.slice(2));
    const err = await expectCode(log.read(0, { maxBytes: 100 }), 'OFFSET_OUT_OF_RANGE');
    expect(err.details).toMatchObject({ logStartOffset: bases[2], logEndOffset: 90 });
    expect((await readdir(log.dir)).filter((n) => n.startsWith('00000000000000000000'))).toEqual([]);
    expect(offsetsIn(await log.read(bases[2]!, { maxBytes: 1 }))[0]).toBe(bases[2]);
    await log.close();
  });

  it('never deletes the active segment', async () => {
    const { log } = await agedLog();
    log.setHighWatermark(log.logEndOffset);
    expect(await log.enforceRetention()).toBe(4);
    expect(log.segmentCount).toBe(1);
    expect(log.logStartOffset).toBe(log.segmentBaseOffsets()[0]);
    expect(await log.enforceRetention()).toBe(0);
    await log.close();
  });

  it('keeps segments younger than retention.ms', async () => {
    const { log, clock } = await agedLog();
    log.setHighWatermark(log.logEndOffset);
    const bases = log.segmentBaseOffsets();
    const batchesPerSegment = bases[1]! / 3;
    const newestOfFirst = (batchesPerSegment - 1) * 1000 + 2;
    clock.ms = newestOfFirst + 50_000;
    expect(await log.enforceRetention()).toBe(0);
    clock.ms = newestOfFirst + 50_001; // the first segment is past retention, the second is not
    expect(await log.enforceRetention()).toBe(1);
    expect(log.logStartOffset).toBe(bases[1]);
    await log.close();
  });

  it('deletes the oldest segments while the log is over retention.bytes', async () => {
    const log = await openLog(await tempDir(), { config: { segmentBytes: 700, retentionMs: -1 } });
    await fill(log, 30);
    log.setHighWatermark(log.logEndOffset);
    const bases = log.segmentBaseOffsets();
    const sizes = await Promise.all(bases.map(async (b) => (await stat(join(log.dir, `${String(b).padStart(20, '0')}.log`))).size));
    // Over the limit by less than the oldest segment: deleting it would undershoot, so none goes.
    log.updateConfig({ ...log.config, retentionBytes: log.sizeInBytes() - sizes[0]! + 1 });
    expect(await log.enforceRetention()).toBe(0);
    // Over by one byte more than the two oldest segments: exactly those two go.
    log.updateConfig({ ...log.config, retentionBytes: log.sizeInBytes() - sizes[0]! - sizes[1]! - 1 });
    expect(await log.enforceRetention()).toBe(2);
    expect(log.segmentCount).toBe(bases.length - 2);
    expect(log.logStartOffset).toBe(bases[2]);
    expect(log.leaderEpochs.entries()).toEqual([{ epoch: 0, startOffset: bases[2] }]);
    await log.close();
  });

  it('persists the moved log start offset', async () => {
    const { log } = await agedLog();
    log.setHighWatermark(log.logEndOffset);
    await log.enforceRetention();
    const start = log.logStartOffset;
    await log.close();
    const reopened = await openLog(log.dir);
    expect(reopened.logStartOffset).toBe(start);
    expect(reopened.highWatermark).toBe(90);
    await reopened.close();
  });
});

describe('truncateTo', () => {
  it('drops whole batches from the one holding the offset, with epochs, HW and producer state', async () => {
    const log = await openLog(await tempDir(), { config: { segmentBytes: 700 } });
    for (let i = 0; i < 12; i++) await log.appendAsLeader(batch({ producerId: 1, producerEpoch: 0, baseSequence: i * 3 }), i < 8 ? 1 : 2);
    log.setHighWatermark(36);
    expect(log.segmentCount).toBe(2);
    await log.truncateTo(20); // mid-batch 18..20: that batch goes too
    expect(log.logEndOffset).toBe(18);
    expect(log.segmentCount).toBe(1);
    expect(log.highWatermark).toBe(18);
    expect(log.leaderEpochs.entries()).toEqual([{ epoch: 1, startOffset: 0 }]);
    expect(offsetsIn(await log.read(15, { maxBytes: 1 << 20 }))).toEqual([15, 16, 17]);
    // The producer's next sequence is the one after the last batch kept.
    await expectCode(log.appendAsLeader(batch({ producerId: 1, producerEpoch: 0, baseSequence: 21 }), 3), 'OUT_OF_ORDER_SEQUENCE');
    expect(await log.appendAsLeader(batch({ producerId: 1, producerEpoch: 0, baseSequence: 18 }), 3)).toMatchObject({ baseOffset: 18, duplicate: false });
    await log.close();
    const reopened = await openLog(log.dir, { config: { segmentBytes: 700 } });
    expect(reopened.logEndOffset).toBe(21);
    expect(reopened.leaderEpochs.entries()).toEqual([{ epoch: 1, startOffset: 0 }, { epoch: 3, startOffset: 18 }]);
    await reopened.close();
  });

  it('does nothing at or past the log end', async () => {
    const log = await openLog(await tempDir());
    await fill(log, 2);
    await log.truncateTo(6);
    await log.truncateTo(100);
    expect(log.logEndOffset).toBe(6);
    await log.close();
  });

  it('at the log end still drops epoch entries starting at or after the offset, durably', async () => {
    const log = await openLog(await tempDir());
    await fill(log, 2);
    const before = log.leaderEpochs.entries();
    // A leader elected at offset 6 that appended nothing before losing leadership.
    log.leaderEpochs.assign(before.at(-1)!.epoch + 5, 6);
    await log.truncateTo(100);
    expect(log.leaderEpochs.entries(), 'entries below the offset stay').toHaveLength(before.length + 1);
    await log.truncateTo(6);
    expect(log.logEndOffset).toBe(6);
    expect(log.leaderEpochs.entries()).toEqual(before);
    await log.close();
    const reopened = await openLog(log.dir);
    expect(reopened.leaderEpochs.entries()).toEqual(before);
    await reopened.close();
  });

  it('restarts an empty log at a new offset', async () => {
    const log = await openLog(await tempDir());
    await fill(log, 4);
    await log.truncateFullyAndStartAt(500);
    expect([log.logStartOffset, log.logEndOffset, log.highWatermark]).toEqual([500, 500, 500]);
    await log.appendAsFollower(batch({ baseOffset: 500, partitionLeaderEpoch: 7 }));
    expect(offsetsIn(await log.read(500, { maxBytes: 1 << 20 }))).toEqual([500, 501, 502]);
    await expectCode(log.read(0, { maxBytes: 1 }), 'OFFSET_OUT_OF_RANGE');
    await log.close();
  });
});

describe('idempotent producer', () => {
  const idem = (seq: number, extra: Parameters<typeof batch>[0] = {}) => batch({ producerId: 42, producerEpoch: 0, baseSequence: seq, ...extra });

  it('answers a retried batch with its original offsets and writes nothing', async () => {
    const log = await openLog(await tempDir());
    await log.appendAsLeader(idem(0), 0);
    await log.appendAsLeader(idem(3), 0);
    const retry = await log.appendAsLeader(idem(0), 0);
    expect(retry).toMatchObject({ baseOffset: 0, lastOffset: 2, duplicate: true });
    expect(log.logEndOffset).toBe(6);
    await log.close();
  });

  it('recognizes any of the last five batches, not older ones', async () => {
    const log = await openLog(await tempDir());
    for (let i = 0; i < 7; i++) await log.appendAsLeader(idem(i * 3), 0);
    for (let i = 2; i < 7; i++) expect(await log.appendAsLeader(idem(i * 3), 0)).toMatchObject({ baseOffset: i * 3, duplicate: true });
    await expectCode(log.appendAsLeader(idem(3), 0), 'OUT_OF_ORDER_SEQUENCE');
    await log.close();
  });

  it('refuses gaps, fenced epochs, a new epoch not starting at 0 and unknown producers mid-sequence', async () => {
    const log = await openLog(await tempDir());
    await log.appendAsLeader(batch({ producerId: 42, producerEpoch: 1, baseSequence: 0 }), 0);
    await expectCode(log.appendAsLeader(batch({ producerId: 42, producerEpoch: 1, baseSequence: 4 }), 0), 'OUT_OF_ORDER_SEQUENCE');
    await expectCode(log.appendAsLeader(batch({ producerId: 42, producerEpoch: 0, baseSequence: 3 }), 0), 'INVALID_PRODUCER_EPOCH');
    await expectCode(log.appendAsLeader(batch({ producerId: 42, producerEpoch: 2, baseSequence: 3 }), 0), 'OUT_OF_ORDER_SEQUENCE');
    await expectCode(log.appendAsLeader(batch({ producerId: 43, producerEpoch: 0, baseSequence: 5 }), 0), 'UNKNOWN_PRODUCER_ID');
    expect(await log.appendAsLeader(batch({ producerId: 42, producerEpoch: 2, baseSequence: 0 }), 0)).toMatchObject({ baseOffset: 3 });
    expect(log.logEndOffset).toBe(6);
    await log.close();
  });

  it('wraps sequences from int32 max to 0', async () => {
    const log = await openLog(await tempDir());
    // Reach the top of the sequence space through a follower append (the state is replayed).
    await log.appendAsFollower(batch({ producerId: 9, producerEpoch: 0, baseSequence: 0x7fffffff - 4, baseOffset: 0, partitionLeaderEpoch: 0 }));
    expect(await log.appendAsLeader(batch({ producerId: 9, producerEpoch: 0, baseSequence: 0x7fffffff - 1 }), 0)).toMatchObject({ baseOffset: 3 }); // covers max-1, max, 0
    expect(log.producerState(9)!.batches.at(-1)!.lastSeq).toBe(0);
    expect(await log.appendAsLeader(batch({ producerId: 9, producerEpoch: 0, baseSequence: 1 }), 0)).toMatchObject({ baseOffset: 6 });
    await log.close();
  });

  it('keeps producer state over a clean close', async () => {
    const dir = await tempDir();
    const log = await openLog(dir, { config: { segmentBytes: 700 } });
    for (let i = 0; i < 10; i++) await log.appendAsLeader(idem(i * 3), 0);
    await log.close();
    const reopened = await openLog(dir, { config: { segmentBytes: 700 } });
    expect(await reopened.appendAsLeader(idem(24), 0)).toMatchObject({ baseOffset: 24, duplicate: true });
    await expectCode(reopened.appendAsLeader(idem(33), 0), 'OUT_OF_ORDER_SEQUENCE');
    expect(await reopened.appendAsLeader(idem(30), 0)).toMatchObject({ baseOffset: 30, duplicate: false });
    await reopened.close();
    // One snapshot per segment boundary plus the newest close: older close-time ones are replaced.
    const again = await openLog(dir, { config: { segmentBytes: 700 } });
    await again.appendAsLeader(idem(33), 0);
    await again.close();
    const snapshots = (await readdir(dir)).filter((n) => n.endsWith('.snapshot')).map((n) => Number(n.slice(0, 20)));
    expect(snapshots).toEqual([...again.segmentBaseOffsets().slice(1), 36]);
  });

  it('rebuilds producer state after a crash from the last snapshot and the batch headers after it', async () => {
    const log = await openLog(await tempDir(), { config: { segmentBytes: 700 } });
    for (let i = 0; i < 10; i++) await log.appendAsLeader(idem(i * 3), 0);
    await log.appendAsLeader(batch({ producerId: 77, producerEpoch: 3, baseSequence: 0 }), 0);
    expect(log.segmentCount).toBe(2); // a snapshot was taken at the roll; the rest is in the log only
    const crashed = await crashCopy(log);
    await log.close();
    const recovered = await openLog(crashed, { recover: true, config: { segmentBytes: 700 } });
    expect(await recovered.appendAsLeader(idem(27), 0)).toMatchObject({ baseOffset: 27, duplicate: true });
    expect(await recovered.appendAsLeader(batch({ producerId: 77, producerEpoch: 3, baseSequence: 0 }), 0)).toMatchObject({ baseOffset: 30, duplicate: true });
    await expectCode(recovered.appendAsLeader(batch({ producerId: 77, producerEpoch: 2, baseSequence: 3 }), 0), 'INVALID_PRODUCER_EPOCH');
    await recovered.close();
  });
});

describe('flush policy', () => {
  it('fsyncs after flush.messages messages and moves the recovery point', async () => {
    const log = await openLog(await tempDir(), { config: { flushMessages: 6 } });
    await log.appendAsLeader(batch(), 0); // 3 messages; also makes epoch 0 durable (its own fsyncs)
    expect(log.recoveryPoint).toBe(0);
    const probe = await open(join(log.dir, '00000000000000000000.log'), 'r');
    const sync = vi.spyOn(Object.getPrototypeOf(probe) as { sync: () => unknown }, 'sync');
    await probe.close();
    await log.appendAsLeader(batch(), 0); // 6: flush
    expect(sync).toHaveBeenCalledTimes(1);
    expect(log.recoveryPoint).toBe(6);
    await log.appendAsLeader(batch(), 0); // 3 since the flush
    expect(sync).toHaveBeenCalledTimes(1);
    expect(log.recoveryPoint).toBe(6);
    await log.close();
  });

  it('leaves fsync to the page cache by default', async () => {
    const log = await openLog(await tempDir());
    await fill(log, 20);
    expect(log.recoveryPoint).toBe(0);
    await log.close();
  });

  it('fsyncs once the oldest unflushed append is older than flush.ms', async () => {
    const clock = new ManualClock();
    const log = await openLog(await tempDir(), { now: clock.now, config: { flushMs: 1000 } });
    await log.appendAsLeader(batch(), 0);
    clock.advance(999);
    expect(await log.flushIfDue()).toBe(false);
    clock.advance(1);
    expect(await log.flushIfDue()).toBe(true);
    expect(log.recoveryPoint).toBe(3);
    expect(await log.flushIfDue()).toBe(false);
    await log.close();
  });
});

describe('checkpoints', () => {
  it('persists the HW on close and clamps it to the log', async () => {
    const dir = await tempDir();
    const log = await openLog(dir);
    await fill(log, 3);
    log.setHighWatermark(100);
    expect(log.highWatermark).toBe(9);
    log.setHighWatermark(4);
    await log.close();
    expect(await readFile(join(dir, 'log-offsets-checkpoint'), 'utf8')).toBe('0\n3\nhigh-watermark 4\nlog-start-offset 0\nrecovery-point 9\n');
    const reopened = await openLog(dir);
    expect(reopened.highWatermark).toBe(4);
    await reopened.close();
  });

  it('stores the topic id and refuses to open a directory of another topic id', async () => {
    const dir = await tempDir();
    const log = await openLog(dir, { topicId: 'abc' });
    await log.close();
    expect(await readFile(join(dir, 'partition.metadata'), 'utf8')).toBe('version: 0\ntopic_id: abc\n');
    await expectCode(openLog(dir, { topicId: 'xyz' }), 'INVALID_REQUEST');
  });

  it('rejects appends and reads after close', async () => {
    const log = await openLog(await tempDir());
    await log.close();
    await expectCode(log.appendAsLeader(batch(), 0), 'CLOSED');
    await expectCode(log.read(0, { maxBytes: 1 }), 'CLOSED');
  });
});

