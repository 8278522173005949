import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { SluiceError } from '../common/errors.ts';
import { silentLogger } from '../common/logger.ts';
import { ClusterMetadata } from './cluster-metadata.ts';
import { ConnectionPool } from './connection-pool.ts';
import { FakeCluster } from './test-support/fake-broker.ts';

let cluster: FakeCluster;
let pool: ConnectionPool;
let metadata: ClusterMetadata;

function open(bootstrapServers: string[], overrides: Partial<{ retryBackoffMs: number; requestTimeoutMs: number }> = {}): ClusterMetadata {
  pool = new ConnectionPool('test');
  metadata = new ClusterMetadata(pool, {
    bootstrapServers,
    requestTimeoutMs: 2000,
    retryBackoffMs: 50,
    metadataMaxAgeMs: 60_000,
    logger: silentLogger(),
    ...overrides,
  });
  return metadata;
}

beforeEach(async () => {
  cluster = await FakeCluster.start({ brokers: 3 });
  cluster.createTopic('orders', 3);
});

afterEach(async () => {
  metadata.close();
  pool.close();
  await cluster.stop();
});

describe('cluster metadata', () => {
  it('learns brokers and partition leaders from the bootstrap list', async () => {
    const m = open(cluster.bootstrapServers);
    m.track(['orders']);
    await m.refresh();
    expect(m.brokerList().map((b) => b.address).sort()).toEqual(cluster.brokers.map((b) => b.address).sort());
    for (let p = 0; p < 3; p++) expect(m.leaderFor('orders', p)?.id).toBe(p);
    expect(m.topic('orders')?.partitions).toHaveLength(3);
    expect(m.clusterId).toBe('fake-cluster');
  });

  it('joins concurrent refreshes into one request', async () => {
    const m = open(cluster.bootstrapServers);
    m.track(['orders']);
    await Promise.all([m.refresh(), m.refresh(), m.refresh()]);
    expect(cluster.metadataRequests).toBe(1);
  });

  it('makes a second request when a topic was added during the first', async () => {
    cluster.createTopic('payments', 1);
    const m = open(cluster.bootstrapServers);
    m.track(['orders']);
    const first = m.refresh();
    m.track(['payments']);
    await Promise.all([first, m.refresh()]);
    expect(cluster.metadataRequests).toBe(2);
    expect(m.topic('payments')).toBeDefined();
  });

  it('spaces background refreshes by retryBackoffMs', async () => {
    const m = open(cluster.bootstrapServers, { retryBackoffMs: 150 });
    await m.refresh();
    for (let i = 0; i < 20; i++) m.requestRefresh();
    await new Promise((r) => setTimeout(r, 60));
    expect(cluster.metadataRequests).toBe(1);
    for (let i = 0; i < 100 && cluster.metadataRequests < 2; i++) await new Promise((r) => setTimeout(r, 10));
    expect(cluster.metadataRequests).toBe(2);
  });

  it('falls back to the next bootstrap server when the first does not answer', async () => {
    const m = open(['127.0.0.1:1', ...cluster.bootstrapServers]);
    await m.bootstrap(2000);
    expect(m.brokerList()).toHaveLength(3);
  });

  it('applies a NOT_LEADER hint at once, unless it is older than what it knows', async () => {
    const m = open(cluster.bootstrapServers);
    m.track(['orders']);
    await m.refresh();
    const hint = (leaderId: number, leaderEpoch: number) =>
      new SluiceError('NOT_LEADER', 'moved', { topic: 'orders', partition: 0, leaderId, leaderAddress: cluster.broker(leaderId).address, leaderEpoch });
    expect(m.applyLeaderHint('orders', 0, hint(2, 5), cluster.broker(0).address)).toBe(true);
    expect(m.leaderFor('orders', 0)?.id).toBe(2);
    // An older election's hint arriving late must not move the partition back.
    expect(m.applyLeaderHint('orders', 0, hint(1, 4), cluster.broker(0).address)).toBe(false);
    expect(m.leaderFor('orders', 0)?.id).toBe(2);
    // Nor may metadata from a broker that has not heard of the election yet.
    await m.refresh();
    expect(m.leaderFor('orders', 0)?.id).toBe(2);
  });

  it('keeps a hinted leader that lagging metadata does not list yet', async () => {
    const m = open(cluster.bootstrapServers);
    m.track(['orders']);
    await m.refresh();
    const hint = new SluiceError('NOT_LEADER', 'moved', { topic: 'orders', partition: 2, leaderId: 7, leaderAddress: '127.0.0.1:7777', leaderEpoch: 3 });
    expect(m.applyLeaderHint('orders', 2, hint, cluster.broker(2).address)).toBe(true);
    await m.refresh();
    expect(m.leaderFor('orders', 2)).toMatchObject({ id: 7, address: '127.0.0.1:7777' });
  });

  it('asks for a refresh when the hint names no leader or the broker that refused', async () => {
    const m = open(cluster.bootstrapServers);
    m.track(['orders']);
    await m.refresh();
    const noLeader = new SluiceError('NOT_LEADER', 'moved', { topic: 'orders', partition: 1 });
    expect(m.applyLeaderHint('orders', 1, noLeader, cluster.broker(1).address)).toBe(false);
    const self = new SluiceError('NOT_LEADER', 'moved', { topic: 'orders', partition: 1, leaderId: 1, leaderAddress: cluster.broker(1).address, leaderEpoch: 0 });
    expect(m.applyLeaderHint('orders', 1, self, cluster.broker(1).address)).toBe(false);
    await new Promise((r) => setTimeout(r, 100));
    expect(cluster.metadataRequests).toBeGreaterThanOrEqual(2);
  });

  it('reports an unknown topic with its code after waiting', async () => {
    const m = open(cluster.bootstrapServers);
    await expect(m.waitForTopic('missing', 200)).rejects.toMatchObject({ code: 'UNKNOWN_TOPIC_OR_PARTITION' });
    expect(m.topicError('missing')?.code).toBe('UNKNOWN_TOPIC_OR_PARTITION');
  });

  it('fails bootstrap with BROKER_NOT_AVAILABLE naming what it tried', async () => {
    const m = open(['127.0.0.1:1'], { retryBackoffMs: 30 });
    const err = await m.bootstrap(200).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(SluiceError);
    expect((err as SluiceError).code).toBe('BROKER_NOT_AVAILABLE');
    expect((err as SluiceError).message).toContain('127.0.0.1:1');
  });
});
