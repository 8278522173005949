import { describe, expect, it } from 'vitest';
import { UsageError } from './cli-errors.ts';
import { CatchUpTracker, formatRecordJson, formatRecordText, resolveStart, type PrintableRecord } from './consume-plan.ts';

describe('resolveStart', () => {
  it('starts at the end and follows by default, like kafka-console-consumer', () => {
    expect(resolveStart({})).toEqual({ start: { kind: 'end' }, follow: true });
    expect(resolveStart({ offset: 'latest', partition: 0 })).toEqual({ start: { kind: 'end' }, follow: true });
  });

  it('stops at the end for the replay positions unless --follow', () => {
    expect(resolveStart({ fromBeginning: true })).toEqual({ start: { kind: 'beginning' }, follow: false });
    expect(resolveStart({ fromBeginning: true, follow: true }).follow).toBe(true);
    expect(resolveStart({ offset: 7, partition: 2 })).toEqual({ start: { kind: 'offset', offset: 7 }, follow: false });
    expect(resolveStart({ offset: 'earliest', partition: 2 }).start).toEqual({ kind: 'beginning' });
    expect(resolveStart({ fromTimestamp: 1000 })).toEqual({ start: { kind: 'timestamp', timestamp: 1000 }, follow: false });
  });

  it('refuses conflicting positions and an offset without a partition', () => {
    expect(() => resolveStart({ fromBeginning: true, fromTimestamp: 5 })).toThrow(UsageError);
    expect(() => resolveStart({ offset: 5 })).toThrow(/--offset needs --partition/);
  });
});

describe('CatchUpTracker', () => {
  it('is caught up once every partition reached the end it had at start', () => {
    const t = new CatchUpTracker([{ partition: 0, next: 0, end: 2 }, { partition: 1, next: 5, end: 5 }, { partition: 2, next: 3, end: 4 }]);
    expect(t.behind).toEqual([0, 2]);
    t.consumed(0, 0);
    t.consumed(2, 3);
    expect(t.caughtUp).toBe(false);
    expect(t.behind).toEqual([0]);
    // Compaction can leave gaps: the last record below the end may have a higher offset than expected.
    t.consumed(0, 9);
    expect(t.caughtUp).toBe(true);
  });

  it('is caught up at once when there is nothing to read', () => {
    expect(new CatchUpTracker([]).caughtUp).toBe(true);
    expect(new CatchUpTracker([{ partition: 0, next: 10, end: 10 }]).caughtUp).toBe(true);
  });
});

describe('record formatting', () => {
  const r: PrintableRecord = {
    topic: 't', partition: 2, offset: 41, timestamp: 1700000000000,
    key: Buffer.from('user-1'), value: Buffer.from('{"a":1}'), headers: [{ key: 'h', value: Buffer.from('v') }],
  };

  it('prints the value, with partition, offset and key when asked, tab-separated', () => {
    expect(formatRecordText(r, {})).toBe('{"a":1}');
    expect(formatRecordText(r, { printKey: true, printOffset: true })).toBe('2\t41\tuser-1\t{"a":1}');
    expect(formatRecordText({ ...r, key: null, value: null }, { printKey: true })).toBe('null\tnull');
  });

  it('prints one JSON object per record', () => {
    expect(JSON.parse(formatRecordJson(r))).toEqual({
      topic: 't', partition: 2, offset: 41, timestamp: 1700000000000, key: 'user-1', value: '{"a":1}', headers: [{ key: 'h', value: 'v' }],
    });
  });
});
