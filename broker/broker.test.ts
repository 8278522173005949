// The broker as a whole: registration and heartbeats with the controller, readiness and health,
// metrics, applying metadata changes to the logs on disk, and the graceful stop.
import { access, readdir } from 'node:fs/promises';
import { createRequire } from 'node:module';
import * as net from 'node:net';
import { dirname, join } from 'node:path';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { protoPath as healthProtoPath } from 'grpc-health-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SluiceError } from '../common/errors.ts';
import { fromServiceError } from '../common/grpc-errors.ts';
import { encodeRecordBatch } from '../common/record-batch.ts';
import type { FetchResponse__Output } from '../proto/gen/sluice/v1/FetchResponse.ts';
import type { ProduceResponse__Output } from '../proto/gen/sluice/v1/ProduceResponse.ts';
import type { TopicState } from '../proto/gen/sluice/v1/TopicState.ts';
import { silentLogger } from '../common/logger.ts';
import { Broker } from './broker.ts';
import { META_PROPERTIES_FILE } from './cluster-identity.ts';
import { CLEAN_SHUTDOWN_FILE } from './log/log-manager.ts';
import { eventually, rpc, rpcError, startTestBroker, type TestBroker } from './test-support/broker-harness.ts';
import { FakeController, topicState, type TopicSpec } from './test-support/fake-controller.ts';

const record = (v: string): Buffer => encodeRecordBatch([{ value: Buffer.from(v) }]);

async function exists(path: string): Promise<boolean> {
  try {
    await access(path);
    return true;
  } catch {
    return false;
  }
}

function healthCheck(address: string, service: string): Promise<string> {
  const definition = protoLoader.loadSync(healthProtoPath, { keepCase: true, enums: String, defaults: true });
  const pkg = grpc.loadPackageDefinition(definition) as unknown as { grpc: { health: { v1: { Health: grpc.ServiceClientConstructor } } } };
  const client = new pkg.grpc.health.v1.Health(address, grpc.credentials.createInsecure());
  return new Promise<string>((resolve, reject) => {
    (client as unknown as { Check(req: object, cb: (err: Error | null, res: { status: string }) => void): void }).Check({ service }, (err, res) => {
      client.close();
      if (err) reject(err);
      else resolve(res.status);
    });
  });
}

/** The services a grpcurl user would see: grpc.reflection.v1 ListServices. */
function reflectedServices(address: string): Promise<string[]> {
  const reflectionDir = join(dirname(createRequire(import.meta.url).resolve('@grpc/reflection')), '..', 'proto');
  const definition = protoLoader.loadSync('grpc/reflection/v1/reflection.proto', { keepCase: true, includeDirs: [reflectionDir] });
  const pkg = grpc.loadPackageDefinition(definition) as unknown as { grpc: { reflection: { v1: { ServerReflection: grpc.ServiceClientConstructor } } } };
  const client = new pkg.grpc.reflection.v1.ServerReflection(address, grpc.credentials.createInsecure());
  return new Promise((resolve, reject) => {
    type Reply = { list_services_response?: { service: { name: string }[] } };
    const call = (client as unknown as { ServerReflectionInfo(): grpc.ClientDuplexStream<object, Reply> }).ServerReflectionInfo();
    call.on('data', (res: Reply) => {
      resolve((res.list_services_response?.service ?? []).map((s) => s.name).sort());
      call.end();
      client.close();
    });
    call.on('error', reject);
    call.write({ list_services: '*' });
  });
}

async function scrape(b: TestBroker): Promise<string> {
  const res = await fetch(`${b.httpUrl}/metrics`);
  expect(res.status).toBe(200);
  return res.text();
}

/** Series (name{labels} exactly as exposed) -> value. */
function metricValues(text: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const at = line.lastIndexOf(' ');
    out.set(line.slice(0, at), Number(line.slice(at + 1)));
  }
  return out;
}

describe('broker lifecycle with the controller', () => {
  let controller: FakeController;
  let b: TestBroker;
  const topics: TopicSpec[] = [
    { name: 'kept', partitions: 1, replicas: [0] },
    { name: 'doomed', partitions: 2, replicas: [0] },
    { name: 'moving', partitions: 1, replicas: [1, 0], leader: 1, leaderEpoch: 1 },
  ];

  beforeAll(async () => {
    controller = new FakeController();
    await controller.start();
    controller.setMetadata(topics.map(topicState), [{ broker_id: 1, host: '10.0.0.1', port: 9092, rack: 'zone-b' }]);
    b = await startTestBroker(controller, { config: { rack: 'zone-a' } });
  });

  afterAll(async () => {
    await b?.destroy();
    await controller?.stop();
  });

  it('registers with its advertised host, real bound port, rack and an incarnation id', () => {
    expect(controller.registrations).toHaveLength(1);
    const r = controller.registrations[0]!;
    expect(r).toMatchObject({ broker_id: 0, host: '127.0.0.1', port: Number(b.address.split(':')[1]), rack: 'zone-a', incarnation_id: b.broker.incarnationId });
    expect(r.port).toBeGreaterThan(0);
  });

  it('heartbeats with its broker epoch and the metadata version it applied', async () => {
    const hb = await eventually(() => controller.heartbeats.find((h) => h.metadata_version === controller.metadataVersion), 3_000, 'a heartbeat');
    expect(hb).toMatchObject({ broker_id: 0, broker_epoch: 1 });
  });

  it('reports SERVING over grpc.health.v1 and ready over HTTP', async () => {
    expect(await healthCheck(b.address, '')).toBe('SERVING');
    expect(await healthCheck(b.address, 'sluice.v1.LogService')).toBe('SERVING');
    expect((await fetch(`${b.httpUrl}/healthz`)).status).toBe(200);
    const ready = await fetch(`${b.httpUrl}/readyz`);
    expect(ready.status).toBe(200);
    expect((await fetch(`${b.httpUrl}/nope`)).status).toBe(404);
  });

  it('exposes its services through server reflection, for grpcurl', async () => {
    const services = await reflectedServices(b.address);
    expect(services).toEqual(expect.arrayContaining(['sluice.v1.AdminService', 'sluice.v1.LogService', 'sluice.v1.MetadataService']));
  });

  it('exports partition gauges for the partitions it leads', async () => {
    await rpc((cb) => b.log.Produce({ topic: 'kept', partition: 0, acks: 'ACKS_LEADER', records: encodeRecordBatch([{ value: Buffer.from('a') }, { value: Buffer.from('b') }]) }, cb));
    const res = await fetch(`${b.httpUrl}/metrics`);
    expect(res.status).toBe(200);
    const text = await res.text();
    expect(text).toMatch(/sluice_partition_high_watermark\{[^}]*topic="kept",partition="0"[^}]*\} 2/);
    expect(text).toMatch(/sluice_partition_log_end_offset\{[^}]*topic="kept",partition="0"[^}]*\} 2/);
    expect(text).toMatch(/sluice_partition_isr_size\{[^}]*topic="kept",partition="0"[^}]*\} 1/);
    // Followed partitions are not the leader's to report, but their size on disk is this broker's.
    expect(text).not.toMatch(/sluice_partition_\w+\{[^}]*topic="moving"/);
    expect(text).toMatch(/sluice_log_size_bytes\{[^}]*topic="moving",partition="0"[^}]*\} 0/);
    expect(text).toMatch(/process_cpu_user_seconds_total/);
  });

  it('counts bytes and records in and out per topic, and times requests by method and result', async () => {
    const batch = encodeRecordBatch([{ value: Buffer.from('one') }, { value: Buffer.from('two') }, { value: Buffer.from('three') }]);
    const before = metricValues(await scrape(b));
    await rpc((cb) => b.log.Produce({ topic: 'kept', partition: 0, acks: 'ACKS_LEADER', records: batch }, cb));
    const f = await rpc<FetchResponse__Output>((cb) => b.log.Fetch({ partitions: [{ topic: 'kept', partition: 0, fetch_offset: 0 }] }, cb));
    const refused = await rpcError((cb) => b.log.Produce({ topic: 'moving', partition: 0, acks: 'ACKS_LEADER', records: record('x') }, cb));
    expect(fromServiceError(refused).code).toBe('NOT_LEADER');

    const text = await scrape(b);
    const after = metricValues(text);
    const grew = (series: string): number => (after.get(series) ?? 0) - (before.get(series) ?? 0);
    expect(grew('sluice_bytes_in_total{topic="kept",broker="0"}')).toBe(batch.length);
    expect(grew('sluice_messages_in_total{topic="kept",broker="0"}')).toBe(3);
    expect(grew('sluice_bytes_out_total{topic="kept",broker="0"}')).toBe(f.partitions[0]!.records.length);
    expect(grew('sluice_messages_out_total{topic="kept",broker="0"}')).toBe(Number(f.partitions[0]!.high_watermark));
    expect(grew('sluice_request_duration_seconds_count{broker="0",method="Produce",result="ok"}')).toBe(1);
    expect(grew('sluice_request_duration_seconds_count{broker="0",method="Produce",result="NOT_LEADER"}')).toBe(1);
    expect(grew('sluice_request_duration_seconds_count{broker="0",method="Fetch",result="ok"}')).toBe(1);
    expect(after.get('sluice_log_size_bytes{topic="kept",partition="0",broker="0"}')).toBeGreaterThan(batch.length);
    expect(after.get('sluice_broker_partitions{broker="0"}')).toBe(4);
    expect(after.get('sluice_broker_leader_partitions{broker="0"}')).toBe(3);
    const total = after.get('sluice_log_dir_total_bytes{broker="0"}')!;
    const free = after.get('sluice_log_dir_free_bytes{broker="0"}')!;
    expect(total).toBeGreaterThan(0);
    expect(free).toBeGreaterThan(0);
    expect(free).toBeLessThanOrEqual(total);
  });

  it('becomes leader when the controller moves leadership here with a newer epoch', async () => {
    const before = await rpcError((cb) => b.log.Produce({ topic: 'moving', partition: 0, acks: 'ACKS_LEADER', records: record('x') }, cb));
    expect(fromServiceError(before).details).toMatchObject({ leaderId: 1, leaderAddress: '10.0.0.1:9092' });
    topics[2] = { name: 'moving', partitions: 1, replicas: [1, 0], leader: 0, leaderEpoch: 2, isr: [0] };
    controller.setMetadata(topics.map(topicState));
    await eventually(() => b.broker.replicas.getPartition('moving', 0)?.isLeader, 3_000, 'leadership');
    const r = await rpc<ProduceResponse__Output>((cb) => b.log.Produce({ topic: 'moving', partition: 0, acks: 'ACKS_ALL', records: record('x') }, cb));
    expect(r.base_offset).toBe(0);
    expect(b.broker.replicas.getPartition('moving', 0)!.log.leaderEpochs.latestEpoch()).toBe(2);
  });

  it('deletes the log directories of a topic that left the metadata', async () => {
    for (const partition of [0, 1]) await rpc((cb) => b.log.Produce({ topic: 'doomed', partition, acks: 'ACKS_LEADER', records: record('bye') }, cb));
    const dir = join(b.config.dataDir, 'doomed-0');
    expect(await exists(dir)).toBe(true);
    const subscription = b.log.Subscribe({ topic: 'doomed', partition: 0, offset: 1 });
    const ended = new Promise<grpc.ServiceError>((resolve) => subscription.on('error', resolve));
    subscription.on('data', () => {});
    await new Promise((r) => setTimeout(r, 50));

    controller.setMetadata(topics.filter((t) => t.name !== 'doomed').map(topicState));
    await eventually(async () => !(await exists(dir)) && !(await exists(join(b.config.dataDir, 'doomed-1'))), 3_000, 'the log directories to go');
    expect((await readdir(b.config.dataDir)).filter((d) => d.startsWith('doomed'))).toEqual([]);
    expect(fromServiceError(await ended).code).toBe('UNKNOWN_TOPIC_OR_PARTITION');
    const err = await rpcError((cb) => b.log.Produce({ topic: 'doomed', partition: 0, acks: 'ACKS_LEADER', records: record('x') }, cb));
    expect(fromServiceError(err).code).toBe('UNKNOWN_TOPIC_OR_PARTITION');
    // Its series leave the scrape with it: per-partition gauges and per-topic counters alike.
    expect(await scrape(b)).not.toMatch(/topic="doomed"/);
  });

  it('serves a re-created topic (new topic id, same name) from an empty log', async () => {
    controller.setMetadata([...topics.filter((t) => t.name !== 'doomed'), { name: 'doomed', topicId: 'doomed-v2', partitions: 1, replicas: [0] }].map(topicState));
    await eventually(() => b.broker.replicas.getPartition('doomed', 0)?.topicId === 'doomed-v2', 3_000, 'the new topic');
    const f = await rpc<FetchResponse__Output>((cb) => b.log.Fetch({ partitions: [{ topic: 'doomed', partition: 0, fetch_offset: 0 }] }, cb));
    expect(f.partitions[0]).toMatchObject({ error: null, high_watermark: 0 });
  });

  it('ignores a metadata snapshot for a partition with an older leader epoch', async () => {
    const p = b.broker.replicas.getPartition('moving', 0)!;
    // The fake pushes with an increasing version; the partition's epoch (1) is older than 2.
    const stale = topics.map((t) => (t.name === 'moving' ? { ...t, leader: 1, leaderEpoch: 1 } : t));
    controller.setMetadata(stale.map(topicState));
    await eventually(() => controller.heartbeats.some((h) => h.metadata_version === controller.metadataVersion), 3_000, 'the snapshot to be applied');
    expect(p.isLeader).toBe(true);
    expect(p.leaderEpoch).toBe(2);
    controller.setMetadata(topics.map(topicState));
  });

  it('registers again with the same incarnation id after the controller ends the session', async () => {
    const registrations = controller.registrations.length;
    controller.refuseSessions(new SluiceError('STALE_BROKER_EPOCH', 'test: session refused'));
    await eventually(() => controller.registrations.length > registrations, 5_000, 're-registration');
    const again = controller.registrations.at(-1)!;
    expect(again.incarnation_id).toBe(b.broker.incarnationId);
    // Same incarnation, same epoch: the controller recognises the reconnect.
    await eventually(() => controller.heartbeats.at(-1)?.broker_epoch === 1 && controller.heartbeats.length > 0, 3_000, 'heartbeats to resume');
  });
});

describe('readiness after a restart waits for the catch-up', () => {
  const leader = [{ broker_id: 1, host: '10.0.0.1', port: 9092, rack: '' }];
  /** Topic "behind": two partitions led by broker 1 and followed by broker 0, with these ISRs. */
  const behind = (isrOf: (partition: number) => number[]): TopicState => {
    const t = topicState({ name: 'behind', partitions: 2, replicas: [1, 0] });
    return { ...t, partitions: t.partitions!.map((p) => ({ ...p, isr: isrOf(p.partition as number) })) };
  };

  it('reports ready only once back in the ISR of every followed partition whose leader is alive', async () => {
    const controller = new FakeController();
    await controller.start();
    // Broker 0 follows both partitions; broker 1 leads them with an ISR that leaves 0 out.
    controller.setMetadata([behind(() => [1])], leader);
    const b = await startTestBroker(controller);
    try {
      expect(await healthCheck(b.address, '')).toBe('NOT_SERVING');
      const notReady = await fetch(`${b.httpUrl}/readyz`);
      expect(notReady.status).toBe(503);
      expect(await notReady.text()).toMatch(/catching up: not yet back in the ISR of 2 partition\(s\) whose leader is alive \(behind-0, behind-1\)/);

      // One partition caught up: still not ready.
      controller.setMetadata([behind((p) => (p === 0 ? [1, 0] : [1]))], leader);
      await eventually(async () => /ISR of 1 partition\(s\).*\(behind-1\)/.test(await (await fetch(`${b.httpUrl}/readyz`)).text()), 3_000, 'one partition left');
      expect(await healthCheck(b.address, '')).toBe('NOT_SERVING');

      controller.setMetadata([behind(() => [1, 0])], leader);
      await eventually(async () => (await healthCheck(b.address, '')) === 'SERVING', 3_000, 'SERVING once in every ISR');
      expect((await fetch(`${b.httpUrl}/readyz`)).status).toBe(200);
    } finally {
      await b.destroy();
      await controller.stop();
    }
  });

  it('does not wait for partitions whose leader is gone, and stops waiting at the catch-up timeout', async () => {
    const controller = new FakeController();
    await controller.start();
    controller.setMetadata([
      // Leader 2 is not alive: nothing to catch up from.
      topicState({ name: 'orphaned', partitions: 1, replicas: [2, 0], isr: [2] }),
      topicState({ name: 'slow', partitions: 1, replicas: [1, 0], isr: [1] }),
    ], leader);
    const b = await startTestBroker(controller, { config: { readyCatchUpTimeoutMs: 1_500 } });
    try {
      expect(await (await fetch(`${b.httpUrl}/readyz`)).text()).toMatch(/ISR of 1 partition\(s\).*\(slow-0\)/);
      expect(await healthCheck(b.address, '')).toBe('NOT_SERVING');
      await eventually(async () => (await healthCheck(b.address, '')) === 'SERVING', 5_000, 'SERVING after the catch-up timeout');
      expect((await fetch(`${b.httpUrl}/readyz`)).status).toBe(200);
    } finally {
      await b.destroy();
      await controller.stop();
    }
  });
});

// What kube-proxy does for a ClusterIP Service: each new TCP connection goes to the endpoint
// that is ready now; connections already open stay where they are.
async function serviceProxy(target: () => number): Promise<{ address: string; close(): void }> {
  const sockets = new Set<net.Socket>();
  const server = net.createServer((client) => {
    const upstream = net.connect(target(), '127.0.0.1');
    for (const s of [client, upstream]) {
      sockets.add(s);
      s.on('error', () => {});
      s.on('close', () => sockets.delete(s));
    }
    client.pipe(upstream).pipe(client);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    address: `127.0.0.1:${(server.address() as net.AddressInfo).port}`,
    close: () => {
      for (const s of sockets) s.destroy();
      server.close();
    },
  };
}

describe('controller behind a Service', () => {
  it('reaches the new active controller on a new connection when the old one, still running, turns standby', async () => {
    const first = new FakeController();
    const second = new FakeController();
    await first.start();
    await second.start();
    let ready = first;
    const service = await serviceProxy(() => ready.port);
    let broker: TestBroker | undefined;
    try {
      broker = await startTestBroker({ address: service.address });
      expect(first.registrations).toHaveLength(1);
      // Leadership moves: the Service now routes to the second, and the first, alive and
      // holding the broker's connection, answers every session with NOT_CONTROLLER.
      ready = second;
      first.standby = new SluiceError('NOT_CONTROLLER', 'test: a standby, not the active controller');
      first.refuseSessions(first.standby);
      const registered = await eventually(() => second.registrations.at(-1), 5_000, 'registration with the new active controller');
      expect(registered.incarnation_id).toBe(broker.broker.incarnationId);
      await eventually(() => second.heartbeats.length > 0, 3_000, 'heartbeats to the new active controller');
    } finally {
      await broker?.destroy();
      service.close();
      await first.stop();
      await second.stop();
    }
  });

  it('applies a newer controller term whatever its version, and refuses an older term afterwards', async () => {
    const NOT_CONTROLLER = new SluiceError('NOT_CONTROLLER', 'test: a standby');
    const deposed = new FakeController();
    const current = new FakeController();
    await deposed.start();
    await current.start();
    deposed.controllerEpoch = 5;
    current.controllerEpoch = 6;
    for (let i = 0; i < 3; i++) deposed.setMetadata([topicState({ name: 'kept', partitions: 1, replicas: [0] })]);
    // The new term starts at version 1, below what the deposed controller reached.
    current.setMetadata([topicState({ name: 'kept', partitions: 1, replicas: [0] }), topicState({ name: 'fresh', partitions: 1, replicas: [0] })]);
    expect(current.metadataVersion).toBeLessThan(deposed.metadataVersion);
    let ready = deposed;
    const service = await serviceProxy(() => ready.port);
    let b: TestBroker | undefined;
    try {
      b = await startTestBroker({ address: service.address });
      const broker = b.broker;
      ready = current;
      deposed.standby = NOT_CONTROLLER;
      deposed.refuseSessions(NOT_CONTROLLER);
      await eventually(() => broker.replicas.getPartition('fresh', 0), 5_000, 'the new term\'s topic');

      // The deposed controller wakes up believing it still leads, and a reconnect reaches it.
      deposed.standby = null;
      deposed.setMetadata([topicState({ name: 'kept', partitions: 1, replicas: [0] }), topicState({ name: 'stale', partitions: 1, replicas: [0] })]);
      const registrations = deposed.registrations.length;
      ready = deposed;
      current.standby = NOT_CONTROLLER;
      current.refuseSessions(NOT_CONTROLLER);
      await eventually(() => deposed.heartbeats.length > 0 && deposed.registrations.length > registrations, 5_000, 'a session with the deposed controller');
      await new Promise((resolve) => setTimeout(resolve, 300));
      expect(broker.replicas.getPartition('stale', 0)).toBeUndefined();
      expect(broker.replicas.getPartition('fresh', 0)).toBeDefined();
    } finally {
      await b?.destroy();
      service.close();
      await deposed.stop();
      await current.stop();
    }
  });
});

describe('broker stop and restart', () => {
  it('ends open streams, closes its logs cleanly, and serves the same data after a restart', async () => {
    const controller = new FakeController();
    await controller.start();
    controller.setMetadata([topicState({ name: 'durable', partitions: 1, replicas: [0] })]);
    const first = await startTestBroker(controller);
    const dataDir = first.config.dataDir;
    try {
      await rpc((cb) => first.log.Produce({ topic: 'durable', partition: 0, acks: 'ACKS_ALL', records: record('persisted') }, cb));
      const subscription = first.log.Subscribe({ topic: 'durable', partition: 0, offset: 1 });
      subscription.on('data', () => {});
      const ended = new Promise<grpc.ServiceError>((resolve) => subscription.on('error', resolve));
      await new Promise((r) => setTimeout(r, 50));

      const stopping = first.broker.stop();
      expect(first.broker.ready).toBe(false);
      const err = await ended;
      expect(err.code).toBe(grpc.status.UNAVAILABLE);
      expect(fromServiceError(err).code).toBe('BROKER_NOT_AVAILABLE');
      await stopping;
      await first.stop();
      expect(await exists(join(dataDir, CLEAN_SHUTDOWN_FILE))).toBe(true);

      const second = await startTestBroker(controller, { dataDir });
      try {
        const f = await rpc<FetchResponse__Output>((cb) => second.log.Fetch({ partitions: [{ topic: 'durable', partition: 0, fetch_offset: 0 }] }, cb));
        expect(f.partitions[0]!.high_watermark).toBe(1);
        expect(f.partitions[0]!.records.length).toBeGreaterThan(0);
        // A new process is a new incarnation.
        expect(controller.registrations.map((r) => r.incarnation_id)).toEqual([first.broker.incarnationId, second.broker.incarnationId]);
        expect(first.broker.incarnationId).not.toBe(second.broker.incarnationId);
      } finally {
        await second.destroy();
      }
    } finally {
      await first.destroy();
      await controller.stop();
    }
  });

  it('keeps reconnecting until the controller is reachable, then becomes ready', async () => {
    const controller = new FakeController();
    // Reserve a port, then start the controller on it only after the broker is up.
    await controller.start();
    const port = controller.port;
    await controller.stop();
    const late = new FakeController();
    late.port = port;
    const starting = startTestBroker(late);
    await new Promise((r) => setTimeout(r, 300));
    late.setMetadata([]);
    await late.start(port);
    const b = await starting;
    try {
      expect(b.broker.ready).toBe(true);
      expect(late.registrations).toHaveLength(1);
    } finally {
      await b.destroy();
      await late.stop();
    }
  });
});

describe('cluster identity', () => {
  it('refuses metadata from a controller of another cluster and deletes nothing', async () => {
    const controller = new FakeController();
    await controller.start();
    controller.setMetadata([topicState({ name: 'precious', partitions: 1, replicas: [0] })]);
    const first = await startTestBroker(controller);
    const dataDir = first.config.dataDir;
    let b: Broker | undefined;
    try {
      await rpc((cb) => first.log.Produce({ topic: 'precious', partition: 0, acks: 'ACKS_ALL', records: record('keep me') }, cb));
      expect(await exists(join(dataDir, META_PROPERTIES_FILE))).toBe(true);
      await first.stop();

      // The controller comes back with no state: a new cluster id and no topics.
      controller.clusterId = 'wiped-cluster';
      controller.setMetadata([]);
      b = new Broker({ ...first.config }, { logger: silentLogger() });
      const { httpPort } = await b.start();
      await eventually(() => controller.registrations.length === 2, 5_000, 'the broker to register');
      await eventually(() => controller.heartbeats.some((h) => h.metadata_version === controller.metadataVersion), 5_000, 'the broker to see the metadata');
      expect(b.ready).toBe(false);
      const ready = await fetch(`http://127.0.0.1:${httpPort}/readyz`);
      expect(ready.status).toBe(503);
      expect(await ready.text()).toMatch(/wiped-cluster/);
      expect(await exists(join(dataDir, 'precious-0'))).toBe(true);

      // The right controller again: the broker serves, with its data.
      controller.clusterId = 'fake-cluster';
      controller.setMetadata([topicState({ name: 'precious', partitions: 1, replicas: [0] })]);
      await eventually(() => b!.ready, 5_000, 'the broker to accept its own cluster again');
      expect(b.replicas.getPartition('precious', 0)!.log.logEndOffset).toBe(1);
    } finally {
      await b?.stop();
      await first.destroy();
      await controller.stop();
    }
  });

  it('refuses to start on another broker\'s data directory', async () => {
    const controller = new FakeController();
    await controller.start();
    controller.setMetadata([]);
    const first = await startTestBroker(controller, { id: 3 });
    try {
      await first.stop();
      const b = new Broker({ ...first.config, id: 4 }, { logger: silentLogger() });
      await expect(b.start()).rejects.toThrow(/belongs to broker 3/);
      await b.stop();
    } finally {
      await first.destroy();
      await controller.stop();
    }
  });
});

describe('controlled shutdown', () => {
  it('asks the controller to move leaderships away before it stops', async () => {
    const controller = new FakeController();
    await controller.start();
    controller.setMetadata([topicState({ name: 'led', partitions: 1, replicas: [0, 5], isr: [0, 5] })], [{ broker_id: 5, host: '127.0.0.1', port: 1, rack: '' }]);
    const b = await startTestBroker(controller);
    try {
      await b.broker.stop();
      expect(controller.controlledShutdowns).toEqual([{ broker_id: 0, broker_epoch: 1 }]);
    } finally {
      await b.destroy();
      await controller.stop();
    }
  });
});
