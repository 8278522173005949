import * as grpc from '@grpc/grpc-js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SluiceError } from '../../common/errors.ts';
import { fromServiceError } from '../../common/grpc-errors.ts';
import { encodeRecordBatch } from '../../common/record-batch.ts';
import type { CreateTopicResponse__Output } from '../../proto/gen/sluice/v1/CreateTopicResponse.ts';
import type { DescribeClusterResponse__Output } from '../../proto/gen/sluice/v1/DescribeClusterResponse.ts';
import type { DescribeReplicasResponse__Output } from '../../proto/gen/sluice/v1/DescribeReplicasResponse.ts';
import type { ListTopicsResponse__Output } from '../../proto/gen/sluice/v1/ListTopicsResponse.ts';
import { rpc, rpcError, startTestBroker, type TestBroker } from '../test-support/broker-harness.ts';
import { FakeController, topicState } from '../test-support/fake-controller.ts';

let controller: FakeController;
let b: TestBroker;

beforeAll(async () => {
  controller = new FakeController();
  await controller.start();
  controller.setMetadata([
    topicState({ name: 'alpha', partitions: 2, replicas: [0], leaderEpoch: 4 }),
    topicState({ name: 'beta', partitions: 1, replicas: [9, 0], leader: 9, leaderEpoch: 2 }),
  ]);
  b = await startTestBroker(controller);
});

afterAll(async () => {
  await b?.destroy();
  await controller?.stop();
});

describe('AdminService forwarding', () => {
  it('forwards CreateTopic unchanged and returns the controller\'s answer', async () => {
    const topic = topicState({ name: 'gamma', partitions: 3, replicas: [0], config: { 'retention.ms': '1000' } });
    controller.adminResponder = (method) => (method === 'CreateTopic' ? { topic } : {});
    const res = await rpc<CreateTopicResponse__Output>((cb) => b.admin.CreateTopic({ name: 'gamma', partitions: 3, replication_factor: 1, config: { 'retention.ms': '1000' }, validate_only: true }, cb));
    expect(controller.adminCalls.at(-1)).toEqual({ method: 'CreateTopic', request: { name: 'gamma', partitions: 3, replication_factor: 1, config: { 'retention.ms': '1000' }, validate_only: true } });
    expect(res.topic).toMatchObject({ name: 'gamma', topic_id: 'gamma-id', config: { 'retention.ms': '1000' } });
    expect(res.topic!.partitions).toHaveLength(3);
  });

  it('forwards the other topic and cluster calls', async () => {
    controller.adminResponder = (method) => {
      if (method === 'ListTopics') return { topics: [{ name: 'alpha', topic_id: 'alpha-id', partitions: 2, replication_factor: 1 }] };
      if (method === 'DescribeCluster') return { cluster_id: 'c1', controller_id: 1000, brokers: [{ endpoint: { broker_id: 0, host: 'h', port: 1 }, state: 'BROKER_STATE_ACTIVE', broker_epoch: 5 }] };
      return {};
    };
    const list = await rpc<ListTopicsResponse__Output>((cb) => b.admin.ListTopics({}, cb));
    expect(list.topics.map((t) => t.name)).toEqual(['alpha']);
    const cluster = await rpc<DescribeClusterResponse__Output>((cb) => b.admin.DescribeCluster({}, cb));
    expect(cluster.brokers[0]).toMatchObject({ state: 'BROKER_STATE_ACTIVE', broker_epoch: 5 });
    await rpc((cb) => b.admin.AlterTopic({ name: 'alpha', partitions: 4 }, cb));
    await rpc((cb) => b.admin.DescribeTopic({ name: 'alpha' }, cb));
    await rpc((cb) => b.admin.DeleteTopic({ name: 'alpha' }, cb));
    expect(controller.adminCalls.slice(-5).map((c) => c.method)).toEqual(['ListTopics', 'DescribeCluster', 'AlterTopic', 'DescribeTopic', 'DeleteTopic']);
    expect(controller.adminCalls.at(-3)!.request).toMatchObject({ name: 'alpha', partitions: 4 });
  });

  it('passes the controller\'s error status and Sluice error through to the caller', async () => {
    controller.adminResponder = () => new SluiceError('TOPIC_ALREADY_EXISTS', 'topic "alpha" already exists', { topic: 'alpha' });
    const err = await rpcError((cb) => b.admin.CreateTopic({ name: 'alpha', partitions: 1 }, cb));
    expect(err.code).toBe(grpc.status.ALREADY_EXISTS);
    expect(err.details).toBe('topic "alpha" already exists');
    expect(err.metadata.get('sluice-error-code')).toEqual(['TOPIC_ALREADY_EXISTS']);
    expect(fromServiceError(err)).toMatchObject({ code: 'TOPIC_ALREADY_EXISTS', details: { topic: 'alpha' } });

    controller.adminResponder = () => new SluiceError('INVALID_CONFIG', 'unknown topic config key "retention"');
    const invalid = await rpcError((cb) => b.admin.AlterTopic({ name: 'alpha', config: { retention: '1' } }, cb));
    expect(invalid.code).toBe(grpc.status.INVALID_ARGUMENT);
    expect(fromServiceError(invalid).code).toBe('INVALID_CONFIG');
  });
});

describe('AdminService.DescribeReplicas', () => {
  it('is answered by the broker from the logs it hosts, leaders and followers', async () => {
    const calls = controller.adminCalls.length;
    await rpc((cb) => b.log.Produce({ topic: 'alpha', partition: 1, acks: 'ACKS_ALL', records: encodeRecordBatch([{ value: Buffer.from('x') }, { value: Buffer.from('y') }]) }, cb));
    const res = await rpc<DescribeReplicasResponse__Output>((cb) => b.admin.DescribeReplicas({}, cb));
    expect(controller.adminCalls.length).toBe(calls);
    expect(res.broker_id).toBe(0);
    expect(res.replicas.map((r) => [r.topic, r.partition, r.is_leader, r.leader_epoch])).toEqual([
      ['alpha', 0, true, 4],
      ['alpha', 1, true, 4],
      ['beta', 0, false, 2],
    ]);
    expect(res.replicas[1]).toMatchObject({ log_start_offset: 0, high_watermark: 2, log_end_offset: 2 });
    expect(res.replicas[1]!.size_bytes).toBeGreaterThan(0);
  });
});

describe('AdminService with the controller unreachable', () => {
  it('answers UNAVAILABLE naming the controller, not the broker', async () => {
    const c = new FakeController();
    await c.start();
    c.setMetadata([]);
    const lonely = await startTestBroker(c);
    try {
      await c.stop();
      const err = await rpcError((cb) => lonely.admin.ListTopics({}, { deadline: Date.now() + 5_000 }, cb));
      expect(err.code).toBe(grpc.status.UNAVAILABLE);
      expect(err.details).toMatch(/controller at 127\.0\.0\.1:\d+ is unreachable/);
      expect(fromServiceError(err).code).toBe('BROKER_NOT_AVAILABLE');
    } finally {
      await lonely.destroy();
    }
  });
});
