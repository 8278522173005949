// Replication in a real three-broker cluster (controller and brokers as processes): an RF=3
// topic's replicas hold identical bytes; a killed follower leaves the ISR after the replica lag
// time through the leader's AlterPartition (not by the controller fencing it, which takes the
// longer session timeout); min.insync.replicas decides what acks=all may write meanwhile; the
// follower comes back, catches up and rejoins; a SIGTERMed leader hands its leadership over
// before it exits.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { encodeRecordBatch } from '../common/record-batch.ts';
import { useTestCluster, waitFor, type TestCluster } from './support/cluster.ts';
import { rawBrokers } from './support/raw-grpc.ts';
import { logBytes, metricValue, partitionView, replicaInfo, type PartitionView } from './support/replica-probes.ts';

const LAG_MS = 1_500;
// Long enough that a shrink seen before it cannot have come from fencing.
const SESSION_TIMEOUT_MS = 10_000;
const TOPIC = 'repl3';
const STRICT = 'repl3-strict';

const getCluster = useTestCluster({
  brokers: 3,
  sessionTimeoutMs: SESSION_TIMEOUT_MS,
  brokerArgs: ['--replica-lag-time-max-ms', String(LAG_MS), '--replica-fetch-wait-max-ms', '200'],
  // No preferred-leader moves in the middle of a test.
  controllerArgs: ['--leader-rebalance-interval-ms', '0'],
});

const { raw, closeAll: closeRawBrokers } = rawBrokers((id) => getCluster().brokerAddress(id));

/** Any running broker's metadata view of the partition. */
async function view(topic: string, exclude: number[] = []): Promise<PartitionView> {
  const cluster = getCluster();
  for (const b of cluster.cluster.brokers) {
    if (!b.running || exclude.includes(b.id)) continue;
    const v = await partitionView(raw(b.id), topic, 0).catch(() => undefined);
    if (v) return v;
  }
  throw new Error(`no running broker knows ${topic}-0`);
}

let sequence = 0;
function batch(n = 1): Buffer {
  return encodeRecordBatch(Array.from({ length: n }, () => ({ key: Buffer.from('k'), value: Buffer.from(`value-${sequence++}`) })));
}

async function produceAll(topic: string, batches: number): Promise<void> {
  const v = await view(topic);
  for (let i = 0; i < batches; i++) await raw(v.leader).produceOk(topic, 0, batch(3));
}

/** Waits until every running replica has the leader's LEO and returns their log bytes. */
async function convergedBytes(cluster: TestCluster, topic: string, replicas: number[]): Promise<Buffer[]> {
  await waitFor(`every replica of ${topic}-0 at the same LEO`, async () => {
    const leos = await Promise.all(replicas.map(async (id) => Number((await replicaInfo(raw(id), topic, 0))?.log_end_offset ?? -1)));
    return leos.every((l) => l === leos[0] && l > 0) ? true : undefined;
  }, 15_000);
  return replicas.map((id) => logBytes(cluster, topic, 0, id));
}

async function sumOverBrokers(name: string): Promise<number> {
  let sum = 0;
  for (const b of getCluster().cluster.brokers) {
    if (!b.running) continue;
    sum += (await metricValue(b.http, name).catch(() => 0)) ?? 0;
  }
  return sum;
}

beforeAll(async () => {
  const admin = raw(0);
  await admin.createTopic({ name: TOPIC, partitions: 1, replication_factor: 3, config: { 'min.insync.replicas': '2' } });
  await admin.createTopic({ name: STRICT, partitions: 1, replication_factor: 3, config: { 'min.insync.replicas': '3' } });
  for (const topic of [TOPIC, STRICT]) {
    await waitFor(`a serving leader of ${topic}-0`, async () => {
      const v = await view(topic);
      if (v.leader < 0) return undefined;
      await raw(v.leader).offsets(topic, 0);
      return true;
    });
  }
}, 30_000);

afterAll(() => closeRawBrokers());

describe('an RF=3 partition', () => {
  it('commits acks=all writes and holds byte-identical logs on all three replicas', async () => {
    const cluster = getCluster();
    await produceAll(TOPIC, 20);
    const v = await view(TOPIC);
    expect(v.isr.sort()).toEqual([0, 1, 2]);
    const { latest } = await raw(v.leader).offsets(TOPIC, 0);
    expect(latest).toBe(60);
    const [a, b, c] = await convergedBytes(cluster, TOPIC, [0, 1, 2]);
    expect(a!.length).toBeGreaterThan(0);
    expect(b!.equals(a!)).toBe(true);
    expect(c!.equals(a!)).toBe(true);
    // What the leader exports about it.
    const leaderHttp = cluster.cluster.broker(v.leader).http;
    const labels = { topic: TOPIC, partition: '0' };
    await waitFor('the leader to see its followers caught up', async () => ((await metricValue(leaderHttp, 'sluice_partition_hw_lag_messages', labels)) === 0 ? true : undefined));
    expect(await metricValue(leaderHttp, 'sluice_partition_high_watermark', labels)).toBe(60);
    expect(await metricValue(leaderHttp, 'sluice_partition_isr_size', labels)).toBe(3);
    expect(await metricValue(leaderHttp, 'sluice_partition_replicas', labels)).toBe(3);
    expect(await metricValue(leaderHttp, 'sluice_partition_under_replicated', labels)).toBe(0);
    expect(await metricValue(leaderHttp, 'sluice_partition_under_min_isr', labels)).toBe(0);
    expect(await metricValue(leaderHttp, 'sluice_partition_at_min_isr', labels)).toBe(0);
    for (const follower of v.replicas.filter((id) => id !== v.leader)) {
      expect(await metricValue(leaderHttp, 'sluice_replica_lag_messages', { ...labels, replica: String(follower) })).toBe(0);
    }
    // Followers do not report the leader's series.
    const followerHttp = cluster.cluster.broker(v.replicas.find((id) => id !== v.leader)!).http;
    expect(await metricValue(followerHttp, 'sluice_partition_high_watermark', labels)).toBeUndefined();
  });
});

describe('a follower that dies', () => {
  let victim: number;

  it('leaves the ISR after the lag time, committed through the controller before its session expires', async () => {
    const cluster = getCluster();
    const v = await view(TOPIC);
    const strict = await view(STRICT);
    // A broker that leads neither partition follows both.
    victim = [0, 1, 2].find((id) => id !== v.leader && id !== strict.leader)!;
    const shrinksBefore = await sumOverBrokers('sluice_isr_shrinks_total');
    const killedAt = Date.now();
    await cluster.cluster.killBroker(victim, 'SIGKILL');
    await waitFor(`broker ${victim} to leave the ISR of ${TOPIC}-0`, async () => ((await view(TOPIC, [victim])).isr.includes(victim) ? undefined : true), SESSION_TIMEOUT_MS, 50);
    const shrunkAfter = Date.now() - killedAt;
    expect(shrunkAfter, 'ms from the kill to the committed shrink').toBeGreaterThanOrEqual(LAG_MS - 200);
    expect(shrunkAfter, 'ms from the kill to the committed shrink').toBeLessThan(SESSION_TIMEOUT_MS - 1_000);
    // As the strict partition's leader sees it (another broker may hear of the commit first).
    await waitFor(`broker ${victim} to leave the ISR of ${STRICT}-0`, async () => ((await partitionView(raw(strict.leader), STRICT, 0))?.isr.includes(victim) ? undefined : true), SESSION_TIMEOUT_MS, 50);
    expect(await sumOverBrokers('sluice_isr_shrinks_total')).toBeGreaterThanOrEqual(shrinksBefore + 2);
    const leaderHttp = cluster.cluster.broker(v.leader).http;
    expect(await metricValue(leaderHttp, 'sluice_partition_under_replicated', { topic: TOPIC, partition: '0' })).toBe(1);
    expect(await metricValue(leaderHttp, 'sluice_partition_at_min_isr', { topic: TOPIC, partition: '0' })).toBe(1);
  }, 20_000);

  it('still takes acks=all writes with min.insync.replicas=2, and refuses them with 3', async () => {
    await produceAll(TOPIC, 5);
    const v = await view(TOPIC, [victim]);
    expect((await raw(v.leader).offsets(TOPIC, 0)).latest).toBe(75);
    const strict = await view(STRICT, [victim]);
    const refusal = await raw(strict.leader).produceFailure({ topic: STRICT, partition: 0, acks: 'ACKS_ALL', records: batch() }, 'acks=all below min.insync.replicas');
    expect(refusal.code).toBe('NOT_ENOUGH_REPLICAS');
    // Refused before appending: nothing was written.
    expect(Number((await replicaInfo(raw(strict.leader), STRICT, 0))?.log_end_offset)).toBe(0);
  });

  it('comes back, catches up, rejoins the ISR, and holds the same bytes again', async () => {
    const cluster = getCluster();
    const expandsBefore = await sumOverBrokers('sluice_isr_expands_total');
    await cluster.cluster.startBroker(victim);
    await waitFor(`broker ${victim} to rejoin the ISR of ${TOPIC}-0`, async () => ((await view(TOPIC)).isr.includes(victim) ? true : undefined), 15_000);
    await waitFor(`broker ${victim} to rejoin the ISR of ${STRICT}-0`, async () => ((await view(STRICT)).isr.includes(victim) ? true : undefined), 15_000);
    expect(await sumOverBrokers('sluice_isr_expands_total')).toBeGreaterThanOrEqual(expandsBefore + 2);
    const [a, b, c] = await convergedBytes(cluster, TOPIC, [0, 1, 2]);
    expect(b!.equals(a!)).toBe(true);
    expect(c!.equals(a!)).toBe(true);
    // Back at three in-sync replicas, the strict topic takes acks=all writes again.
    await produceAll(STRICT, 1);
  }, 30_000);
});

describe('a leader stopped with SIGTERM', () => {
  it('hands its leadership to an in-sync follower before it exits', async () => {
    const cluster = getCluster();
    const before = await view(TOPIC);
    const stoppedAt = Date.now();
    await cluster.cluster.stopBroker(before.leader);
    const stopMs = Date.now() - stoppedAt;
    // Moved by the controlled shutdown, not by a session timeout after the exit (that would
    // take SESSION_TIMEOUT_MS); the other brokers may hear of it a moment after the exit.
    const after = await waitFor('another leader in the metadata', async () => {
      const v = await view(TOPIC, [before.leader]);
      return v.leader >= 0 && v.leader !== before.leader ? v : undefined;
    }, 2_000, 50);
    expect(after.leaderEpoch).toBeGreaterThan(before.leaderEpoch);
    expect(stopMs, 'ms for the SIGTERMed leader to exit').toBeLessThan(SESSION_TIMEOUT_MS);
    await produceAll(TOPIC, 1);
    await cluster.cluster.startBroker(before.leader);
  }, 30_000);
});
