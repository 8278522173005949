// Starts a real broker in-process for tests: real gRPC server on 127.0.0.1 port 0, real logs
// in a temporary directory, talking to a FakeController. Clients are plain generated
// grpc-js clients, so tests see exactly what any client on the wire sees.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as grpc from '@grpc/grpc-js';
import { silentLogger, type Logger } from '../../common/logger.ts';
import { GRPC_CHANNEL_OPTIONS, loadSluiceProto } from '../../common/proto.ts';
import type { AdminServiceClient } from '../../proto/gen/sluice/v1/AdminService.ts';
import type { LogServiceClient } from '../../proto/gen/sluice/v1/LogService.ts';
import type { MetadataServiceClient } from '../../proto/gen/sluice/v1/MetadataService.ts';
import type { BrokerConfig } from '../broker-config.ts';
import { Broker } from '../broker.ts';
import type { FakeController } from './fake-controller.ts';

export interface TestBroker {
  broker: Broker;
  config: BrokerConfig;
  /** 127.0.0.1:port of the gRPC server. */
  address: string;
  httpUrl: string;
  log: LogServiceClient;
  metadata: MetadataServiceClient;
  admin: AdminServiceClient;
  /** Stops the broker and closes the clients; keeps the data directory. */
  stop(): Promise<void>;
  /** stop() and remove the data directory. */
  destroy(): Promise<void>;
}

export async function startTestBroker(
  // A FakeController, or the real one (anything with the address brokers dial).
  controller: Pick<FakeController, 'address'>,
  opts: { id?: number; dataDir?: string; logger?: Logger; config?: Partial<BrokerConfig> } = {},
): Promise<TestBroker> {
  const dataDir = opts.dataDir ?? (await mkdtemp(join(tmpdir(), 'sluice-broker-test-')));
  const config: BrokerConfig = {
    id: opts.id ?? 0,
    host: '127.0.0.1',
    bindHost: '127.0.0.1',
    port: 0,
    httpPort: 0,
    dataDir,
    controller: controller.address,
    rack: '',
    retentionCheckIntervalMs: 60_000,
    flushCheckIntervalMs: 1_000,
    shutdownTimeoutMs: 2_000,
    // Long enough that a test follower that never fetches is not dropped mid-test; replication
    // tests shorten it.
    replicaLagTimeMaxMs: 10_000,
    replicaFetchWaitMaxMs: 500,
    controlledShutdownTimeoutMs: 5_000,
    readyCatchUpTimeoutMs: 300_000,
    ...opts.config,
  };
  const broker = new Broker(config, { logger: opts.logger ?? silentLogger() });
  const { grpcPort, httpPort } = await broker.start();
  await broker.whenReady();
  const address = `127.0.0.1:${grpcPort}`;
  const { proto } = loadSluiceProto();
  const creds = grpc.credentials.createInsecure();
  const log = new proto.sluice.v1.LogService(address, creds, GRPC_CHANNEL_OPTIONS);
  const metadata = new proto.sluice.v1.MetadataService(address, creds, GRPC_CHANNEL_OPTIONS);
  const admin = new proto.sluice.v1.AdminService(address, creds, GRPC_CHANNEL_OPTIONS);
  let stopped: Promise<void> | undefined;
  const stop = (): Promise<void> => {
    stopped ??= (async () => {
      log.close();
      metadata.close();
      admin.close();
      await broker.stop();
    })();
    return stopped;
  };
  return {
    broker,
    config,
    address,
    httpUrl: `http://127.0.0.1:${httpPort}`,
    log,
    metadata,
    admin,
    stop,
    destroy: async () => {
      await stop();
      await rm(dataDir, { recursive: true, force: true });
    },
  };
}

/** Promise form of a unary call: `rpc((cb) => client.Produce(req, cb))`. */
export function rpc<T>(invoke: (callback: (err: grpc.ServiceError | null, response?: T) => void) => unknown): Promise<T> {
  return new Promise((resolve, reject) => {
    invoke((err, response) => (err ? reject(err) : resolve(response as T)));
  });
}

/** The error a unary call failed with (fails the test if it succeeded). */
export async function rpcError(invoke: (callback: (err: grpc.ServiceError | null, response?: unknown) => void) => unknown): Promise<grpc.ServiceError> {
  try {
    await rpc(invoke);
  } catch (err) {
    return err as grpc.ServiceError;
  }
  throw new Error('expected the call to fail, but it succeeded');
}

/** Polls until check returns a truthy value or timeoutMs passes. */
export async function eventually<T>(check: () => T | Promise<T>, timeoutMs = 5_000, what = 'condition'): Promise<NonNullable<T>> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const value = await check();
      if (value) return value as NonNullable<T>;
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}${last ? `: ${String(last)}` : ''}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}
