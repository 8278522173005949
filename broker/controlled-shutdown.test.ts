import { describe, expect, it } from 'vitest';
import { silentLogger } from '../common/logger.ts';
import { CONTROLLED_SHUTDOWN_RETRY_MS, movableLeaderships, runControlledShutdown, type ControlledShutdownDeps } from './controlled-shutdown.ts';

describe('movableLeaderships', () => {
  it('counts the leaderships another live in-sync replica could take', () => {
    const alive = (id: number): boolean => id !== 2;
    expect(movableLeaderships([{ isr: [0] }, { isr: [0, 1] }, { isr: [0, 2] }, { isr: [2, 0, 1] }], 0, alive)).toBe(2);
    expect(movableLeaderships([], 0, alive)).toBe(0);
  });
});

/** A fake clock: sleeping moves it, so bounds are checked without waiting. */
function deps(answers: (number | Error)[], movable: number[], timeoutMs = 5_000): ControlledShutdownDeps & { asked: number } {
  let now = 0;
  const d = {
    asked: 0,
    ask: async () => {
      const a = answers[Math.min(d.asked++, answers.length - 1)]!;
      if (a instanceof Error) throw a;
      return a;
    },
    movable: () => movable[Math.min(d.asked - 1, movable.length - 1)]!,
    timeoutMs,
    logger: silentLogger(),
    now: () => now,
    sleep: async (ms: number) => {
      now += ms;
    },
  };
  return d;
}

describe('runControlledShutdown', () => {
  it('stops asking once the controller reports no leadership left', async () => {
    const d = deps([2, 1, 0], [2, 1, 0]);
    expect(await runControlledShutdown(d)).toBe('moved');
    expect(d.asked).toBe(3);
  });

  it('stops at once when nothing left could move (RF=1, ISR of one)', async () => {
    const d = deps([3], [0]);
    expect(await runControlledShutdown(d)).toBe('nothing-movable');
    expect(d.asked).toBe(1);
  });

  it('keeps asking through failed calls until the bound, then gives up', async () => {
    const d = deps([new Error('controller unreachable')], [1], 2_000);
    expect(await runControlledShutdown(d)).toBe('timed-out');
    expect(d.asked).toBe(Math.floor(2_000 / CONTROLLED_SHUTDOWN_RETRY_MS));
  });
});
