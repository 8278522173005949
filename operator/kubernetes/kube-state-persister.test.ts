// A deposed leader cannot act on a change (DESIGN §6): KubeStatePersister and TopicStatusWriter
// against the API double, with two "operators" (each its own writer, persister and committed
// state) on one Topic. A new leader's takeover claims the Topic, so the old leader's late write is
// refused instead of applied; a write the old leader got in before the claim fails the takeover
// (and the reload sees it); and a change made while leadership is lost is never pushed.
import { CustomObjectsApi } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { silentLogger } from '../../common/logger.ts';
import { createTopic, fenceBroker, initialClusterState, registerBroker, type ClusterState } from '../core/cluster-state.ts';
import { CommittedState, type StateChange } from '../local/committed-state.ts';
import { clusterRecordOf, type ClusterRecord } from './cluster-record.ts';
import { KubeStatePersister } from './kube-state-persister.ts';
import { KubeFixture, NAMESPACE } from './operator-harness.ts';
import { assembleClusterState, takeover } from './state-loader.ts';
import { TOPIC_GROUP, TOPIC_PLURAL, TOPIC_VERSION } from './topic-crd.ts';
import type { TopicObject } from './topic-resource.ts';
import { TopicStatusWriter } from './topic-status-writer.ts';

let fx: KubeFixture;
let api: CustomObjectsApi;
beforeAll(async () => {
  fx = await KubeFixture.start();
  api = fx.kubeConfig.makeApiClient(CustomObjectsApi);
});
afterAll(async () => {
  await fx.stop();
});

const logger = silentLogger();

/** One operator's persistence: its own writer and persister over the shared API server. */
class Operator {
  readonly committed: CommittedState;
  readonly pushed: StateChange[] = [];
  readonly objectNames = new Map<string, string>();
  leading = true;
  broken: string | undefined;
  /** The cluster record as this operator last wrote it (the Lease annotation, kept here). */
  record: ClusterRecord | undefined;

  constructor(state: ClusterState, seeds: readonly TopicObject[]) {
    const statuses = new TopicStatusWriter({ api, namespace: NAMESPACE, cached: () => undefined, logger });
    for (const t of seeds) statuses.seed(t);
    const persister = new KubeStatePersister({
      persisted: state,
      statuses,
      writeLeaseAnnotations: async () => {
        this.record = clusterRecordOf(this.committed.current);
      },
      objectNameOf: (topic) => this.objectNames.get(topic.topicId),
      onBroken: (reason) => (this.broken = reason),
      leading: () => this.leading,
      logger,
    });
    this.committed = new CommittedState(persister, state, logger);
    this.committed.onChange((change) => this.pushed.push(change));
  }
}

async function listTopics(): Promise<TopicObject[]> {
  return ((await api.listNamespacedCustomObject({ group: TOPIC_GROUP, version: TOPIC_VERSION, plural: TOPIC_PLURAL, namespace: NAMESPACE })) as { items: TopicObject[] }).items;
}

/** Operator A, leading, with three brokers and topic `name` persisted in its Topic's status. */
async function firstLeader(name: string): Promise<{ a: Operator; record: ClusterRecord }> {
  const t = await fx.createTopic(name, { partitions: 2, replicationFactor: 3 });
  let s = initialClusterState('cluster');
  for (const id of [0, 1, 2]) s = registerBroker(s, { brokerId: id, incarnationId: `i${id}`, host: 'h', port: 9092 + id, rack: '' }).state;
  const a = new Operator(s, []);
  a.objectNames.set(t.metadata.uid!, name);
  await a.committed.commit((x) => createTopic(x, { name, topicId: t.metadata.uid!, partitions: 2, replicationFactor: 3 }));
  return { a, record: a.record ?? clusterRecordOf(a.committed.current) };
}

/** Operator B loads what Kubernetes holds, as LeaderSession.start does (the takeover not yet run). */
async function load(record: ClusterRecord): Promise<Operator> {
  const items = (await listTopics()).filter((t) => t.status?.partitions);
  const loaded = assembleClusterState(record, items);
  const b = new Operator(loaded.state, items);
  for (const [id, objectName] of loaded.objectNames) b.objectNames.set(id, objectName);
  return b;
}

const leaderOf = (name: string, partition: number) => fx.topic(name)!.status!.partitions!.find((p) => p.partition === partition)!.leader;

describe('a deposed leader cannot act on a change', () => {
  it('a takeover claims every Topic: the old leader\'s later write is refused, not applied, and never pushed', async () => {
    const { a, record } = await firstLeader('claimed');
    const before = fx.topic('claimed')!.status!;
    const b = await load(record);
    await b.committed.commit((s) => takeover(s));
    const claimed = fx.topic('claimed')!.status!;
    // Nothing changed but the version: the claim is the takeover's metadata version on the object.
    expect(claimed.metadataVersion).toBe(b.committed.current.metadataVersion);
    expect(claimed.metadataVersion).toBeGreaterThan(before.metadataVersion!);
    expect(claimed.partitions).toEqual(before.partitions);
    expect(claimed.conditions).toEqual(before.conditions);

    // A resumes from a pause, still believing it leads, and fences a broker that leads a partition.
    const victim = leaderOf('claimed', 0);
    const pushedBefore = a.pushed.length;
    await expect(a.committed.commit((s) => fenceBroker(s, { brokerId: victim, reason: 'session_expired' }))).rejects.toThrow(/no longer owns|someone else/);
    expect(a.committed.healthy).toBe(false);
    expect(a.broken).toMatch(/changed by someone else/);
    expect(a.pushed.length).toBe(pushedBefore);
    expect(fx.topic('claimed')!.status!.partitions).toEqual(before.partitions);
    expect(fx.topic('claimed')!.status!.metadataVersion).toBe(claimed.metadataVersion);

    // B goes on writing as usual.
    await b.committed.commit((s) => fenceBroker(s, { brokerId: victim, reason: 'session_expired' }));
    expect(leaderOf('claimed', 0)).not.toBe(victim);
    expect(b.committed.healthy).toBe(true);
  });

  it('a takeover that meets a write made after it loaded fails, and loading again takes that write in', async () => {
    const { a, record } = await firstLeader('raced');
    const b = await load(record);
    const victim = leaderOf('raced', 1);
    // A writes between B's load and B's takeover.
    await a.committed.commit((s) => fenceBroker(s, { brokerId: victim, reason: 'session_expired' }));
    const written = fx.topic('raced')!.status!;
    await expect(b.committed.commit((s) => takeover(s))).rejects.toThrow(/no longer owns its state/);
    expect(b.broken).toMatch(/changed by someone else/);
    expect(b.pushed).toEqual([]);
    expect(fx.topic('raced')!.status!.partitions).toEqual(written.partitions);

    const again = await load(a.record!);
    await again.committed.commit((s) => takeover(s));
    const p = again.committed.current.topics.find((t) => t.name === 'raced')!.partitions[1]!;
    expect(p.leader).not.toBe(victim);
    expect(p.isr).not.toContain(victim);
  });

  it('writes nothing once leadership is lost, and does not push a change written while it was lost', async () => {
    const { a } = await firstLeader('lapsed');
    const statusWrites = () => fx.kube.requests.filter((r) => r.subresource === 'status' && r.verb === 'update').length;

    a.leading = false;
    const writes = statusWrites();
    await expect(a.committed.commit((s) => fenceBroker(s, { brokerId: 0, reason: 'session_expired' }))).rejects.toThrow(/no longer holds the Lease/);
    expect(statusWrites()).toBe(writes);

    // Leadership lapses while the change is being written (a pause mid-write): it may be on the
    // object, for the next leader to load, but this process neither pushes nor answers it.
    const { a: a2 } = await firstLeader('lapsed-mid-write');
    const pushed = a2.pushed.length;
    const persisted = a2.committed.current;
    const victim = leaderOf('lapsed-mid-write', 0);
    let checks = 0;
    Object.defineProperty(a2, 'leading', { get: () => ++checks < 2 });
    await expect(a2.committed.commit((s) => fenceBroker(s, { brokerId: victim, reason: 'session_expired' }))).rejects.toThrow(/no longer holds the Lease/);
    expect(leaderOf('lapsed-mid-write', 0)).not.toBe(victim);
    expect(a2.pushed.length).toBe(pushed);
    expect(a2.committed.current).toBe(persisted);
  });
});
