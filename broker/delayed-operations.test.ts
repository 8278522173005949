import { afterEach, describe, expect, it, vi } from 'vitest';
import { DelayedOperationPurgatory, type DelayedOperation } from './delayed-operations.ts';

function op(ready: () => boolean): DelayedOperation & { completed: number; expired: number } {
  const o = {
    completed: 0,
    expired: 0,
    tryComplete(): boolean {
      if (!ready()) return false;
      o.completed++;
      return true;
    },
    onExpire(): void {
      o.expired++;
    },
  };
  return o;
}

describe('DelayedOperationPurgatory', () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  it('completes at once without parking when the operation is ready', () => {
    const p = new DelayedOperationPurgatory(() => {});
    const o = op(() => true);
    expect(p.tryCompleteElseWatch(o, ['a'], 100)).toBeNull();
    expect(o.completed).toBe(1);
    expect(p.watched()).toBe(0);
  });

  it('completes a parked operation when one of its keys is checked, exactly once', () => {
    const p = new DelayedOperationPurgatory(() => {});
    let ready = false;
    const o = op(() => ready);
    p.tryCompleteElseWatch(o, ['a', 'b'], 10_000);
    expect(p.checkAndComplete('a')).toBe(0);
    ready = true;
    expect(p.checkAndComplete('b')).toBe(1);
    expect(p.checkAndComplete('a')).toBe(0);
    expect(o.completed).toBe(1);
    expect(p.watched('a')).toBe(0);
    expect(p.watched('b')).toBe(0);
  });

  it('expires after the timeout and not again afterwards', () => {
    vi.useFakeTimers();
    const p = new DelayedOperationPurgatory(() => {});
    const o = op(() => false);
    p.tryCompleteElseWatch(o, ['a'], 50);
    vi.advanceTimersByTime(49);
    expect(o.expired).toBe(0);
    vi.advanceTimersByTime(1);
    expect(o.expired).toBe(1);
    expect(p.watched()).toBe(0);
    vi.advanceTimersByTime(1000);
    expect(o.expired).toBe(1);
  });

  it('drops a cancelled operation without answering it', () => {
    vi.useFakeTimers();
    const p = new DelayedOperationPurgatory(() => {});
    let ready = false;
    const o = op(() => ready);
    const handle = p.tryCompleteElseWatch(o, ['a'], 50);
    expect(handle).not.toBeNull();
    p.cancel(handle!);
    ready = true;
    p.checkAndComplete('a');
    vi.advanceTimersByTime(100);
    expect(o.completed).toBe(0);
    expect(o.expired).toBe(0);
  });

  it('close answers everything parked, including operations without a deadline, and parks nothing after', () => {
    const p = new DelayedOperationPurgatory(() => {});
    const a = op(() => false);
    const b = op(() => false);
    p.tryCompleteElseWatch(a, ['a'], 10_000);
    p.tryCompleteElseWatch(b, ['b']);
    p.close();
    expect([a.expired, b.expired]).toEqual([1, 1]);
    expect(p.watched()).toBe(0);
    const late = op(() => false);
    expect(p.tryCompleteElseWatch(late, ['a'], 10_000)).toBeNull();
    expect(late.expired).toBe(1);
  });

  it('reports and drops an operation whose check throws, and keeps serving others', () => {
    const errors: unknown[] = [];
    const p = new DelayedOperationPurgatory((err) => errors.push(err));
    let armed = false;
    const bad: DelayedOperation = {
      tryComplete: () => {
        if (armed) throw new Error('boom');
        return false;
      },
      onExpire: () => {},
    };
    let ready = false;
    const good = op(() => ready);
    p.tryCompleteElseWatch(bad, ['a'], 10_000);
    p.tryCompleteElseWatch(good, ['a'], 10_000);
    armed = true;
    ready = true;
    p.checkAndComplete('a');
    expect(errors).toHaveLength(1);
    expect(good.completed).toBe(1);
    expect(p.watched()).toBe(0);
  });
});
