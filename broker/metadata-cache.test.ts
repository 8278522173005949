import { describe, expect, it } from 'vitest';
import type { ClusterMetadata__Output } from '../proto/gen/sluice/v1/ClusterMetadata.ts';
import { MetadataCache } from './metadata-cache.ts';

function snapshot(overrides: Partial<ClusterMetadata__Output> = {}): ClusterMetadata__Output {
  return {
    version: 3,
    cluster_id: 'c',
    controller_id: 100,
    controller_epoch: 0,
    live_brokers: [
      { broker_id: 0, host: 'b0', port: 9092, rack: '' },
      { broker_id: 1, host: 'b1', port: 9093, rack: '' },
    ],
    topics: [
      {
        name: 'orders',
        topic_id: 'id-1',
        config: { 'retention.ms': '1000' },
        partitions: [
          { partition: 0, replicas: [0, 1], leader: 1, leader_epoch: 5, isr: [0, 1], partition_epoch: 2, adding_replicas: [], removing_replicas: [], last_unclean_leader_epoch: -1 },
          { partition: 1, replicas: [0, 1], leader: -1, leader_epoch: 6, isr: [], partition_epoch: 3, adding_replicas: [], removing_replicas: [], last_unclean_leader_epoch: -1 },
          { partition: 2, replicas: [0, 1], leader: 0, leader_epoch: 1, isr: [0], partition_epoch: 1, adding_replicas: [], removing_replicas: [], last_unclean_leader_epoch: -1 },
        ],
      },
    ],
    ...overrides,
  };
}

describe('MetadataCache', () => {
  it('applies topic overrides on top of the defaults', () => {
    const cache = new MetadataCache();
    expect(cache.update(snapshot())).toEqual([]);
    const t = cache.topic('orders')!;
    expect(t.config['retention.ms']).toBe(1000);
    expect(t.config['min.insync.replicas']).toBe(1);
    expect(cache.version).toBe(3);
  });

  it('keeps defaults for config it cannot parse and reports the problem', () => {
    const cache = new MetadataCache();
    const md = snapshot();
    md.topics[0]!.config = { 'retention.ms': 'soon', 'min.insync.replicas': '2', 'bogus.key': '1' };
    const problems = cache.update(md);
    expect(problems).toHaveLength(2);
    expect(problems.join(' ')).toMatch(/bogus\.key/);
    expect(cache.topic('orders')!.config['retention.ms']).toBe(604_800_000);
    expect(cache.topic('orders')!.config['min.insync.replicas']).toBe(2);
  });

  it('builds the error a non-leader answers with', () => {
    const cache = new MetadataCache();
    cache.update(snapshot());
    expect(cache.notLeaderError('orders', 0, 0)).toMatchObject({ code: 'NOT_LEADER', details: { leaderId: 1, leaderAddress: 'b1:9093', leaderEpoch: 5 } });
    expect(cache.notLeaderError('orders', 1, 0).code).toBe('LEADER_NOT_AVAILABLE');
    // This broker is named leader but has not finished becoming it: retriable, not a redirect to itself.
    expect(cache.notLeaderError('orders', 2, 0).code).toBe('LEADER_NOT_AVAILABLE');
    expect(cache.notLeaderError('orders', 7, 0)).toMatchObject({ code: 'UNKNOWN_TOPIC_OR_PARTITION', message: expect.stringMatching(/has 3 partitions/) });
    expect(cache.notLeaderError('nope', 0, 0).code).toBe('UNKNOWN_TOPIC_OR_PARTITION');
  });

  it('names no address for a leader that is not alive', () => {
    const cache = new MetadataCache();
    cache.update(snapshot({ live_brokers: [{ broker_id: 0, host: 'b0', port: 9092, rack: '' }] }));
    expect(cache.notLeaderError('orders', 0, 0).details).toMatchObject({ leaderId: 1, leaderAddress: '' });
    expect(cache.isAlive(1)).toBe(false);
  });
});
