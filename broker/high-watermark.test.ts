import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { nextHighWatermark, type HighWatermarkInputs } from './high-watermark.ts';

const base: HighWatermarkInputs = {
  currentHighWatermark: 10,
  leaderId: 0,
  leaderLogEndOffset: 20,
  isr: [0],
  followerLogEndOffsets: new Map(),
  minInsyncReplicas: 1,
};

describe('nextHighWatermark', () => {
  it('follows the leader LEO when the leader is the whole ISR', () => {
    expect(nextHighWatermark(base)).toBe(20);
  });

  it('is the minimum LEO over the ISR', () => {
    expect(nextHighWatermark({ ...base, isr: [0, 1, 2], followerLogEndOffsets: new Map([[1, 15], [2, 18]]) })).toBe(15);
  });

  it('ignores followers outside the ISR', () => {
    expect(nextHighWatermark({ ...base, isr: [0, 2], followerLogEndOffsets: new Map([[1, 11], [2, 18]]) })).toBe(18);
  });

  it('holds while an in-sync follower has not reported its LEO', () => {
    expect(nextHighWatermark({ ...base, isr: [0, 1, 2], followerLogEndOffsets: new Map([[2, 18]]) })).toBe(10);
  });

  it('is frozen while the ISR is smaller than min.insync.replicas', () => {
    expect(nextHighWatermark({ ...base, minInsyncReplicas: 2 })).toBe(10);
    expect(nextHighWatermark({ ...base, isr: [0, 1], followerLogEndOffsets: new Map([[1, 19]]), minInsyncReplicas: 2 })).toBe(19);
  });

  it('never moves backwards', () => {
    expect(nextHighWatermark({ ...base, isr: [0, 1], followerLogEndOffsets: new Map([[1, 5]]) })).toBe(10);
  });

  it('covers a follower an in-flight expansion adds, but freezes on the committed ISR size', () => {
    const followers = new Map([[1, 19], [2, 12]]);
    expect(nextHighWatermark({ ...base, isr: [0, 1], maximalIsr: [0, 1, 2], followerLogEndOffsets: followers })).toBe(12);
    // The pending member does not make a too-small committed ISR big enough.
    expect(nextHighWatermark({ ...base, isr: [0], maximalIsr: [0, 2], followerLogEndOffsets: followers, minInsyncReplicas: 2 })).toBe(10);
  });

  it('is the min LEO over the ISR it must cover, never below the current HW, never above the leader LEO', () => {
    const arb = fc.record({
      current: fc.nat(20),
      leo: fc.nat(20),
      members: fc.subarray([1, 2, 3]),
      pending: fc.subarray([1, 2, 3]),
      leos: fc.array(fc.option(fc.nat(20), { nil: undefined }), { minLength: 3, maxLength: 3 }),
      minIsr: fc.integer({ min: 1, max: 4 }),
    });
    fc.assert(
      fc.property(arb, (a) => {
        const current = Math.min(a.current, a.leo);
        const isr = [0, ...a.members];
        const maximal = [...new Set([...isr, ...a.pending])];
        const followerLogEndOffsets = new Map<number, number>();
        a.leos.forEach((l, i) => l !== undefined && followerLogEndOffsets.set(i + 1, l));
        const hw = nextHighWatermark({ currentHighWatermark: current, leaderId: 0, leaderLogEndOffset: a.leo, isr, maximalIsr: maximal, followerLogEndOffsets, minInsyncReplicas: a.minIsr });
        expect(hw).toBeGreaterThanOrEqual(current);
        expect(hw).toBeLessThanOrEqual(a.leo);
        if (isr.length < a.minIsr) expect(hw).toBe(current);
        for (const id of maximal) {
          if (id === 0) continue;
          const l = followerLogEndOffsets.get(id);
          // Every record below the HW is on every replica the HW covers (or the HW did not move).
          if (hw > current) expect(l).toBeGreaterThanOrEqual(hw);
        }
      }),
    );
  });
});
