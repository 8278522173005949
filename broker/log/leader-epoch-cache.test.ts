import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { LeaderEpochCache, leaderEpochCheckpointFile } from './leader-epoch-cache.ts';
import { removeTempDirs, silent, tempDir } from './log-test-fixtures.ts';

afterAll(removeTempDirs);

function cache(entries: [number, number][], leo = 100): LeaderEpochCache {
  return new LeaderEpochCache({ file: null, logEndOffset: () => leo, logger: silent, entries: entries.map(([epoch, startOffset]) => ({ epoch, startOffset })) });
}

const pairs = (c: LeaderEpochCache): [number, number][] => c.entries().map((e) => [e.epoch, e.startOffset]);

describe('LeaderEpochCache', () => {
  it('assigns new epochs and ignores re-assignment of the latest at a later offset', () => {
    const c = cache([]);
    expect(c.latestEpoch()).toBe(-1);
    c.assign(1, 0);
    c.assign(1, 10);
    c.assign(3, 20);
    expect(pairs(c)).toEqual([[1, 0], [3, 20]]);
    expect(c.latestEpoch()).toBe(3);
    expect(c.epochForOffset(19)).toBe(1);
    expect(c.epochForOffset(20)).toBe(3);
  });

  it('moves the latest epoch start earlier and drops entries a non-monotonic assignment contradicts', () => {
    const c = cache([[1, 0], [3, 20]]);
    c.assign(3, 15);
    expect(pairs(c)).toEqual([[1, 0], [3, 15]]);
    c.assign(2, 10);
    expect(pairs(c)).toEqual([[1, 0], [2, 10]]);
    c.assign(4, 5);
    expect(pairs(c)).toEqual([[1, 0], [4, 5]]);
  });

  it('answers OffsetsForLeaderEpoch like Kafka', () => {
    const c = cache([[2, 10], [4, 30], [7, 50]], 80);
    expect(c.endOffsetFor(7)).toEqual({ epoch: 7, endOffset: 80 }); // latest: the log end
    expect(c.endOffsetFor(4)).toEqual({ epoch: 4, endOffset: 50 });
    expect(c.endOffsetFor(5)).toEqual({ epoch: 4, endOffset: 50 }); // unknown epoch between: the one before it
    expect(c.endOffsetFor(1)).toEqual({ epoch: 1, endOffset: 10 }); // older than all: start of the first
    expect(c.endOffsetFor(8)).toEqual({ epoch: -1, endOffset: -1 }); // newer than all
    expect(c.endOffsetFor(-1)).toEqual({ epoch: -1, endOffset: -1 });
    expect(cache([]).endOffsetFor(0)).toEqual({ epoch: -1, endOffset: -1 });
  });

  it('truncates from the end (log truncation) and from the start (retention)', () => {
    const c = cache([[2, 10], [4, 30], [7, 50]]);
    c.truncateFromEnd(30);
    expect(pairs(c)).toEqual([[2, 10]]);
    const d = cache([[2, 10], [4, 30], [7, 50]]);
    d.truncateFromStart(40);
    expect(pairs(d)).toEqual([[4, 40], [7, 50]]);
    d.truncateFromStart(50);
    expect(pairs(d)).toEqual([[7, 50]]);
    d.truncateFromStart(10);
    expect(pairs(d)).toEqual([[7, 50]]);
  });

  it('persists every change in Kafka\'s checkpoint format and refuses damaged files', async () => {
    const dir = await tempDir();
    const path = join(dir, 'leader-epoch-checkpoint');
    const c = new LeaderEpochCache({ file: leaderEpochCheckpointFile(path), logEndOffset: () => 0, logger: silent });
    c.assign(0, 0);
    c.assign(5, 12);
    await c.flush();
    expect(await readFile(path, 'utf8')).toBe('0\n2\n0 0\n5 12\n');
    expect(await LeaderEpochCache.readCheckpoint(leaderEpochCheckpointFile(path))).toEqual([{ epoch: 0, startOffset: 0 }, { epoch: 5, startOffset: 12 }]);
    for (const garbage of ['0\n2\n0 0\n', '0\n1\n5\n', '0\n2\n5 10\n3 20\n', '1\n0\n', 'x']) {
      await writeFile(path, garbage);
      await expect(LeaderEpochCache.readCheckpoint(leaderEpochCheckpointFile(path))).rejects.toMatchObject({ code: 'STORAGE_ERROR' });
    }
  });
});
