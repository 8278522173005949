import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fromErrorDetail } from '../../common/grpc-errors.ts';
import type { MetadataResponse__Output } from '../../proto/gen/sluice/v1/MetadataResponse.ts';
import { rpc, startTestBroker, type TestBroker } from '../test-support/broker-harness.ts';
import { FAKE_CLUSTER_ID, FAKE_CONTROLLER_ID, FakeController, topicState } from '../test-support/fake-controller.ts';

let controller: FakeController;
let b: TestBroker;

beforeAll(async () => {
  controller = new FakeController();
  await controller.start();
  controller.setMetadata(
    [
      topicState({ name: 'zeta', partitions: 1, replicas: [0] }),
      // Broker 5 is assigned but not alive: an offline replica.
      topicState({ name: 'eta', partitions: 2, replicas: [2, 0, 5], isr: [2, 0], leaderEpoch: 6 }),
    ],
    [{ broker_id: 2, host: 'broker-2.sluice', port: 9094, rack: 'zone-c' }],
  );
  b = await startTestBroker(controller);
});

afterAll(async () => {
  await b?.destroy();
  await controller?.stop();
});

describe('MetadataService', () => {
  it('describes every topic, partition leader and live broker', async () => {
    const res = await rpc<MetadataResponse__Output>((cb) => b.metadata.Metadata({ topics: [] }, cb));
    expect(res.cluster_id).toBe(FAKE_CLUSTER_ID);
    expect(res.controller_id).toBe(FAKE_CONTROLLER_ID);
    expect(res.brokers).toEqual([
      { broker_id: 0, host: '127.0.0.1', port: Number(b.address.split(':')[1]), rack: '' },
      { broker_id: 2, host: 'broker-2.sluice', port: 9094, rack: 'zone-c' },
    ]);
    expect(res.topics.map((t) => t.name)).toEqual(['eta', 'zeta']);
    const eta = res.topics[0]!;
    expect(eta).toMatchObject({ topic_id: 'eta-id', error: null });
    expect(eta.partitions[1]).toEqual({ partition: 1, leader_id: 2, leader_epoch: 6, replicas: [2, 0, 5], isr: [2, 0], offline_replicas: [5] });
  });

  it('answers requested topics, with UNKNOWN_TOPIC_OR_PARTITION for the ones that do not exist', async () => {
    const res = await rpc<MetadataResponse__Output>((cb) => b.metadata.Metadata({ topics: ['zeta', 'missing'] }, cb));
    expect(res.topics.map((t) => t.name)).toEqual(['zeta', 'missing']);
    expect(res.topics[0]!.partitions).toHaveLength(1);
    expect(fromErrorDetail(res.topics[1]!.error)?.code).toBe('UNKNOWN_TOPIC_OR_PARTITION');
    expect(res.topics[1]!.partitions).toEqual([]);
  });

  it('follows metadata pushed later by the controller', async () => {
    controller.setMetadata([topicState({ name: 'zeta', partitions: 3, replicas: [0] })], []);
    const res = await new Promise<MetadataResponse__Output>((resolve, reject) => {
      const poll = (): void => {
        b.metadata.Metadata({ topics: [] }, (err, r) => {
          if (err) reject(err);
          else if (r!.topics.length === 1 && r!.topics[0]!.partitions.length === 3) resolve(r!);
          else setTimeout(poll, 20);
        });
      };
      poll();
    });
    expect(res.brokers.map((x) => x.broker_id)).toEqual([0]);
  });
});
