// Topics through the real client-node CustomObjectsApi: the REST semantics an operator relies
// on — server-owned metadata, optimistic concurrency (409), status subresource isolation,
// generation rules, finalizers and deletionTimestamp, selectors, pagination.
import { CustomObjectsApi, PatchStrategy, setHeaderOptions } from '@kubernetes/client-node';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { kubeConfigFor, refusal } from './client-node-helpers.ts';
import { KubeApiDouble } from './kube-api-double.ts';
import type { CustomResourceDefinition } from './resource-types.ts';
import { testTopicCrd, topic } from './test-topic-crd.ts';

// A cluster-scoped CRD without a status subresource: there, status is ordinary content.
const widgetCrd: CustomResourceDefinition = {
  metadata: { name: 'widgets.example.dev' },
  spec: {
    group: 'example.dev',
    scope: 'Cluster',
    names: { plural: 'widgets', kind: 'Widget' },
    versions: [
      {
        name: 'v1',
        served: true,
        storage: true,
        schema: { openAPIV3Schema: { type: 'object', properties: { spec: { type: 'object', 'x-kubernetes-preserve-unknown-fields': true }, status: { type: 'object', 'x-kubernetes-preserve-unknown-fields': true } } } },
      },
    ],
  },
};

const NS = 'sluice';
const T = { group: 'sluice.dev', version: 'v1alpha1', plural: 'topics' } as const;

type Topic = {
  apiVersion: string;
  kind: string;
  metadata: {
    name: string;
    namespace?: string;
    uid?: string;
    resourceVersion: string;
    generation?: number;
    creationTimestamp?: string;
    deletionTimestamp?: string;
    deletionGracePeriodSeconds?: number;
    finalizers?: string[];
    labels?: Record<string, string>;
  };
  spec: Record<string, unknown>;
  status?: Record<string, unknown>;
};

let kube: KubeApiDouble;
let api: CustomObjectsApi;

beforeAll(async () => {
  kube = await KubeApiDouble.start({ crds: [testTopicCrd(), widgetCrd] });
  api = kubeConfigFor(kube).makeApiClient(CustomObjectsApi);
});

afterAll(async () => {
  await kube.stop();
});

let seq = 0;
let name: string;
beforeEach(() => {
  seq += 1;
  name = `orders-${seq}`;
});

const create = async (body: Record<string, unknown>, namespace = NS): Promise<Topic> =>
  (await api.createNamespacedCustomObject({ ...T, namespace, body })) as Topic;
const read = async (n = name): Promise<Topic> => (await api.getNamespacedCustomObject({ ...T, namespace: NS, name: n })) as Topic;
const mergePatch = setHeaderOptions('Content-Type', PatchStrategy.MergePatch);

describe('create, get, list', () => {
  it('sets server-owned metadata, drops status on create, and applies schema defaults', async () => {
    const created = await create(topic(name, { partitions: 3 }, { status: { topicId: 'forged' } }));
    expect(created.metadata.uid).toMatch(/^[0-9a-f-]{36}$/);
    expect(created.metadata.creationTimestamp).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$/);
    expect(created.metadata.generation).toBe(1);
    expect(created.metadata.namespace).toBe(NS);
    expect(Number(created.metadata.resourceVersion)).toBeGreaterThan(0);
    // The status subresource exists, so a create cannot set status.
    expect(created.status).toBeUndefined();
    expect(created.spec).toEqual({ partitions: 3 });

    const withConfig = await create(topic(`${name}-cfg`, { partitions: 1, config: { 'retention.ms': -1 } }));
    expect(withConfig.spec.config).toEqual({ 'retention.ms': -1, 'cleanup.policy': 'delete' });

    const got = await read();
    expect(got).toEqual(created);
  });

  it('refuses a second object of the same name with 409 AlreadyExists', async () => {
    await create(topic(name, { partitions: 1 }));
    const status = await refusal(() => create(topic(name, { partitions: 2 })));
    expect(status).toMatchObject({ kind: 'Status', status: 'Failure', code: 409, reason: 'AlreadyExists', details: { name, group: 'sluice.dev', kind: 'topics' } });
    expect(status.message).toBe(`topics.sluice.dev "${name}" already exists`);
  });

  it('answers 404 NotFound with a Status for a missing object', async () => {
    const status = await refusal(() => read('nope'));
    expect(status).toMatchObject({ code: 404, reason: 'NotFound', message: 'topics.sluice.dev "nope" not found' });
  });

  it('lists with the collection resourceVersion, per namespace and across namespaces', async () => {
    const a = await create(topic(name, { partitions: 1 }));
    await create(topic(name, { partitions: 1 }), 'other');
    const list = (await api.listNamespacedCustomObject({ ...T, namespace: NS })) as { kind: string; metadata: { resourceVersion: string }; items: Topic[] };
    expect(list.kind).toBe('TopicList');
    expect(Number(list.metadata.resourceVersion)).toBeGreaterThanOrEqual(Number(a.metadata.resourceVersion));
    expect(list.items.every((t) => t.metadata.namespace === NS)).toBe(true);
    // Custom resource list items keep apiVersion/kind.
    expect(list.items[0]).toMatchObject({ apiVersion: 'sluice.dev/v1alpha1', kind: 'Topic' });

    const all = (await api.listCustomObjectForAllNamespaces({ group: T.group, version: T.version, resourcePlural: T.plural })) as { items: Topic[] };
    const here = all.items.filter((t) => t.metadata.name === name).map((t) => t.metadata.namespace);
    expect(here.sort()).toEqual(['other', NS]);
  });

  it('filters lists by label selector and by the indexed fields, refusing others with 400', async () => {
    await create(topic(name, { partitions: 1, topicName: `${name}.events` }, { metadata: { labels: { team: 'payments', tier: 'gold' } } }));
    await create(topic(`${name}-b`, { partitions: 1 }, { metadata: { labels: { team: 'search' } } }));
    const names = async (q: { labelSelector?: string; fieldSelector?: string }) =>
      ((await api.listNamespacedCustomObject({ ...T, namespace: NS, ...q })) as { items: Topic[] }).items.map((t) => t.metadata.name).filter((n) => n.startsWith(name));
    expect(await names({ labelSelector: 'team=payments' })).toEqual([name]);
    expect(await names({ labelSelector: 'team in (payments,search),tier!=gold' })).toEqual([`${name}-b`]);
    expect(await names({ labelSelector: '!tier,team' })).toEqual([`${name}-b`]);
    expect(await names({ fieldSelector: `metadata.name=${name}-b` })).toEqual([`${name}-b`]);
    // spec.topicName is one of the CRD's selectableFields.
    expect(await names({ fieldSelector: `spec.topicName=${name}.events` })).toEqual([name]);
    const status = await refusal(() => api.listNamespacedCustomObject({ ...T, namespace: NS, fieldSelector: 'spec.partitions=1' }));
    expect(status).toMatchObject({ code: 400, reason: 'BadRequest' });
    expect(status.message).toContain('field label not supported: spec.partitions');
  });

  it('pages with limit/continue over one consistent snapshot, and expires the token after compaction', async () => {
    const ns = `paging-${seq}`;
    for (let i = 0; i < 5; i++) await create(topic(`t-${i}`, { partitions: 1 }), ns);
    type Page = { metadata: { resourceVersion: string; continue?: string; remainingItemCount?: number }; items: Topic[] };
    const first = (await api.listNamespacedCustomObject({ ...T, namespace: ns, limit: 2 })) as Page;
    expect(first.items.map((t) => t.metadata.name)).toEqual(['t-0', 't-1']);
    expect(first.metadata.remainingItemCount).toBe(3);
    // A change after the first page is not visible on later pages: same snapshot.
    await api.deleteNamespacedCustomObject({ ...T, namespace: ns, name: 't-3' });
    const second = (await api.listNamespacedCustomObject({ ...T, namespace: ns, limit: 2, _continue: first.metadata.continue })) as Page;
    expect(second.items.map((t) => t.metadata.name)).toEqual(['t-2', 't-3']);
    expect(second.metadata.resourceVersion).toBe(first.metadata.resourceVersion);
    kube.compactHistory();
    const status = await refusal(() => api.listNamespacedCustomObject({ ...T, namespace: ns, limit: 2, _continue: second.metadata.continue }));
    expect(status).toMatchObject({ code: 410, reason: 'Expired' });
  });
});

describe('optimistic concurrency', () => {
  it('refuses a replace based on a stale resourceVersion with 409 Conflict, accepts a fresh one', async () => {
    const v1 = await create(topic(name, { partitions: 1 }));
    const v2 = (await api.replaceNamespacedCustomObject({ ...T, namespace: NS, name, body: { ...v1, spec: { partitions: 2 } } })) as Topic;
    expect(Number(v2.metadata.resourceVersion)).toBeGreaterThan(Number(v1.metadata.resourceVersion));

    const status = await refusal(() => api.replaceNamespacedCustomObject({ ...T, namespace: NS, name, body: { ...v1, spec: { partitions: 3 } } }));
    expect(status).toMatchObject({ kind: 'Status', status: 'Failure', code: 409, reason: 'Conflict', details: { name, group: 'sluice.dev', kind: 'topics' } });
    expect(status.message).toBe(
      `Operation cannot be fulfilled on topics.sluice.dev "${name}": the object has been modified; please apply your changes to the latest version and try again`,
    );
    expect((await read()).spec.partitions).toBe(2);
  });

  it('requires metadata.resourceVersion on a custom resource replace (422)', async () => {
    const v1 = await create(topic(name, { partitions: 1 }));
    const { resourceVersion: _rv, ...meta } = v1.metadata;
    const status = await refusal(() => api.replaceNamespacedCustomObject({ ...T, namespace: NS, name, body: { ...v1, metadata: meta } }));
    expect(status).toMatchObject({ code: 422, reason: 'Invalid' });
    expect(status.details?.causes?.[0]).toMatchObject({ field: 'metadata.resourceVersion' });
  });

  it('treats a patch as unconditional unless it carries a resourceVersion or a JSON-patch test', async () => {
    const v1 = await create(topic(name, { partitions: 1 }));
    const merged = (await api.patchNamespacedCustomObject({ ...T, namespace: NS, name, body: { spec: { replicationFactor: 3 } } }, mergePatch)) as Topic;
    expect(merged.spec).toEqual({ partitions: 1, replicationFactor: 3 });

    const stale = await refusal(() => api.patchNamespacedCustomObject({ ...T, namespace: NS, name, body: { metadata: { resourceVersion: v1.metadata.resourceVersion }, spec: { partitions: 5 } } }, mergePatch));
    expect(stale).toMatchObject({ code: 409, reason: 'Conflict' });

    // client-node's default patch type is JSON patch; a `test` op makes it a compare-and-set.
    const failedTest = await refusal(() =>
      api.patchNamespacedCustomObject({
        ...T,
        namespace: NS,
        name,
        body: [
          { op: 'test', path: '/metadata/resourceVersion', value: v1.metadata.resourceVersion },
          { op: 'replace', path: '/spec/partitions', value: 5 },
        ],
      }),
    );
    expect(failedTest).toMatchObject({ code: 422 });
    const cas = (await api.patchNamespacedCustomObject({
      ...T,
      namespace: NS,
      name,
      body: [
        { op: 'test', path: '/metadata/resourceVersion', value: merged.metadata.resourceVersion },
        { op: 'replace', path: '/spec/partitions', value: 5 },
      ],
    })) as Topic;
    expect(cas.spec.partitions).toBe(5);
  });

  it('does not create a new revision for a write that changes nothing', async () => {
    const v1 = await create(topic(name, { partitions: 1 }));
    const same = (await api.replaceNamespacedCustomObject({ ...T, namespace: NS, name, body: v1 })) as Topic;
    expect(same.metadata.resourceVersion).toBe(v1.metadata.resourceVersion);
    expect(kube.resourceVersion).toBe(v1.metadata.resourceVersion);
  });

  it('refuses strategic merge patch on a custom resource (415), as the real server does', async () => {
    await create(topic(name, { partitions: 1 }));
    const status = await refusal(() =>
      api.patchNamespacedCustomObject({ ...T, namespace: NS, name, body: { spec: { partitions: 2 } } }, setHeaderOptions('Content-Type', PatchStrategy.StrategicMergePatch)),
    );
    expect(status).toMatchObject({ code: 415, reason: 'UnsupportedMediaType' });
  });
});

describe('status subresource and generation', () => {
  it('changes only status through /status, without bumping generation', async () => {
    const v1 = await create(topic(name, { partitions: 1 }));
    const v2 = (await api.replaceNamespacedCustomObjectStatus({
      ...T,
      namespace: NS,
      name,
      body: { ...v1, spec: { partitions: 99 }, metadata: { ...v1.metadata, labels: { sneaky: 'yes' } }, status: { observedGeneration: 1, topicId: 'abc' } },
    })) as Topic;
    expect(v2.status).toEqual({ observedGeneration: 1, topicId: 'abc' });
    expect(v2.spec).toEqual({ partitions: 1 });
    expect(v2.metadata.labels).toBeUndefined();
    expect(v2.metadata.generation).toBe(1);
    expect(Number(v2.metadata.resourceVersion)).toBeGreaterThan(Number(v1.metadata.resourceVersion));

    // A status write is still optimistic-concurrency checked.
    const stale = await refusal(() => api.replaceNamespacedCustomObjectStatus({ ...T, namespace: NS, name, body: { ...v1, status: { topicId: 'x' } } }));
    expect(stale).toMatchObject({ code: 409, reason: 'Conflict' });

    const patched = (await api.patchNamespacedCustomObjectStatus({ ...T, namespace: NS, name, body: { status: { topicId: 'def' }, spec: { partitions: 50 } } }, mergePatch)) as Topic;
    expect(patched.status).toEqual({ observedGeneration: 1, topicId: 'def' });
    expect(patched.spec.partitions).toBe(1);
  });

  it('ignores status in main-resource writes; bumps generation on spec changes only', async () => {
    const v1 = await create(topic(name, { partitions: 1 }));
    const s = (await api.replaceNamespacedCustomObjectStatus({ ...T, namespace: NS, name, body: { ...v1, status: { topicId: 'kept' } } })) as Topic;

    const labelled = (await api.replaceNamespacedCustomObject({
      ...T,
      namespace: NS,
      name,
      body: { ...s, metadata: { ...s.metadata, labels: { a: 'b' } }, status: { topicId: 'overwritten?' } },
    })) as Topic;
    expect(labelled.status).toEqual({ topicId: 'kept' });
    expect(labelled.metadata.labels).toEqual({ a: 'b' });
    expect(labelled.metadata.generation).toBe(1);

    const grown = (await api.replaceNamespacedCustomObject({ ...T, namespace: NS, name, body: { ...labelled, spec: { partitions: 4 } } })) as Topic;
    expect(grown.metadata.generation).toBe(2);
    // Server-owned fields in the body are ignored.
    const forged = (await api.replaceNamespacedCustomObject({
      ...T,
      namespace: NS,
      name,
      body: { ...grown, metadata: { ...grown.metadata, generation: 42, creationTimestamp: '2001-01-01T00:00:00Z' }, spec: { partitions: 5 } },
    })) as Topic;
    expect(forged.metadata.generation).toBe(3);
    expect(forged.metadata.creationTimestamp).toBe(v1.metadata.creationTimestamp);
  });
});

describe('a CRD without status subresource', () => {
  it('keeps status on create and bumps generation for status changes too (cluster-scoped)', async () => {
    const W = { group: 'example.dev', version: 'v1', plural: 'widgets' };
    const created = (await api.createClusterCustomObject({ ...W, body: { apiVersion: 'example.dev/v1', kind: 'Widget', metadata: { name }, spec: { a: 1 }, status: { b: 2 } } })) as Topic;
    expect(created.status).toEqual({ b: 2 });
    expect(created.metadata.namespace).toBeUndefined();
    const changed = (await api.replaceClusterCustomObject({ ...W, name, body: { ...created, status: { b: 3 } } })) as Topic;
    expect(changed.metadata.generation).toBe(2);
    expect(changed.status).toEqual({ b: 3 });
    const status = await refusal(() => api.replaceClusterCustomObjectStatus({ ...W, name, body: changed }));
    expect(status.code).toBe(404);
  });
});

describe('deletion and finalizers', () => {
  it('deletes an object without finalizers at once', async () => {
    await create(topic(name, { partitions: 1 }));
    const deleted = (await api.deleteNamespacedCustomObject({ ...T, namespace: NS, name })) as Topic;
    expect(deleted.metadata.name).toBe(name);
    expect((await refusal(() => read())).code).toBe(404);
    expect((await refusal(() => api.deleteNamespacedCustomObject({ ...T, namespace: NS, name }))).reason).toBe('NotFound');
  });

  it('keeps an object with finalizers, marked with deletionTimestamp, until the last finalizer is removed', async () => {
    const v1 = await create(topic(name, { partitions: 1 }, { metadata: { finalizers: ['sluice.dev/topic-data'] } }));
    const marked = (await api.deleteNamespacedCustomObject({ ...T, namespace: NS, name })) as Topic;
    expect(marked.metadata.deletionTimestamp).toMatch(/Z$/);
    expect(marked.metadata.deletionGracePeriodSeconds).toBe(0);
    // Entering deletion is a new generation (controllers must notice the change of behaviour).
    expect(marked.metadata.generation).toBe(2);
    expect((await read()).metadata.finalizers).toEqual(['sluice.dev/topic-data']);

    // A second DELETE changes nothing.
    const again = (await api.deleteNamespacedCustomObject({ ...T, namespace: NS, name })) as Topic;
    expect(again.metadata.resourceVersion).toBe(marked.metadata.resourceVersion);

    // The deletion mark cannot be undone by an update, and no finalizer may be added.
    const current = await read();
    const undone = (await api.replaceNamespacedCustomObject({ ...T, namespace: NS, name, body: { ...current, metadata: { ...current.metadata, deletionTimestamp: undefined } } })) as Topic;
    expect(undone.metadata.deletionTimestamp).toBe(marked.metadata.deletionTimestamp);
    const added = await refusal(() =>
      api.replaceNamespacedCustomObject({ ...T, namespace: NS, name, body: { ...undone, metadata: { ...undone.metadata, finalizers: ['sluice.dev/topic-data', 'other/x'] } } }),
    );
    expect(added).toMatchObject({ code: 422, reason: 'Invalid' });
    expect(added.details?.causes?.[0]).toMatchObject({ reason: 'FieldValueForbidden', field: 'metadata.finalizers' });

    // Status writes still work while the object is being deleted (the operator reports progress).
    await api.patchNamespacedCustomObjectStatus({ ...T, namespace: NS, name, body: { status: { topicId: 'deleting' } } }, mergePatch);

    await api.patchNamespacedCustomObject({ ...T, namespace: NS, name, body: { metadata: { finalizers: null } } }, mergePatch);
    expect((await refusal(() => read())).code).toBe(404);
    expect(v1.metadata.finalizers).toEqual(['sluice.dev/topic-data']);
  });

  it('checks delete preconditions (uid, resourceVersion) with 409', async () => {
    const v1 = await create(topic(name, { partitions: 1 }));
    const status = await refusal(() => api.deleteNamespacedCustomObject({ ...T, namespace: NS, name, body: { preconditions: { uid: 'someone-else' } } }));
    expect(status).toMatchObject({ code: 409, reason: 'Conflict' });
    expect(status.message).toContain('Precondition failed: UID in precondition: someone-else');
    await api.deleteNamespacedCustomObject({ ...T, namespace: NS, name, body: { preconditions: { uid: v1.metadata.uid, resourceVersion: v1.metadata.resourceVersion } } });
    expect((await refusal(() => read())).code).toBe(404);
  });

  it('answers dryRun=All without persisting', async () => {
    const dry = (await api.createNamespacedCustomObject({ ...T, namespace: NS, body: topic(name, { partitions: 1 }), dryRun: 'All' })) as Topic;
    expect(dry.metadata.name).toBe(name);
    expect((await refusal(() => read())).code).toBe(404);
  });
});
