import { describe, expect, it } from 'vitest';
import { SluiceError } from '../../common/errors.ts';
import { UsageError, describeFailure } from './cli-errors.ts';

describe('describeFailure', () => {
  it('names the Sluice code and says what to do', () => {
    expect(describeFailure(new SluiceError('TOPIC_ALREADY_EXISTS', 'topic "orders" already exists'))).toBe(
      'error [TOPIC_ALREADY_EXISTS]: topic "orders" already exists\n' +
        'hint: see it with `sluice topic describe NAME`; change it with `sluice topic alter`, or use `sluice apply -f` to create-or-update',
    );
  });

  it('gives the valid range for OFFSET_OUT_OF_RANGE', () => {
    const text = describeFailure(new SluiceError('OFFSET_OUT_OF_RANGE', 'offset 90 is out of range', { logStartOffset: 10, logEndOffset: 50 }));
    expect(text).toContain('hint: start from an offset between 10 (the oldest retained record) and 50');
  });

  it('points an unreachable cluster at sluice dev and the bootstrap flag', () => {
    expect(describeFailure(new SluiceError('BROKER_NOT_AVAILABLE', 'broker unreachable'))).toContain('Start one with `sluice dev`');
  });

  it('recognizes a SluiceError from another copy of the library by its shape', () => {
    const foreign = Object.assign(new Error('no leader'), { name: 'SluiceError', code: 'LEADER_NOT_AVAILABLE' });
    expect(describeFailure(foreign)).toMatch(/^error \[LEADER_NOT_AVAILABLE\]: no leader\nhint: a leader election/);
  });

  it('prints usage errors and other errors without a code', () => {
    expect(describeFailure(new UsageError('--partitions is required'))).toBe('error: --partitions is required\n(run with --help for usage)');
    expect(describeFailure(new Error('ENOENT: no such file'))).toBe('error: ENOENT: no such file');
    expect(describeFailure('boom')).toBe('error: boom');
  });
});
