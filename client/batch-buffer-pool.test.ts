import { describe, expect, it } from 'vitest';
import { BatchBufferPool } from './batch-buffer-pool.ts';

describe('BatchBufferPool', () => {
  it('hands a returned buffer out again instead of allocating', () => {
    const pool = new BatchBufferPool(1000, 10_000);
    const a = pool.take(900)!;
    expect(a.length).toBe(1000);
    pool.give(a);
    expect(pool.take(600)).toBe(a);
    expect(pool.take(600)).not.toBe(a);
  });

  it('has nothing for a batch larger than a buffer or filling less than half of one', () => {
    const pool = new BatchBufferPool(1000, 10_000);
    expect(pool.take(1001)).toBeUndefined();
    expect(pool.take(499)).toBeUndefined();
    expect(pool.take(500)).toBeDefined();
  });

  it('keeps at most maxFreeBytes of free buffers, and none after clear()', () => {
    const pool = new BatchBufferPool(1000, 2_500);
    const taken = [pool.take(1000)!, pool.take(1000)!, pool.take(1000)!];
    for (const b of taken) pool.give(b);
    expect(pool.freeCount).toBe(2);
    pool.give(Buffer.alloc(999));
    expect(pool.freeCount).toBe(2);
    pool.clear();
    expect(pool.freeCount).toBe(0);
    expect(new BatchBufferPool(1000, 999).take(1000)).toBeUndefined();
  });
});
