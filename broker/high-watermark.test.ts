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
});
