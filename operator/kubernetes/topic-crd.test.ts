import * as fs from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';
import { describe, expect, it } from 'vitest';
import { TOPIC_CONFIG_KEYS, TOPIC_CONFIG_SCHEMA } from '../../common/topic-config.ts';
import { CRD_FILE, topicCrd, topicCrdYaml } from './topic-crd.ts';

const root = fileURLToPath(new URL('../..', import.meta.url));
type Node = Record<string, unknown>;

/** Every schema node below `node` as [path, node]; array items are named `[]`. */
function walk(node: Node, path: string, out: [string, Node][] = []): [string, Node][] {
  out.push([path, node]);
  for (const [k, child] of Object.entries((node.properties ?? {}) as Record<string, Node>)) walk(child, `${path}.${k}`, out);
  if (node.items) walk(node.items as Node, `${path}[]`, out);
  return out;
}

const schema = () => topicCrd().spec.versions[0]!.schema.openAPIV3Schema;

describe('the Topic CRD', () => {
  it('is committed exactly as topic-crd.ts generates it (run `node operator/kubernetes/write-crd.ts` after a change)', () => {
    const committed = fs.readFileSync(`${root}/${CRD_FILE}`, 'utf8');
    expect(committed).toBe(topicCrdYaml());
    expect(parse(committed)).toEqual(topicCrd());
  });

  it('describes every field, so kubectl explain teaches each one', () => {
    const missing = walk(schema(), 'topic')
      // metadata is ObjectMeta (explained by the API server); broker-id list items are plain ints.
      .filter(([path, node]) => path !== 'topic.metadata' && !(path.endsWith('[]') && node.type === 'integer'))
      .filter(([, node]) => typeof node.description !== 'string' || node.description.length < 10)
      .map(([path]) => path);
    expect(missing).toEqual([]);
  });

  it('types every known config key from TOPIC_CONFIG_SCHEMA, with ranges and no defaults, and keeps unknown keys out', () => {
    const spec = (schema().properties as Record<string, Node>).spec!;
    const config = (spec.properties as Record<string, Node>).config!;
    expect(Object.keys(config.properties as object)).toEqual(TOPIC_CONFIG_KEYS);
    for (const key of TOPIC_CONFIG_KEYS) {
      const node = (config.properties as Record<string, Node>)[key]!;
      const source = TOPIC_CONFIG_SCHEMA.properties[key] as Node;
      expect(node.type, key).toBe(source.type);
      expect(node.minimum, key).toBe(source.minimum);
      expect(node.maximum, key).toBe(source.maximum);
      expect(node.enum, key).toEqual(source.enum);
      expect(node, key).not.toHaveProperty('default');
    }
    const preserving = walk(schema(), 'topic').filter(([, n]) => n['x-kubernetes-preserve-unknown-fields'] !== undefined || n.additionalProperties !== undefined);
    expect(preserving.map(([p]) => p)).toEqual([]);
  });

  it('shows Partitions, Replicas, Ready, UnderReplicated, Offline and Age in kubectl get, each from a field the schema has', () => {
    const version = topicCrd().spec.versions[0]!;
    const columns = version.additionalPrinterColumns;
    expect(columns.map((c) => c.name)).toEqual(['Partitions', 'Replicas', 'Ready', 'UnderReplicated', 'Offline', 'Age']);
    const types: Record<string, string> = { integer: 'integer', string: 'string' };
    for (const c of columns) {
      if (c.jsonPath === '.metadata.creationTimestamp') {
        expect(c.type).toBe('date');
        continue;
      }
      // .status.conditions[?(@.type=="Ready")].status -> status.conditions[].status
      const fieldPath = c.jsonPath.replace(/\[\?\(@\.type=="Ready"\)\]/, '[]');
      const node = walk(schema(), '').find(([path]) => path === fieldPath)?.[1];
      expect(node, `${c.name}: ${c.jsonPath}`).toBeDefined();
      expect(c.type, c.name).toBe(types[node!.type as string]);
      expect(c.description.length, c.name).toBeGreaterThan(10);
    }
    expect(topicCrd().spec.names).toMatchObject({ shortNames: ['sltopic'], categories: ['sluice'] });
    expect(version.subresources).toEqual({ status: {} });
  });

  it('carries the CEL rules the API server enforces: partitions never shrink, topicName never changes', () => {
    const spec = (schema().properties as Record<string, Node>).spec!;
    const rules = (spec['x-kubernetes-validations'] as { rule: string; fieldPath?: string }[]).map((r) => [r.fieldPath, r.rule]);
    expect(rules).toEqual(
      expect.arrayContaining([
        ['.partitions', 'self.partitions >= oldSelf.partitions'],
        ['.topicName', expect.stringContaining('self.topicName == oldSelf.topicName')],
      ]),
    );
  });
});
