import { readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { CheckpointFile, parseCheckpoint, writeFileAtomically } from './checkpoint-file.ts';
import { removeTempDirs, tempDir } from './log-test-fixtures.ts';

afterAll(removeTempDirs);

describe('checkpoint files', () => {
  it('replaces a file atomically and leaves no tmp file behind', async () => {
    const dir = await tempDir();
    const path = join(dir, 'file');
    await writeFileAtomically(path, 'one');
    await writeFileAtomically(path, 'two');
    expect(await readFile(path, 'utf8')).toBe('two');
    expect(await readdir(dir)).toEqual(['file']);
  });

  it('coalesces bursts of writes and always ends with the newest content', async () => {
    const dir = await tempDir();
    const file = new CheckpointFile(join(dir, 'cp'), 0);
    await Promise.all(Array.from({ length: 20 }, (_, i) => file.write([`entry ${i}`])));
    expect(await file.read()).toEqual(['entry 19']);
  });

  it('reads null for a missing file and STORAGE_ERROR for a damaged one', async () => {
    const dir = await tempDir();
    const file = new CheckpointFile(join(dir, 'cp'), 0);
    expect(await file.read()).toBeNull();
    await writeFile(file.path, '0\n3\na\nb\n');
    await expect(file.read()).rejects.toMatchObject({ code: 'STORAGE_ERROR' });
  });

  it('parses only the exact layout', () => {
    expect(parseCheckpoint('0\n2\na\nb\n', 0, 'p')).toEqual(['a', 'b']);
    expect(parseCheckpoint('0\n0\n', 0, 'p')).toEqual([]);
    for (const bad of ['', '0\n', '1\n0\n', '0\n-1\n', '0\nx\n', '0\n1\n']) expect(() => parseCheckpoint(bad, 0, 'p')).toThrow(/is corrupt/);
  });
});
