// The CRD's openAPIV3Schema and x-kubernetes-validations applied to Topics written through the
// real client-node: refusals are 422 Invalid with one cause per problem, like the real server,
// unknown fields are pruned (or refused under fieldValidation=Strict), and CEL transition rules
// guard partition decreases and topicName changes. Also: CRDs a real server would not install
// make start() fail.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { CustomObjectsApi, PatchStrategy, setHeaderOptions } from '@kubernetes/client-node';
import { stringify } from 'yaml';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { kubeConfigFor, refusal } from './client-node-helpers.ts';
import { KubeApiDouble, readCrdFile } from './kube-api-double.ts';
import { testTopicCrd, topic } from './test-topic-crd.ts';

const NS = 'sluice';
const T = { group: 'sluice.dev', version: 'v1alpha1', plural: 'topics' } as const;
type Topic = { metadata: { name: string; resourceVersion: string }; spec: Record<string, unknown>; status?: Record<string, unknown> };

let kube: KubeApiDouble;
let api: CustomObjectsApi;
const mergePatch = setHeaderOptions('Content-Type', PatchStrategy.MergePatch);

beforeAll(async () => {
  kube = await KubeApiDouble.start({ crds: [testTopicCrd()] });
  api = kubeConfigFor(kube).makeApiClient(CustomObjectsApi);
});

afterAll(async () => {
  await kube.stop();
});

let seq = 0;
let name: string;
beforeEach(() => {
  seq += 1;
  name = `t-${seq}`;
});

const create = async (body: Record<string, unknown>): Promise<Topic> => (await api.createNamespacedCustomObject({ ...T, namespace: NS, body })) as Topic;
const patchSpec = async (spec: Record<string, unknown>): Promise<Topic> =>
  (await api.patchNamespacedCustomObject({ ...T, namespace: NS, name, body: { spec } }, mergePatch)) as Topic;

describe('openAPIV3Schema', () => {
  it('refuses an out-of-range value with 422 Invalid naming the field, as the real server words it', async () => {
    const status = await refusal(() => create(topic(name, { partitions: 0 })));
    expect(status).toMatchObject({ kind: 'Status', status: 'Failure', code: 422, reason: 'Invalid', details: { name, group: 'sluice.dev', kind: 'Topic' } });
    expect(status.details?.causes).toEqual([
      { reason: 'FieldValueInvalid', field: 'spec.partitions', message: 'Invalid value: 0: spec.partitions in body should be greater than or equal to 1' },
    ]);
    expect(status.message).toBe(`Topic.sluice.dev "${name}" is invalid: spec.partitions: Invalid value: 0: spec.partitions in body should be greater than or equal to 1`);
  });

  it('lists every problem as a cause: type, enum, required, pattern', async () => {
    const status = await refusal(() =>
      create(topic(name, { replicationFactor: 'three', topicName: 'no spaces', config: { 'cleanup.policy': 'shred', 'retention.ms': -2 } })),
    );
    expect(status.code).toBe(422);
    const causes = status.details?.causes ?? [];
    expect(causes).toEqual(
      expect.arrayContaining([
        { reason: 'FieldValueRequired', field: 'spec.partitions', message: 'Required value' },
        { reason: 'FieldValueTypeInvalid', field: 'spec.replicationFactor', message: 'Invalid value: "three": spec.replicationFactor in body must be of type integer: "string"' },
        { reason: 'FieldValueNotSupported', field: 'spec.config.cleanup.policy', message: 'Unsupported value: "shred": supported values: "delete", "compact", "compact,delete"' },
        { reason: 'FieldValueInvalid', field: 'spec.config.retention.ms', message: 'Invalid value: -2: spec.config.retention.ms in body should be greater than or equal to -1' },
        { reason: 'FieldValueInvalid', field: 'spec.topicName', message: `Invalid value: "no spaces": spec.topicName in body should match '^[a-zA-Z0-9._-]+$'` },
      ]),
    );
    expect(causes).toHaveLength(5);
    expect(status.message).toMatch(/^Topic\.sluice\.dev "t-\d+" is invalid: \[.*\]$/);
  });

  it('validates status writes against the status schema, including list-map key uniqueness', async () => {
    const t = await create(topic(name, { partitions: 1 }));
    const cond = { type: 'Ready', status: 'True', reason: 'Reconciled', lastTransitionTime: '2024-05-01T10:00:00Z' };
    const dup = await refusal(() => api.replaceNamespacedCustomObjectStatus({ ...T, namespace: NS, name, body: { ...t, status: { conditions: [cond, { ...cond, status: 'False' }] } } }));
    expect(dup.details?.causes).toEqual([{ reason: 'FieldValueDuplicate', field: 'status.conditions[1]', message: 'Duplicate value: {"type":"Ready"}' }]);
    const badEnum = await refusal(() => api.replaceNamespacedCustomObjectStatus({ ...T, namespace: NS, name, body: { ...t, status: { conditions: [{ ...cond, status: 'Yes' }] } } }));
    expect(badEnum.details?.causes?.[0]).toMatchObject({ reason: 'FieldValueNotSupported', field: 'status.conditions[0].status' });
    const badTime = await refusal(() => api.replaceNamespacedCustomObjectStatus({ ...T, namespace: NS, name, body: { ...t, status: { conditions: [{ ...cond, lastTransitionTime: 'yesterday' }] } } }));
    expect(badTime.details?.causes?.[0]).toMatchObject({ field: 'status.conditions[0].lastTransitionTime' });
    const setDup = await refusal(() => api.replaceNamespacedCustomObjectStatus({ ...T, namespace: NS, name, body: { ...t, status: { partitions: [{ partition: 0, replicas: [1, 1] }] } } }));
    expect(setDup.details?.causes?.[0]).toMatchObject({ reason: 'FieldValueDuplicate', field: 'status.partitions[0].replicas[1]' });
    const ok = (await api.replaceNamespacedCustomObjectStatus({ ...T, namespace: NS, name, body: { ...t, status: { conditions: [{ ...cond, observedGeneration: null }] } } })) as Topic;
    expect(ok.status).toEqual({ conditions: [{ ...cond, observedGeneration: null }] });
  });

  it('prunes unknown fields with a Warning header, keeps x-kubernetes-preserve-unknown-fields subtrees, and drops non-nullable nulls', async () => {
    const res = await api.createNamespacedCustomObjectWithHttpInfo({ ...T, namespace: NS, body: { ...topic(name, { partitions: 2, replicas: 3, replicationFactor: null }), extra: true } });
    const created = res.data as Topic;
    expect(created.spec).toEqual({ partitions: 2 });
    expect(created).not.toHaveProperty('extra');
    expect(res.headers.warning).toContain('299 - "unknown field \\"spec.replicas\\""');
    expect(res.headers.warning).toContain('299 - "unknown field \\"extra\\""');

    const withDebug = (await api.replaceNamespacedCustomObjectStatus({
      ...T,
      namespace: NS,
      name,
      body: { ...created, status: { topicId: 'x', debug: { anything: { goes: [1, 2] } }, junk: 1 } },
    })) as Topic;
    expect(withDebug.status).toEqual({ topicId: 'x', debug: { anything: { goes: [1, 2] } } });
  });

  it('refuses unknown fields under fieldValidation=Strict with 400', async () => {
    const status = await refusal(() => api.createNamespacedCustomObject({ ...T, namespace: NS, body: topic(name, { partitions: 1, replicas: 3 }), fieldValidation: 'Strict' }));
    expect(status).toMatchObject({ code: 400, reason: 'BadRequest', message: 'strict decoding error: unknown field "spec.replicas"' });
  });

  it('refuses a body without apiVersion/kind, and a name that is not a DNS subdomain', async () => {
    const noKind = await refusal(() => create({ apiVersion: 'sluice.dev/v1alpha1', metadata: { name }, spec: { partitions: 1 } }));
    expect(noKind).toMatchObject({ code: 400, reason: 'BadRequest' });
    const badName = await refusal(() => create(topic('Orders_1', { partitions: 1 })));
    expect(badName.details?.causes?.[0]).toMatchObject({ field: 'metadata.name', reason: 'FieldValueInvalid' });
  });
});

describe('x-kubernetes-validations (CEL)', () => {
  it('lets partitions grow and refuses a decrease (transition rule self >= oldSelf)', async () => {
    await create(topic(name, { partitions: 3 }));
    expect((await patchSpec({ partitions: 6 })).spec.partitions).toBe(6);
    const status = await refusal(() => patchSpec({ partitions: 2 }));
    expect(status).toMatchObject({ code: 422, reason: 'Invalid' });
    expect(status.details?.causes).toEqual([{ reason: 'FieldValueInvalid', field: 'spec.partitions', message: 'Invalid value: "integer": partitions may grow but never shrink' }]);
    expect(status.message).toBe(`Topic.sluice.dev "${name}" is invalid: spec.partitions: Invalid value: "integer": partitions may grow but never shrink`);
  });

  it('refuses a topicName change (self == oldSelf) and its removal (!has(oldSelf.x) || has(self.x))', async () => {
    const t = await create(topic(name, { partitions: 1, topicName: 'orders.v1' }));
    const changed = await refusal(() => patchSpec({ topicName: 'orders.v2' }));
    expect(changed.details?.causes).toEqual([{ reason: 'FieldValueInvalid', field: 'spec.topicName', message: 'Invalid value: "string": topicName is immutable' }]);
    const removed = await refusal(() => api.replaceNamespacedCustomObject({ ...T, namespace: NS, name, body: { ...t, spec: { partitions: 1 } } }));
    expect(removed.details?.causes).toEqual([{ reason: 'FieldValueForbidden', field: 'spec', message: 'Forbidden: topicName cannot be removed once set' }]);
    // Unchanged, the rules pass: a same-value update is allowed.
    expect((await patchSpec({ topicName: 'orders.v1', partitions: 2 })).spec.partitions).toBe(2);
  });

  it('does not apply transition rules on create, and allows setting topicName later', async () => {
    await create(topic(name, { partitions: 1 }));
    expect((await patchSpec({ topicName: 'late' })).spec.topicName).toBe('late');
  });

  it('reads dotted config keys through CEL name escaping and reports messageExpression text at fieldPath', async () => {
    const status = await refusal(() => create(topic(name, { partitions: 1, replicationFactor: 2, config: { 'min.insync.replicas': 3 } })));
    expect(status.details?.causes).toEqual([
      { reason: 'FieldValueInvalid', field: 'spec.config', message: 'Invalid value: "object": min.insync.replicas (3) must not exceed replicationFactor (2)' },
    ]);
    await create(topic(name, { partitions: 1, replicationFactor: 3, config: { 'min.insync.replicas': 2 } }));
  });

  it('runs CEL only on schema-valid objects, so one mistake is one cause', async () => {
    await create(topic(name, { partitions: 3 }));
    const status = await refusal(() => patchSpec({ partitions: 'two' }));
    expect(status.details?.causes).toHaveLength(1);
    expect(status.details?.causes?.[0]).toMatchObject({ reason: 'FieldValueTypeInvalid', field: 'spec.partitions' });
  });
});

describe('CRD installation', () => {
  it('refuses a CRD whose rules do not compile or whose schema is not structural, as the API server would', async () => {
    const badRule = testTopicCrd();
    const spec = badRule.spec.versions[0].schema?.openAPIV3Schema?.properties as Record<string, Record<string, unknown>>;
    spec.spec['x-kubernetes-validations'] = [{ rule: 'self.partitions >=' }];
    await expect(KubeApiDouble.start({ crds: [badRule] })).rejects.toThrow(/x-kubernetes-validations do not compile/);

    const untyped = testTopicCrd();
    const props = untyped.spec.versions[0].schema?.openAPIV3Schema?.properties as Record<string, Record<string, unknown>>;
    delete props.spec.type;
    await expect(KubeApiDouble.start({ crds: [untyped] })).rejects.toThrow(/not structural[\s\S]*properties\[spec\]\.type: Required value/);
  });

  it('installs a CRD read from a YAML manifest (as deploy/crds/*.yaml will be)', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'kube-api-crd-'));
    try {
      const file = path.join(dir, 'topics.sluice.dev.yaml');
      fs.writeFileSync(file, `# leading comment\n---\n${stringify(testTopicCrd())}`);
      const fromYaml = await KubeApiDouble.start({ crds: [readCrdFile(file)] });
      try {
        const created = fromYaml.create('topics.sluice.dev', { ...topic('from-yaml', { partitions: 2, config: {} }), metadata: { name: 'from-yaml', namespace: NS } });
        expect(created.spec).toEqual({ partitions: 2, config: { 'cleanup.policy': 'delete' } });
      } finally {
        await fromYaml.stop();
      }
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
