import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { SluiceError } from '../../common/errors.ts';
import { OFFSET_INDEX_ENTRY_SIZE, OffsetIndex } from './offset-index.ts';

describe('OffsetIndex', () => {
  it('finds the entry with the largest offset at or below the target', () => {
    const index = new OffsetIndex(100);
    index.append(110, 400);
    index.append(130, 900);
    expect(index.lookup(99)).toEqual({ offset: 100, position: 0 });
    expect(index.lookup(109)).toEqual({ offset: 100, position: 0 });
    expect(index.lookup(110)).toEqual({ offset: 110, position: 400 });
    expect(index.lookup(129)).toEqual({ offset: 110, position: 400 });
    expect(index.lookup(10_000)).toEqual({ offset: 130, position: 900 });
  });

  it('refuses entries that do not increase or do not fit int32', () => {
    const index = new OffsetIndex(0);
    index.append(5, 100);
    expect(() => index.append(5, 200)).toThrow(RangeError);
    expect(() => index.append(6, 100)).toThrow(RangeError);
    expect(() => index.append(2 ** 31, 300)).toThrow(RangeError);
    expect(index.entries).toBe(1);
  });

  it('truncates by offset and by position', () => {
    const index = new OffsetIndex(0);
    for (let i = 1; i <= 5; i++) index.append(i * 10, i * 100);
    index.truncateTo(30);
    expect(index.lastEntry()).toEqual({ offset: 20, position: 200 });
    index.truncateToPosition(200);
    expect(index.lastEntry()).toEqual({ offset: 10, position: 100 });
  });

  it('round-trips through its file form and rejects damaged files', () => {
    const index = new OffsetIndex(1000);
    index.append(1003, 120);
    index.append(1009, 480);
    const bytes = index.toBuffer();
    expect(bytes.length).toBe(2 * OFFSET_INDEX_ENTRY_SIZE);
    expect(OffsetIndex.parse('x.index', bytes, 1000, 600, 1010).lookup(1009)).toEqual({ offset: 1009, position: 480 });
    expect(() => OffsetIndex.parse('x.index', bytes.subarray(0, 12), 1000, 600, 1010)).toThrow(/multiple of 8/);
    expect(() => OffsetIndex.parse('x.index', bytes, 1000, 480, 1010)).toThrow(/past the segment's 480 bytes/);
    expect(() => OffsetIndex.parse('x.index', bytes, 1000, 600, 1005)).toThrow(/past the segment's last offset/);
    const swapped = Buffer.concat([bytes.subarray(8), bytes.subarray(0, 8)]);
    expect(() => OffsetIndex.parse('x.index', swapped, 1000, 600, 1010)).toThrow(SluiceError);
  });

  it('agrees with a linear search for any entries and target (property)', () => {
    fc.assert(
      fc.property(
        fc.uniqueArray(fc.integer({ min: 1, max: 100_000 }), { maxLength: 300 }),
        fc.integer({ min: -10, max: 110_000 }),
        (rels, target) => {
          const sorted = [...rels].sort((a, b) => a - b);
          const base = 5_000;
          const index = new OffsetIndex(base);
          for (const rel of sorted) index.append(base + rel, rel * 7);
          const below = sorted.filter((rel) => base + rel <= base + target);
          const expected = below.length === 0 ? { offset: base, position: 0 } : { offset: base + below.at(-1)!, position: below.at(-1)! * 7 };
          expect(index.lookup(base + target)).toEqual(expected);
        },
      ),
    );
  });
});
