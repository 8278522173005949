// TopicStatusWriter against the API double: status written through the subresource, a 409 from a
// spec edit retried on the new version, transient errors retried, and partition state written by
// someone else refused instead of overwritten.
import { CustomObjectsApi } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { silentLogger } from '../../common/logger.ts';
import { createTopic, initialClusterState, registerBroker } from '../core/cluster-state.ts';
import { StateConflictError } from '../local/state-store.ts';
import { KubeFixture, NAMESPACE } from './operator-harness.ts';
import { toPersistedTopic, type TopicObject } from './topic-resource.ts';
import { TopicStatusWriter } from './topic-status-writer.ts';

let fx: KubeFixture;
beforeAll(async () => {
  fx = await KubeFixture.start();
});
afterAll(async () => {
  await fx.stop();
});

function persistedFor(t: TopicObject, partitions = 2) {
  let s = registerBroker(initialClusterState('c'), { brokerId: 0, incarnationId: 'i', host: 'h', port: 1, rack: '' }).state;
  s = createTopic(s, { name: t.metadata.name, topicId: t.metadata.uid!, partitions, replicationFactor: 1 }).state;
  return toPersistedTopic(s.topics[0]!, s.metadataVersion);
}

function writer(): TopicStatusWriter {
  // No informer cache here: every write starts from the writer's own last answer or a GET.
  return new TopicStatusWriter({ api: fx.kubeConfig.makeApiClient(CustomObjectsApi), namespace: NAMESPACE, cached: () => undefined, logger: silentLogger() });
}

describe('TopicStatusWriter', () => {
  it('persists partition state and verdicts into the status, retrying a 409 caused by a spec edit', async () => {
    const t = await fx.createTopic('w1', { partitions: 2 });
    const w = writer();
    await w.persist('w1', persistedFor(t));
    expect(fx.topic('w1')?.status?.partitions).toHaveLength(2);
    // A user edits the spec: the writer's copy is now stale and its next write gets a 409.
    fx.setSpec('w1', { partitions: 3 });
    await w.publish('w1', { observedGeneration: 2 });
    const after = fx.topic('w1')!;
    expect(after.status?.observedGeneration).toBe(2);
    expect(after.status?.partitions).toHaveLength(2);
    expect(fx.kube.requests.some((r) => r.subresource === 'status' && r.code === 409)).toBe(true);
  });

  it('retries transient API errors', async () => {
    const t = await fx.createTopic('w2', { partitions: 1 });
    fx.kube.failRequests({ verb: 'update', resource: 'topics', subresource: 'status', times: 2, code: 503 });
    await writer().persist('w2', persistedFor(t, 1));
    expect(fx.topic('w2')?.status?.partitions).toHaveLength(1);
  });

  it('refuses to overwrite partition state someone else wrote (another operator acting as leader)', async () => {
    const t = await fx.createTopic('w3', { partitions: 2 });
    const w = writer();
    await w.persist('w3', persistedFor(t));
    const other = fx.topic('w3')!;
    fx.kube.replaceStatus('topics.sluice.dev', { ...other, status: { ...other.status, partitions: other.status!.partitions!.map((p) => ({ ...p, leaderEpoch: p.leaderEpoch + 7, partitionEpoch: p.partitionEpoch + 7 })) } });
    await expect(w.publish('w3', { observedGeneration: 1 })).rejects.toBeInstanceOf(StateConflictError);
    expect(fx.topic('w3')!.status!.partitions![0]!.leaderEpoch).toBe(7);
  });
});
