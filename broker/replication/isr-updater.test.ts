// The leader's ISR proposals against a scripted controller: one in flight per partition, a
// shrink that changes nothing until committed, refusals that are not repeated blindly.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { SluiceError } from '../../common/errors.ts';
import { silentLogger } from '../../common/logger.ts';
import { encodeRecordBatch } from '../../common/record-batch.ts';
import type { PartitionState__Output } from '../../proto/gen/sluice/v1/PartitionState.ts';
import type { AlterPartitionAnswer, AlterPartitionProposal } from '../controller-session.ts';
import { DEFAULT_LOG_CONFIG } from '../log/log-config.ts';
import { PartitionLog } from '../log/partition-log.ts';
import { Partition } from '../partition.ts';
import { IsrUpdater } from './isr-updater.ts';

const LAG = 1_000;

function state(s: Partial<PartitionState__Output>): PartitionState__Output {
  return { partition: 0, replicas: [0, 1, 2], leader: 0, leader_epoch: 1, isr: [0, 1, 2], partition_epoch: 1, adding_replicas: [], removing_replicas: [], last_unclean_leader_epoch: -1, ...s };
}

interface Call {
  proposal: AlterPartitionProposal;
  answer(a: AlterPartitionAnswer): void;
  fail(err: Error): void;
}

describe('IsrUpdater', () => {
  let dir: string;
  let log: PartitionLog;
  let p: Partition;
  let now: number;
  let calls: Call[];
  let committed: string[];
  let updater: IsrUpdater;
  let alive: Set<number>;

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'sluice-isr-'));
    log = await PartitionLog.open(join(dir, 't-0'), { topic: 't', partition: 0, topicId: 'tid', config: DEFAULT_LOG_CONFIG, logger: silentLogger(), recover: true });
    p = new Partition({ topic: 't', partition: 0, topicId: 'tid', log, localBrokerId: 0, logger: silentLogger() });
    p.minInsyncReplicas = 2;
    now = 10_000;
    calls = [];
    committed = [];
    alive = new Set([0, 1, 2]);
    updater = new IsrUpdater({
      brokerId: 0,
      lagTimeMaxMs: LAG,
      now: () => now,
      isEligible: (id) => alive.has(id),
      canPropose: () => true,
      alterPartition: (proposal) =>
        new Promise((resolve, reject) => {
          calls.push({ proposal, answer: resolve, fail: reject });
        }),
      applyCommittedState: (partition, s) => {
        partition.applyState(s, now);
        partition.maybeIncrementHighWatermark();
      },
      onCommitted: (_p, proposal) => committed.push(`${proposal.kind}:${proposal.isr.join(',')}`),
      logger: silentLogger(),
    });
    p.applyState(state({}), now);
    await log.appendAsLeader(encodeRecordBatch([{ value: Buffer.from('a') }, { value: Buffer.from('b') }]), 1);
  });

  afterEach(async () => {
    await log.close();
    await rm(dir, { recursive: true, force: true });
  });

  const settle = (): Promise<void> => new Promise((r) => setTimeout(r, 0));

  it('proposes a shrink for a silent follower once, and applies it only when committed', async () => {
    p.recordFollowerFetch(1, 2, now);
    now += LAG + 1;
    p.recordFollowerFetch(1, 2, now);
    updater.maybePropose(p);
    updater.maybePropose(p);
    expect(calls.map((c) => c.proposal.newIsr)).toEqual([[0, 1]]);
    expect(calls[0]!.proposal).toMatchObject({ topic: 't', partition: 0, leaderEpoch: 1, partitionEpoch: 1 });
    // Not committed yet: broker 2 still counts, and holds the HW (it never reported).
    expect(p.isr).toEqual([0, 1, 2]);
    expect(p.maybeIncrementHighWatermark()).toBe(false);
    expect(log.highWatermark).toBe(0);
    calls[0]!.answer({ error: null, state: state({ isr: [0, 1], partition_epoch: 2 }) });
    await settle();
    expect(p.isr).toEqual([0, 1]);
    expect(p.isrChangeInFlight).toBeNull();
    expect(log.highWatermark).toBe(2);
    expect(committed).toEqual(['shrink:0,1']);
  });

  it('proposes an expansion for a caught-up follower, and the HW covers it while in flight', async () => {
    p.applyState(state({ isr: [0, 1], partition_epoch: 2 }), now);
    p.recordFollowerFetch(1, 2, now);
    p.maybeIncrementHighWatermark();
    expect(log.highWatermark).toBe(2);
    await log.appendAsLeader(encodeRecordBatch([{ value: Buffer.from('c') }]), 1);
    p.recordFollowerFetch(2, 2, now);
    updater.maybePropose(p);
    expect(calls.map((c) => c.proposal.newIsr)).toEqual([[0, 1, 2]]);
    p.recordFollowerFetch(1, 3, now);
    // Broker 2 is about to be in the ISR: the HW must not pass what it has (2).
    expect(p.maybeIncrementHighWatermark()).toBe(false);
    calls[0]!.answer({ error: null, state: state({ isr: [0, 1, 2], partition_epoch: 3 }) });
    await settle();
    expect(p.isr).toEqual([0, 1, 2]);
    expect(committed).toEqual(['expand:0,1,2']);
  });

  it('does not propose a fenced broker, and does not repeat a refused proposal from the same partition epoch', async () => {
    p.applyState(state({ isr: [0, 1], partition_epoch: 2 }), now);
    alive.delete(2);
    p.recordFollowerFetch(2, 2, now);
    updater.maybePropose(p);
    expect(calls).toHaveLength(0);
    alive.add(2);
    updater.maybePropose(p);
    expect(calls).toHaveLength(1);
    calls[0]!.answer({ error: new SluiceError('INVALID_REQUEST', 'broker 2 cannot join the ISR: it is shutting down'), state: state({ isr: [0, 1], partition_epoch: 2 }) });
    await settle();
    updater.maybePropose(p);
    expect(calls).toHaveLength(1);
    // A newer partition state is a new situation: proposing again is fine.
    p.applyState(state({ isr: [0, 1], partition_epoch: 3 }), now);
    updater.maybePropose(p);
    expect(calls).toHaveLength(2);
  });

  it('retries after a transport failure, not at once', async () => {
    p.recordFollowerFetch(1, 2, now);
    p.recordFollowerFetch(2, 2, now);
    now += LAG + 1;
    p.recordFollowerFetch(1, 2, now);
    updater.maybePropose(p);
    calls[0]!.fail(new SluiceError('BROKER_NOT_AVAILABLE', 'controller unreachable'));
    await settle();
    expect(p.isrChangeInFlight).toBeNull();
    updater.maybePropose(p);
    expect(calls).toHaveLength(1);
    now += 1_000;
    updater.maybePropose(p);
    expect(calls).toHaveLength(2);
    expect(p.isr).toEqual([0, 1, 2]);
  });

  it('drops a proposal of an older leader epoch instead of applying its answer', async () => {
    now += LAG + 1;
    updater.maybePropose(p);
    expect(calls).toHaveLength(1);
    p.applyState(state({ leader: 1, leader_epoch: 2, partition_epoch: 5 }), now);
    calls[0]!.answer({ error: new SluiceError('FENCED_LEADER_EPOCH', 'leadership moved'), state: state({ leader: 1, leader_epoch: 2, partition_epoch: 5 }) });
    await settle();
    expect(p.isLeader).toBe(false);
    expect(p.isr).toEqual([0, 1, 2]);
    expect(committed).toEqual([]);
  });
});
