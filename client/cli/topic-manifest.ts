// Topic manifests (DESIGN §7) for `sluice apply`: the same YAML the operator reads in
// Kubernetes, checked here against the same rules the CRD schema enforces, so a file that
// applies locally also applies with kubectl, and a mistake is reported with the file, the
// document and the field before anything is sent.
import { Ajv, type ErrorObject } from 'ajv';
import { parseAllDocuments } from 'yaml';
import { SluiceError } from '../../common/errors.ts';
import {
  MAX_PARTITIONS,
  TOPIC_CONFIG_KEYS,
  TOPIC_CONFIG_SCHEMA,
  validateTopicName,
  type TopicConfig,
} from '../../common/topic-config.ts';

export const TOPIC_API_VERSION = 'sluice.dev/v1alpha1';
export const TOPIC_KIND = 'Topic';
export const MAX_REPLICATION_FACTOR = 32;

export interface TopicManifest {
  /** Where it came from, for messages: `topics.yaml document 2`. */
  source: string;
  /** metadata.name: the Kubernetes object name. */
  resourceName: string;
  /** spec.topicName, defaulting to metadata.name: the name clients use. */
  topicName: string;
  partitions: number;
  replicationFactor?: number;
  config: Partial<TopicConfig>;
}

// Kubernetes object names are DNS-1123 subdomains; a name kubectl would refuse is refused here
// too, so the same file works in both modes.
const DNS_SUBDOMAIN = '^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$';

export const TOPIC_MANIFEST_SCHEMA = {
  type: 'object',
  required: ['apiVersion', 'kind', 'metadata', 'spec'],
  properties: {
    apiVersion: { const: TOPIC_API_VERSION },
    kind: { const: TOPIC_KIND },
    metadata: {
      type: 'object',
      required: ['name'],
      properties: {
        name: { type: 'string', minLength: 1, maxLength: 253, pattern: DNS_SUBDOMAIN },
      },
    },
    spec: {
      type: 'object',
      required: ['partitions'],
      additionalProperties: false,
      properties: {
        partitions: { type: 'integer', minimum: 1, maximum: MAX_PARTITIONS },
        replicationFactor: { type: 'integer', minimum: 1, maximum: MAX_REPLICATION_FACTOR },
        topicName: { type: 'string', minLength: 1 },
        config: TOPIC_CONFIG_SCHEMA,
      },
    },
  },
} as const;

const ajv = new Ajv({ allErrors: true, strict: true });
const validateManifest = ajv.compile(TOPIC_MANIFEST_SCHEMA);

/**
 * Every Topic document in a YAML stream, validated. All problems of all documents are reported
 * together (INVALID_CONFIG / INVALID_REQUEST), and a file with any problem yields nothing, so
 * `apply` never applies half a file.
 */
export function parseTopicManifests(text: string, file: string): TopicManifest[] {
  const problems: string[] = [];
  const manifests: TopicManifest[] = [];
  const docs = parseAllDocuments(text);
  // parseAllDocuments returns an EmptyStream (not an array) when there is nothing at all.
  const list = Array.isArray(docs) ? docs : [];
  let configProblem = false;
  list.forEach((doc, index) => {
    const source = list.length > 1 ? `${file} document ${index + 1}` : file;
    if (doc.errors.length > 0) {
      for (const e of doc.errors) problems.push(`${source}: YAML syntax: ${(e.message.split('\n')[0] ?? '').replace(/:$/, '')}`);
      return;
    }
    const value: unknown = doc.toJS();
    // `---` at the end of a file makes an empty document; kubectl skips those too.
    if (value === null || value === undefined) return;
    if (!validateManifest(value)) {
      for (const e of validateManifest.errors ?? []) {
        if (e.instancePath.startsWith('/spec/config')) configProblem = true;
        problems.push(`${source}: ${describeSchemaError(e, value)}`);
      }
      return;
    }
    const m = value as {
      metadata: { name: string };
      spec: { partitions: number; replicationFactor?: number; topicName?: string; config?: Partial<TopicConfig> };
    };
    const topicName = m.spec.topicName ?? m.metadata.name;
    try {
      validateTopicName(topicName);
    } catch (err) {
      problems.push(`${source}: ${m.spec.topicName !== undefined ? 'spec.topicName' : 'metadata.name'}: ${(err as Error).message}`);
      return;
    }
    manifests.push({
      source,
      resourceName: m.metadata.name,
      topicName,
      partitions: m.spec.partitions,
      ...(m.spec.replicationFactor !== undefined ? { replicationFactor: m.spec.replicationFactor } : {}),
      config: { ...m.spec.config },
    });
  });
  const seen = new Map<string, string>();
  for (const m of manifests) {
    const first = seen.get(m.topicName);
    if (first) problems.push(`${m.source}: topic "${m.topicName}" is also defined in ${first}`);
    else seen.set(m.topicName, m.source);
  }
  if (problems.length > 0) {
    throw new SluiceError(configProblem ? 'INVALID_CONFIG' : 'INVALID_REQUEST', `invalid Topic manifest:\n  ${problems.join('\n  ')}`);
  }
  if (manifests.length === 0) {
    throw new SluiceError('INVALID_REQUEST', `${file} holds no Topic documents`);
  }
  return manifests;
}

function describeSchemaError(e: ErrorObject, doc: unknown): string {
  const path = e.instancePath
    .split('/')
    .slice(1)
    .map((p) => p.replace(/~1/g, '/').replace(/~0/g, '~'))
    .join('.');
  const at = path || '(document)';
  const got = JSON.stringify(valueAt(doc, e.instancePath));
  switch (e.keyword) {
    case 'required':
      return `${path ? `${path}.` : ''}${(e.params as { missingProperty: string }).missingProperty} is required`;
    case 'additionalProperties': {
      const key = (e.params as { additionalProperty: string }).additionalProperty;
      if (path === 'spec.config') return `spec.config has unknown key "${key}"; known keys: ${TOPIC_CONFIG_KEYS.join(', ')}`;
      return `${at} has unknown field "${key}"`;
    }
    case 'const':
      return `${at} must be "${(e.params as { allowedValue: string }).allowedValue}" (got ${got})`;
    case 'enum':
      return `${at} must be one of ${(e.params as { allowedValues: string[] }).allowedValues.join(' | ')} (got ${got})`;
    case 'pattern':
      return path === 'metadata.name'
        ? `metadata.name must be a Kubernetes name: lowercase letters, digits, "-" and "." (got ${got})`
        : `${at} does not match ${(e.params as { pattern: string }).pattern} (got ${got})`;
    default:
      return `${at} ${e.message ?? 'is invalid'} (got ${got})`;
  }
}

function valueAt(doc: unknown, pointer: string): unknown {
  let cur: unknown = doc;
  for (const part of pointer.split('/').slice(1)) {
    if (typeof cur !== 'object' || cur === null) return undefined;
    cur = (cur as Record<string, unknown>)[part.replace(/~1/g, '/').replace(/~0/g, '~')];
  }
  return cur;
}
