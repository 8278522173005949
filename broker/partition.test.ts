import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { silentLogger } from '../common/logger.ts';
import { encodeRecordBatch } from '../common/record-batch.ts';
import type { PartitionState__Output } from '../proto/gen/sluice/v1/PartitionState.ts';
import { DEFAULT_LOG_CONFIG } from './log/log-config.ts';
import { PartitionLog } from './log/partition-log.ts';
import { Partition } from './partition.ts';

const SELF = 0;

function state(s: Partial<PartitionState__Output>): PartitionState__Output {
  return { partition: 0, replicas: [0, 1], leader: SELF, leader_epoch: 1, isr: [0], partition_epoch: 1, adding_replicas: [], removing_replicas: [], last_unclean_leader_epoch: -1, ...s };
}

describe('Partition', () => {
  let dir: string;
  let log: PartitionLog;
  let p: Partition;

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'sluice-partition-'));
    log = await PartitionLog.open(join(dir, 't-0'), { topic: 't', partition: 0, topicId: 'tid', config: DEFAULT_LOG_CONFIG, logger: silentLogger(), recover: true });
    p = new Partition({ topic: 't', partition: 0, topicId: 'tid', log, localBrokerId: SELF, logger: silentLogger() });
  });

  afterEach(async () => {
    await log.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('becomes leader and starts its epoch at the log end offset', async () => {
    expect(p.applyState(state({ leader_epoch: 1 }))).toBe('became-leader');
    await log.appendAsLeader(encodeRecordBatch([{ value: Buffer.from('a') }, { value: Buffer.from('b') }]), 1);
    expect(p.applyState(state({ leader: 1, leader_epoch: 2 }))).toBe('became-follower');
    expect(p.isLeader).toBe(false);
    expect(p.applyState(state({ leader_epoch: 3 }))).toBe('became-leader');
    expect(log.leaderEpochs.entries()).toEqual([
      { epoch: 1, startOffset: 0 },
      { epoch: 3, startOffset: 2 },
    ]);
  });

  it('ignores a state from an older leader epoch or an older partition epoch', () => {
    p.applyState(state({ leader_epoch: 5, partition_epoch: 9 }));
    expect(p.applyState(state({ leader: 1, leader_epoch: 4, partition_epoch: 12 }))).toBe('stale');
    expect(p.applyState(state({ leader_epoch: 5, partition_epoch: 8, isr: [0, 1] }))).toBe('stale');
    expect(p.isLeader).toBe(true);
    expect(p.isr).toEqual([0]);
    expect(p.applyState(state({ leader_epoch: 5, partition_epoch: 10, isr: [0, 1] }))).toBe('updated');
    expect(p.isr).toEqual([0, 1]);
    expect(p.applyState(state({ leader_epoch: 5, partition_epoch: 10, isr: [0, 1] }))).toBe('unchanged');
  });

  it('advances the HW to the LEO when it is the whole ISR, and holds it for an unheard follower', async () => {
    p.applyState(state({ isr: [0] }));
    await log.appendAsLeader(encodeRecordBatch([{ value: Buffer.from('a') }]), 1);
    expect(p.maybeIncrementHighWatermark()).toBe(true);
    expect(log.highWatermark).toBe(1);
    p.applyState(state({ isr: [0, 1], partition_epoch: 2 }));
    await log.appendAsLeader(encodeRecordBatch([{ value: Buffer.from('b') }]), 1);
    expect(p.maybeIncrementHighWatermark()).toBe(false);
    expect(log.highWatermark).toBe(1);
  });

  it('stops being leader for clients once removed', () => {
    p.applyState(state({}));
    p.markRemoved();
    expect(p.isLeader).toBe(false);
    expect(p.maybeIncrementHighWatermark()).toBe(false);
  });
});
