import { afterEach, describe, expect, it, vi } from 'vitest';
import fc from 'fast-check';
import { isSluiceError } from '../common/errors.ts';
import {
  createDefaultPartitioner,
  createRoundRobinPartitioner,
  kafkaPartitionForKey,
  murmur2,
  partitioners,
  toPositive,
} from './partitioner.ts';

afterEach(() => {
  vi.restoreAllMocks();
});

describe('murmur2', () => {
  // Apache Kafka clients/src/test/java/org/apache/kafka/common/utils/UtilsTest.java, testMurmur2.
  it.each([
    ['21', -973932308],
    ['foobar', -790332482],
    ['a-little-bit-long-string', -985981536],
    ['a-little-bit-longer-string', -1486304829],
    ['lkjh234lh9fiuh90y23oiuhsafujhadof229phr9h19h89h8', -58897971],
    ['abc', 479470107],
  ])('hashes %j exactly as Kafka does', (key, expected) => {
    expect(murmur2(Buffer.from(key))).toBe(expected);
  });

  // Kafka's vectors never end with a 1-byte tail, nor use bytes >= 0x80 (sign-extended in Java's
  // byte[] until masked). These come from a line-by-line Python port of Utils.murmur2 with
  // explicit 32-bit wrapping, which reproduces all of Kafka's vectors above.
  it.each([
    [Buffer.from('a'), -1563381124],
    [Buffer.from('hello'), 2132663229],
    [Buffer.alloc(0), 275646681],
    [Buffer.alloc(5, 0xff), -363838622],
  ])('hashes %o with a 1-byte tail or high bytes as Kafka does', (key, expected) => {
    expect(murmur2(key)).toBe(expected);
  });

  it('returns a signed 32-bit integer for any key', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 64 }), (bytes) => {
        const h = murmur2(Buffer.from(bytes));
        expect(h).toBe(h | 0);
      }),
    );
  });
});

describe('kafkaPartitionForKey', () => {
  it('is toPositive(murmur2) mod the partition count, like the Kafka Java client', () => {
    // murmur2('foobar') = -790332482; & 0x7fffffff = 1357151166.
    expect(toPositive(-790332482)).toBe(1357151166);
    expect(kafkaPartitionForKey(Buffer.from('foobar'), 10)).toBe(6);
    expect(kafkaPartitionForKey(Buffer.from('abc'), 7)).toBe(479470107 % 7);
    // Math.abs would overflow here; toPositive clears the sign bit instead.
    expect(toPositive(-2147483648)).toBe(0);
  });

  it('always lands in range and is stable for a key', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 40 }), fc.integer({ min: 1, max: 1000 }), (bytes, n) => {
        const p = kafkaPartitionForKey(Buffer.from(bytes), n);
        expect(p).toBeGreaterThanOrEqual(0);
        expect(p).toBeLessThan(n);
        expect(kafkaPartitionForKey(Buffer.from(bytes), n)).toBe(p);
      }),
    );
  });

  it('rejects a partition count that is not a positive integer', () => {
    for (const n of [0, -1, 1.5, Number.NaN]) {
      try {
        kafkaPartitionForKey(Buffer.from('k'), n);
        expect.unreachable();
      } catch (err) {
        expect(isSluiceError(err, 'INVALID_PARTITIONS')).toBe(true);
      }
    }
  });
});

describe('default partitioner', () => {
  it('sends keyed records to their murmur2 partition', () => {
    const p = createDefaultPartitioner();
    expect(p.partition('t', Buffer.from('foobar'), 10)).toBe(6);
    p.onNewBatch!('t', 10, 6);
    expect(p.partition('t', Buffer.from('foobar'), 10)).toBe(6);
  });

  it('keeps unkeyed records on one partition until its batch is closed, then moves to another', () => {
    // Seeded so that "every partition is eventually used" cannot flake.
    let seed = 42;
    vi.spyOn(Math, 'random').mockImplementation(() => {
      seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
      return seed / 2 ** 32;
    });
    const p = createDefaultPartitioner();
    const first = p.partition('t', null, 8);
    for (let i = 0; i < 100; i++) expect(p.partition('t', null, 8)).toBe(first);
    let current = first;
    const seen = new Set([first]);
    for (let i = 0; i < 200; i++) {
      p.onNewBatch!('t', 8, current);
      const next = p.partition('t', null, 8);
      expect(next).not.toBe(current);
      expect(next).toBeGreaterThanOrEqual(0);
      expect(next).toBeLessThan(8);
      current = next;
      seen.add(next);
    }
    expect(seen.size).toBe(8);
  });

  it('ignores a late onNewBatch about a partition it has already left', () => {
    const p = createDefaultPartitioner();
    const first = p.partition('t', null, 4);
    p.onNewBatch!('t', 4, first);
    const second = p.partition('t', null, 4);
    p.onNewBatch!('t', 4, first);
    expect(p.partition('t', null, 4)).toBe(second);
  });

  it('is sticky per topic', () => {
    const random = vi.spyOn(Math, 'random');
    random.mockReturnValueOnce(0.1).mockReturnValueOnce(0.9);
    const p = createDefaultPartitioner();
    expect(p.partition('a', null, 10)).toBe(1);
    expect(p.partition('b', null, 10)).toBe(9);
    expect(p.partition('a', null, 10)).toBe(1);
  });

  it('re-picks when the partition count no longer covers the sticky choice', () => {
    vi.spyOn(Math, 'random').mockReturnValueOnce(0.95).mockReturnValueOnce(0.5);
    const p = createDefaultPartitioner();
    expect(p.partition('t', null, 20)).toBe(19);
    expect(p.partition('t', null, 4)).toBe(2);
  });

  it('stays on the only partition of a single-partition topic', () => {
    const p = createDefaultPartitioner();
    expect(p.partition('t', null, 1)).toBe(0);
    p.onNewBatch!('t', 1, 0);
    expect(p.partition('t', null, 1)).toBe(0);
  });

  it('is what partitioners.default and partitioners.murmur2 build', () => {
    for (const make of [partitioners.default, partitioners.murmur2]) {
      const p = make();
      expect(p.partition('t', Buffer.from('abc'), 7)).toBe(479470107 % 7);
      const sticky = p.partition('t', null, 5);
      expect(p.partition('t', null, 5)).toBe(sticky);
    }
  });
});

describe('round-robin partitioner', () => {
  it('cycles through partitions per topic and ignores keys', () => {
    const p = partitioners.roundRobin();
    const got = Array.from({ length: 7 }, () => p.partition('a', Buffer.from('same-key'), 3));
    expect(got).toEqual([0, 1, 2, 0, 1, 2, 0]);
    expect(p.partition('b', null, 3)).toBe(0);
    expect(p.partition('a', null, 3)).toBe(1);
  });

  it('stays in range when the partition count changes', () => {
    const p = createRoundRobinPartitioner();
    p.partition('t', null, 10);
    p.partition('t', null, 10);
    expect(p.partition('t', null, 2)).toBe(0);
    expect(p.partition('t', null, 2)).toBe(1);
  });
});
