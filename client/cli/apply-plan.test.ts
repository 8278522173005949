import { describe, expect, it } from 'vitest';
import { DEFAULT_TOPIC_CONFIG, topicConfigToStrings } from '../../common/topic-config.ts';
import { describePlan, planTopic, type CurrentTopic } from './apply-plan.ts';
import type { TopicManifest } from './topic-manifest.ts';

const manifest = (over: Partial<TopicManifest> = {}): TopicManifest => ({
  source: 'topics.yaml',
  resourceName: 'orders',
  topicName: 'orders',
  partitions: 6,
  config: {},
  ...over,
});

/** What DescribeTopic reports: every key, effective values, as strings. */
const current = (over: Partial<CurrentTopic> = {}, config: Record<string, unknown> = {}): CurrentTopic => ({
  partitions: 6,
  replicationFactor: 3,
  config: topicConfigToStrings({ ...DEFAULT_TOPIC_CONFIG, ...config }),
  ...over,
});

describe('planTopic', () => {
  it('creates a topic that does not exist', () => {
    const m = manifest({ replicationFactor: 3 });
    expect(planTopic(m, null)).toEqual({ action: 'create', manifest: m });
    expect(describePlan(planTopic(m, null))).toBe('topic.sluice.dev/orders created (6 partitions, replication factor 3)');
  });

  it('leaves a matching topic alone, including config keys spelled out at their default', () => {
    const m = manifest({ config: { 'retention.ms': DEFAULT_TOPIC_CONFIG['retention.ms'] } });
    expect(planTopic(m, current()).action).toBe('unchanged');
    expect(planTopic(manifest({ config: { 'retention.ms': 1000 } }), current({}, { 'retention.ms': 1000 })).action).toBe('unchanged');
    // No replicationFactor in the manifest: the cluster's choice stands.
    expect(planTopic(manifest(), current({ replicationFactor: 1 })).action).toBe('unchanged');
  });

  it('adds partitions and replaces the config when they differ', () => {
    const plan = planTopic(manifest({ partitions: 12, replicationFactor: 2, config: { 'cleanup.policy': 'compact' } }), current({}, { 'retention.ms': 1000 }));
    expect(plan).toMatchObject({
      action: 'alter',
      partitions: { from: 6, to: 12 },
      replicationFactor: { from: 3, to: 2 },
      // retention.ms was overridden and is absent from the manifest: back to its default.
      config: { replace: { 'cleanup.policy': 'compact' }, changedKeys: ['retention.ms', 'cleanup.policy'] },
    });
    expect(describePlan(plan)).toBe('topic.sluice.dev/orders configured (partitions 6 -> 12; replication factor 3 -> 2; config retention.ms, cleanup.policy)');
  });

  it('refuses to shrink partitions, saying what to do', () => {
    expect(() => planTopic(manifest({ partitions: 3 }), current({ partitions: 6 }))).toThrow(
      expect.objectContaining({
        code: 'INVALID_PARTITIONS',
        message: expect.stringContaining('topics.yaml: topic "orders" has 6 partitions and the manifest asks for 3; partitions can be added but never removed'),
      }),
    );
  });

  it('ignores config keys it does not know, reported by a newer cluster', () => {
    const c = current();
    c.config['some.future.key'] = 'x';
    expect(planTopic(manifest(), c).action).toBe('unchanged');
  });
});
