// The operator end to end, as processes: the Kubernetes API double stands in for the API server;
// two operator processes (out-of-cluster, a kubeconfig file pointing at the double) elect a
// leader through the Lease; three real broker processes are the Pods of a StatefulSet (Pod
// objects in the double, Running, ordinal = broker id) and reach the operator through a TCP
// proxy that routes to whichever operator is ready, as the controller Service would.
//
// Apply a Topic -> Ready with assignments -> produce and consume -> delete the leader's Pod and
// SIGKILL its process -> a new leader from the ISR within the session timeout, acks=all produce
// goes on, no acknowledged record lost -> a replacement broker rejoins and gets its preferred
// leaderships back -> delete another broker's Pod and SIGTERM its process, as the kubelet does:
// its controlled shutdown moves its leaderships first (reason controlled_shutdown) -> SIGKILL the
// active operator: the standby (configured through $KUBECONFIG alone) takes over and reconciles a
// Topic change applied meanwhile -> delete the Topic: its data is gone from the brokers and the
// finalizer released.
//
// Pods are deleted gracefully (Terminating) and the test plays the kubelet: it removes a Pod
// object once the broker process in it has exited.
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { KubeConfig } from '@kubernetes/client-node';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { Consumer, Producer } from '../client/index.ts';
import { silentLogger } from '../common/logger.ts';
import { KubeFixture, NAMESPACE, BROKER_SELECTOR } from '../operator/kubernetes/operator-harness.ts';
import type { TopicObject } from '../operator/kubernetes/topic-resource.ts';
import { waitFor } from './support/cluster.ts';
import { spawnReady, tailOf, type ReadyProcess } from './support/spawn-ready.ts';

const ROOT = path.resolve(import.meta.dirname, '..');
const SESSION_TIMEOUT_MS = 4_000;
const LEASE_DURATION_MS = 3_000;
const TOPIC = 'events';
const quiet = silentLogger();

// -- processes --------------------------------------------------------------------------------

type Proc = ReadyProcess;

const procs: Proc[] = [];
let dir: string;

async function spawnProc(name: string, script: string, args: string[], env: Record<string, string> = {}): Promise<Proc> {
  const p = await spawnReady({ name, script: path.join(ROOT, script), args, logFile: path.join(dir, `${name}.log`), env: { ...process.env, SLUICE_LOG_LEVEL: 'info', ...env } });
  procs.push(p);
  return p;
}


async function kill(p: Proc): Promise<void> {
  p.child.kill('SIGKILL');
  await p.exited;
}

// -- the controller Service: routes each connection to the operator whose /readyz is 200 ----------

class ControllerServiceProxy {
  readonly server: net.Server;
  targets: Proc[] = [];
  #ready: Proc | undefined;
  #timer: NodeJS.Timeout;

  constructor() {
    this.server = net.createServer((socket) => {
      const target = this.#ready;
      if (!target) return socket.destroy();
      const [host, port] = splitAddress(target.ready.grpc);
      const upstream = net.connect(port, host);
      socket.pipe(upstream).pipe(socket);
      const close = () => {
        socket.destroy();
        upstream.destroy();
      };
      socket.on('error', close);
      upstream.on('error', close);
      socket.on('close', close);
      upstream.on('close', close);
    });
    // Endpoints follow readiness, as a Service's EndpointSlice follows the readiness probe.
    this.#timer = setInterval(() => void this.#probe(), 100);
  }

  async listen(): Promise<string> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    return `127.0.0.1:${(this.server.address() as net.AddressInfo).port}`;
  }

  async #probe(): Promise<void> {
    for (const t of this.targets) {
      if (t.child.exitCode !== null || t.child.signalCode !== null) continue;
      const res = await fetch(`http://${t.ready.http}/readyz`).catch(() => undefined);
      if (res?.status === 200) {
        this.#ready = t;
        return;
      }
    }
    this.#ready = undefined;
  }

  close(): void {
    clearInterval(this.#timer);
    this.server.close();
  }
}

function splitAddress(a: string): [string, number] {
  const i = a.lastIndexOf(':');
  return [a.slice(0, i), Number(a.slice(i + 1))];
}

// -- the cluster --------------------------------------------------------------------------------

let fx: KubeFixture;
let kubeconfig: string;
let service: ControllerServiceProxy;
let serviceAddress: string;
const brokers = new Map<number, Proc>();
let operatorA: Proc;
let operatorB: Proc | undefined;

/** `where`: a --kubeconfig flag and --namespace, or nothing (then $KUBECONFIG and its context's namespace). */
function operatorArgs(identity: string, where: 'flags' | 'environment' = 'flags'): string[] {
  return [
    ...(where === 'flags' ? ['--kubeconfig', kubeconfig, '--namespace', NAMESPACE] : []), '--broker-selector', BROKER_SELECTOR,
    '--host', '127.0.0.1', '--port', '0', '--http-port', '0', '--identity', identity,
    '--lease-duration-ms', String(LEASE_DURATION_MS), '--renew-deadline-ms', '2000', '--retry-period-ms', '250',
    '--session-timeout-ms', String(SESSION_TIMEOUT_MS), '--heartbeat-interval-ms', '400',
    '--leader-rebalance-interval-ms', '1000', '--resync-interval-ms', '5000',
  ];
}

async function startBroker(id: number): Promise<Proc> {
  const p = await spawnProc(`broker-${id}-${Date.now()}`, 'broker/main.ts', [
    '--id', String(id), '--data-dir', path.join(dir, `broker-${id}`), '--controller', serviceAddress,
    '--host', '127.0.0.1', '--port', '0', '--http-port', '0',
    '--replica-lag-time-max-ms', '1500', '--replica-fetch-wait-max-ms', '200', '--controlled-shutdown-timeout-ms', '2000',
  ]);
  brokers.set(id, p);
  return p;
}

const bootstrap = () => [...brokers.values()].filter((b) => b.child.exitCode === null && b.child.signalCode === null).map((b) => b.ready.grpc);
const topicObject = (): TopicObject | undefined => fx.topic(TOPIC);
const readyCondition = (t: TopicObject | undefined) => t?.status?.conditions?.find((c) => c.type === 'Ready');

async function waitReady(what: string, accept: (t: TopicObject) => boolean = () => true, timeoutMs = 15_000): Promise<TopicObject> {
  return waitFor(what, () => {
    const t = topicObject();
    return t && readyCondition(t)?.status === 'True' && t.status?.observedGeneration === t.metadata.generation && accept(t) ? t : undefined;
  }, timeoutMs);
}

beforeAll(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sluice-operator-e2e-'));
  fx = await KubeFixture.start();
  kubeconfig = path.join(dir, 'kubeconfig');
  fs.writeFileSync(kubeconfig, fx.kubeConfig.exportConfig());
  for (const [i, zone] of ['zone-a', 'zone-b', 'zone-c'].entries()) {
    fx.addNode(`node-${i}`, zone);
    fx.addBrokerPod(i, `node-${i}`);
  }
  service = new ControllerServiceProxy();
  serviceAddress = await service.listen();
  operatorA = await spawnProc('operator-a', 'operator/kubernetes/operator-main.ts', operatorArgs('operator-a'));
  service.targets = [operatorA];
  await Promise.all([0, 1, 2].map((id) => startBroker(id)));
}, 60_000);

let failed = false;
afterEach((ctx) => {
  if (ctx.task.result?.state !== 'fail') return;
  failed = true;
  for (const p of procs) console.error(`--- ${p.name} (${p.logFile}) ---\n${tailOf(p.logFile, 60)}`);
  console.error(JSON.stringify(topicObject(), null, 1));
});

afterAll(async () => {
  service?.close();
  await Promise.all(procs.filter((p) => p.child.exitCode === null && p.child.signalCode === null).map((p) => kill(p)));
  await fx?.stop();
  if (dir && !failed) fs.rmSync(dir, { recursive: true, force: true });
  else if (dir) console.error(`operator e2e files kept in ${dir}`);
}, 30_000);

// -- the story ------------------------------------------------------------------------------------

/** Every acknowledged (key, value), by partition. */
const acked = new Map<string, number>();

async function consumeAll(partitions: number): Promise<Map<string, number>> {
  const consumer = new Consumer<string, string>({ bootstrapServers: bootstrap(), autoOffsetReset: 'earliest', keyDeserializer: 'string', valueDeserializer: 'string', logger: quiet });
  try {
    consumer.assign(Array.from({ length: partitions }, (_, partition) => ({ topic: TOPIC, partition })));
    await consumer.seekToBeginning();
    const seen = new Map<string, number>();
    const deadline = Date.now() + 15_000;
    while (Date.now() < deadline) {
      for (const r of await consumer.poll(300)) seen.set(r.value!, r.partition);
      if ([...acked.keys()].every((v) => seen.has(v))) break;
    }
    return seen;
  } finally {
    await consumer.close();
  }
}

describe('the operator with real brokers', () => {
  it('makes an applied Topic Ready with assignments, and records go through it', async () => {
    await fx.createTopic(TOPIC, { partitions: 3, replicationFactor: 3, config: { 'min.insync.replicas': 2 } });
    const t = await waitReady('the Topic Ready');
    expect(t.status?.partitions?.map((p) => [...p.replicas].sort())).toEqual([[0, 1, 2], [0, 1, 2], [0, 1, 2]]);
    expect(new Set(t.status!.partitions!.map((p) => p.leader)).size).toBe(3);

    const producer = new Producer<string, string>({ bootstrapServers: bootstrap(), acks: 'all', idempotence: true, lingerMs: 2, keySerializer: 'string', valueSerializer: 'string', logger: quiet });
    try {
      const results = await Promise.all(Array.from({ length: 300 }, (_, i) => producer.send({ topic: TOPIC, key: `k${i}`, value: `before-${i}` })));
      for (const [i, r] of results.entries()) acked.set(`before-${i}`, r.partition);
    } finally {
      await producer.close();
    }
    const seen = await consumeAll(3);
    for (const [value, partition] of acked) expect(seen.get(value), value).toBe(partition);
  }, 40_000);

  it('elects a new leader from the ISR when the leader\'s Pod is deleted and its process killed, and acks=all writes go on without loss', async () => {
    const before = topicObject()!;
    const p0 = before.status!.partitions!.find((p) => p.partition === 0)!;
    const victim = p0.leader;
    const producer = new Producer<string, string>({
      bootstrapServers: bootstrap(), acks: 'all', idempotence: true, lingerMs: 2, keySerializer: 'string', valueSerializer: 'string', logger: quiet, retryBackoffMs: 50, requestTimeoutMs: 5_000, deliveryTimeoutMs: 30_000,
    });
    let stop = false;
    let afterKill = 0;
    let killedAt = 0;
    const loop = (async () => {
      for (let i = 0; !stop; i++) {
        const value = `during-${i}`;
        const r = await producer.send({ topic: TOPIC, key: `k${i}`, value });
        acked.set(value, r.partition);
        if (killedAt > 0) afterKill++;
      }
    })();
    try {
      await waitFor('writes flowing', () => (acked.size > 350 ? true : undefined));
      const pod = fx.terminatePod(victim);
      await kill(brokers.get(victim)!);
      killedAt = Date.now();
      const moved = await waitFor('a new leader for partition 0', () => {
        const p = topicObject()?.status?.partitions?.find((x) => x.partition === 0);
        return p && p.leader !== victim && p.leader >= 0 ? p : undefined;
      }, SESSION_TIMEOUT_MS + 2_000);
      expect(Date.now() - killedAt).toBeLessThan(SESSION_TIMEOUT_MS);
      expect(p0.isr).toContain(moved.leader);
      expect(moved.leaderEpoch).toBeGreaterThan(p0.leaderEpoch);
      expect(moved.isr).not.toContain(victim);
      const events = await waitFor('a LeaderElected Event', () => fx.events(TOPIC).find((e) => e.reason === 'LeaderElected' && e.message.includes(`leader ${victim} ->`)));
      expect(events.message).toContain('reason fenced');
      // The kubelet removes the Pod object once its container has died (the fence did not wait for it).
      fx.finishPodTermination(victim, pod.metadata.uid!);
      // acks=all keeps working with two in-sync replicas (min.insync.replicas 2).
      await waitFor('acknowledged writes after the kill', () => (afterKill >= 100 ? true : undefined), 15_000);
    } finally {
      stop = true;
      await loop.catch((e: unknown) => {
        throw new Error(`a send failed: ${(e as Error).message}`);
      });
      await producer.close();
    }
    const seen = await consumeAll(3);
    const lost = [...acked].filter(([value, partition]) => seen.get(value) !== partition).map(([v]) => v);
    expect(lost).toEqual([]);
  }, 60_000);

  it('lets a replacement broker with the same ordinal rejoin, catch up and get its preferred leaderships back', async () => {
    const victim = [0, 1, 2].find((id) => brokers.get(id)!.child.signalCode === 'SIGKILL')!;
    fx.addBrokerPod(victim, `node-${victim}`);
    await startBroker(victim);
    const t = await waitReady('every replica in sync and preferred leaders back', (x) =>
      x.status!.partitions!.every((p) => p.isr.length === 3 && p.leader === p.replicas[0]) && x.status!.underReplicatedPartitions === 0,
    20_000);
    expect(t.status!.partitions!.filter((p) => p.leader === victim).length).toBeGreaterThanOrEqual(1);
  }, 40_000);

  it('lets a broker whose Pod is deleted move its leaderships away on SIGTERM (controlled shutdown), and brings its replacement back', async () => {
    const before = topicObject()!;
    const stopping = [0, 1, 2].find((id) => before.status!.partitions!.some((p) => p.leader === id))!;
    const led = before.status!.partitions!.filter((p) => p.leader === stopping);
    const pod = fx.terminatePod(stopping);
    // What the kubelet does next: SIGTERM, then wait for the process to exit.
    const proc = brokers.get(stopping)!;
    proc.child.kill('SIGTERM');
    await proc.exited;
    expect(proc.child.exitCode).toBe(0);
    for (const p of led) {
      await waitFor(`partition ${p.partition} moved`, () =>
        fx.events(TOPIC).find((x) => x.reason === 'LeaderElected' && x.message.startsWith(`partition ${p.partition}: leader ${stopping} -> `) && !x.message.includes(`leader epoch ${p.leaderEpoch} `) && x.message.includes('reason controlled_shutdown')),
      );
      const after = topicObject()!.status!.partitions!.find((x) => x.partition === p.partition)!;
      expect(p.isr).toContain(after.leader);
    }
    fx.finishPodTermination(stopping, pod.metadata.uid!);
    const producer = new Producer<string, string>({ bootstrapServers: bootstrap(), acks: 'all', idempotence: true, keySerializer: 'string', valueSerializer: 'string', logger: quiet });
    try {
      for (let partition = 0; partition < 3; partition++) {
        const r = await producer.send({ topic: TOPIC, partition, value: `while-${stopping}-stopped-${partition}` });
        acked.set(`while-${stopping}-stopped-${partition}`, r.partition);
      }
    } finally {
      await producer.close();
    }
    fx.addBrokerPod(stopping, `node-${stopping}`);
    await startBroker(stopping);
    await waitReady('every replica in sync and preferred leaders back', (x) => x.status!.partitions!.every((p) => p.isr.length === 3 && p.leader === p.replicas[0]), 20_000);
  }, 40_000);

  it('fails over to a standby operator, which reconciles a Topic change applied meanwhile', async () => {
    // B is configured the way kubectl is: $KUBECONFIG, whose context names the namespace.
    const kc = new KubeConfig();
    const options = fx.kube.kubeConfigOptions();
    kc.loadFromOptions({ ...options, contexts: options.contexts.map((c) => ({ ...c, namespace: NAMESPACE })) });
    const kubeconfigB = path.join(dir, 'kubeconfig-b');
    fs.writeFileSync(kubeconfigB, kc.exportConfig());
    operatorB = await spawnProc('operator-b', 'operator/kubernetes/operator-main.ts', operatorArgs('operator-b', 'environment'), { KUBECONFIG: kubeconfigB });
    service.targets = [operatorA, operatorB];
    // B is a standby: alive, but not ready, so the Service sends nothing to it.
    expect((await fetch(`http://${operatorB.ready.http}/healthz`)).status).toBe(200);
    expect((await fetch(`http://${operatorB.ready.http}/readyz`)).status).toBe(503);
    expect((await fetch(`http://${operatorA.ready.http}/readyz`)).status).toBe(200);
    const metricsA = await (await fetch(`http://${operatorA.ready.http}/metrics`)).text();
    expect(metricsA).toMatch(/^sluice_controller_active 1$/m);
    expect(metricsA).toMatch(/^sluice_leader_elections_total\{reason="fenced",unclean="false"\} [1-9]/m);
    expect(metricsA).toMatch(/^sluice_leader_elections_total\{reason="controlled_shutdown",unclean="false"\} [1-9]/m);
    expect(metricsA).toMatch(/^sluice_leader_elections_total\{reason="preferred",unclean="false"\} [1-9]/m);
    expect(metricsA).toMatch(/^sluice_offline_partitions 0$/m);
    expect(metricsA).toMatch(/^sluice_operator_reconcile_duration_seconds_count\{kind="topic"\} [1-9]/m);
    expect(metricsA).toMatch(/^sluice_operator_reconcile_duration_seconds_count\{kind="brokers"\} [1-9]/m);
    expect(metricsA).toMatch(/^sluice_brokers\{state="fenced"\} 0$/m);
    const metricsStandby = await (await fetch(`http://${operatorB.ready.http}/metrics`)).text();
    expect(metricsStandby).toMatch(/^sluice_controller_active 0$/m);

    await kill(operatorA);
    const killedAt = Date.now();
    const current = topicObject()!;
    fx.setSpec(TOPIC, { ...current.spec, partitions: 5 });
    await waitFor('operator B ready', async () => ((await fetch(`http://${operatorB!.ready.http}/readyz`)).status === 200 ? true : undefined), LEASE_DURATION_MS + 5_000);
    expect(Date.now() - killedAt).toBeLessThan(LEASE_DURATION_MS + 3_000);
    const t = await waitReady('five partitions, reconciled by B', (x) => x.status!.partitions!.length === 5 && x.status!.partitions!.every((p) => p.isr.length === 3), 20_000);
    expect(t.status!.topicId).toBe(current.metadata.uid);
    // Epochs went on from what A persisted.
    for (const p of current.status!.partitions!) {
      expect(t.status!.partitions!.find((x) => x.partition === p.partition)!.leaderEpoch).toBeGreaterThanOrEqual(p.leaderEpoch);
    }
    const metrics = await (await fetch(`http://${operatorB.ready.http}/metrics`)).text();
    expect(metrics).toMatch(/^sluice_controller_active 1$/m);
    expect(metrics).toMatch(/^sluice_brokers\{state="active"\} 3$/m);

    const producer = new Producer<string, string>({ bootstrapServers: bootstrap(), acks: 'all', idempotence: true, keySerializer: 'string', valueSerializer: 'string', logger: quiet });
    try {
      for (let partition = 0; partition < 5; partition++) {
        const r = await producer.send({ topic: TOPIC, partition, value: `after-failover-${partition}` });
        acked.set(`after-failover-${partition}`, r.partition);
      }
    } finally {
      await producer.close();
    }
    const seen = await consumeAll(5);
    expect([...acked].filter(([v, partition]) => seen.get(v) !== partition)).toEqual([]);
  }, 60_000);

  it('deletes the Topic\'s data on every broker before the finalizer lets the Topic go', async () => {
    const dirsOf = (id: number) => fs.readdirSync(path.join(dir, `broker-${id}`)).filter((d) => d.startsWith(`${TOPIC}-`));
    for (const id of [0, 1, 2]) expect(dirsOf(id).length).toBe(5);
    fx.deleteTopic(TOPIC);
    await waitFor('the Topic gone', () => (topicObject() ? undefined : true), 20_000);
    await waitFor('the data gone from every broker', () => ([0, 1, 2].every((id) => dirsOf(id).length === 0) ? true : undefined), 5_000);
  }, 30_000);
});
