import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { SluiceError } from '../common/errors.ts';
import { silentLogger } from '../common/logger.ts';
import { Admin } from './admin.ts';
import { Producer } from './producer.ts';
import { FakeCluster } from './test-support/fake-broker.ts';

let cluster: FakeCluster;
let admin: Admin;

beforeEach(async () => {
  cluster = await FakeCluster.start({ brokers: 3 });
  admin = new Admin({ bootstrapServers: cluster.bootstrapServers, logger: silentLogger(), retryBackoffMs: 20, requestTimeoutMs: 2000 });
});

afterEach(async () => {
  await admin.close();
  await cluster.stop();
});

describe('admin', () => {
  it('creates, lists, describes, grows and deletes a topic', async () => {
    const created = await admin.createTopic({ name: 'orders', partitions: 3, config: { 'retention.ms': 1000, 'cleanup.policy': 'compact' } });
    expect(created).toMatchObject({ name: 'orders', config: { 'retention.ms': '1000', 'cleanup.policy': 'compact' } });
    expect(created.partitions.map((p) => p.partition)).toEqual([0, 1, 2]);
    expect(await admin.listTopics()).toEqual([
      { name: 'orders', topicId: created.topicId, partitions: 3, replicationFactor: 3, underReplicatedPartitions: 0, offlinePartitions: 0 },
    ]);
    const described = await admin.describeTopic('orders');
    expect(described.partitions[1]).toMatchObject({ partition: 1, leader: 1, replicas: [1, 0, 2], isr: [1, 0, 2], addingReplicas: [], removingReplicas: [] });
    expect((await admin.alterTopic({ name: 'orders', partitions: 5 })).partitions).toHaveLength(5);
    await admin.deleteTopic('orders');
    expect(await admin.listTopics()).toEqual([]);
  });

  it('passes the cluster refusal on as a SluiceError with its code', async () => {
    await admin.createTopic({ name: 'dup', partitions: 1 });
    const err = await admin.createTopic({ name: 'dup', partitions: 1 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(SluiceError);
    expect((err as SluiceError).code).toBe('TOPIC_ALREADY_EXISTS');
    await expect(admin.describeTopic('absent')).rejects.toMatchObject({ code: 'UNKNOWN_TOPIC_OR_PARTITION' });
  });

  it('refuses bad names, counts and config before calling the cluster', async () => {
    await expect(admin.createTopic({ name: 'bad name', partitions: 1 })).rejects.toMatchObject({ code: 'INVALID_TOPIC' });
    await expect(admin.createTopic({ name: 'ok', partitions: 0 })).rejects.toMatchObject({ code: 'INVALID_PARTITIONS' });
    await expect(admin.createTopic({ name: 'ok', partitions: 1, config: { 'retention.mss': 1 } })).rejects.toThrow(/unknown topic config key "retention.mss"/);
    await expect(admin.createTopic({ name: 'ok', partitions: 1, replicationFactor: 0 })).rejects.toMatchObject({ code: 'INVALID_REPLICATION_FACTOR' });
    expect(cluster.topics.size).toBe(0);
  });

  it('describes the cluster, the metadata and one broker replicas as plain objects', async () => {
    await admin.createTopic({ name: 'orders', partitions: 2 });
    const description = await admin.describeCluster();
    expect(description).toMatchObject({ clusterId: 'fake-cluster', controllerId: 0 });
    expect(description.brokers.map((b) => [b.brokerId, b.state, b.address])).toEqual(cluster.brokers.map((b) => [b.id, 'active', b.address]));

    const snapshot = await admin.metadata(['orders', 'nope']);
    expect(snapshot.topics[0]).toMatchObject({ name: 'orders', error: null, partitions: [{ partition: 0, leaderId: 0 }, { partition: 1, leaderId: 1 }] });
    expect(snapshot.topics[1]).toMatchObject({ name: 'nope', error: { code: 'UNKNOWN_TOPIC_OR_PARTITION' } });

    const replicas = await admin.describeReplicas(cluster.broker(1).address);
    expect(replicas.brokerId).toBe(1);
    expect(replicas.replicas.map((r) => [r.partition, r.isLeader])).toEqual([
      [0, false],
      [1, true],
    ]);
  });

  it('lists earliest, latest and by-timestamp offsets from each partition leader', async () => {
    await admin.createTopic({ name: 'logs', partitions: 2 });
    const producer = new Producer({ bootstrapServers: cluster.bootstrapServers, logger: silentLogger() });
    await Promise.all([
      producer.send({ topic: 'logs', partition: 1, value: 'a', timestamp: 100 }),
      producer.send({ topic: 'logs', partition: 1, value: 'b', timestamp: 200 }),
    ]);
    await producer.close();
    const offsets = await admin.listOffsets([
      { topic: 'logs', partition: 0, spec: 'latest' },
      { topic: 'logs', partition: 1, spec: 'earliest' },
      { topic: 'logs', partition: 1, spec: 'latest' },
      { topic: 'logs', partition: 1, spec: { timestamp: 150 } },
    ]);
    expect(offsets.map((o) => o.offset)).toEqual([0, 0, 2, 1]);
    expect(offsets[3]!.timestamp).toBe(200);
    await expect(admin.listOffsets([{ topic: 'logs', partition: 7, spec: 'latest' }])).rejects.toMatchObject({ code: 'UNKNOWN_TOPIC_OR_PARTITION' });
  });

  it('tries the next broker when one is down', async () => {
    const spread = new Admin({ bootstrapServers: ['127.0.0.1:1', cluster.brokers[1]!.address], logger: silentLogger(), retryBackoffMs: 20 });
    try {
      await spread.createTopic({ name: 'elsewhere', partitions: 1 });
      expect(cluster.topics.has('elsewhere')).toBe(true);
    } finally {
      await spread.close();
    }
  });

  describe('when the connection is lost after the controller acted on a call', () => {
    // One broker, so the retry goes where the first attempt went.
    let single: FakeCluster;
    let client: Admin;
    beforeEach(async () => {
      single = await FakeCluster.start({ brokers: 1 });
      client = new Admin({ bootstrapServers: single.bootstrapServers, logger: silentLogger(), retryBackoffMs: 20, requestTimeoutMs: 2000 });
    });
    afterEach(async () => {
      await client.close();
      await single.stop();
    });
    const loseReply = (method: string): void => {
      single.broker(0).adminFaults.push({ method, afterEffect: true });
    };

    it('a retried CreateTopic that finds the topic it asked for succeeds', async () => {
      loseReply('CreateTopic');
      const created = await client.createTopic({ name: 'orders', partitions: 2, replicationFactor: 1, config: { 'retention.ms': 1000 } });
      expect(created).toMatchObject({ name: 'orders', config: { 'retention.ms': '1000' } });
      expect(created.partitions).toHaveLength(2);
      expect(single.topics.get('orders')?.partitions).toHaveLength(2);
    });

    it('a retried CreateTopic that finds a different topic of that name still fails with TOPIC_ALREADY_EXISTS', async () => {
      single.createTopic('orders', 3);
      single.broker(0).adminFaults.push({ method: 'CreateTopic', afterEffect: false });
      await expect(client.createTopic({ name: 'orders', partitions: 2 })).rejects.toMatchObject({ code: 'TOPIC_ALREADY_EXISTS' });
      single.broker(0).adminFaults.push({ method: 'CreateTopic', afterEffect: false });
      single.topics.get('orders')!.config = { 'retention.ms': '5' };
      await expect(client.createTopic({ name: 'orders', partitions: 3, config: { 'retention.ms': 1000 } })).rejects.toMatchObject({ code: 'TOPIC_ALREADY_EXISTS' });
    });

    it('a retried DeleteTopic that finds the topic gone succeeds', async () => {
      single.createTopic('orders', 1);
      loseReply('DeleteTopic');
      await client.deleteTopic('orders');
      expect(single.topics.has('orders')).toBe(false);
      // Without a lost attempt, deleting a topic that does not exist is still an error.
      await expect(client.deleteTopic('orders')).rejects.toMatchObject({ code: 'UNKNOWN_TOPIC_OR_PARTITION' });
    });

    it('a retried AlterTopic applies the same absolute change again', async () => {
      single.createTopic('orders', 1);
      loseReply('AlterTopic');
      const altered = await client.alterTopic({ name: 'orders', partitions: 3 });
      expect(altered.partitions).toHaveLength(3);
    });
  });

  it('refuses calls after close()', async () => {
    await admin.close();
    await expect(admin.listTopics()).rejects.toMatchObject({ code: 'CLOSED' });
  });
});
