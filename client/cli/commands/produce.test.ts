import { describe, expect, it } from 'vitest';
import { splitLine, summaryText } from './produce.ts';

describe('splitLine', () => {
  it('splits at the first separator only, so values may contain it', () => {
    expect(splitLine('user-1:{"a":"b:c"}', ':')).toEqual({ key: 'user-1', value: '{"a":"b:c"}' });
    expect(splitLine(':value', ':')).toEqual({ key: '', value: 'value' });
    expect(splitLine('k=>v', '=>')).toEqual({ key: 'k', value: 'v' });
  });

  it('takes the whole line as the value without a separator, and refuses a line that lacks it', () => {
    expect(splitLine('a:b', undefined)).toEqual({ value: 'a:b' });
    expect(splitLine('no separator here', ':')).toBeNull();
  });
});

describe('summaryText', () => {
  it('counts per partition in partition order and mentions failures', () => {
    expect(summaryText({ topic: 't', records: 5, acked: 4, failed: 1, partitions: { 10: 1, 2: 3 } }))
      .toBe('4 of 5 records acknowledged by topic "t", 1 failed (per partition: 2: 3, 10: 1)');
  });
});
