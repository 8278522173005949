// A full disk, for real: the log lives on a 512 KiB tmpfs (the tests run as root) that a
// filler file fills up. An append that cannot be written must fail alone, leave no partial
// batch in the segment, and the log must take appends again once space is back.
import { execFileSync } from 'node:child_process';
import { open, rm, stat, truncate } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { batch, offsetsIn, openLog, removeTempDirs, tempDir } from './log-test-fixtures.ts';

let mountPoint: string;

beforeAll(async () => {
  mountPoint = await tempDir('sluice-enospc-');
  execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=512k', 'tmpfs', mountPoint]);
});

afterAll(async () => {
  execFileSync('umount', [mountPoint]);
  await removeTempDirs();
});

/** Writes a file until the file system refuses; returns its path. */
async function fillDisk(dir: string): Promise<string> {
  const path = join(dir, 'filler');
  const handle = await open(path, 'w');
  const chunk = Buffer.alloc(16 * 1024, 0xaa);
  try {
    for (;;) {
      const { bytesWritten } = await handle.write(chunk);
      if (bytesWritten < chunk.length) break;
    }
  } catch (err) {
    expect((err as NodeJS.ErrnoException).code).toBe('ENOSPC');
  } finally {
    await handle.close();
  }
  return path;
}

describe('full disk', () => {
  it('fails the append with STORAGE_ERROR, keeps the log intact, and appends again once space is free', async () => {
    const dir = join(mountPoint, 'orders-0');
    const log = await openLog(dir);
    for (let i = 0; i < 5; i++) await log.appendAsLeader(batch({ records: 3, valueBytes: 3000 }), 0);
    const segment = join(dir, '00000000000000000000.log');
    const sizeBefore = (await stat(segment)).size;
    const filler = await fillDisk(mountPoint);

    // Every request of a group that hits the full disk fails; none of it stays in the file.
    const results = await Promise.allSettled(Array.from({ length: 4 }, () => log.appendAsLeader(batch({ records: 4, valueBytes: 4000 }), 0)));
    for (const r of results) expect(r).toMatchObject({ status: 'rejected', reason: { code: 'STORAGE_ERROR', details: { topic: 'orders', partition: 0 } } });
    expect(log.logEndOffset).toBe(15);
    expect((await stat(segment)).size).toBe(sizeBefore);
    expect(offsetsIn(await log.read(0, { maxBytes: 1 << 20 }))).toEqual(Array.from({ length: 15 }, (_, i) => i));

    // Some space, less than the request: the write gets part-way before ENOSPC.
    const fillerSize = (await stat(filler)).size;
    await truncate(filler, fillerSize - 24 * 1024);
    await expect(log.appendAsLeader(batch({ records: 10, valueBytes: 4000 }), 0)).rejects.toMatchObject({ code: 'STORAGE_ERROR' });
    expect((await stat(segment)).size).toBe(sizeBefore);
    expect(log.logEndOffset).toBe(15);
    // The partial bytes were given back, so a request that fits goes through.
    expect(await log.appendAsLeader(batch({ records: 2, valueBytes: 2000, tag: 'fits' }), 0)).toMatchObject({ baseOffset: 15, lastOffset: 16 });

    await rm(filler);
    expect(await log.appendAsLeader(batch({ records: 4, valueBytes: 4000 }), 0)).toMatchObject({ baseOffset: 17, lastOffset: 20 });
    expect(offsetsIn(await log.read(0, { maxBytes: 1 << 20 }))).toEqual(Array.from({ length: 21 }, (_, i) => i));
    await log.close();

    const reopened = await openLog(dir);
    expect(reopened.logEndOffset).toBe(21);
    await reopened.close();
  });
});
