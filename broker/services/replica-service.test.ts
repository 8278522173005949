// ReplicaService on a leader, over real gRPC: a test plays the follower on a raw ReplicaFetch
// stream and sees exactly what a follower broker sees.
import * as grpc from '@grpc/grpc-js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fromErrorDetail } from '../../common/grpc-errors.ts';
import { GRPC_CHANNEL_OPTIONS, loadSluiceProto } from '../../common/proto.ts';
import { decodeRecordBatches, encodeRecordBatch } from '../../common/record-batch.ts';
import type { ReplicaFetchPartition } from '../../proto/gen/sluice/v1/ReplicaFetchPartition.ts';
import type { ReplicaFetchPartitionResult__Output } from '../../proto/gen/sluice/v1/ReplicaFetchPartitionResult.ts';
import type { ReplicaFetchRequest } from '../../proto/gen/sluice/v1/ReplicaFetchRequest.ts';
import type { ReplicaFetchResponse__Output } from '../../proto/gen/sluice/v1/ReplicaFetchResponse.ts';
import type { ReplicaServiceClient } from '../../proto/gen/sluice/v1/ReplicaService.ts';
import { rpc, startTestBroker, type TestBroker } from '../test-support/broker-harness.ts';
import { FakeController, topicState } from '../test-support/fake-controller.ts';

const EPOCH = 4;
const FOLLOWER = 1;
const FOLLOWER_ENDPOINT = { broker_id: FOLLOWER, host: '127.0.0.1', port: 1, rack: '' };

let controller: FakeController;
let b: TestBroker;
let client: ReplicaServiceClient;

/** One follower stream: send a request, get its answer. */
class Follower {
  readonly call: grpc.ClientDuplexStream<ReplicaFetchRequest, ReplicaFetchResponse__Output>;
  readonly #answers: ReplicaFetchResponse__Output[] = [];
  #waiting: ((r: ReplicaFetchResponse__Output) => void) | undefined;
  #correlation = 0;
  readonly ended: Promise<grpc.ServiceError | null>;

  constructor() {
    this.call = client.ReplicaFetch();
    this.call.on('data', (r: ReplicaFetchResponse__Output) => {
      if (this.#waiting) {
        const w = this.#waiting;
        this.#waiting = undefined;
        w(r);
      } else {
        this.#answers.push(r);
      }
    });
    this.ended = new Promise((resolve) => {
      this.call.on('error', (err: grpc.ServiceError) => resolve(err));
      this.call.on('end', () => resolve(null));
    });
  }

  fetch(partition: Partial<ReplicaFetchPartition>, opts: { brokerEpoch?: number; maxWaitMs?: number; replicaId?: number } = {}): Promise<ReplicaFetchPartitionResult__Output> {
    const correlationId = ++this.#correlation;
    this.call.write({
      correlation_id: correlationId,
      replica_id: opts.replicaId ?? FOLLOWER,
      broker_epoch: opts.brokerEpoch ?? 7,
      max_wait_ms: opts.maxWaitMs ?? 0,
      min_bytes: 1,
      max_bytes: 0,
      partitions: [{ topic: 'repl', partition: 0, fetch_offset: 0, last_fetched_epoch: -1, current_leader_epoch: EPOCH, log_start_offset: 0, max_bytes: 0, ...partition }],
    });
    const next = this.#answers.shift();
    const answer = next ? Promise.resolve(next) : new Promise<ReplicaFetchResponse__Output>((resolve) => (this.#waiting = resolve));
    return answer.then((r) => {
      expect(Number(r.correlation_id)).toBe(correlationId);
      return r.partitions[0]!;
    });
  }

  close(): void {
    this.call.end();
    this.call.cancel();
  }
}

function produce(value: string): Promise<unknown> {
  return rpc((cb) => b.log.Produce({ topic: 'repl', partition: 0, acks: 'ACKS_LEADER', records: encodeRecordBatch([{ value: Buffer.from(value) }]) }, cb));
}

beforeAll(async () => {
  controller = new FakeController();
  await controller.start();
  controller.setMetadata([topicState({ name: 'repl', partitions: 1, replicas: [0, FOLLOWER], isr: [0, FOLLOWER], leaderEpoch: EPOCH })], [FOLLOWER_ENDPOINT]);
  b = await startTestBroker(controller);
  const { proto } = loadSluiceProto();
  client = new proto.sluice.v1.ReplicaService(b.address, grpc.credentials.createInsecure(), GRPC_CHANNEL_OPTIONS);
  for (const v of ['r0', 'r1', 'r2']) await produce(v);
});

afterAll(async () => {
  client?.close();
  await b?.destroy();
  await controller?.stop();
});

describe('ReplicaFetch on the leader', () => {
  it('serves records up to the LEO, not the HW, and moves the HW once the follower reports them', async () => {
    const f = new Follower();
    try {
      const first = await f.fetch({ fetch_offset: 0 });
      expect(first.error).toBeNull();
      // The follower has reported nothing yet, so nothing is committed; it still gets everything.
      expect(Number(first.high_watermark)).toBe(0);
      expect(Number(first.log_end_offset)).toBe(3);
      expect(decodeRecordBatches(first.records).flatMap((batch) => batch.records.map((r) => r.value?.toString()))).toEqual(['r0', 'r1', 'r2']);
      const second = await f.fetch({ fetch_offset: 3, last_fetched_epoch: EPOCH });
      expect(Number(second.high_watermark)).toBe(3);
      expect(second.records.length).toBe(0);
      expect(b.broker.replicas.getPartition('repl', 0)!.log.highWatermark).toBe(3);
    } finally {
      f.close();
    }
  });

  it('fences an older current leader epoch and defers a newer one', async () => {
    const f = new Follower();
    try {
      const older = fromErrorDetail((await f.fetch({ current_leader_epoch: EPOCH - 1 })).error);
      expect(older?.code).toBe('FENCED_LEADER_EPOCH');
      const newer = fromErrorDetail((await f.fetch({ current_leader_epoch: EPOCH + 1 })).error);
      expect(newer?.code).toBe('UNKNOWN_LEADER_EPOCH');
    } finally {
      f.close();
    }
  });

  it('answers a follower whose last epoch the leader ended earlier with the diverging epoch, not records', async () => {
    const f = new Follower();
    try {
      // The follower claims epoch EPOCH-1 up to offset 5; on the leader that epoch never held any record.
      const r = await f.fetch({ fetch_offset: 5, last_fetched_epoch: EPOCH - 1 });
      expect(r.error).toBeNull();
      expect(r.diverging_epoch).toEqual({ epoch: EPOCH - 1, end_offset: 0 });
      expect(r.records.length).toBe(0);
    } finally {
      f.close();
    }
  });

  it('answers OFFSET_OUT_OF_RANGE with the leader\'s range when the fetch offset is past its LEO', async () => {
    const f = new Follower();
    try {
      const err = fromErrorDetail((await f.fetch({ fetch_offset: 99 })).error);
      expect(err?.code).toBe('OFFSET_OUT_OF_RANGE');
      expect(err?.details).toMatchObject({ logStartOffset: 0, logEndOffset: 3 });
    } finally {
      f.close();
    }
  });

  it('long-polls at the LEO and answers as soon as a produce appends', async () => {
    const f = new Follower();
    try {
      const started = Date.now();
      const pending = f.fetch({ fetch_offset: 3, last_fetched_epoch: EPOCH }, { maxWaitMs: 10_000 });
      await new Promise((r) => setTimeout(r, 100));
      await produce('r3');
      const r = await pending;
      expect(Date.now() - started).toBeLessThan(5_000);
      expect(decodeRecordBatches(r.records)[0]!.records[0]!.value?.toString()).toBe('r3');
      // With nothing new, it waits out max_wait_ms and answers empty.
      const idle = await f.fetch({ fetch_offset: 4, last_fetched_epoch: EPOCH }, { maxWaitMs: 200 });
      expect(idle.error).toBeNull();
      expect(idle.records.length).toBe(0);
    } finally {
      f.close();
    }
  });

  it('refuses an older incarnation of a follower it has heard from, and a broker that is not a replica', async () => {
    const f = new Follower();
    try {
      await f.fetch({ fetch_offset: 4, last_fetched_epoch: EPOCH }, { brokerEpoch: 9 });
      const stale = fromErrorDetail((await f.fetch({ fetch_offset: 4, last_fetched_epoch: EPOCH }, { brokerEpoch: 8 })).error);
      expect(stale?.code).toBe('STALE_BROKER_EPOCH');
      const stranger = fromErrorDetail((await f.fetch({ fetch_offset: 0 }, { replicaId: 42 })).error);
      expect(stranger?.code).toBe('UNKNOWN_TOPIC_OR_PARTITION');
    } finally {
      f.close();
    }
  });

  it('ends the stream with INVALID_ARGUMENT on a malformed request', async () => {
    const f = new Follower();
    f.call.write({ correlation_id: 1, replica_id: FOLLOWER, broker_epoch: 9, max_wait_ms: -5, partitions: [] });
    const err = await f.ended;
    expect(err?.code).toBe(grpc.status.INVALID_ARGUMENT);
  });
});
