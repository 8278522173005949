// The operator in-process against the Kubernetes API double (real client-node, real Topic CRD)
// with fake brokers on real gRPC sessions: Topics become partitions with assignments in status,
// spec changes are carried out or refused visibly, broker Pods lost are fenced at once, a deleted
// Topic's data goes from the brokers before its finalizer is released, AdminService acts on
// Topic objects, and a new operator resumes from what the previous one persisted.
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createLogger, silentLogger } from '../common/logger.ts';
import { adminClient, controllerClient, unary } from '../operator/local/broker-session-double.ts';
import { FakeBroker, KubeFixture, BROKER_SELECTOR, NAMESPACE } from '../operator/kubernetes/operator-harness.ts';
import { startOperator, type RunningOperator } from '../operator/kubernetes/operator-server.ts';
import type { TopicCondition, TopicObject } from '../operator/kubernetes/topic-resource.ts';
import { waitFor } from './support/cluster.ts';

let fx: KubeFixture;
let operator: RunningOperator;
const brokers: FakeBroker[] = [];
const logger = process.env.SLUICE_TEST_LOG ? createLogger('operator-test') : silentLogger();

async function start(identity: string): Promise<RunningOperator> {
  return startOperator({
    kubeConfig: fx.kubeConfig,
    namespace: NAMESPACE,
    brokerSelector: BROKER_SELECTOR,
    host: '127.0.0.1',
    port: 0,
    httpPort: 0,
    sessionTimeoutMs: 3000,
    heartbeatIntervalMs: 200,
    nodeId: 1000,
    leaderRebalanceIntervalMs: 0,
    leaseName: 'sluice-operator',
    identity,
    leaseDurationMs: 3000,
    renewDeadlineMs: 2000,
    retryPeriodMs: 200,
    resyncIntervalMs: 2000,
    stallTimeoutMs: 30_000,
    logger,
  });
}

const condition = (t: TopicObject | undefined, type: string): TopicCondition | undefined => t?.status?.conditions?.find((c) => c.type === type);
const ready = (name: string) => () => {
  const t = fx.topic(name);
  const c = condition(t, 'Ready');
  return c?.status === 'True' && t?.status?.observedGeneration === t?.metadata.generation ? t : undefined;
};
const notReady = (name: string, reason: string) => () => {
  const t = fx.topic(name);
  const c = condition(t, 'Ready');
  return c?.status === 'False' && c.reason === reason && t?.status?.observedGeneration === t?.metadata.generation ? t : undefined;
};

beforeAll(async () => {
  fx = await KubeFixture.start();
  for (const [i, zone] of ['zone-a', 'zone-b', 'zone-c'].entries()) {
    fx.addNode(`node-${i}`, zone);
    fx.addBrokerPod(i, `node-${i}`);
  }
  operator = await start('operator-a');
  await waitFor('the operator to lead', () => (operator.current() ? true : undefined), 10_000);
  for (let i = 0; i < 3; i++) brokers.push(new FakeBroker(operator.grpcAddress, i).start());
  await waitFor('three brokers registered', () => (operator.current()?.committed.current.brokers.filter((b) => b.state === 'active').length === 3 ? true : undefined), 10_000);
}, 30_000);

afterAll(async () => {
  for (const b of brokers) b.stop();
  await operator?.stop();
  await fx?.stop();
}, 30_000);

afterEach((ctx) => {
  if (ctx.task.result?.state === 'fail') console.error(JSON.stringify(fx.kube.list('topics.sluice.dev', NAMESPACE).items, null, 1).slice(0, 20_000));
});

describe('Topic reconcile', () => {
  it('creates the topic: finalizer, assignments over three zones, Ready with observedGeneration, an Event, and brokers told', async () => {
    await fx.createTopic('orders', { partitions: 3, replicationFactor: 3, config: { 'min.insync.replicas': 2 } });
    const t = await waitFor('orders Ready', ready('orders'));
    expect(t.metadata.finalizers).toEqual(['sluice.dev/topic-data']);
    expect(t.status).toMatchObject({ topicId: t.metadata.uid, topicName: 'orders', replicationFactor: 3, underReplicatedPartitions: 0, offlinePartitions: 0, config: { 'min.insync.replicas': 2 } });
    expect(t.status?.partitions).toHaveLength(3);
    for (const p of t.status!.partitions!) {
      expect([...p.replicas].sort()).toEqual([0, 1, 2]);
      expect(p.isr).toEqual(p.replicas);
      expect(p.leader).toBe(p.replicas[0]);
    }
    // Preferred leaders spread over the brokers.
    expect(new Set(t.status!.partitions!.map((p) => p.leader)).size).toBe(3);
    expect(condition(t, 'Reconciling')).toMatchObject({ status: 'False', reason: 'Reconciled' });
    expect(condition(t, 'Degraded')).toMatchObject({ status: 'False', reason: 'Healthy' });
    expect(fx.events('orders').map((e) => e.reason)).toContain('TopicCreated');
    await waitFor('brokers to get orders', () => (brokers.every((b) => b.topics().includes('orders')) ? true : undefined));
    // Racks come from the nodes' zones.
    const racks = brokers[0]!.metadata!.live_brokers.map((b) => b.rack).sort();
    expect(racks).toEqual(['zone-a', 'zone-b', 'zone-c']);
  });

  it('adds partitions and changes config on a spec change', async () => {
    await fx.createTopic('grow', { partitions: 2, replicationFactor: 2 });
    await waitFor('grow Ready', ready('grow'));
    fx.setSpec('grow', { partitions: 5, replicationFactor: 2, config: { 'retention.ms': 1000 } });
    const t = await waitFor('grow at generation 2', () => {
      const x = ready('grow')();
      return x && x.metadata.generation === 2 ? x : undefined;
    });
    expect(t.status?.partitions?.map((p) => p.partition)).toEqual([0, 1, 2, 3, 4]);
    expect(t.status?.config).toEqual({ 'retention.ms': 1000 });
    expect(fx.events('grow').map((e) => e.reason)).toEqual(expect.arrayContaining(['PartitionsAdded', 'ConfigChanged']));
  });

  it('changes the replication factor by reassignment: new replicas added, completed once the leader reports them in sync', async () => {
    await fx.createTopic('widen', { partitions: 2, replicationFactor: 2 });
    const before = await waitFor('widen Ready', ready('widen'));
    fx.setSpec('widen', { partitions: 2, replicationFactor: 3 });
    const moving = await waitFor('widen reassigning', notReady('widen', 'Reassigning'));
    expect(moving.status?.conditions?.find((c) => c.type === 'Reconciling')).toMatchObject({ status: 'True', reason: 'Reassigning' });
    for (const p of moving.status!.partitions!) {
      expect(p.replicas).toHaveLength(3);
      expect(p.addingReplicas).toHaveLength(1);
      // Nothing in sync was dropped to start.
      expect(p.isr).toEqual(before.status!.partitions![p.partition]!.isr);
    }
    await waitFor('a ReassignmentStarted Event', () => fx.events('widen').find((e) => e.reason === 'ReassignmentStarted'));
    // The leaders report the new replicas caught up (what a real leader's ISR expansion does).
    const client = controllerClient(operator.grpcAddress);
    try {
      for (const p of moving.status!.partitions!) {
        const leader = brokers[p.leader]!;
        const res = await unary(client.AlterPartition.bind(client), {
          broker_id: leader.id, broker_epoch: leader.brokerEpoch, topic: 'widen', partition: p.partition,
          leader_epoch: p.leaderEpoch, partition_epoch: p.partitionEpoch, new_isr: p.replicas,
        });
        expect(res.error?.code ?? 'ERROR_CODE_NONE').toBe('ERROR_CODE_NONE');
      }
    } finally {
      client.close();
    }
    const done = await waitFor('widen Ready at replication factor 3', () => {
      const t = ready('widen')();
      return t?.status?.replicationFactor === 3 ? t : undefined;
    });
    for (const p of done.status!.partitions!) expect(p).toMatchObject({ addingReplicas: [], removingReplicas: [], isr: p.replicas });
    await waitFor('a ReassignmentCompleted Event', () => fx.events('widen').find((e) => e.reason === 'ReassignmentCompleted'));
  });

  it('refuses more replicas than brokers visibly, and recovers when the spec is fixed', async () => {
    await fx.createTopic('too-wide', { partitions: 1, replicationFactor: 4 });
    const t = await waitFor('too-wide refused', notReady('too-wide', 'NotEnoughBrokers'));
    expect(condition(t, 'Ready')?.message).toMatch(/spec\.replicationFactor is 4 but 3 brokers are registered and active \(0, 1, 2\); lower spec\.replicationFactor to at most 3/);
    expect(t.status?.partitions).toBeUndefined();
    await waitFor('a Warning Event', () => fx.events('too-wide').find((e) => e.type === 'Warning' && e.reason === 'NotEnoughBrokers'));
    fx.setSpec('too-wide', { partitions: 1, replicationFactor: 3 });
    await waitFor('too-wide Ready', ready('too-wide'));
  });

  it('refuses a config the schema let through (min.insync.replicas above the default replication factor)', async () => {
    await fx.createTopic('strict', { partitions: 1, config: { 'min.insync.replicas': 4 } });
    const t = await waitFor('strict refused', notReady('strict', 'InvalidConfig'));
    expect(condition(t, 'Ready')?.message).toContain('min.insync.replicas (4) is larger than the replication factor (3)');
    const event = await waitFor('a Warning Event', () => fx.events('strict').find((e) => e.type === 'Warning' && e.reason === 'InvalidConfig'));
    expect(event.message).toMatch(/lower min\.insync\.replicas or raise the replication factor/);
  });

  it('reconciles every Topic again at each resync, with nothing changed, and reports it in /metrics', async () => {
    const topicReconciles = async () => {
      const text = await (await fetch(`http://${operator.httpAddress}/metrics`)).text();
      return Number(/^sluice_operator_reconcile_duration_seconds_count\{kind="topic"\} (\d+)$/m.exec(text)?.[1] ?? 'NaN');
    };
    await operator.current()!.idle();
    const objects = fx.kube.list('topics.sluice.dev', NAMESPACE).items.length;
    const before = await topicReconciles();
    // The resync interval is 2 s here; nothing changes meanwhile.
    await new Promise((r) => setTimeout(r, 2300));
    expect(await topicReconciles()).toBeGreaterThanOrEqual(before + objects);
    expect((await fetch(`http://${operator.httpAddress}/healthz`)).status).toBe(200);
    expect((await fetch(`http://${operator.httpAddress}/readyz`)).status).toBe(200);
  });
});

describe('broker pods', () => {
  const SESSION_TIMEOUT_MS = 3000;
  const brokerState = (id: number) => operator.current()!.committed.current.brokers.find((b) => b.id === id)?.state;
  /** The StatefulSet's replacement Pod (Running) and its broker process, a new incarnation. */
  const replace = async (id: number) => {
    const old = fx.pod(id);
    if (old?.metadata.deletionTimestamp) fx.finishPodTermination(id, old.metadata.uid!);
    if (!fx.pod(id)) fx.addBrokerPod(id, `node-${id}`);
    brokers[id] = new FakeBroker(operator.grpcAddress, id).start();
    await waitFor(`broker ${id} back`, () => (brokerState(id) === 'active' && brokers[id]!.connected ? true : undefined), 10_000);
  };
  const fencedBy = (topic: string, id: number) => () => {
    const t = fx.topic(topic);
    return t?.status?.partitions?.every((p) => !p.isr.includes(id) && p.leader !== id) ? t : undefined;
  };

  it('fences a broker at once when its Pod is deleted outright, even with the replacement Pod already running, and keeps the old process out', async () => {
    await fx.createTopic('failover', { partitions: 3, replicationFactor: 3 });
    const before = await waitFor('failover Ready', ready('failover'));
    const led = before.status!.partitions!.find((p) => p.leader === 1)!;
    const lost = brokers[1]!;
    const deletedAt = Date.now();
    // kubectl delete --force, and the StatefulSet recreates the Pod before the operator looks.
    fx.deletePod(1);
    fx.addBrokerPod(1, 'node-1');
    const after = await waitFor('broker 1 out of every ISR', fencedBy('failover', 1));
    // Well before the 3 s session timeout: the Pod, not the silence, fenced it.
    expect(Date.now() - deletedAt).toBeLessThan(2500);
    const moved = after.status!.partitions!.find((p) => p.partition === led.partition)!;
    expect(led.isr).toContain(moved.leader);
    expect(moved.leaderEpoch).toBe(led.leaderEpoch + 1);
    expect(after.status?.underReplicatedPartitions).toBe(3);
    expect(condition(after, 'Degraded')).toMatchObject({ status: 'True', reason: 'UnderReplicated' });
    const election = await waitFor('a LeaderElected Event', () => fx.events('failover').find((e) => e.reason === 'LeaderElected' && e.message.includes('reason fenced')));
    expect(election.message).toMatch(/^partition \d: leader 1 -> [02] at leader epoch \d+ \(reason fenced; committed ISR was \[/);
    // The process of the deleted Pod may still be running (a force-deleted Pod on a lost node): it
    // must not get back in on the strength of the replacement Pod.
    await waitFor('broker 1 refused', () => (lost.lastError?.code === 'ERROR_CODE_BROKER_NOT_AVAILABLE' && String(lost.lastError.message).includes('was deleted') ? true : undefined));
    expect(brokerState(1)).toBe('fenced');

    // The replacement Pod's broker process registers as a new incarnation.
    lost.stop();
    await replace(1);
    await waitFor('the replacement to get the metadata', () => (brokers[1]!.topics().includes('failover') ? true : undefined));
  });

  it('lets the broker of a Pod deleted gracefully finish its controlled shutdown: leaderships move first (reason controlled_shutdown)', async () => {
    await fx.createTopic('rolling', { partitions: 3, replicationFactor: 3 });
    const before = await waitFor('rolling Ready', () => {
      const t = ready('rolling')();
      return t?.status?.partitions?.every((p) => p.isr.length === 3) ? t : undefined;
    });
    const led = before.status!.partitions!.filter((p) => p.leader === 0).map((p) => p.partition);
    expect(led.length).toBeGreaterThan(0);
    const pod = fx.terminatePod(0);
    expect(pod.metadata.deletionTimestamp).toBeDefined();
    // The kubelet's SIGTERM takes its time to arrive: the broker leads and stays in sync meanwhile.
    await new Promise((r) => setTimeout(r, 1000));
    expect(brokerState(0)).toBe('active');
    expect(fx.topic('rolling')!.status!.partitions!.filter((p) => p.leader === 0).map((p) => p.partition)).toEqual(led);

    await brokers[0]!.controlledShutdown();
    const after = await waitFor('broker 0 leading nothing', () => {
      const t = fx.topic('rolling');
      return t?.status?.partitions?.every((p) => p.leader !== 0 && p.leader >= 0) ? t : undefined;
    });
    for (const p of led) expect(before.status!.partitions![p]!.isr).toContain(after.status!.partitions![p]!.leader);
    const moves = await waitFor('LeaderElected Events', () => {
      const events = fx.events('rolling').filter((e) => e.reason === 'LeaderElected' && e.message.includes('leader 0 ->'));
      return events.length === led.length ? events : undefined;
    });
    for (const e of moves) expect(e.message).toContain('reason controlled_shutdown');
    // Its session closed after the shutdown: fenced at once, not after the session timeout.
    await waitFor('broker 0 fenced', () => (brokerState(0) === 'fenced' ? true : undefined), 1500);
    await replace(0);
  });

  it('fences the broker of a terminating Pod as soon as its process dies, well before the session timeout, and keeps it out', async () => {
    await fx.createTopic('crash', { partitions: 3, replicationFactor: 3 });
    await waitFor('crash Ready', ready('crash'));
    const pod = fx.terminatePod(2);
    await new Promise((r) => setTimeout(r, 500));
    expect(brokerState(2)).toBe('active');
    const incarnation = brokers[2]!.incarnationId;
    const killedAt = Date.now();
    brokers[2]!.stop(); // SIGKILL: the stream closes, no controlled shutdown
    await waitFor('broker 2 out of every ISR', fencedBy('crash', 2), SESSION_TIMEOUT_MS);
    expect(Date.now() - killedAt).toBeLessThan(SESSION_TIMEOUT_MS / 2);
    await waitFor('a LeaderElected Event with reason fenced', () => fx.events('crash').find((e) => e.reason === 'LeaderElected' && e.message.includes('leader 2 ->') && e.message.includes('reason fenced')));
    // A process of the terminating Pod (the same incarnation) may not come back.
    const again = new FakeBroker(operator.grpcAddress, 2, incarnation).start();
    try {
      await waitFor('a refusal', () => again.lastError);
      expect(again.lastError?.message).toMatch(/broker 2 may not register: Pod sluice-broker-2 is being deleted/);
      expect(brokerState(2)).toBe('fenced');
    } finally {
      again.stop();
    }
    fx.finishPodTermination(2, pod.metadata.uid!);
    await replace(2);
  });

  it('leaves a hung broker of a terminating Pod to its session timeout', async () => {
    fx.terminatePod(2);
    brokers[2]!.paused = true; // stream open, no heartbeats
    const pausedAt = Date.now();
    await waitFor('broker 2 fenced', () => (brokerState(2) === 'fenced' ? true : undefined), SESSION_TIMEOUT_MS + 2000);
    expect(Date.now() - pausedAt).toBeGreaterThanOrEqual(SESSION_TIMEOUT_MS - 300);
    brokers[2]!.stop();
    await replace(2);
  });

  it('fences the broker of an evicted Pod', async () => {
    const pod = fx.pod(1)!;
    fx.kube.replaceStatus('pods', { ...pod, status: { phase: 'Failed', reason: 'Evicted' } });
    await waitFor('broker 1 fenced', () => (brokerState(1) === 'fenced' ? true : undefined), 1500);
    brokers[1]!.stop();
    fx.deletePod(1);
    await replace(1);
  });

  it('fences the brokers of a node that is not ready', async () => {
    fx.setNodeReady('node-2', false);
    await waitFor('broker 2 fenced', () => (brokerState(2) === 'fenced' ? true : undefined), 2500);
    fx.setNodeReady('node-2', true);
    await waitFor('broker 2 back', () => (brokerState(2) === 'active' ? true : undefined));
  });

  it('refuses a broker that has no Pod', async () => {
    const stray = new FakeBroker(operator.grpcAddress, 7).start();
    try {
      await waitFor('a refusal', () => stray.lastError);
      expect(stray.lastError?.message).toMatch(/broker 7 may not register: no broker Pod with ordinal 7 exists/);
      expect(operator.current()!.committed.current.brokers.some((b) => b.id === 7)).toBe(false);
    } finally {
      stray.stop();
    }
  });
});

describe('deletion', () => {
  it('deletes the topic on every live broker before it releases the finalizer', async () => {
    await fx.createTopic('doomed', { partitions: 2, replicationFactor: 3 });
    await waitFor('doomed Ready', ready('doomed'));
    await waitFor('brokers to get doomed', () => (brokers.every((b) => b.topics().includes('doomed')) ? true : undefined));
    // Broker 0 stops reporting what it applied (a slow broker, below the session timeout).
    brokers[0]!.paused = true;
    fx.deleteTopic('doomed');
    await waitFor('the deletion committed', () => (brokers[1]!.topics().includes('doomed') ? undefined : true));
    await new Promise((r) => setTimeout(r, 1000));
    // Still there: broker 0 has not confirmed, and the finalizer holds the Topic for it.
    expect(fx.topic('doomed')?.metadata.deletionTimestamp).toBeDefined();
    expect(condition(fx.topic('doomed'), 'Ready')).toMatchObject({ status: 'False', reason: 'Deleting' });
    brokers[0]!.paused = false;
    await waitFor('the Topic gone', () => (fx.topic('doomed') ? undefined : true), 10_000);
    // Gone only after every live broker had a snapshot without it.
    for (const b of brokers) expect(b.topics()).not.toContain('doomed');
    expect(operator.current()!.committed.current.topics.some((t) => t.name === 'doomed')).toBe(false);
  });
});

describe('AdminService on Topic objects', () => {
  it('creates, alters and deletes Topic objects for CreateTopic, AlterTopic and DeleteTopic', async () => {
    const admin = adminClient(operator.grpcAddress);
    try {
      const created = await unary(admin.CreateTopic.bind(admin), { name: 'Admin_Made', partitions: 2, replication_factor: 2, config: { 'retention.ms': '5000' } });
      expect(created.topic?.partitions).toHaveLength(2);
      const objects = fx.kube.list('topics.sluice.dev', NAMESPACE).items as unknown as TopicObject[];
      const obj = objects.find((t) => t.spec.topicName === 'Admin_Made')!;
      expect(obj.metadata.name).toMatch(/^admin-made-[0-9a-f]{8}$/);
      expect(obj.spec).toEqual({ partitions: 2, replicationFactor: 2, topicName: 'Admin_Made', config: { 'retention.ms': 5000 } });

      const bad = await unary(admin.CreateTopic.bind(admin), { name: 'wide', partitions: 1, replication_factor: 5 }).catch((e: Error) => e);
      expect(String((bad as Error).message)).toMatch(/replication factor 5 needs 5 live brokers/);
      expect(fx.topic('wide')).toBeUndefined();

      const altered = await unary(admin.AlterTopic.bind(admin), { name: 'Admin_Made', partitions: 4, config: { 'cleanup.policy': 'compact' } });
      expect(altered.topic?.partitions).toHaveLength(4);
      expect(fx.topic(obj.metadata.name)?.spec).toMatchObject({ partitions: 4, config: { 'retention.ms': 5000, 'cleanup.policy': 'compact' } });

      const list = await unary(admin.ListTopics.bind(admin), {});
      expect(list.topics.map((t) => t.name)).toContain('Admin_Made');

      await unary(admin.DeleteTopic.bind(admin), { name: 'Admin_Made' });
      await waitFor('the Topic object gone', () => (fx.topic(obj.metadata.name) ? undefined : true), 10_000);
    } finally {
      admin.close();
    }
  });
});

describe('restart', () => {
  it('a new operator resumes from Topic status and the Lease: same topic ids, epochs kept, brokers back', async () => {
    const t = await waitFor('orders Ready', ready('orders'));
    const epochsBefore = t.status!.partitions!.map((p) => p.leaderEpoch);
    const clusterId = operator.current()!.committed.current.clusterId;
    const versionBefore = operator.current()!.committed.current.metadataVersion;
    const leaseTransitions = (): number => (fx.kube.get('leases.coordination.k8s.io', 'sluice-operator', NAMESPACE).spec as { leaseTransitions: number }).leaseTransitions;
    // Every push carries the pushing operator's term: the Lease's transitions when it took over.
    const termBefore = brokers[0]!.metadata!.controller_epoch;
    expect(termBefore).toBe(leaseTransitions());
    await operator.stop();
    operator = await start('operator-b');
    await waitFor('the new operator to lead', () => (operator.current() ? true : undefined), 10_000);
    const s = operator.current()!.committed.current;
    expect(s.clusterId).toBe(clusterId);
    expect(s.metadataVersion).toBeGreaterThan(versionBefore);
    const orders = s.topics.find((x) => x.name === 'orders')!;
    expect(orders.topicId).toBe(t.metadata.uid);
    // Brokers reconnect to the new address (a Service would hide the change).
    for (const [i, b] of brokers.entries()) {
      b.stop();
      brokers[i] = new FakeBroker(operator.grpcAddress, i, b.incarnationId).start();
    }
    await waitFor('brokers back', () => (operator.current()!.committed.current.brokers.filter((b) => b.state === 'active').length === 3 ? true : undefined), 10_000);
    // A higher term, so brokers would refuse a push of the previous operator from now on.
    await waitFor('metadata of the new term on every broker', () => (brokers.every((b) => b.metadata?.controller_epoch === leaseTransitions()) ? true : undefined), 5_000);
    expect(leaseTransitions()).toBeGreaterThan(termBefore);
    // Same incarnations reconnecting: nothing was re-elected.
    const after = fx.topic('orders')!;
    expect(after.status!.partitions!.map((p) => p.leaderEpoch)).toEqual(epochsBefore);
    await waitFor('orders Ready again', ready('orders'));
  });

  it('finishes a deletion the previous operator started: the data goes from the brokers, then the Topic', async () => {
    await fx.createTopic('half-deleted', { partitions: 1, replicationFactor: 3 });
    await waitFor('half-deleted Ready', ready('half-deleted'));
    brokers[2]!.paused = true;
    fx.deleteTopic('half-deleted');
    await waitFor('the deletion committed', () => (brokers[0]!.topics().includes('half-deleted') ? undefined : true));
    expect(fx.topic('half-deleted')).toBeDefined();
    await operator.stop();
    operator = await start('operator-c');
    await waitFor('operator C to lead', () => (operator.current() ? true : undefined), 10_000);
    for (const [i, b] of brokers.entries()) {
      b.stop();
      brokers[i] = new FakeBroker(operator.grpcAddress, i, b.incarnationId).start();
    }
    await waitFor('the Topic gone', () => (fx.topic('half-deleted') ? undefined : true), 10_000);
    for (const b of brokers) expect(b.topics()).not.toContain('half-deleted');
    // Nothing was refused or broken on the way.
    expect(operator.current()!.committed.healthy).toBe(true);
  });

  it('retries a takeover that could not be persisted, and keeps the session that then starts', async () => {
    await operator.stop();
    // Every attempt to claim one Topic at the takeover fails: the takeover is only partly written.
    fx.kube.failRequests({ verb: 'update', resource: 'topics', subresource: 'status', name: 'orders', times: 4, code: 500 });
    operator = await start('operator-d');
    const first = await waitFor('operator D to lead', () => operator.current(), 15_000);
    expect(fx.kube.requests.filter((r) => r.name === 'orders' && r.subresource === 'status' && r.code === 500)).toHaveLength(4);
    const leadershipChanges = async () => /^sluice_operator_leadership_changes_total (\d+)$/m.exec(await (await fetch(`http://${operator.httpAddress}/metrics`)).text())?.[1];
    // Past the 2 s retry of the failed attempt: the running session is not torn down for it.
    await new Promise((r) => setTimeout(r, 2500));
    expect(operator.current()).toBe(first);
    expect(await leadershipChanges()).toBe('1');
    expect(first.committed.healthy).toBe(true);
  });
});
