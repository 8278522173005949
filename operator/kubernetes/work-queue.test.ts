import { describe, expect, it } from 'vitest';
import { silentLogger } from '../../common/logger.ts';
import { FakeClock } from '../local/fake-clock.ts';
import { WorkQueue, type ReconcileResult } from './work-queue.ts';

/** A handler whose runs a test completes by hand. */
function manualHandler() {
  const runs: { key: string; done: (r?: ReconcileResult) => void; fail: (e: Error) => void }[] = [];
  const handler = (key: string) =>
    new Promise<ReconcileResult | void>((resolve, reject) => {
      runs.push({ key, done: resolve, fail: reject });
    });
  return { runs, handler };
}

const tick = () => new Promise((r) => setImmediate(r));

describe('WorkQueue', () => {
  it('collapses repeated adds of a waiting key into one run', async () => {
    const clock = new FakeClock();
    const { runs, handler } = manualHandler();
    const q = new WorkQueue({ handler, clock, logger: silentLogger(), concurrency: 1 });
    q.add('a');
    q.add('b');
    q.add('b');
    q.add('b');
    expect(runs.map((r) => r.key)).toEqual(['a']);
    runs[0]!.done();
    await tick();
    expect(runs.map((r) => r.key)).toEqual(['a', 'b']);
    runs[1]!.done();
    await tick();
    expect(runs).toHaveLength(2);
    await q.stop();
  });

  it('never runs one key twice at once, and runs it again when it was added while running', async () => {
    const clock = new FakeClock();
    const { runs, handler } = manualHandler();
    const q = new WorkQueue({ handler, clock, logger: silentLogger(), concurrency: 4 });
    q.add('a');
    q.add('a');
    q.add('b');
    expect(runs.map((r) => r.key)).toEqual(['a', 'b']);
    q.add('a');
    q.add('a');
    await tick();
    expect(runs.map((r) => r.key)).toEqual(['a', 'b']);
    runs[0]!.done();
    await tick();
    expect(runs.map((r) => r.key)).toEqual(['a', 'b', 'a']);
    runs[2]!.done();
    runs[1]!.done();
    await tick();
    expect(runs).toHaveLength(3);
    await q.stop();
  });

  it('retries a failing key with exponential backoff, capped, and resets after a success', async () => {
    const clock = new FakeClock();
    const { runs, handler } = manualHandler();
    const q = new WorkQueue({ handler, clock, logger: silentLogger(), baseDelayMs: 100, maxDelayMs: 350 });
    q.add('a');
    const failNext = async () => {
      runs.at(-1)!.fail(new Error('boom'));
      await tick();
    };
    await failNext(); // retry in 100
    clock.advance(99);
    expect(runs).toHaveLength(1);
    clock.advance(1);
    expect(runs).toHaveLength(2);
    await failNext(); // 200
    clock.advance(199);
    expect(runs).toHaveLength(2);
    clock.advance(1);
    expect(runs).toHaveLength(3);
    await failNext(); // 400 capped to 350
    expect(q.failures('a')).toBe(3);
    clock.advance(349);
    expect(runs).toHaveLength(3);
    clock.advance(1);
    expect(runs).toHaveLength(4);
    runs.at(-1)!.done();
    await tick();
    expect(q.failures('a')).toBe(0);
    q.add('a');
    await failNext(); // back to 100
    clock.advance(100);
    expect(runs).toHaveLength(6);
    runs.at(-1)!.done();
    await q.stop();
  });

  it('runs a key again after the delay a reconcile asks for, and an add meanwhile runs it at once', async () => {
    const clock = new FakeClock();
    const { runs, handler } = manualHandler();
    const q = new WorkQueue({ handler, clock, logger: silentLogger() });
    q.add('a');
    runs[0]!.done({ requeueAfterMs: 1000 });
    await tick();
    clock.advance(999);
    expect(runs).toHaveLength(1);
    clock.advance(1);
    expect(runs).toHaveLength(2);
    runs[1]!.done({ requeueAfterMs: 1000 });
    await tick();
    q.add('a');
    expect(runs).toHaveLength(3);
    runs[2]!.done();
    await tick();
    clock.advance(5000);
    // The add replaced the delayed run.
    expect(runs).toHaveLength(3);
    await q.stop();
  });

  it('stop() waits for running reconciles and drops the rest', async () => {
    const clock = new FakeClock();
    const { runs, handler } = manualHandler();
    const q = new WorkQueue({ handler, clock, logger: silentLogger(), concurrency: 1 });
    q.add('a');
    q.add('b');
    q.addAfter('c', 10);
    let stopped = false;
    const stopping = q.stop().then(() => {
      stopped = true;
    });
    await tick();
    expect(stopped).toBe(false);
    runs[0]!.done();
    await stopping;
    clock.advance(100);
    q.add('d');
    expect(runs.map((r) => r.key)).toEqual(['a']);
    expect(clock.pendingTimers).toBe(0);
  });
});
