import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  afterFollowerFetch,
  expansionCandidates,
  initialFollowerState,
  maximalIsr,
  nextIsrProposal,
  outOfSyncReplicas,
  type ExpandInputs,
  type FollowerState,
  type ShrinkInputs,
} from './isr-rules.ts';

const LAG = 100;
const REPLICAS = [0, 1, 2, 3];
const LEADER = 0;

function follower(logEndOffset: number, lastCaughtUpTimeMs: number): FollowerState {
  return { logEndOffset, lastCaughtUpTimeMs, lastFetchLeaderLogEndOffset: -1, lastFetchTimeMs: -1 };
}

/** Every subset of the followers, each with the leader added: all ISRs a leader can hold. */
function allIsrs(): number[][] {
  const out: number[][] = [];
  for (let mask = 0; mask < 1 << 3; mask++) out.push([LEADER, ...[1, 2, 3].filter((_, i) => mask & (1 << i))]);
  return out;
}

describe('afterFollowerFetch', () => {
  it('records a fetch at the leader\'s LEO as caught up now', () => {
    const s = afterFollowerFetch(initialFollowerState(0), { fetchOffset: 10, leaderLogEndOffset: 10, nowMs: 50 });
    expect(s).toEqual({ logEndOffset: 10, lastCaughtUpTimeMs: 50, lastFetchLeaderLogEndOffset: 10, lastFetchTimeMs: 50 });
  });

  it('records a fetch that reached the LEO of the previous fetch as caught up then (steady load)', () => {
    let s = afterFollowerFetch(initialFollowerState(0), { fetchOffset: 5, leaderLogEndOffset: 10, nowMs: 40 });
    expect(s.lastCaughtUpTimeMs).toBe(0);
    s = afterFollowerFetch(s, { fetchOffset: 10, leaderLogEndOffset: 20, nowMs: 60 });
    expect(s.lastCaughtUpTimeMs).toBe(40);
    s = afterFollowerFetch(s, { fetchOffset: 15, leaderLogEndOffset: 30, nowMs: 80 });
    // Behind what the leader had at the previous fetch: no proof of being caught up.
    expect(s.lastCaughtUpTimeMs).toBe(40);
    expect(s.logEndOffset).toBe(15);
  });

  it('never moves the caught-up time backwards, and proves no catch-up it did not see', () => {
    const fetchArb = fc.record({ fetchOffset: fc.nat(50), leaderLogEndOffset: fc.nat(50), step: fc.nat(30) });
    fc.assert(
      fc.property(fc.nat(100), fc.array(fetchArb, { maxLength: 20 }), (start, fetches) => {
        let s = initialFollowerState(start);
        let now = start;
        for (const f of fetches) {
          now += f.step;
          const next = afterFollowerFetch(s, { fetchOffset: f.fetchOffset, leaderLogEndOffset: f.leaderLogEndOffset, nowMs: now });
          expect(next.lastCaughtUpTimeMs).toBeGreaterThanOrEqual(s.lastCaughtUpTimeMs);
          expect(next.lastCaughtUpTimeMs).toBeLessThanOrEqual(now);
          expect(next.logEndOffset).toBe(f.fetchOffset);
          if (f.fetchOffset >= f.leaderLogEndOffset) expect(next.lastCaughtUpTimeMs).toBe(now);
          const provedThen = s.lastFetchLeaderLogEndOffset >= 0 && f.fetchOffset >= s.lastFetchLeaderLogEndOffset;
          if (f.fetchOffset < f.leaderLogEndOffset && !provedThen) expect(next.lastCaughtUpTimeMs).toBe(s.lastCaughtUpTimeMs);
          s = next;
        }
      }),
    );
  });
});

describe('outOfSyncReplicas', () => {
  it('drops exactly the in-sync followers not caught up within the lag time, never the leader (exhaustive)', () => {
    const times = [0, 40, 99, 100, 101, 200];
    const now = 200;
    for (const isr of allIsrs()) {
      for (const t1 of times) {
        for (const t2 of times) {
          for (const t3 of times) {
            const followers = new Map([[1, follower(5, t1)], [2, follower(5, t2)], [3, follower(5, t3)]]);
            const inputs: ShrinkInputs = { leaderId: LEADER, isr, followers, nowMs: now, lagTimeMaxMs: LAG };
            const expected = isr.filter((id) => id !== LEADER && now - followers.get(id)!.lastCaughtUpTimeMs > LAG);
            expect(outOfSyncReplicas(inputs)).toEqual(expected);
          }
        }
      }
    }
  });

  it('gives a follower it has no state for (added since) no verdict', () => {
    expect(outOfSyncReplicas({ leaderId: 0, isr: [0, 1], followers: new Map(), nowMs: 1_000, lagTimeMaxMs: LAG })).toEqual([]);
  });
});

describe('expansionCandidates', () => {
  it('admits a follower iff its LEO reaches the HW and the leader epoch start, it caught up within the lag time, and it is eligible (exhaustive)', () => {
    const offsets = [-1, 0, 4, 5, 6, 10];
    const now = 200;
    for (const isr of allIsrs()) {
      for (const leo of offsets) {
        for (const hw of [0, 5, 10]) {
          for (const epochStart of [0, 5, 10]) {
            for (const caughtUp of [0, 99, 100, 150]) {
              for (const eligible of [true, false]) {
                const followers = new Map([1, 2, 3].map((id) => [id, follower(id === 2 ? leo : 10, id === 2 ? caughtUp : now)] as const));
                const inputs: ExpandInputs = { leaderId: LEADER, replicas: REPLICAS, isr, followers, highWatermark: hw, leaderEpochStartOffset: epochStart, isEligible: (id) => id !== 2 || eligible, nowMs: now, lagTimeMaxMs: LAG };
                const got = expansionCandidates(inputs);
                const outside = [1, 2, 3].filter((id) => !isr.includes(id));
                const want = outside.filter((id) => {
                  const f = followers.get(id)!;
                  const l = f.logEndOffset;
                  return l >= 0 && l >= hw && l >= epochStart && now - f.lastCaughtUpTimeMs <= LAG && (id !== 2 || eligible);
                });
                expect(got).toEqual(want);
              }
            }
          }
        }
      }
    }
  });

  it('never admits a follower the leader has not heard from since it became leader', () => {
    const followers = new Map([[1, initialFollowerState(0)]]);
    expect(expansionCandidates({ leaderId: 0, replicas: [0, 1], isr: [0], followers, highWatermark: 0, leaderEpochStartOffset: 0, isEligible: () => true, nowMs: 0, lagTimeMaxMs: LAG })).toEqual([]);
  });

  it('does not readmit a follower the shrink rule would drop again (no ISR flapping)', () => {
    // A dead follower's last LEO stays >= the HW, which cannot move without it.
    const followers = new Map([[1, follower(10, 0)], [2, follower(10, 500)]]);
    const inputs = { leaderId: 0, replicas: [0, 1, 2], isr: [0, 2], followers, highWatermark: 10, leaderEpochStartOffset: 0, isEligible: () => true, nowMs: 500, lagTimeMaxMs: LAG };
    expect(nextIsrProposal(inputs)).toBeNull();
    const shrunk = nextIsrProposal({ ...inputs, isr: [0, 1, 2] });
    expect(shrunk).toEqual({ kind: 'shrink', isr: [0, 2], changed: [1] });
    fc.assert(
      fc.property(fc.nat(20), fc.nat(20), fc.nat(600), fc.subarray([1, 2]), (leo, hw, caughtUp, members) => {
        const state = new Map([[1, follower(leo, caughtUp)], [2, follower(leo, caughtUp)]]);
        const i = { leaderId: 0, replicas: [0, 1, 2], isr: [0, ...members], followers: state, highWatermark: hw, leaderEpochStartOffset: 0, isEligible: () => true, nowMs: 600, lagTimeMaxMs: LAG };
        const p = nextIsrProposal(i);
        if (p?.kind !== 'expand') return;
        // Whatever an expansion admits, the next evaluation at the same moment keeps.
        expect(nextIsrProposal({ ...i, isr: p.isr })?.kind).not.toBe('shrink');
      }),
    );
  });
});

describe('nextIsrProposal', () => {
  const arbInputs = fc.record({
    isrMask: fc.nat(7),
    followers: fc.array(fc.record({ leo: fc.integer({ min: -1, max: 12 }), caughtUp: fc.nat(300) }), { minLength: 3, maxLength: 3 }),
    hw: fc.nat(12),
    epochStart: fc.nat(12),
    ineligible: fc.subarray([1, 2, 3]),
  });

  it('keeps the leader, sheds laggards first, admits only eligible caught-up followers, in replica order', () => {
    fc.assert(
      fc.property(arbInputs, (a) => {
        const isr = [LEADER, ...[1, 2, 3].filter((_, i) => a.isrMask & (1 << i))];
        const followers = new Map(a.followers.map((f, i) => [i + 1, follower(f.leo, f.caughtUp)] as const));
        const inputs = { leaderId: LEADER, replicas: REPLICAS, isr, followers, nowMs: 300, lagTimeMaxMs: LAG, highWatermark: a.hw, leaderEpochStartOffset: a.epochStart, isEligible: (id: number) => !a.ineligible.includes(id) };
        const p = nextIsrProposal(inputs);
        const laggards = outOfSyncReplicas(inputs);
        const joiners = expansionCandidates(inputs);
        if (laggards.length === 0 && joiners.length === 0) {
          expect(p).toBeNull();
          return;
        }
        expect(p).not.toBeNull();
        expect(p!.isr).toContain(LEADER);
        expect(p!.isr).toEqual(REPLICAS.filter((id) => p!.isr.includes(id)));
        if (laggards.length > 0) {
          expect(p!.kind).toBe('shrink');
          expect(p!.isr).toEqual(isr.filter((id) => !laggards.includes(id)));
        } else {
          expect(p!.kind).toBe('expand');
          expect(p!.changed).toEqual(joiners);
          expect(p!.isr).toEqual(REPLICAS.filter((id) => isr.includes(id) || joiners.includes(id)));
          for (const id of p!.changed) {
            expect(a.ineligible).not.toContain(id);
            expect(followers.get(id)!.logEndOffset).toBeGreaterThanOrEqual(Math.max(a.hw, a.epochStart, 0));
          }
        }
      }),
    );
  });
});

describe('maximalIsr', () => {
  it('adds an in-flight expansion, and never removes a member for an in-flight shrink', () => {
    expect(maximalIsr([0, 1], null)).toEqual([0, 1]);
    expect(maximalIsr([0, 1], { kind: 'expand', isr: [0, 1, 2], changed: [2] })).toEqual([0, 1, 2]);
    expect(maximalIsr([0, 1, 2], { kind: 'shrink', isr: [0, 1], changed: [2] })).toEqual([0, 1, 2]);
  });
});
