import * as fs from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { SluiceError } from '../../common/errors.ts';
import { parseTopicManifests } from './topic-manifest.ts';

const EXAMPLE = fileURLToPath(new URL('../../deploy/examples/topic.yaml', import.meta.url));

function problems(yaml: string, file = 'topics.yaml'): SluiceError {
  try {
    parseTopicManifests(yaml, file);
  } catch (err) {
    if (err instanceof SluiceError) return err;
    throw err;
  }
  throw new Error('expected the manifest to be refused');
}

const orders = `apiVersion: sluice.dev/v1alpha1
kind: Topic
metadata: {name: orders}
spec:
  partitions: 12
  replicationFactor: 3
  config:
    retention.ms: 604800000
    cleanup.policy: compact,delete
    unclean.leader.election.enable: false
`;

describe('parseTopicManifests', () => {
  it('reads the DESIGN §7 example with its typed config', () => {
    expect(parseTopicManifests(orders, 'orders.yaml')).toEqual([{
      source: 'orders.yaml',
      resourceName: 'orders',
      topicName: 'orders',
      partitions: 12,
      replicationFactor: 3,
      config: { 'retention.ms': 604_800_000, 'cleanup.policy': 'compact,delete', 'unclean.leader.election.enable': false },
    }]);
  });

  it('reads several documents, uses spec.topicName over metadata.name, and skips empty ones', () => {
    const yaml = `${orders}---\napiVersion: sluice.dev/v1alpha1\nkind: Topic\nmetadata: {name: click-events}\nspec: {partitions: 1, topicName: Click_Events}\n---\n`;
    const manifests = parseTopicManifests(yaml, 'all.yaml');
    expect(manifests.map((m) => [m.source, m.resourceName, m.topicName, m.replicationFactor])).toEqual([
      ['all.yaml document 1', 'orders', 'orders', 3],
      ['all.yaml document 2', 'click-events', 'Click_Events', undefined],
    ]);
  });

  it('accepts what kubectl get -o yaml prints (namespace, labels, status)', () => {
    const yaml = orders.replace('metadata: {name: orders}', 'metadata: {name: orders, namespace: prod, labels: {team: a}}') +
      'status:\n  observedGeneration: 3\n  partitions: []\n';
    expect(parseTopicManifests(yaml, 'f.yaml')).toHaveLength(1);
  });

  it('names the file, document and key of an unknown config key, with the known keys', () => {
    const err = problems(orders.replace('retention.ms: 604800000', 'retention.msec: 604800000'));
    expect(err.code).toBe('INVALID_CONFIG');
    expect(err.message).toContain('topics.yaml: spec.config has unknown key "retention.msec"; known keys: retention.ms, retention.bytes');
  });

  it('names out-of-range and mistyped config values with what was given', () => {
    const err = problems(orders
      .replace('retention.ms: 604800000', 'retention.ms: -5\n    min.insync.replicas: "2"')
      .replace('cleanup.policy: compact,delete', 'cleanup.policy: archive'));
    expect(err.message).toContain('topics.yaml: spec.config.retention.ms must be >= -1 (got -5)');
    expect(err.message).toContain('spec.config.min.insync.replicas must be integer (got "2")');
    expect(err.message).toContain('spec.config.cleanup.policy must be one of delete | compact | compact,delete (got "archive")');
  });

  it('checks apiVersion, kind, name, partitions, replication factor and unknown spec fields', () => {
    const err = problems(`apiVersion: sluice.dev/v1
kind: Topics
metadata: {name: Orders_1}
spec: {partitions: 0, replicationFactor: 33, replicas: 3}
`);
    expect(err.code).toBe('INVALID_REQUEST');
    for (const expected of [
      'apiVersion must be "sluice.dev/v1alpha1" (got "sluice.dev/v1")',
      'kind must be "Topic" (got "Topics")',
      'metadata.name must be a Kubernetes name',
      'spec.partitions must be >= 1 (got 0)',
      'spec.replicationFactor must be <= 32 (got 33)',
      'spec has unknown field "replicas"',
    ]) expect(err.message).toContain(expected);
  });

  it('requires metadata.name and spec.partitions, per document', () => {
    const err = problems(`${orders}---\napiVersion: sluice.dev/v1alpha1\nkind: Topic\nmetadata: {}\nspec: {}\n`);
    expect(err.message).toContain('topics.yaml document 2: metadata.name is required');
    expect(err.message).toContain('topics.yaml document 2: spec.partitions is required');
    expect(err.message).not.toContain('document 1');
  });

  it('refuses a topic name Kafka would refuse and a topic defined twice', () => {
    expect(problems(orders.replace('partitions: 12', 'partitions: 12\n  topicName: "bad name"')).message)
      .toContain('spec.topicName: topic name "bad name" has characters outside [a-zA-Z0-9._-]');
    expect(problems(`${orders}---\n${orders}`).message).toContain('topics.yaml document 2: topic "orders" is also defined in topics.yaml document 1');
  });

  it('reports YAML syntax errors and files without Topics', () => {
    expect(problems('spec: [1, 2\n').message).toMatch(/topics\.yaml: YAML syntax: .* at line 2, column 1$/);
    expect(problems('# nothing here\n').message).toBe('topics.yaml holds no Topic documents');
  });

  it('accepts the shipped example', () => {
    const manifests = parseTopicManifests(fs.readFileSync(EXAMPLE, 'utf8'), EXAMPLE);
    expect(manifests.length).toBeGreaterThan(0);
    expect(manifests[0]?.topicName).toBe('orders');
  });
});
