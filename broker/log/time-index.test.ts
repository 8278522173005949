import { describe, expect, it } from 'vitest';
import { TimeIndex } from './time-index.ts';

describe('TimeIndex', () => {
  it('only appends when the timestamp grows', () => {
    const index = new TimeIndex(50);
    expect(index.maybeAppend(1000, 52)).toBe(true);
    expect(index.maybeAppend(1000, 55)).toBe(false);
    expect(index.maybeAppend(900, 57)).toBe(false);
    expect(index.maybeAppend(2_000_000_000_000, 60)).toBe(true);
    expect(index.entries).toBe(2);
    expect(index.lastEntry()).toEqual({ timestamp: 2_000_000_000_000, offset: 60 });
  });

  it('looks up the newest entry strictly older than a target', () => {
    const index = new TimeIndex(0);
    index.maybeAppend(100, 5);
    index.maybeAppend(200, 9);
    expect(index.lookupBefore(100)).toBeNull();
    expect(index.lookupBefore(101)).toEqual({ timestamp: 100, offset: 5 });
    expect(index.lookupBefore(200)).toEqual({ timestamp: 100, offset: 5 });
    expect(index.lookupBefore(5000)).toEqual({ timestamp: 200, offset: 9 });
  });

  it('truncates entries at or past an offset', () => {
    const index = new TimeIndex(0);
    index.maybeAppend(100, 5);
    index.maybeAppend(200, 9);
    index.truncateTo(9);
    expect(index.lastEntry()).toEqual({ timestamp: 100, offset: 5 });
  });

  it('round-trips through its file form and rejects damaged files', () => {
    const index = new TimeIndex(10);
    index.maybeAppend(100, 12);
    index.maybeAppend(300, 15);
    const bytes = index.toBuffer();
    expect(TimeIndex.parse('t', bytes, 10, 20).lastEntry()).toEqual({ timestamp: 300, offset: 15 });
    expect(() => TimeIndex.parse('t', bytes.subarray(0, 13), 10, 20)).toThrow(/multiple of 12/);
    expect(() => TimeIndex.parse('t', bytes, 10, 14)).toThrow(/past the segment's last offset/);
    expect(() => TimeIndex.parse('t', Buffer.concat([bytes.subarray(12), bytes.subarray(0, 12)]), 10, 20)).toThrow(/does not increase/);
  });
});
