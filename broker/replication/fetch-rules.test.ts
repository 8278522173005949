import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { silentLogger } from '../../common/logger.ts';
import { LeaderEpochCache } from '../log/leader-epoch-cache.ts';
import { decideLeaderFetch, divergenceTruncationOffset, followerHighWatermark, outOfRangeAction, type LeaderFetchInputs } from './fetch-rules.ts';

const base: LeaderFetchInputs = {
  isLeader: true,
  leaderEpoch: 5,
  isReplica: true,
  requestLeaderEpoch: 5,
  fetchOffset: 10,
  lastFetchedEpoch: 5,
  logStartOffset: 0,
  logEndOffset: 20,
  latestEpoch: 5,
  endOffsetFor: (epoch) => (epoch === 5 ? { epoch: 5, endOffset: 20 } : { epoch: 3, endOffset: 8 }),
};

describe('decideLeaderFetch', () => {
  it('fences an older current epoch and defers a newer one, before looking at anything else', () => {
    expect(decideLeaderFetch({ ...base, requestLeaderEpoch: 4, isLeader: false })).toEqual({ kind: 'error', code: 'FENCED_LEADER_EPOCH' });
    expect(decideLeaderFetch({ ...base, requestLeaderEpoch: 6, isLeader: false })).toEqual({ kind: 'error', code: 'UNKNOWN_LEADER_EPOCH' });
    expect(decideLeaderFetch({ ...base, isLeader: false })).toEqual({ kind: 'error', code: 'NOT_LEADER' });
    expect(decideLeaderFetch({ ...base, isReplica: false })).toEqual({ kind: 'error', code: 'NOT_REPLICA' });
  });

  it('reads from a follower whose last epoch ends at or after its fetch offset on the leader', () => {
    expect(decideLeaderFetch(base)).toEqual({ kind: 'read' });
    expect(decideLeaderFetch({ ...base, fetchOffset: 8, lastFetchedEpoch: 3 })).toEqual({ kind: 'read' });
    // An empty follower has no history to check.
    expect(decideLeaderFetch({ ...base, fetchOffset: 0, lastFetchedEpoch: -1 })).toEqual({ kind: 'read' });
  });

  it('answers diverging with the leader\'s end of the follower\'s last epoch when it ends earlier', () => {
    expect(decideLeaderFetch({ ...base, fetchOffset: 9, lastFetchedEpoch: 3 })).toEqual({ kind: 'diverging', epoch: 3, endOffset: 8 });
    // The leader never had epoch 4: the largest it has below is 3.
    expect(decideLeaderFetch({ ...base, fetchOffset: 8, lastFetchedEpoch: 4 })).toEqual({ kind: 'diverging', epoch: 3, endOffset: 8 });
    // A follower epoch newer than any of the leader's ends, as far as the leader knows, at its LEO.
    expect(decideLeaderFetch({ ...base, fetchOffset: 15, lastFetchedEpoch: 7, requestLeaderEpoch: 5 })).toEqual({ kind: 'diverging', epoch: 5, endOffset: 20 });
    expect(decideLeaderFetch({ ...base, latestEpoch: -1, logEndOffset: 4, fetchOffset: 6, lastFetchedEpoch: 2 })).toEqual({ kind: 'diverging', epoch: -1, endOffset: 4 });
  });

  it('answers OFFSET_OUT_OF_RANGE outside [log start, LEO] once the history matches', () => {
    expect(decideLeaderFetch({ ...base, logStartOffset: 12, fetchOffset: 10 })).toEqual({ kind: 'error', code: 'OFFSET_OUT_OF_RANGE' });
    expect(decideLeaderFetch({ ...base, fetchOffset: 21, lastFetchedEpoch: -1 })).toEqual({ kind: 'error', code: 'OFFSET_OUT_OF_RANGE' });
    expect(decideLeaderFetch({ ...base, fetchOffset: 20 })).toEqual({ kind: 'read' });
  });
});

describe('divergenceTruncationOffset', () => {
  it('cuts at the smaller of the leader\'s and the follower\'s end of the epoch, never above the LEO', () => {
    expect(divergenceTruncationOffset({ epoch: 3, endOffset: 8 }, { epoch: 3, endOffset: 12 }, 15)).toBe(8);
    expect(divergenceTruncationOffset({ epoch: 3, endOffset: 8 }, { epoch: 2, endOffset: 6 }, 15)).toBe(6);
    expect(divergenceTruncationOffset({ epoch: 3, endOffset: 30 }, { epoch: 3, endOffset: 40 }, 15)).toBe(15);
    // The follower knows nothing at or below the epoch: only the leader's end bounds the cut.
    expect(divergenceTruncationOffset({ epoch: 3, endOffset: 8 }, { epoch: -1, endOffset: -1 }, 15)).toBe(8);
    expect(divergenceTruncationOffset({ epoch: -1, endOffset: 4 }, { epoch: -1, endOffset: -1 }, 15)).toBe(4);
  });
});

describe('outOfRangeAction and followerHighWatermark', () => {
  it('restarts below the leader\'s log start, cuts back above its LEO, and otherwise retries', () => {
    expect(outOfRangeAction(5, { logStartOffset: 10, logEndOffset: 20 })).toEqual({ kind: 'restart-at', offset: 10 });
    expect(outOfRangeAction(25, { logStartOffset: 10, logEndOffset: 20 })).toEqual({ kind: 'truncate-to', offset: 20 });
    expect(outOfRangeAction(15, { logStartOffset: 10, logEndOffset: 20 })).toEqual({ kind: 'retry' });
    expect(outOfRangeAction(15, { logStartOffset: -1, logEndOffset: -1 })).toEqual({ kind: 'retry' });
  });

  it('caps the leader\'s HW at the follower\'s own LEO', () => {
    expect(followerHighWatermark(10, 7)).toBe(7);
    expect(followerHighWatermark(5, 7)).toBe(5);
  });
});

// ---------------------------------------------------------------------------------------------
// The protocol as a whole, on replica logs built by a random history of elections, appends and
// partial replication: every follower that runs it against the current leader ends with the
// leader's log exactly, and never cuts below the prefix it shares with the leader (which holds
// every record both have at the same offset in the same epoch: KIP-101's guarantee that
// committed records survive).

interface ModelReplica {
  /** Leader epoch of each record, by offset. */
  epochs: number[];
  cache: LeaderEpochCache;
}

function newReplica(): ModelReplica {
  const r: ModelReplica = { epochs: [], cache: undefined as unknown as LeaderEpochCache };
  r.cache = new LeaderEpochCache({ file: null, logEndOffset: () => r.epochs.length, logger: silentLogger() });
  return r;
}

/** appendAsFollower's epoch bookkeeping: the first batch's epoch and every change after it. */
function appendAsFollower(r: ModelReplica, epochs: readonly number[]): void {
  let previous = -1;
  for (const e of epochs) {
    if (e !== previous) r.cache.assign(e, r.epochs.length);
    r.epochs.push(e);
    previous = e;
  }
}

/** truncateTo plus the fetcher's truncateFromEnd. */
function truncate(r: ModelReplica, target: number): void {
  if (target < r.epochs.length) r.epochs.length = target;
  r.cache.truncateFromEnd(target);
}

function commonPrefix(a: readonly number[], b: readonly number[]): number {
  let i = 0;
  while (i < a.length && i < b.length && a[i] === b[i]) i++;
  return i;
}

/** Runs the fetch protocol until the follower holds the leader's log; returns the lowest cut. */
function replicate(follower: ModelReplica, leader: ModelReplica, leaderEpoch: number, maxCopy: number): number {
  let lowestCut = Number.POSITIVE_INFINITY;
  for (let round = 0; round < 50; round++) {
    const decision = decideLeaderFetch({
      isLeader: true,
      leaderEpoch,
      isReplica: true,
      requestLeaderEpoch: leaderEpoch,
      fetchOffset: follower.epochs.length,
      lastFetchedEpoch: follower.cache.latestEpoch(),
      logStartOffset: 0,
      logEndOffset: leader.epochs.length,
      latestEpoch: leader.cache.latestEpoch(),
      endOffsetFor: (e) => leader.cache.endOffsetFor(e),
    });
    if (decision.kind === 'diverging') {
      const target = divergenceTruncationOffset(decision, follower.cache.endOffsetFor(decision.epoch), follower.epochs.length);
      if (target < follower.epochs.length) lowestCut = Math.min(lowestCut, target);
      truncate(follower, target);
      continue;
    }
    expect(decision).toEqual({ kind: 'read' });
    const from = follower.epochs.length;
    const batch = leader.epochs.slice(from, from + maxCopy);
    if (batch.length === 0) return lowestCut;
    appendAsFollower(follower, batch);
  }
  throw new Error('the fetch protocol did not converge in 50 rounds');
}

type Step = { kind: 'elect'; replica: number } | { kind: 'append'; count: number } | { kind: 'sync'; replica: number; maxCopy: number };

const stepArb: fc.Arbitrary<Step> = fc.oneof(
  fc.record({ kind: fc.constant('elect' as const), replica: fc.nat(2) }),
  fc.record({ kind: fc.constant('append' as const), count: fc.integer({ min: 1, max: 3 }) }),
  fc.record({ kind: fc.constant('sync' as const), replica: fc.nat(2), maxCopy: fc.integer({ min: 1, max: 4 }) }),
);

describe('the replica fetch protocol over random histories', () => {
  it('leaves every follower with exactly the leader\'s log and never cuts the prefix they share', () => {
    fc.assert(
      fc.property(fc.array(stepArb, { maxLength: 40 }), (steps) => {
        const replicas = [newReplica(), newReplica(), newReplica()];
        let leader = 0;
        let epoch = 0;
        replicas[0]!.cache.assign(0, 0);
        for (const step of steps) {
          switch (step.kind) {
            case 'elect':
              // Any replica may be elected (as with unclean elections): the protocol must still
              // converge on the new leader's log without cutting what the two share.
              epoch++;
              leader = step.replica;
              replicas[leader]!.cache.assign(epoch, replicas[leader]!.epochs.length);
              break;
            case 'append':
              for (let i = 0; i < step.count; i++) replicas[leader]!.epochs.push(epoch);
              break;
            case 'sync': {
              if (step.replica === leader) break;
              const f = replicas[step.replica]!;
              const shared = commonPrefix(f.epochs, replicas[leader]!.epochs);
              const cut = replicate(f, replicas[leader]!, epoch, step.maxCopy);
              expect(cut).toBeGreaterThanOrEqual(shared);
              break;
            }
          }
        }
        for (let id = 0; id < replicas.length; id++) {
          if (id === leader) continue;
          const f = replicas[id]!;
          const shared = commonPrefix(f.epochs, replicas[leader]!.epochs);
          expect(replicate(f, replicas[leader]!, epoch, 4)).toBeGreaterThanOrEqual(shared);
          expect(f.epochs).toEqual(replicas[leader]!.epochs);
        }
      }),
      {
        numRuns: 1_000,
        examples: [
          // A follower holding an epoch (2) the leader never had, which started before the
          // leader's end of the epoch below it (1): only the follower's own end of epoch 1 cuts
          // deep enough; the leader's end alone would draw the same answer forever.
          [[
            { kind: 'append', count: 1 },
            { kind: 'sync', replica: 1, maxCopy: 4 },
            { kind: 'sync', replica: 2, maxCopy: 4 },
            { kind: 'elect', replica: 1 },
            { kind: 'append', count: 2 },
            { kind: 'elect', replica: 2 },
            { kind: 'append', count: 3 },
            { kind: 'elect', replica: 1 },
            { kind: 'append', count: 1 },
            { kind: 'sync', replica: 2, maxCopy: 4 },
          ]],
        ],
      },
    );
  });
});
