// Test support: the local controller in-process on 127.0.0.1 with a FakeClock, driven by real
// grpc-js clients (BrokerSessionDouble as brokers, an AdminService client). Used only by tests;
// each test file calls `afterEach(runCleanups)` so every controller, client and data dir a test
// made is gone before the next one.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type * as grpc from '@grpc/grpc-js';
import { fromServiceError } from '../../common/grpc-errors.ts';
import type { AdminServiceClient } from '../../proto/gen/sluice/v1/AdminService.ts';
import type { ClusterMetadata__Output } from '../../proto/gen/sluice/v1/ClusterMetadata.ts';
import type { DescribeClusterResponse__Output } from '../../proto/gen/sluice/v1/DescribeClusterResponse.ts';
import type { PartitionState__Output } from '../../proto/gen/sluice/v1/PartitionState.ts';
import { findBroker, findTopic } from '../core/cluster-state.ts';
import { adminClient, BrokerSessionDouble, unary } from './broker-session-double.ts';
import type { HeartbeatSeen } from './broker-sessions.ts';
import { startController, type ControllerOptions, type RunningController } from './controller-server.ts';
import { FakeClock } from './fake-clock.ts';

export const SESSION_TIMEOUT_MS = 6_000;
export const HEARTBEAT_MS = 1_000;

const cleanups: (() => Promise<void> | void)[] = [];

/** Pass to afterEach: stops and removes everything the test started, newest first. */
export async function runCleanups(): Promise<void> {
  for (const c of cleanups.splice(0).reverse()) await c();
}

export function onCleanup(fn: () => Promise<void> | void): void {
  cleanups.push(fn);
}

export async function dataDir(): Promise<string> {
  const dir = await mkdtemp(path.join(tmpdir(), 'sluice-controller-'));
  cleanups.push(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

export interface Harness {
  controller: RunningController;
  clock: FakeClock;
  admin: AdminServiceClient;
  dir: string;
}

/** Starts a controller on `dir` (a new temporary one by default); `options` override the test defaults. */
export async function start(dir?: string, options: Partial<ControllerOptions> = {}, clock = new FakeClock()): Promise<Harness> {
  const d = dir ?? (await dataDir());
  const controller = await startController({
    host: '127.0.0.1',
    port: 0,
    httpPort: 0,
    dataDir: d,
    sessionTimeoutMs: SESSION_TIMEOUT_MS,
    heartbeatIntervalMs: HEARTBEAT_MS,
    nodeId: 1000,
    clock,
    ...options,
  });
  cleanups.push(() => controller.stop());
  const admin = adminClient(controller.grpcAddress);
  cleanups.push(() => admin.close());
  return { controller, clock, admin, dir: d };
}

export function broker(h: Harness): BrokerSessionDouble {
  const b = new BrokerSessionDouble(h.controller.grpcAddress);
  cleanups.push(() => b.close());
  return b;
}

/** Sends a heartbeat and waits until the controller has taken it in. */
export async function beat(h: Harness, b: BrokerSessionDouble, epoch = b.brokerEpoch): Promise<void> {
  const seen = new Promise<void>((resolve) => {
    const on = (hb: HeartbeatSeen) => {
      if (hb.brokerId !== b.brokerId) return;
      h.controller.sessions.events.off('heartbeat', on);
      resolve();
    };
    h.controller.sessions.events.on('heartbeat', on);
  });
  b.heartbeat(epoch);
  await seen;
}

export async function describeCluster(h: Harness): Promise<DescribeClusterResponse__Output> {
  return unary(h.admin.DescribeCluster.bind(h.admin), {});
}

export async function brokerState(h: Harness, id: number): Promise<string | undefined> {
  return (await describeCluster(h)).brokers.find((b) => b.endpoint?.broker_id === id)?.state;
}

export function createTopic(h: Harness, req: { name: string; partitions: number; replication_factor?: number; config?: Record<string, string>; validate_only?: boolean }) {
  return unary(h.admin.CreateTopic.bind(h.admin), { replication_factor: 0, ...req });
}

/** The gRPC status and Sluice error of a call that must fail. */
export async function refusal(p: Promise<unknown>) {
  try {
    await p;
  } catch (e) {
    return { status: (e as grpc.ServiceError).code, error: fromServiceError(e) };
  }
  throw new Error('expected the call to fail');
}

export function topicIn(m: ClusterMetadata__Output, name: string) {
  return m.topics.find((t) => t.name === name);
}

/**
 * The partition's current leader proposes `isr` through AlterPartition on `leader`'s client, as
 * a broker does once followers caught up; resolves with the committed state it answers.
 */
export async function proposeIsr(h: Harness, leader: BrokerSessionDouble, topic: string, partition: number, isr: number[]): Promise<PartitionState__Output> {
  const p = findTopic(h.controller.committed.current, topic)!.partitions[partition]!;
  const brokerEpoch = findBroker(h.controller.committed.current, leader.brokerId)!.brokerEpoch;
  const answer = await unary(leader.client.AlterPartition.bind(leader.client), {
    broker_id: leader.brokerId,
    broker_epoch: brokerEpoch,
    topic,
    partition,
    leader_epoch: p.leaderEpoch,
    partition_epoch: p.partitionEpoch,
    new_isr: isr,
  });
  if (answer.error) throw new Error(`AlterPartition refused: ${JSON.stringify(answer.error)}`);
  return answer.state!;
}

/** Polls `condition` (real time) until it holds; for effects of asynchronous commits. */
export async function waitFor(condition: () => boolean | Promise<boolean>, timeoutMs = 5_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 10));
  }
}
