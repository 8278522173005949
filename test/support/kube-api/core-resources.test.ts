// The built-in resources an operator touches, through client-node's typed APIs: Nodes and Pods
// (status subresource, pod status reset on create, field selectors, graceful deletion with a
// simulated kubelet), Events in both APIs over one storage, Leases as leader election uses them
// (compare-and-swap on resourceVersion), and discovery as KubernetesObjectApi needs it.
import {
  CoordinationV1Api,
  CoreV1Api,
  CustomObjectsApi,
  EventsV1Api,
  KubernetesObjectApi,
  type V1Lease,
  type V1Node,
  type V1Pod,
} from '@kubernetes/client-node';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { kubeConfigFor, refusal, waitFor } from './client-node-helpers.ts';
import { KubeApiDouble } from './kube-api-double.ts';
import { testTopicCrd, topic } from './test-topic-crd.ts';

const NS = 'sluice';

let kube: KubeApiDouble;
let core: CoreV1Api;
let coordination: CoordinationV1Api;
let eventsV1: EventsV1Api;

beforeAll(async () => {
  kube = await KubeApiDouble.start({ crds: [testTopicCrd()] });
  const kc = kubeConfigFor(kube);
  core = kc.makeApiClient(CoreV1Api);
  coordination = kc.makeApiClient(CoordinationV1Api);
  eventsV1 = kc.makeApiClient(EventsV1Api);
});

afterAll(async () => {
  await kube.stop();
});

let seq = 0;
beforeEach(() => {
  seq += 1;
});

const pod = (name: string, nodeName?: string, labels?: Record<string, string>): V1Pod => ({
  metadata: { name, labels },
  spec: { nodeName, containers: [{ name: 'broker', image: 'sluice:dev' }] },
});

describe('Nodes and Pods', () => {
  it('keeps node status on create, and isolates status writes on the status subresource', async () => {
    const name = `node-${seq}`;
    const node: V1Node = {
      metadata: { name, labels: { 'topology.kubernetes.io/zone': 'zone-a' } },
      status: { conditions: [{ type: 'Ready', status: 'True' }] },
    };
    const created = await core.createNode({ body: node });
    expect(created.status?.conditions?.[0]).toMatchObject({ type: 'Ready', status: 'True' });
    expect(created.metadata?.namespace).toBeUndefined();

    const notReady = await core.replaceNodeStatus({ name, body: { ...created, status: { conditions: [{ type: 'Ready', status: 'False' }] }, spec: { unschedulable: true } } });
    expect(notReady.status?.conditions?.[0].status).toBe('False');
    expect(notReady.spec?.unschedulable).toBeUndefined();

    const cordoned = await core.replaceNode({ name, body: { ...notReady, spec: { unschedulable: true }, status: { conditions: [] } } });
    expect(cordoned.spec?.unschedulable).toBe(true);
    expect(cordoned.status?.conditions?.[0].status).toBe('False');

    const listed = await core.listNode({ fieldSelector: 'spec.unschedulable=true' });
    expect(listed.items.map((n) => n.metadata?.name)).toContain(name);
    // Typed lists: items without kind/apiVersion, as the real server sends them.
    expect(listed.items[0].kind).toBeUndefined();
  });

  it('resets pod status to Pending on create; the kubelet reports phase through /status', async () => {
    const name = `broker-${seq}`;
    const created = await core.createNamespacedPod({ namespace: NS, body: { ...pod(name, 'node-a'), status: { phase: 'Running' } } });
    expect(created.status?.phase).toBe('Pending');
    expect(created.metadata?.creationTimestamp).toBeInstanceOf(Date);

    const running = await core.replaceNamespacedPodStatus({ name, namespace: NS, body: { ...created, status: { phase: 'Running', podIP: '10.0.0.7' } } });
    expect(running.status?.phase).toBe('Running');
    const relabelled = await core.replaceNamespacedPod({ name, namespace: NS, body: { ...running, metadata: { ...running.metadata, labels: { app: 'sluice' } }, status: { phase: 'Failed' } } });
    expect(relabelled.status?.phase).toBe('Running');

    const onNode = await core.listNamespacedPod({ namespace: NS, fieldSelector: 'spec.nodeName=node-a,status.phase=Running', labelSelector: 'app=sluice' });
    expect(onNode.items.map((p) => p.metadata?.name)).toEqual([name]);
    const all = await core.listPodForAllNamespaces({ fieldSelector: `metadata.name=${name}` });
    expect(all.items).toHaveLength(1);
  });

  it('refuses a pod without containers (422), as the real server does', async () => {
    const status = await refusal(() => core.createNamespacedPod({ namespace: NS, body: { metadata: { name: `bad-${seq}` }, spec: { containers: [] } } }));
    expect(status).toMatchObject({ code: 422, reason: 'Invalid', details: { kind: 'Pod', causes: [{ field: 'spec.containers', reason: 'FieldValueRequired' }] } });
    expect(status.message).toBe(`Pod "bad-${seq}" is invalid: spec.containers: Required value`);
  });

  it('deletes a scheduled pod gracefully: Terminating first (deletionTimestamp), gone once the kubelet is done', async () => {
    const name = `graceful-${seq}`;
    await core.createNamespacedPod({ namespace: NS, body: pod(name, 'node-a') });
    const events: string[] = [];
    const { Watch } = await import('@kubernetes/client-node');
    const w = await new Watch(kubeConfigFor(kube)).watch(
      `/api/v1/namespaces/${NS}/pods`,
      { resourceVersion: kube.resourceVersion, fieldSelector: `metadata.name=${name}` },
      (type, obj: V1Pod) => events.push(`${type} ${obj.metadata?.deletionTimestamp ? 'terminating' : 'live'}`),
      () => {},
    );
    await kube.waitForWatches(1, { resource: 'pods' });
    const deleted = await core.deleteNamespacedPod({ name, namespace: NS });
    expect(deleted.metadata?.deletionTimestamp).toBeInstanceOf(Date);
    expect(deleted.metadata?.deletionGracePeriodSeconds).toBe(30);
    await waitFor('MODIFIED then DELETED', () => events.length >= 2);
    expect(events).toEqual(['MODIFIED terminating', 'DELETED terminating']);
    expect((await refusal(() => core.readNamespacedPod({ name, namespace: NS }))).code).toBe(404);
    w.abort();

    // An unscheduled pod has no kubelet to wait for: it goes at once.
    await core.createNamespacedPod({ namespace: NS, body: pod(`${name}-unscheduled`) });
    const gone = await core.deleteNamespacedPod({ name: `${name}-unscheduled`, namespace: NS });
    expect(gone.metadata?.deletionTimestamp).toBeUndefined();
  });

  it('with a manual kubelet, keeps a deleted pod Terminating until a grace-period-0 delete', async () => {
    const manual = await KubeApiDouble.start({ podTerminationDelayMs: 'manual' });
    try {
      const api = kubeConfigFor(manual).makeApiClient(CoreV1Api);
      await api.createNamespacedPod({ namespace: NS, body: { ...pod('p', 'node-a'), spec: { ...pod('p', 'node-a').spec!, terminationGracePeriodSeconds: 5 } } });
      const terminating = await api.deleteNamespacedPod({ name: 'p', namespace: NS });
      expect(terminating.metadata?.deletionGracePeriodSeconds).toBe(5);
      await new Promise((r) => setTimeout(r, 50));
      expect((await api.readNamespacedPod({ name: 'p', namespace: NS })).metadata?.deletionTimestamp).toBeInstanceOf(Date);
      await api.deleteNamespacedPod({ name: 'p', namespace: NS, gracePeriodSeconds: 0 });
      expect((await refusal(() => api.readNamespacedPod({ name: 'p', namespace: NS }))).code).toBe(404);
    } finally {
      await manual.stop();
    }
  });

  it('never keeps a pod past its grace period: a slow container is killed and the pod removed', async () => {
    const slow = await KubeApiDouble.start({ podTerminationDelayMs: 60_000 });
    try {
      const api = kubeConfigFor(slow).makeApiClient(CoreV1Api);
      await api.createNamespacedPod({ namespace: NS, body: { ...pod('p', 'node-a'), spec: { ...pod('p', 'node-a').spec!, terminationGracePeriodSeconds: 1 } } });
      const deletedAt = Date.now();
      await api.deleteNamespacedPod({ name: 'p', namespace: NS });
      expect((await api.readNamespacedPod({ name: 'p', namespace: NS })).metadata?.deletionTimestamp).toBeInstanceOf(Date);
      await waitFor('the pod removed', () => slow.find('pods', 'p', NS) === undefined, 5_000);
      expect(Date.now() - deletedAt).toBeGreaterThanOrEqual(900);
      expect(Date.now() - deletedAt).toBeLessThan(3_000);
    } finally {
      await slow.stop();
    }
  });
});

describe('Events', () => {
  it('creates and lists core/v1 Events, filtered by involvedObject fields', async () => {
    const topicName = `orders-${seq}`;
    await core.createNamespacedEvent({
      namespace: NS,
      body: {
        metadata: { name: `${topicName}.1`, namespace: NS },
        involvedObject: { apiVersion: 'sluice.dev/v1alpha1', kind: 'Topic', name: topicName, namespace: NS },
        reason: 'LeaderElected',
        message: 'partition 0: leader 1 (epoch 4)',
        type: 'Normal',
        source: { component: 'sluice-operator' },
        firstTimestamp: new Date('2024-05-01T10:00:00.123Z'),
        lastTimestamp: new Date('2024-05-01T10:00:00.123Z'),
        count: 1,
      },
    });
    const listed = await core.listNamespacedEvent({ namespace: NS, fieldSelector: `involvedObject.kind=Topic,involvedObject.name=${topicName},reason=LeaderElected` });
    expect(listed.items).toHaveLength(1);
    expect(listed.items[0].message).toBe('partition 0: leader 1 (epoch 4)');
    // metav1.Time has second precision on the wire.
    expect(kube.get('events', `${topicName}.1`, NS).firstTimestamp).toBe('2024-05-01T10:00:00Z');

    const wrongNs = await refusal(() =>
      core.createNamespacedEvent({ namespace: NS, body: { metadata: { name: `${topicName}.2` }, involvedObject: { kind: 'Topic', name: topicName, namespace: 'elsewhere' } } }),
    );
    expect(wrongNs.details?.causes?.[0]).toMatchObject({ field: 'involvedObject.namespace' });
  });

  it('stores events.k8s.io/v1 Events in the same place: visible to core/v1 with fields renamed', async () => {
    const name = `ev1-${seq}`;
    const created = await eventsV1.createNamespacedEvent({
      namespace: NS,
      body: {
        metadata: { name },
        eventTime: new Date('2024-05-01T10:00:00.123Z'),
        reportingController: 'sluice.dev/operator',
        reportingInstance: 'sluice-operator-0',
        action: 'Elect',
        reason: 'LeaderElected',
        type: 'Normal',
        note: 'partition 3: leader 2',
        regarding: { apiVersion: 'sluice.dev/v1alpha1', kind: 'Topic', name: 'orders', namespace: NS },
      },
    });
    expect(created.note).toBe('partition 3: leader 2');
    const asCore = await core.readNamespacedEvent({ name, namespace: NS });
    expect(asCore.message).toBe('partition 3: leader 2');
    expect(asCore.involvedObject.name).toBe('orders');
    expect(asCore.reportingComponent).toBe('sluice.dev/operator');
    expect(kube.get('events', name, NS).eventTime).toBe('2024-05-01T10:00:00.123000Z');
    const v1List = await eventsV1.listNamespacedEvent({ namespace: NS, fieldSelector: 'regarding.name=orders,reason=LeaderElected' });
    expect(v1List.items.map((e) => e.metadata?.name)).toContain(name);

    const incomplete = await refusal(() => eventsV1.createNamespacedEvent({ namespace: NS, body: { metadata: { name: `${name}-x` }, reason: 'X', type: 'Normal' } as never }));
    expect(incomplete.code).toBe(422);
    expect(incomplete.details?.causes?.map((c) => c.field).sort()).toEqual(['action', 'eventTime', 'reportingController', 'reportingInstance']);
  });
});

describe('Leases (leader election)', () => {
  const lease = (name: string, holder: string): V1Lease => ({
    metadata: { name },
    spec: { holderIdentity: holder, leaseDurationSeconds: 15, acquireTime: new Date(), renewTime: new Date(), leaseTransitions: 0 },
  });

  it('lets exactly one of two candidates take an expired lease (compare-and-swap on resourceVersion)', async () => {
    const name = `sluice-controller-${seq}`;
    await coordination.createNamespacedLease({ namespace: NS, body: lease(name, 'controller-a') });
    const race = await refusal(() => coordination.createNamespacedLease({ namespace: NS, body: lease(name, 'controller-b') }));
    expect(race).toMatchObject({ code: 409, reason: 'AlreadyExists', details: { group: 'coordination.k8s.io', kind: 'leases' } });

    // Both candidates read the same (expired, say) lease and try to take it over.
    const seenByB = await coordination.readNamespacedLease({ name, namespace: NS });
    const seenByC = await coordination.readNamespacedLease({ name, namespace: NS });
    const takeOver = (seen: V1Lease, holder: string) =>
      coordination.replaceNamespacedLease({
        name,
        namespace: NS,
        body: { ...seen, spec: { ...seen.spec, holderIdentity: holder, acquireTime: new Date(), renewTime: new Date(), leaseTransitions: (seen.spec?.leaseTransitions ?? 0) + 1 } },
      });
    const won = await takeOver(seenByB, 'controller-b');
    expect(won.spec?.holderIdentity).toBe('controller-b');
    const lost = await refusal(() => takeOver(seenByC, 'controller-c'));
    expect(lost).toMatchObject({ code: 409, reason: 'Conflict' });
    expect((await coordination.readNamespacedLease({ name, namespace: NS })).spec?.leaseTransitions).toBe(1);

    // MicroTime on the wire: six fractional digits, UTC.
    const stored = kube.get('leases.coordination.k8s.io', name, NS).spec as { renewTime: string };
    expect(stored.renewTime).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}Z$/);
    // client-node 2.x types MicroTime fields as Date but hands back the wire string unchanged
    // (V1MicroTime is not in its deserializer's type map); operator code must not assume a Date.
    expect(won.spec?.renewTime as unknown).toBe(stored.renewTime);
  });

  it('refuses a lease duration that is not positive', async () => {
    const status = await refusal(() => coordination.createNamespacedLease({ namespace: NS, body: { metadata: { name: `bad-${seq}` }, spec: { leaseDurationSeconds: 0 } } }));
    expect(status.details?.causes?.[0]).toMatchObject({ field: 'spec.leaseDurationSeconds', reason: 'FieldValueInvalid' });
  });
});

describe('discovery', () => {
  it('serves API discovery so the generic KubernetesObjectApi can resolve Topic and Lease', async () => {
    const kc = kubeConfigFor(kube);
    const objects = KubernetesObjectApi.makeApiClient(kc);
    const name = `generic-${seq}`;
    await kc.makeApiClient(CustomObjectsApi).createNamespacedCustomObject({ group: 'sluice.dev', version: 'v1alpha1', plural: 'topics', namespace: NS, body: topic(name, { partitions: 2 }) });
    const read = await objects.read({ apiVersion: 'sluice.dev/v1alpha1', kind: 'Topic', metadata: { name, namespace: NS } });
    expect((read as unknown as { spec: { partitions: number } }).spec.partitions).toBe(2);
    const leases = await objects.list('coordination.k8s.io/v1', 'Lease', NS);
    expect(Array.isArray(leases.items)).toBe(true);
    const resources = await core.getAPIResources();
    expect(resources.resources.map((r) => r.name)).toEqual(expect.arrayContaining(['pods', 'pods/status', 'nodes', 'events']));
  });
});
