import { describe, expect, it } from 'vitest';
import { InFlightWindow } from './in-flight-window.ts';

function deferred(): { promise: Promise<void>; resolve: () => void; reject: (e: Error) => void } {
  let resolve!: () => void;
  let reject!: (e: Error) => void;
  const promise = new Promise<void>((res, rej) => { resolve = res; reject = rej; });
  return { promise, resolve, reject };
}

const tick = () => new Promise((r) => setImmediate(r));

describe('InFlightWindow', () => {
  it('admits up to the limit and lets the next one in when any settles, failed or not', async () => {
    const w = new InFlightWindow(2);
    const a = deferred();
    const b = deferred();
    await w.admit();
    w.track(a.promise);
    await w.admit();
    w.track(b.promise.catch(() => undefined));
    let admitted = false;
    void w.admit().then(() => { admitted = true; });
    await tick();
    expect(admitted).toBe(false);
    expect(w.inFlight).toBe(2);
    b.reject(new Error('nope'));
    await tick();
    expect(admitted).toBe(true);
    expect(w.inFlight).toBe(1);
  });

  it('drains once nothing is in flight', async () => {
    const w = new InFlightWindow(10);
    const a = deferred();
    w.track(a.promise);
    let drained = false;
    void w.drain().then(() => { drained = true; });
    await tick();
    expect(drained).toBe(false);
    a.resolve();
    await tick();
    expect(drained).toBe(true);
    await w.drain();
  });

  it('counts enter() and leave() like track(), and wakes waiters only at resumeAt', async () => {
    const w = new InFlightWindow(4, { resumeAt: 1 });
    for (let i = 0; i < 4; i++) w.enter();
    expect(w.hasRoom).toBe(false);
    let admitted = false;
    void w.admit().then(() => { admitted = true; });
    w.leave();
    w.leave();
    await tick();
    // Room for two, but the waiter sleeps until the count is down to resumeAt.
    expect(w.hasRoom).toBe(true);
    expect(admitted).toBe(false);
    w.leave();
    await tick();
    expect(admitted).toBe(true);
    let drained = false;
    void w.drain().then(() => { drained = true; });
    w.leave();
    await tick();
    expect(drained).toBe(true);
  });

  it('refuses a limit below one, and a resumeAt outside [0, limit)', () => {
    expect(() => new InFlightWindow(0)).toThrow(RangeError);
    expect(() => new InFlightWindow(4, { resumeAt: 4 })).toThrow(RangeError);
    expect(() => new InFlightWindow(4, { resumeAt: -1 })).toThrow(RangeError);
  });
});
