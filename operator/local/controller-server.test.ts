// The local controller in-process on 127.0.0.1, driven by a real grpc-js client acting as a
// broker (BrokerSessionDouble) and by AdminService calls. Time is a FakeClock: session lapses
// happen when a test advances it, never by sleeping.
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import * as grpc from '@grpc/grpc-js';
import { service as healthService } from 'grpc-health-check';
import { pino } from 'pino';
import { controllerClient, unary } from './broker-session-double.ts';
import {
  beat,
  broker,
  brokerState,
  createTopic,
  dataDir,
  describeCluster,
  HEARTBEAT_MS,
  onCleanup,
  proposeIsr,
  refusal,
  runCleanups,
  SESSION_TIMEOUT_MS,
  start,
  topicIn,
  waitFor,
} from './controller-harness.ts';
import { BACKUP_FILE, CORRUPT_FILE, STATE_FILE } from './state-store.ts';
import { FakeClock } from './fake-clock.ts';

afterEach(runCleanups);

describe('broker sessions', () => {
  it('answers a registration with an epoch and the session settings, then pushes metadata', async () => {
    const h = await start();
    const b = broker(h);
    const { registered, metadata } = await b.register({ brokerId: 1, incarnationId: 'inc-a', rack: 'zone-a' });
    expect(registered).toMatchObject({ broker_epoch: 1, heartbeat_interval_ms: HEARTBEAT_MS, session_timeout_ms: SESSION_TIMEOUT_MS, controller_id: 1000 });
    expect(registered.cluster_id).toBe(h.controller.committed.current.clusterId);
    expect(metadata.live_brokers).toEqual([{ broker_id: 1, host: '127.0.0.1', port: 9093, rack: 'zone-a' }]);
    expect(metadata.version).toBe(h.controller.committed.current.metadataVersion);

    const second = broker(h);
    expect((await second.register({ brokerId: 2, incarnationId: 'inc-b' })).registered.broker_epoch).toBe(2);
    const pushed = await b.nextMetadata((m) => m.live_brokers.length === 2);
    expect(pushed.live_brokers.map((x) => x.broker_id)).toEqual([1, 2]);
  });

  it('pushes the assignment of a created topic to every session', async () => {
    const h = await start();
    const b = broker(h);
    await b.register({ brokerId: 1, incarnationId: 'inc-a' });
    const created = await createTopic(h, { name: 'orders', partitions: 3, config: { 'retention.ms': '1000' } });
    expect(created.topic?.topic_id).not.toBe('');
    expect(created.topic?.config?.['retention.ms']).toBe('1000');
    expect(created.topic?.config?.['cleanup.policy']).toBe('delete');

    const m = await b.nextMetadata((x) => topicIn(x, 'orders') !== undefined);
    const t = topicIn(m, 'orders')!;
    expect(t.topic_id).toBe(created.topic!.topic_id);
    expect(t.config).toEqual({ 'retention.ms': '1000' });
    expect(t.partitions.map((p) => [p.partition, p.replicas, p.leader, p.isr, p.leader_epoch])).toEqual([
      [0, [1], 1, [1], 0],
      [1, [1], 1, [1], 0],
      [2, [1], 1, [1], 0],
    ]);
  });

  it('keeps a heartbeating broker alive well past the session timeout', async () => {
    const h = await start();
    const b = broker(h);
    await b.register({ brokerId: 1, incarnationId: 'inc-a' });
    for (let i = 0; i < 3 * (SESSION_TIMEOUT_MS / HEARTBEAT_MS); i++) {
      await beat(h, b);
      h.clock.advance(HEARTBEAT_MS);
    }
    expect(await brokerState(h, 1)).toBe('BROKER_STATE_ACTIVE');
    expect(b.isEnded).toBe(false);
  });

  it('fences a broker that stops heartbeating: out of live brokers, its RF=1 partitions offline with bumped epochs', async () => {
    const h = await start();
    const b1 = broker(h);
    const b2 = broker(h);
    await b1.register({ brokerId: 1, incarnationId: 'inc-1' });
    await b2.register({ brokerId: 2, incarnationId: 'inc-2' });
    await createTopic(h, { name: 'orders', partitions: 2, replication_factor: 1 });
    const withTopic = await b1.nextMetadata((m) => topicIn(m, 'orders') !== undefined);
    const onTwo = topicIn(withTopic, 'orders')!.partitions.find((p) => p.leader === 2)!;

    for (let t = 0; t < SESSION_TIMEOUT_MS; t += HEARTBEAT_MS) {
      await beat(h, b1);
      h.clock.advance(HEARTBEAT_MS);
    }
    const after = await b1.nextMetadata((m) => m.live_brokers.length === 1);
    expect(after.live_brokers.map((b) => b.broker_id)).toEqual([1]);
    expect(topicIn(after, 'orders')!.partitions[onTwo.partition]).toMatchObject({ leader: -1, isr: [2], leader_epoch: 1, partition_epoch: 1 });
    expect(after.version).toBeGreaterThan(withTopic.version);

    const error = await b2.nextError();
    expect(error.code).toBe('ERROR_CODE_REQUEST_TIMED_OUT');
    expect(error.message).toContain('register again');
    await b2.ended();
    expect(await brokerState(h, 2)).toBe('BROKER_STATE_FENCED');
    expect(await brokerState(h, 1)).toBe('BROKER_STATE_ACTIVE');
  });

  it('fences a silent broker even when its lapse timer fires a little early', async () => {
    const h = await start(undefined, {}, new FakeClock({ earlyByMs: 1 }));
    const b1 = broker(h);
    await b1.register({ brokerId: 1, incarnationId: 'inc-1' });
    h.clock.advance(SESSION_TIMEOUT_MS - 1); // the timer fires here, 1 ms before the session has lapsed
    await new Promise((resolve) => setTimeout(resolve, 50)); // let the (refused) fence commit run
    h.clock.advance(1);
    await b1.nextError();
    expect(await brokerState(h, 1)).toBe('BROKER_STATE_FENCED');
  });

  it('unfences a broker that registers again, keeping its epoch and giving back partitions it was the last ISR member of', async () => {
    const h = await start();
    const b1 = broker(h);
    await b1.register({ brokerId: 1, incarnationId: 'inc-1' });
    await createTopic(h, { name: 'orders', partitions: 1, replication_factor: 1 });
    h.clock.advance(SESSION_TIMEOUT_MS);
    await b1.nextError();
    expect(await brokerState(h, 1)).toBe('BROKER_STATE_FENCED');

    const again = broker(h);
    const { registered, metadata } = await again.register({ brokerId: 1, incarnationId: 'inc-1' });
    expect(registered.broker_epoch).toBe(1);
    expect(metadata.live_brokers.map((b) => b.broker_id)).toEqual([1]);
    expect(topicIn(metadata, 'orders')!.partitions[0]).toMatchObject({ leader: 1, leader_epoch: 2, partition_epoch: 2 });
    expect(await brokerState(h, 1)).toBe('BROKER_STATE_ACTIVE');
  });

  it('refuses a heartbeat with a stale epoch and closes the stream', async () => {
    const h = await start();
    const b = broker(h);
    await b.register({ brokerId: 1, incarnationId: 'inc-1' });
    b.heartbeat(b.brokerEpoch + 5);
    const error = await b.nextError();
    expect(error.code).toBe('ERROR_CODE_STALE_BROKER_EPOCH');
    expect(error.message).toMatch(/epoch 6 of broker 1 is stale: the current epoch is 1/);
    await b.ended();
  });

  it('refuses a heartbeat before registration', async () => {
    const h = await start();
    const b = broker(h);
    b.heartbeat(1, 1);
    expect((await b.nextError()).code).toBe('ERROR_CODE_INVALID_REQUEST');
    await b.ended();
  });

  it('lets a reconnect of the same incarnation replace the old stream, keeping the epoch', async () => {
    const h = await start();
    const old = broker(h);
    await old.register({ brokerId: 1, incarnationId: 'inc-1' });
    const fresh = broker(h);
    const { registered } = await fresh.register({ brokerId: 1, incarnationId: 'inc-1' });
    expect(registered.broker_epoch).toBe(1);
    await old.ended();
    await beat(h, fresh);
    expect(await brokerState(h, 1)).toBe('BROKER_STATE_ACTIVE');
  });

  it('turns away a second live process with the same broker id, but takes a restarted one once the old stream is gone', async () => {
    const h = await start();
    const b1 = broker(h);
    await b1.register({ brokerId: 1, incarnationId: 'inc-1' });
    await createTopic(h, { name: 'orders', partitions: 1, replication_factor: 1 });

    const impostor = broker(h);
    impostor.send({ register: { broker_id: 1, incarnation_id: 'inc-other', host: '127.0.0.1', port: 9999, rack: '' } });
    const error = await impostor.nextError();
    expect(error.code).toBe('ERROR_CODE_INVALID_REQUEST');
    expect(error.message).toMatch(/broker id 1 is already registered by a live session.*give every broker its own id/);
    await beat(h, b1);
    expect(await brokerState(h, 1)).toBe('BROKER_STATE_ACTIVE');

    b1.close();
    await waitFor(async () => h.controller.sessions.describe().find((l) => l.brokerId === 1)?.connected === false);
    const restarted = broker(h);
    const { registered, metadata } = await restarted.register({ brokerId: 1, incarnationId: 'inc-restarted' });
    expect(registered.broker_epoch).toBe(2);
    // Fenced first (leader -1, epoch 1), then elected again as the last ISR member (epoch 2).
    expect(topicIn(metadata, 'orders')!.partitions[0]).toMatchObject({ leader: 1, leader_epoch: 2 });

    const stale = await unary(restarted.client.AllocateProducerIds.bind(restarted.client), { broker_id: 1, broker_epoch: 1 });
    expect(stale.error?.code).toBe('ERROR_CODE_STALE_BROKER_EPOCH');
  });
});

describe('broker requests', () => {
  it('hands out producer id blocks that stay unique across a controller restart', async () => {
    const h = await start();
    const b = broker(h);
    await b.register({ brokerId: 1, incarnationId: 'inc-1' });
    const alloc = () => unary(b.client.AllocateProducerIds.bind(b.client), { broker_id: 1, broker_epoch: b.brokerEpoch });
    const first = await alloc();
    const second = await alloc();
    expect(first).toMatchObject({ error: null, count: 1000 });
    expect(second.first_producer_id).toBe(first.first_producer_id + 1000);
    b.close();
    await h.controller.stop();

    const h2 = await start(h.dir);
    const b2 = broker(h2);
    expect((await b2.register({ brokerId: 1, incarnationId: 'inc-1' })).registered.broker_epoch).toBe(1);
    const third = await unary(b2.client.AllocateProducerIds.bind(b2.client), { broker_id: 1, broker_epoch: 1 });
    expect(third.first_producer_id).toBe(second.first_producer_id + 1000);
  });

  it('commits an ISR change proposed by the leader and refuses one at an old leader epoch, returning the current state', async () => {
    const h = await start();
    const b1 = broker(h);
    const b2 = broker(h);
    await b1.register({ brokerId: 1, incarnationId: 'inc-1' });
    await b2.register({ brokerId: 2, incarnationId: 'inc-2' });
    const created = await createTopic(h, { name: 'orders', partitions: 1, replication_factor: 2 });
    const p = created.topic!.partitions![0]!;
    const leader = p.leader!;
    const follower = p.replicas!.find((r) => r !== leader)!;
    const client = controllerClient(h.controller.grpcAddress);
    onCleanup(() => client.close());
    const alter = (req: { leader_epoch: number; partition_epoch: number; new_isr: number[] }) =>
      unary(client.AlterPartition.bind(client), { broker_id: leader, broker_epoch: leader, topic: 'orders', partition: 0, ...req });

    const shrunk = await alter({ leader_epoch: 0, partition_epoch: 0, new_isr: [leader] });
    expect(shrunk.error).toBeNull();
    expect(shrunk.state).toMatchObject({ leader, isr: [leader], partition_epoch: 1 });
    const pushed = await b1.nextMetadata((m) => topicIn(m, 'orders')?.partitions[0]?.partition_epoch === 1);
    expect(topicIn(pushed, 'orders')!.partitions[0]!.isr).toEqual([leader]);

    const refused = await alter({ leader_epoch: 3, partition_epoch: 1, new_isr: [leader, follower] });
    expect(refused.error?.code).toBe('ERROR_CODE_FENCED_LEADER_EPOCH');
    expect(refused.state).toMatchObject({ isr: [leader], partition_epoch: 1, leader_epoch: 0 });
    const stalePartitionEpoch = await alter({ leader_epoch: 0, partition_epoch: 0, new_isr: [leader, follower] });
    expect(stalePartitionEpoch.error?.code).toBe('ERROR_CODE_INVALID_REQUEST');
  });

  it('moves leaderships away on controlled shutdown, and fences the broker as soon as its stream closes', async () => {
    const h = await start();
    const b1 = broker(h);
    const b2 = broker(h);
    await b1.register({ brokerId: 1, incarnationId: 'inc-1' });
    await b2.register({ brokerId: 2, incarnationId: 'inc-2' });
    await createTopic(h, { name: 'orders', partitions: 2, replication_factor: 2 });
    const answer = await unary(b1.client.ControlledShutdown.bind(b1.client), { broker_id: 1, broker_epoch: b1.brokerEpoch });
    expect(answer).toMatchObject({ error: null, remaining_leaderships: 0 });
    const m = await b2.nextMetadata((x) => topicIn(x, 'orders')!.partitions.every((p) => p.leader === 2));
    expect(topicIn(m, 'orders')!.partitions.map((p) => p.isr)).toEqual([[2], [2]]);
    expect(await brokerState(h, 1)).toBe('BROKER_STATE_SHUTTING_DOWN');

    b1.close();
    await waitFor(async () => (await brokerState(h, 1)) === 'BROKER_STATE_FENCED');
    const wrong = await unary(b2.client.ControlledShutdown.bind(b2.client), { broker_id: 2, broker_epoch: 99 });
    expect(wrong.error?.code).toBe('ERROR_CODE_STALE_BROKER_EPOCH');
  });
});

describe('admin service', () => {
  it('refuses bad topic requests with the right code and a message that says what to change', async () => {
    const h = await start();
    const b = broker(h);
    await b.register({ brokerId: 1, incarnationId: 'inc-1' });
    await createTopic(h, { name: 'orders', partitions: 4 });

    const cases: [Promise<unknown>, number, string, RegExp][] = [
      [createTopic(h, { name: 'no spaces', partitions: 1 }), grpc.status.INVALID_ARGUMENT, 'INVALID_TOPIC', /characters outside \[a-zA-Z0-9._-\]/],
      [createTopic(h, { name: 'zero', partitions: 0 }), grpc.status.INVALID_ARGUMENT, 'INVALID_PARTITIONS', /integer from 1 to 10000 \(got 0\)/],
      [createTopic(h, { name: 'wide', partitions: 1, replication_factor: 3 }), grpc.status.INVALID_ARGUMENT, 'INVALID_REPLICATION_FACTOR', /needs 3 live brokers, but 1 broker is live \(1\); use a replication factor of at most 1/],
      [createTopic(h, { name: 'cfg', partitions: 1, config: { 'retention.hours': '5' } }), grpc.status.INVALID_ARGUMENT, 'INVALID_CONFIG', /unknown topic config key "retention.hours"; known keys: /],
      [createTopic(h, { name: 'orders', partitions: 1 }), grpc.status.ALREADY_EXISTS, 'TOPIC_ALREADY_EXISTS', /already exists with 4 partitions; use AlterTopic/],
      [unary(h.admin.AlterTopic.bind(h.admin), { name: 'orders', partitions: 2 }), grpc.status.INVALID_ARGUMENT, 'INVALID_PARTITIONS', /has 4 partitions and partitions never shrink.*ask for 4 or more/],
      [unary(h.admin.AlterTopic.bind(h.admin), { name: 'orders', replication_factor: 2 }), grpc.status.INVALID_ARGUMENT, 'INVALID_REPLICATION_FACTOR', /needs 1 more replica for partition 0 .*only 0 other active brokers are available; start more brokers/],
      [unary(h.admin.DeleteTopic.bind(h.admin), { name: 'missing' }), grpc.status.NOT_FOUND, 'UNKNOWN_TOPIC_OR_PARTITION', /"missing" does not exist/],
      [unary(h.admin.DescribeTopic.bind(h.admin), { name: 'missing' }), grpc.status.NOT_FOUND, 'UNKNOWN_TOPIC_OR_PARTITION', /"missing" does not exist/],
    ];
    for (const [call, status, code, message] of cases) {
      const r = await refusal(call);
      expect([r.status, r.error.code]).toEqual([status, code]);
      expect(r.error.message).toMatch(message);
    }
  });

  it('validates without creating when validate_only is set', async () => {
    const h = await start();
    await broker(h).register({ brokerId: 1, incarnationId: 'inc-1' });
    const dry = await createTopic(h, { name: 'orders', partitions: 2, validate_only: true });
    expect(dry.topic).toMatchObject({ name: 'orders', topic_id: '' });
    expect(dry.topic!.partitions).toHaveLength(2);
    expect((await unary(h.admin.ListTopics.bind(h.admin), {})).topics).toEqual([]);
    expect((await refusal(createTopic(h, { name: 'orders', partitions: 0, validate_only: true }))).error.code).toBe('INVALID_PARTITIONS');
  });

  it('lists, describes (every effective config value), alters and deletes topics', async () => {
    const h = await start();
    const b1 = broker(h);
    const b2 = broker(h);
    await b1.register({ brokerId: 1, incarnationId: 'inc-1' });
    await b2.register({ brokerId: 2, incarnationId: 'inc-2' });
    await createTopic(h, { name: 'orders', partitions: 2, replication_factor: 2, config: { 'min.insync.replicas': '2' } });
    await createTopic(h, { name: 'solo', partitions: 2, replication_factor: 1 });

    const altered = await unary(h.admin.AlterTopic.bind(h.admin), { name: 'orders', partitions: 3, config: { 'retention.ms': '-1' } });
    expect(altered.topic!.partitions).toHaveLength(3);
    const described = await unary(h.admin.DescribeTopic.bind(h.admin), { name: 'orders' });
    expect(described.topic!.config).toMatchObject({ 'min.insync.replicas': '2', 'retention.ms': '-1', 'cleanup.policy': 'delete', 'unclean.leader.election.enable': 'false' });
    expect(Object.keys(described.topic!.config!)).toHaveLength(10);

    // Broker 2 lapses: one "solo" partition goes offline, "orders" partitions lose a replica.
    for (let t = 0; t < SESSION_TIMEOUT_MS; t += HEARTBEAT_MS) {
      await beat(h, b1);
      h.clock.advance(HEARTBEAT_MS);
    }
    await waitFor(async () => (await brokerState(h, 2)) === 'BROKER_STATE_FENCED');
    const list = await unary(h.admin.ListTopics.bind(h.admin), {});
    expect(list.topics.map((t) => [t.name, t.partitions, t.replication_factor, t.under_replicated_partitions, t.offline_partitions])).toEqual([
      ['orders', 3, 2, 3, 0],
      ['solo', 2, 1, 0, 1],
    ]);

    await unary(h.admin.DeleteTopic.bind(h.admin), { name: 'solo' });
    const m = await b1.nextMetadata((x) => topicIn(x, 'orders') !== undefined && topicIn(x, 'solo') === undefined);
    expect(m.topics.map((t) => t.name)).toEqual(['orders']);
  });

  it('describes the cluster with every broker\'s state and epoch', async () => {
    const h = await start();
    await broker(h).register({ brokerId: 3, incarnationId: 'inc-3', rack: 'zone-c' });
    const c = await describeCluster(h);
    expect(c).toMatchObject({ cluster_id: h.controller.committed.current.clusterId, controller_id: 1000 });
    expect(c.brokers).toEqual([{ endpoint: { broker_id: 3, host: '127.0.0.1', port: 9095, rack: 'zone-c' }, state: 'BROKER_STATE_ACTIVE', broker_epoch: 1 }]);
  });

  it('sends DescribeReplicas to the brokers with UNIMPLEMENTED', async () => {
    const h = await start();
    await broker(h).register({ brokerId: 1, incarnationId: 'inc-1' });
    const r = await refusal(unary(h.admin.DescribeReplicas.bind(h.admin), {}));
    expect(r.status).toBe(grpc.status.UNIMPLEMENTED);
    expect(r.error.message).toMatch(/answered by each broker.*1 at 127.0.0.1:9093/);
  });

  it('serves grpc.health.v1', async () => {
    const h = await start();
    const Health = grpc.makeGenericClientConstructor(healthService as grpc.ServiceDefinition, 'Health');
    const client = new Health(h.controller.grpcAddress, grpc.credentials.createInsecure()) as unknown as grpc.Client & { Check: (req: object, cb: grpc.requestCallback<{ status: string }>) => void };
    onCleanup(() => client.close());
    expect(await unary(client.Check.bind(client), { service: 'sluice.v1.AdminService' })).toEqual({ status: 'SERVING' });
  });
});

describe('persistence', () => {
  it('resumes after a restart with the same cluster, topics, ids and epochs', async () => {
    const h = await start();
    const b1 = broker(h);
    const b2 = broker(h);
    await b1.register({ brokerId: 1, incarnationId: 'inc-1' });
    await b2.register({ brokerId: 2, incarnationId: 'inc-2' });
    await createTopic(h, { name: 'orders', partitions: 3, replication_factor: 2, config: { 'cleanup.policy': 'compact' } });
    await createTopic(h, { name: 'audit', partitions: 1, replication_factor: 1 });
    h.clock.advance(SESSION_TIMEOUT_MS); // both lapse: leaders move, epochs bump
    await waitFor(async () => (await describeCluster(h)).brokers.every((b) => b.state === 'BROKER_STATE_FENCED'));
    const before = {
      cluster: await describeCluster(h),
      orders: await unary(h.admin.DescribeTopic.bind(h.admin), { name: 'orders' }),
      audit: await unary(h.admin.DescribeTopic.bind(h.admin), { name: 'audit' }),
      state: h.controller.committed.current,
    };
    await h.controller.stop();

    const h2 = await start(h.dir);
    expect(h2.controller.committed.current).toEqual(before.state);
    expect(await describeCluster(h2)).toEqual(before.cluster);
    expect(await unary(h2.admin.DescribeTopic.bind(h2.admin), { name: 'orders' })).toEqual(before.orders);
    expect(await unary(h2.admin.DescribeTopic.bind(h2.admin), { name: 'audit' })).toEqual(before.audit);
    const again = broker(h2);
    expect((await again.register({ brokerId: 2, incarnationId: 'inc-2' })).registered.broker_epoch).toBe(2);
    const newcomer = broker(h2);
    expect((await newcomer.register({ brokerId: 3, incarnationId: 'inc-3' })).registered.broker_epoch).toBe(3);
  });

  it('gives brokers of a restarted controller one session timeout to come back before fencing them', async () => {
    const h = await start();
    await broker(h).register({ brokerId: 1, incarnationId: 'inc-1' });
    await broker(h).register({ brokerId: 2, incarnationId: 'inc-2' });
    await h.controller.stop();

    const h2 = await start(h.dir);
    const back = broker(h2);
    await back.register({ brokerId: 1, incarnationId: 'inc-1' });
    for (let t = 0; t < SESSION_TIMEOUT_MS; t += HEARTBEAT_MS) {
      await beat(h2, back);
      h2.clock.advance(HEARTBEAT_MS);
    }
    await waitFor(async () => (await brokerState(h2, 2)) === 'BROKER_STATE_FENCED');
    expect(await brokerState(h2, 1)).toBe('BROKER_STATE_ACTIVE');
  });

  it('refuses to start on a corrupt state file without a backup, saying what to do', async () => {
    const dir = await dataDir();
    await writeFile(path.join(dir, STATE_FILE), '{"format": 1, "state": {"clusterId": ');
    await expect(start(dir)).rejects.toThrow(/controller-state.json is corrupt: not valid JSON.*no backup.*Refusing to start.*reuse broker epochs.*Restore the file/);
  });

  it('falls back to the previous good copy when the state file is corrupt, moving counters past the lost change', async () => {
    const h = await start();
    const b = broker(h);
    await b.register({ brokerId: 1, incarnationId: 'inc-1' });
    await createTopic(h, { name: 'orders', partitions: 1, replication_factor: 1 });
    const block = await unary(b.client.AllocateProducerIds.bind(b.client), { broker_id: 1, broker_epoch: 1 });
    const last = h.controller.committed.current;
    await h.controller.stop();
    const good = await readFile(path.join(h.dir, BACKUP_FILE), 'utf8');
    const damaged = (await readFile(path.join(h.dir, STATE_FILE), 'utf8')).slice(0, 40);
    await writeFile(path.join(h.dir, STATE_FILE), damaged);

    const h2 = await start(h.dir);
    const s = h2.controller.committed.current;
    expect(s.clusterId).toBe(last.clusterId);
    expect(s.topics.map((t) => t.name)).toEqual(['orders']);
    expect(s.metadataVersion).toBeGreaterThan(last.metadataVersion);
    expect(s.nextProducerId).toBeGreaterThan(block.first_producer_id + block.count - 1);
    expect(s.topics[0]!.partitions[0]!.leaderEpoch).toBeGreaterThan(last.topics[0]!.partitions[0]!.leaderEpoch);
    expect(await readFile(path.join(h.dir, CORRUPT_FILE), 'utf8')).toBe(damaged);
    expect(await readFile(path.join(h.dir, BACKUP_FILE), 'utf8')).toBe(good);

    const b2 = broker(h2);
    await b2.register({ brokerId: 1, incarnationId: 'inc-1' });
    const next = await unary(b2.client.AllocateProducerIds.bind(b2.client), { broker_id: 1, broker_epoch: 1 });
    expect(next.first_producer_id).toBeGreaterThanOrEqual(block.first_producer_id + block.count);
  });
});

describe('replication factor change', () => {
  it('grows by reassignment: pushes the adding replicas, survives a controller restart, completes when the leader reports them in sync', async () => {
    const h = await start();
    const doubles = [broker(h), broker(h), broker(h)];
    for (const [i, b] of doubles.entries()) await b.register({ brokerId: i + 1, incarnationId: `inc-${i + 1}` });
    await createTopic(h, { name: 'orders', partitions: 1, replication_factor: 1 });

    const altered = await unary(h.admin.AlterTopic.bind(h.admin), { name: 'orders', replication_factor: 3 });
    const p = altered.topic!.partitions![0]!;
    const leader = p.leader!;
    expect(p.replicas).toHaveLength(3);
    expect(p.replicas![0]).toBe(leader);
    expect(p.adding_replicas).toEqual(p.replicas!.slice(1));
    expect(p).toMatchObject({ isr: [leader], removing_replicas: [] });
    const pushed = await doubles[0]!.nextMetadata((m) => topicIn(m, 'orders')?.partitions[0]?.adding_replicas.length === 2);
    expect(topicIn(pushed, 'orders')!.partitions[0]!.replicas).toEqual(p.replicas);
    expect((await unary(h.admin.ListTopics.bind(h.admin), {})).topics[0]).toMatchObject({ replication_factor: 3, under_replicated_partitions: 1 });
    await h.controller.stop();

    // The move was persisted: a restarted controller resumes it.
    const h2 = await start(h.dir);
    const again = [broker(h2), broker(h2), broker(h2)];
    for (const [i, b] of again.entries()) await b.register({ brokerId: i + 1, incarnationId: `inc-${i + 1}` });
    const described = await unary(h2.admin.DescribeTopic.bind(h2.admin), { name: 'orders' });
    expect(described.topic!.partitions![0]!.adding_replicas).toEqual(p.adding_replicas);

    const done = await proposeIsr(h2, again[leader - 1]!, 'orders', 0, p.replicas!);
    expect(done).toMatchObject({ replicas: p.replicas, isr: p.replicas, leader, adding_replicas: [], removing_replicas: [] });
    const completed = await again[1]!.nextMetadata((m) => topicIn(m, 'orders')?.partitions[0]?.adding_replicas.length === 0);
    expect(topicIn(completed, 'orders')!.partitions[0]!.isr).toEqual(p.replicas);
    expect((await unary(h2.admin.ListTopics.bind(h2.admin), {})).topics[0]).toMatchObject({ replication_factor: 3, under_replicated_partitions: 0 });
  });

  it('shrinks at once, and refuses to go below min.insync.replicas with a message that says what to change', async () => {
    const h = await start();
    for (const id of [1, 2, 3]) await broker(h).register({ brokerId: id, incarnationId: `inc-${id}` });
    await createTopic(h, { name: 'orders', partitions: 2, replication_factor: 3, config: { 'min.insync.replicas': '2' } });
    const r = await refusal(unary(h.admin.AlterTopic.bind(h.admin), { name: 'orders', replication_factor: 1 }));
    expect([r.status, r.error.code]).toEqual([grpc.status.INVALID_ARGUMENT, 'INVALID_REPLICATION_FACTOR']);
    expect(r.error.message).toMatch(/from 3 to 1 would leave fewer replicas than its min.insync.replicas \(2\).*lower min.insync.replicas to 1/);

    const shrunk = await unary(h.admin.AlterTopic.bind(h.admin), { name: 'orders', replication_factor: 2 });
    for (const p of shrunk.topic!.partitions!) {
      expect(p.replicas).toHaveLength(2);
      expect(p).toMatchObject({ adding_replicas: [], removing_replicas: [], isr: p.replicas });
    }
    // validate_only answers the same without changing anything.
    const dry = await unary(h.admin.AlterTopic.bind(h.admin), { name: 'orders', replication_factor: 3, validate_only: true });
    expect(dry.topic!.partitions![0]!.adding_replicas).toHaveLength(1);
    expect((await unary(h.admin.ListTopics.bind(h.admin), {})).topics[0]!.replication_factor).toBe(2);
  });
});

describe('elections', () => {
  it('logs every election with its record, an unclean one loudly, records it on the partition and counts it', async () => {
    const lines: Record<string, any>[] = [];
    const logger = pino({ level: 'info' }, { write: (line: string) => void lines.push(JSON.parse(line)) });
    const h = await start(undefined, { logger });
    const b1 = broker(h);
    const b2 = broker(h);
    await b1.register({ brokerId: 1, incarnationId: 'inc-1' });
    await b2.register({ brokerId: 2, incarnationId: 'inc-2' });
    await createTopic(h, { name: 'orders', partitions: 1, replication_factor: 2, config: { 'unclean.leader.election.enable': 'true' } });
    const p = h.controller.committed.current.topics[0]!.partitions[0]!;
    const [leader, follower] = [p.leader, p.replicas.find((r) => r !== p.leader)!];
    const [leaderDouble, followerDouble] = leader === 1 ? [b1, b2] : [b2, b1];
    // The follower fell behind and left the ISR; then the leader dies.
    await proposeIsr(h, leaderDouble, 'orders', 0, [leader]);
    for (let t = 0; t < SESSION_TIMEOUT_MS; t += HEARTBEAT_MS) {
      await beat(h, followerDouble);
      h.clock.advance(HEARTBEAT_MS);
    }
    await waitFor(() => h.controller.committed.current.topics[0]!.partitions[0]!.leader === follower);

    const after = h.controller.committed.current.topics[0]!.partitions[0]!;
    expect(after).toMatchObject({ isr: [follower], lastUncleanLeaderEpoch: after.leaderEpoch });
    const logged = lines.filter((l) => l.election);
    expect(logged).toHaveLength(1);
    expect(logged[0]).toMatchObject({
      level: 50,
      topic: 'orders',
      partition: 0,
      election: { topic: 'orders', partition: 0, leader: follower, previousLeader: leader, committedIsr: [leader], leaderEpoch: after.leaderEpoch, reason: 'fenced', unclean: true },
    });
    expect(logged[0]!.msg).toMatch(/^UNCLEAN leader election: orders-0 is led by \d, outside the committed ISR \[\d\]; acknowledged records may be lost$/);
    const text = await h.controller.metrics.registry.getSingleMetricAsString('sluice_leader_elections_total');
    expect(text).toContain('sluice_leader_elections_total{reason="fenced",unclean="true"} 1');
  });
});

describe('http endpoints', () => {
  it('reports health, readiness and controller metrics', async () => {
    const h = await start();
    const base = `http://${h.controller.httpAddress}`;
    expect((await fetch(`${base}/healthz`)).status).toBe(200);
    expect((await fetch(`${base}/readyz`)).status).toBe(200);
    // Election counters exist at 0 before the first election, so rate() sees that one too.
    const fresh = await (await fetch(`${base}/metrics`)).text();
    expect(fresh).toContain('sluice_leader_elections_total{reason="fenced",unclean="true"} 0');
    expect(fresh).toContain('sluice_leader_elections_total{reason="registered",unclean="false"} 0');

    const b = broker(h);
    await b.register({ brokerId: 1, incarnationId: 'inc-1' });
    await createTopic(h, { name: 'orders', partitions: 2, replication_factor: 1 });
    h.clock.advance(SESSION_TIMEOUT_MS);
    await waitFor(async () => (await brokerState(h, 1)) === 'BROKER_STATE_FENCED');
    await broker(h).register({ brokerId: 1, incarnationId: 'inc-1' });

    const text = await (await fetch(`${base}/metrics`)).text();
    expect(text).toContain('sluice_controller_active 1');
    expect(text).toContain('sluice_offline_partitions 0');
    expect(text).toContain('sluice_brokers{state="active"} 1');
    expect(text).toContain('sluice_brokers{state="fenced"} 0');
    expect(text).toContain('sluice_leader_elections_total{reason="registered",unclean="false"} 2');

    await h.controller.stop();
    expect(await h.controller.metrics.registry.getSingleMetricAsString('sluice_controller_active')).toContain('sluice_controller_active 0');
  });
});
