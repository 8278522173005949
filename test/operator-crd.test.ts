// The generated Topic CRD (deploy/crds/topics.sluice.dev.yaml) installed in the Kubernetes API
// double and exercised with the real @kubernetes/client-node: what the API server refuses before
// the operator ever sees it (DESIGN §7), and the status subresource the operator persists into.
import { CustomObjectsApi, PatchStrategy, setHeaderOptions } from '@kubernetes/client-node';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { CRD_FILE } from '../operator/kubernetes/topic-crd.ts';
import { kubeConfigFor, refusal } from './support/kube-api/client-node-helpers.ts';
import { KubeApiDouble, readCrdFile } from './support/kube-api/kube-api-double.ts';

const NS = 'sluice';
const T = { group: 'sluice.dev', version: 'v1alpha1', plural: 'topics' } as const;
type Topic = { metadata: { name: string; resourceVersion: string; generation: number }; spec: Record<string, unknown>; status?: Record<string, unknown> };

let kube: KubeApiDouble;
let api: CustomObjectsApi;
const mergePatch = setHeaderOptions('Content-Type', PatchStrategy.MergePatch);

beforeAll(async () => {
  kube = await KubeApiDouble.start({ crds: [readCrdFile(CRD_FILE)] });
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

const topic = (spec: Record<string, unknown>, n = name) => ({ apiVersion: 'sluice.dev/v1alpha1', kind: 'Topic', metadata: { name: n }, spec });
const create = async (spec: Record<string, unknown>, fieldValidation?: string): Promise<Topic> =>
  (await api.createNamespacedCustomObject({ ...T, namespace: NS, body: topic(spec), ...(fieldValidation ? { fieldValidation } : {}) })) as Topic;
const patchSpec = async (spec: Record<string, unknown>): Promise<Topic> =>
  (await api.patchNamespacedCustomObject({ ...T, namespace: NS, name, body: { spec } }, mergePatch)) as Topic;

describe('accepted Topics', () => {
  it('stores the example of DESIGN §7 as written, with no defaults added to config', async () => {
    const spec = {
      partitions: 12,
      replicationFactor: 3,
      topicName: 'orders',
      config: {
        'retention.ms': 604800000,
        'retention.bytes': -1,
        'cleanup.policy': 'delete',
        'min.insync.replicas': 2,
        'segment.bytes': 1073741824,
        'max.message.bytes': 1048576,
        'unclean.leader.election.enable': false,
      },
    };
    const created = await create(spec);
    expect(created.spec).toEqual(spec);
    expect(created.metadata.generation).toBe(1);
    expect((await create({ partitions: 1 }).catch(() => undefined))).toBeUndefined(); // same name: 409
  });

  it('lets partitions grow, and keeps a same-value topicName', async () => {
    await create({ partitions: 3, topicName: 'Orders_v1' });
    const grown = await patchSpec({ partitions: 8, topicName: 'Orders_v1' });
    expect(grown.spec.partitions).toBe(8);
    expect(grown.metadata.generation).toBe(2);
  });
});

describe('refusals by the API server', () => {
  it('refuses a partition decrease with a message that says why and what to set', async () => {
    await create({ partitions: 6 });
    const status = await refusal(() => patchSpec({ partitions: 4 }));
    expect(status).toMatchObject({ code: 422, reason: 'Invalid' });
    expect(status.details?.causes).toEqual([
      expect.objectContaining({ field: 'spec.partitions', message: expect.stringContaining('partitions may grow but never shrink') }),
    ]);
    expect(status.message).toContain('set partitions to at least the current value');
  });

  it('refuses changing, adding or removing topicName after creation', async () => {
    await create({ partitions: 1, topicName: 'orders.v1' });
    const changed = await refusal(() => patchSpec({ topicName: 'orders.v2' }));
    expect(changed.details?.causes).toEqual([expect.objectContaining({ reason: 'FieldValueForbidden', field: 'spec.topicName', message: expect.stringContaining('topicName is immutable') })]);
    const removed = await refusal(() => patchSpec({ topicName: null }));
    expect(removed.details?.causes?.[0]).toMatchObject({ reason: 'FieldValueForbidden', field: 'spec.topicName' });

    name = `${name}-late`;
    await create({ partitions: 1 });
    const added = await refusal(() => patchSpec({ topicName: 'late' }));
    expect(added.details?.causes?.[0]).toMatchObject({ reason: 'FieldValueForbidden', field: 'spec.topicName' });
  });

  it('refuses an unknown config key under strict field validation (kubectl\'s default), and prunes it otherwise', async () => {
    const strict = await refusal(() => create({ partitions: 1, config: { 'retention.mss': 5 } }, 'Strict'));
    expect(strict).toMatchObject({ code: 400, reason: 'BadRequest', message: 'strict decoding error: unknown field "spec.config.retention.mss"' });

    const res = await api.createNamespacedCustomObjectWithHttpInfo({ ...T, namespace: NS, body: topic({ partitions: 1, config: { 'retention.mss': 5, 'retention.ms': 5 } }) });
    expect((res.data as Topic).spec.config).toEqual({ 'retention.ms': 5 });
    expect(res.headers.warning).toContain('unknown field \\"spec.config.retention.mss\\"');
  });

  it('refuses out-of-range and mistyped values, one cause per problem', async () => {
    const status = await refusal(() =>
      create({
        partitions: 0,
        replicationFactor: 33,
        topicName: '..',
        config: { 'retention.ms': -2, 'min.insync.replicas': 0, 'cleanup.policy': 'shred', 'segment.bytes': 13, 'unclean.leader.election.enable': 'yes' },
      }),
    );
    expect(status.code).toBe(422);
    const fields = (status.details?.causes ?? []).map((c) => c.field).sort();
    expect(fields).toEqual([
      'spec.config.cleanup.policy',
      'spec.config.min.insync.replicas',
      'spec.config.retention.ms',
      'spec.config.segment.bytes',
      'spec.config.unclean.leader.election.enable',
      'spec.partitions',
      'spec.replicationFactor',
    ]);
    // ".." matches the character pattern; the CEL rule refuses it once the rest is valid.
    const dots = await refusal(() => create({ partitions: 1, topicName: '..' }));
    expect(dots.details?.causes).toEqual([expect.objectContaining({ field: 'spec.topicName', message: expect.stringContaining('must not be "." or ".."') })]);
    const missing = await refusal(() => create({ replicationFactor: 1 }));
    expect(missing.details?.causes).toEqual([{ reason: 'FieldValueRequired', field: 'spec.partitions', message: 'Required value' }]);
  });

  it('refuses min.insync.replicas above replicationFactor, on create and on update', async () => {
    const status = await refusal(() => create({ partitions: 1, replicationFactor: 2, config: { 'min.insync.replicas': 3 } }));
    expect(status.details?.causes).toEqual([
      expect.objectContaining({ field: 'spec.config', message: expect.stringMatching(/^Invalid value: "object": min\.insync\.replicas \(3\) must not exceed replicationFactor \(2\)/) }),
    ]);
    await create({ partitions: 1, replicationFactor: 3, config: { 'min.insync.replicas': 2 } });
    const lowered = await refusal(() => patchSpec({ replicationFactor: 1 }));
    expect(lowered.details?.causes?.[0]).toMatchObject({ field: 'spec.config' });
  });

  it('refuses a metadata.name that is too long for a topic name unless spec.topicName is set', async () => {
    const long = `t${'x'.repeat(249)}`;
    const status = await refusal(() => api.createNamespacedCustomObject({ ...T, namespace: NS, body: topic({ partitions: 1 }, long) }));
    expect(status.message).toContain('set spec.topicName to a shorter name');
    await api.createNamespacedCustomObject({ ...T, namespace: NS, body: topic({ partitions: 1, topicName: 'short' }, long) });
  });
});

describe('status subresource', () => {
  it('keeps status out of spec writes and spec out of status writes, and validates the status the operator writes', async () => {
    const created = await create({ partitions: 1 });
    const status = {
      observedGeneration: 1,
      topicId: '6f1c0000-0000-0000-0000-000000000000',
      topicName: name,
      replicationFactor: 3,
      metadataVersion: 9,
      config: { 'min.insync.replicas': 2 },
      conditions: [{ type: 'Ready', status: 'True', reason: 'Reconciled', message: 'ok', lastTransitionTime: '2025-01-01T00:00:00Z', observedGeneration: 1 }],
      partitions: [{ partition: 0, replicas: [0, 1, 2], leader: 0, leaderEpoch: 4, isr: [0, 1, 2], partitionEpoch: 9, addingReplicas: [], removingReplicas: [], lastUncleanLeaderEpoch: -1 }],
      underReplicatedPartitions: 0,
      offlinePartitions: 0,
    };
    const written = (await api.replaceNamespacedCustomObjectStatus({ ...T, namespace: NS, name, body: { ...created, status } })) as Topic;
    expect(written.status).toEqual(status);
    expect(written.metadata.generation).toBe(1);

    const viaSpec = (await api.replaceNamespacedCustomObject({ ...T, namespace: NS, name, body: { ...written, spec: { partitions: 2 }, status: { offlinePartitions: 7 } } })) as Topic;
    expect(viaSpec.status).toEqual(status);
    expect(viaSpec.metadata.generation).toBe(2);

    const reason = await refusal(() =>
      api.replaceNamespacedCustomObjectStatus({ ...T, namespace: NS, name, body: { ...viaSpec, status: { ...status, conditions: [{ ...status.conditions[0], reason: 'not one word' }] } } }),
    );
    expect(reason.details?.causes?.[0]).toMatchObject({ field: 'status.conditions[0].reason' });
    const leader = await refusal(() =>
      api.replaceNamespacedCustomObjectStatus({ ...T, namespace: NS, name, body: { ...viaSpec, status: { ...status, partitions: [{ ...status.partitions[0], leader: -2 }] } } }),
    );
    expect(leader.details?.causes?.[0]).toMatchObject({ field: 'status.partitions[0].leader' });
  });
});

describe('discovery', () => {
  it('serves the short name', async () => {
    const res = await fetch(`${kube.url}/apis/sluice.dev/v1alpha1`);
    const doc = (await res.json()) as { resources: { name: string; shortNames?: string[] }[] };
    expect(doc.resources.find((r) => r.name === 'topics')?.shortNames).toEqual(['sltopic']);
  });
});
