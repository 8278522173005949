// Files around the chart that must not drift: the chart's copies of the CRD, dashboard and rules
// (byte for byte), the values table of its README, the plain manifests in deploy/kubernetes/,
// the documentation and schema of every value, and the example Topics (accepted by the real CRD
// schema and CEL rules, and by `sluice apply`). `npm run chart:sync` fixes the generated ones.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { Ajv } from 'ajv';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse, parseAllDocuments } from 'yaml';
import { CHART_COPIES, CHART_DIR, CHART_README, PLAIN_MANIFESTS, PLAIN_NAMESPACE, ROOT, chartReadme, documentedValues, plainManifests, readRepoFile } from '../charts/chart-files.ts';
import { find, parseManifests, validationProblems } from './support/chart-testing.ts';
import { parseTopicManifests } from '../client/cli/topic-manifest.ts';
import { KubeApiDouble, readCrdFile } from './support/kube-api/kube-api-double.ts';

const SYNC = 'run `npm run chart:sync`';
const valuesYaml = readRepoFile(`${CHART_DIR}/values.yaml`);
const schema = JSON.parse(readRepoFile(`${CHART_DIR}/values.schema.json`)) as Record<string, any>;

describe('copies in the chart', () => {
  it.each(CHART_COPIES.map((c) => [c.to, c.from]))('%s is byte for byte %s', (to, from) => {
    expect(fs.existsSync(path.join(ROOT, from)), `${from} is missing`).toBe(true);
    expect(fs.readFileSync(path.join(ROOT, to)).equals(fs.readFileSync(path.join(ROOT, from))), `${to} is stale: ${SYNC}`).toBe(true);
  });
});

describe('generated files', () => {
  it('the README values table is the one values.yaml gives', () => {
    const readme = readRepoFile(CHART_README);
    expect(chartReadme(readme, valuesYaml) === readme, `${CHART_README} is stale: ${SYNC}`).toBe(true);
    // Spot check that the table is really there.
    expect(readme).toMatch(/\| `broker\.replicas` \| int \| `3` \|/);
  });

  it('deploy/kubernetes/sluice.yaml is the chart rendered with its defaults', () => {
    expect(plainManifests() === readRepoFile(PLAIN_MANIFESTS), `${PLAIN_MANIFESTS} is stale: ${SYNC}`).toBe(true);
  });

  it('the plain manifests are valid objects in namespace sluice, with no Helm bookkeeping, and the kustomization lists them', () => {
    const objects = parseManifests(readRepoFile(PLAIN_MANIFESTS));
    expect(objects[0]).toEqual({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: PLAIN_NAMESPACE, labels: { 'pod-security.kubernetes.io/enforce': 'restricted' } } });
    expect(objects.flatMap(validationProblems)).toEqual([]);
    const clusterScoped = new Set(['Namespace', 'CustomResourceDefinition', 'ClusterRole', 'ClusterRoleBinding']);
    for (const o of objects) {
      if (!clusterScoped.has(o.kind)) expect(o.metadata.namespace, `${o.kind}/${o.metadata.name}`).toBe(PLAIN_NAMESPACE);
      expect(o.metadata.labels?.['app.kubernetes.io/managed-by'], `${o.kind}/${o.metadata.name}`).toBeUndefined();
    }
    const sts = find(objects, 'StatefulSet');
    expect(sts.spec.replicas).toBe(3);
    const kustomization = parse(readRepoFile('deploy/kubernetes/kustomization.yaml'));
    expect(kustomization.resources).toEqual(['sluice.yaml']);
    expect(kustomization.namespace).toBe(PLAIN_NAMESPACE);
  });
});

/** Paths of the keys the schema defines (inside objects with additionalProperties: false), and which of them are leaves. */
function schemaKeys(node: Record<string, any>, prefix = ''): { path: string; leaf: boolean }[] {
  if (node.type !== 'object' || node.additionalProperties !== false) return [];
  return Object.entries(node.properties as Record<string, Record<string, any>>).flatMap(([k, child]) => {
    const key = prefix ? `${prefix}.${k}` : k;
    const nested = schemaKeys(child, key);
    return [{ path: key, leaf: nested.length === 0 }, ...nested];
  });
}

describe('values', () => {
  it('every value in values.yaml has a `# --` description', () => {
    const { documented, undocumented } = documentedValues(valuesYaml);
    expect(undocumented).toEqual([]);
    for (const d of documented) expect(d.description.length, d.key).toBeGreaterThan(10);
  });

  it('values.yaml and values.schema.json name the same values, and the defaults pass the schema', () => {
    const documented = documentedValues(valuesYaml).documented.map((d) => d.key);
    const keys = schemaKeys(schema);
    // Every documented value is in the schema, and every value the schema allows is documented
    // (itself, or as part of a documented map such as broker.probes.startup).
    expect(documented.filter((d) => !keys.some((k) => k.path === d))).toEqual([]);
    expect(keys.filter((k) => k.leaf && !documented.some((d) => k.path === d || k.path.startsWith(`${d}.`))).map((k) => k.path)).toEqual([]);
    const validate = new Ajv({ allErrors: true, strict: false }).compile(schema);
    expect(validate(parse(valuesYaml)), JSON.stringify(validate.errors)).toBe(true);
    // Draft-07 only: Helm 3.6 validates with gojsonschema.
    expect(schema.$schema).toBe('http://json-schema.org/draft-07/schema#');
  });

  it('the documentation parser sees what a reader sees', () => {
    const { documented, undocumented } = documentedValues('# -- Replicas of\n# the thing.\nreplicas: 3\nnested:\n  # -- A port.\n  port: 1\n  other: 2\n');
    expect(documented).toEqual([
      { key: 'replicas', description: 'Replicas of the thing.', value: 3 },
      { key: 'nested.port', description: 'A port.', value: 1 },
    ]);
    expect(undocumented).toEqual(['nested.other']);
  });
});

describe('example Topics', () => {
  const files = fs.readdirSync(path.join(ROOT, 'deploy/examples')).filter((f) => f.endsWith('.yaml')).map((f) => `deploy/examples/${f}`);
  let kube: KubeApiDouble;
  beforeAll(async () => {
    kube = await KubeApiDouble.start({ crds: [readCrdFile(path.join(ROOT, `${CHART_DIR}/crds/topics.sluice.dev.yaml`))] });
  });
  afterAll(async () => {
    await kube?.stop();
  });

  it('include the README\'s `orders`: 6 partitions, 3 replicas, acks=all needs 2 in-sync copies (DESIGN §12)', () => {
    expect(files).toContain('deploy/examples/topic.yaml');
    const orders = parse(readRepoFile('deploy/examples/topic.yaml'));
    expect(orders.metadata.name).toBe('orders');
    expect(orders.spec).toMatchObject({ partitions: 6, replicationFactor: 3, config: { 'min.insync.replicas': 2 } });
    expect(files.length).toBeGreaterThanOrEqual(3);
  });

  it.each(files)('%s is accepted by the CRD (schema and CEL rules) and by `sluice apply`', (file) => {
    const text = readRepoFile(file);
    for (const doc of parseAllDocuments(text)) {
      const topic = doc.toJS() as { kind: string; metadata: { name: string } };
      expect(topic.kind).toBe('Topic');
      const created = kube.create('topics.sluice.dev', { ...topic, metadata: { ...topic.metadata, namespace: 'examples' } }) as unknown as { spec: unknown };
      // Nothing pruned: every field the example sets is one the CRD knows.
      expect(created.spec).toEqual((topic as unknown as { spec: unknown }).spec);
    }
    expect(parseTopicManifests(text, file).length).toBeGreaterThan(0);
  });
});
