// The Topic CustomResourceDefinition (topics.sluice.dev, DESIGN §7), built from code so that it
// has one source: the config keys, their types, ranges and descriptions come from
// TOPIC_CONFIG_SCHEMA (common/topic-config.ts), the limits from the same constants the controller
// enforces. `node operator/kubernetes/write-crd.ts` writes deploy/crds/topics.sluice.dev.yaml
// from it, and a test fails when the committed file differs from what this builds.
//
// What the API server enforces with it, before the operator sees anything:
// * structural schema: every field typed and described (`kubectl explain topic.spec.config`);
// * known config keys only: config lists its keys as properties without
//   x-kubernetes-preserve-unknown-fields, so an unknown key is refused under strict field
//   validation (kubectl's default) and otherwise pruned with a warning — it never reaches the
//   operator either way;
// * CEL: partitions never decrease, topicName never changes, min.insync.replicas ≤
//   replicationFactor (an ISR that can never be large enough would fail every acks=all write).
import { stringify } from 'yaml';
import { MAX_PARTITIONS, MAX_TOPIC_NAME_LENGTH, TOPIC_CONFIG_KEYS, TOPIC_CONFIG_SCHEMA } from '../../common/topic-config.ts';
import { MAX_REPLICATION_FACTOR } from '../core/placement.ts';

export const TOPIC_GROUP = 'sluice.dev';
export const TOPIC_VERSION = 'v1alpha1';
export const TOPIC_API_VERSION = `${TOPIC_GROUP}/${TOPIC_VERSION}`;
export const TOPIC_KIND = 'Topic';
export const TOPIC_PLURAL = 'topics';
export const TOPIC_CRD_NAME = `${TOPIC_PLURAL}.${TOPIC_GROUP}`;
/**
 * `sltopic`, not `st`: a two-letter short name is easily claimed by another CRD too, and kubectl
 * then resolves it to whichever group it finds first. "sluice topic" also reads as what it is.
 */
export const TOPIC_SHORT_NAMES = ['sltopic'];
/** `kubectl get sluice` lists every Sluice resource. */
export const TOPIC_CATEGORIES = ['sluice'];

type Schema = Record<string, unknown>;

const TOPIC_NAME_PATTERN = '^[a-zA-Z0-9._-]+$';
/** metav1.Condition's reason: one CamelCase word (the API convention this operator follows). */
const CONDITION_REASON_PATTERN = '^[A-Za-z]([A-Za-z0-9_,:]*[A-Za-z0-9_])?$';

/** spec.config and status.config: one property per known key, typed and range-checked. */
function configSchema(description: string): Schema {
  const properties: Record<string, Schema> = {};
  for (const key of TOPIC_CONFIG_KEYS) {
    const p = TOPIC_CONFIG_SCHEMA.properties[key] as Schema & { description: string; default: unknown };
    const node: Schema = { type: p.type };
    if (p.type === 'integer') node.format = 'int64';
    for (const k of ['minimum', 'maximum', 'enum'] as const) if (p[k] !== undefined) node[k] = p[k];
    // No `default` in the schema: the API server would write every default into the object, and
    // each key would then become an override that pins today's default forever. The operator
    // applies defaults at read time instead, as the local controller does.
    node.description = `${p.description} Default: ${JSON.stringify(p.default)}.`;
    properties[key] = node;
  }
  return { type: 'object', description, properties };
}

function int(description: string, extra: Schema = {}): Schema {
  return { type: 'integer', format: 'int32', ...extra, description };
}

function brokerIds(description: string): Schema {
  // atomic, not set: the order means something (the first replica is the preferred leader).
  return { type: 'array', 'x-kubernetes-list-type': 'atomic', description, items: { type: 'integer', format: 'int32' } };
}

const SPEC_SCHEMA: Schema = {
  type: 'object',
  description: 'Desired state of the topic. The operator creates partitions and assigns replicas to brokers from it.',
  required: ['partitions'],
  'x-kubernetes-validations': [
    {
      rule: 'self.partitions >= oldSelf.partitions',
      message: 'partitions may grow but never shrink: records are placed by key hash modulo the partition count, so removing partitions would lose their records and move keys; set partitions to at least the current value',
      fieldPath: '.partitions',
      reason: 'FieldValueInvalid',
    },
    {
      rule: 'has(self.topicName) == has(oldSelf.topicName) && (!has(self.topicName) || self.topicName == oldSelf.topicName)',
      message: 'topicName is immutable: it names the topic\'s data on the brokers; to rename, create a new Topic and move the data',
      fieldPath: '.topicName',
      reason: 'FieldValueForbidden',
    },
    {
      rule: '!has(self.replicationFactor) || !has(self.config) || !has(self.config.min__dot__insync__dot__replicas) || self.config.min__dot__insync__dot__replicas <= self.replicationFactor',
      messageExpression:
        '"min.insync.replicas (" + string(self.config.min__dot__insync__dot__replicas) + ") must not exceed replicationFactor (" + string(self.replicationFactor) + "): acks=all writes could never succeed; lower min.insync.replicas or raise replicationFactor"',
      fieldPath: '.config',
      reason: 'FieldValueInvalid',
    },
  ],
  properties: {
    partitions: int(
      `Number of partitions (1 to ${MAX_PARTITIONS}). Order is kept within a partition only, and a keyed record always goes to the same partition while the count stays the same. May grow (new partitions are placed on the brokers); never shrinks.`,
      { minimum: 1, maximum: MAX_PARTITIONS },
    ),
    replicationFactor: int(
      `Copies of each partition, on distinct brokers (and distinct zones where possible), 1 to ${MAX_REPLICATION_FACTOR}. At most the number of brokers, or the Topic is not Ready. Left out: min(3, live brokers) when the topic is created, unchanged afterwards. Changing it moves replicas: new ones are added and caught up before old ones are dropped.`,
      { minimum: 1, maximum: MAX_REPLICATION_FACTOR },
    ),
    topicName: {
      type: 'string',
      minLength: 1,
      maxLength: MAX_TOPIC_NAME_LENGTH,
      pattern: TOPIC_NAME_PATTERN,
      description: `Name clients use for the topic, if it differs from metadata.name (e.g. with capitals or underscores): 1 to ${MAX_TOPIC_NAME_LENGTH} characters from [a-zA-Z0-9._-], not "." or "..". Immutable.`,
      'x-kubernetes-validations': [{ rule: "self != '.' && self != '..'", message: 'topicName must not be "." or ".."' }],
    },
    config: configSchema(
      'Topic configuration, Kafka-compatible keys. Only the keys listed here exist; each is typed and range-checked. Keys left out use their defaults, and removing a key returns it to its default. An unknown key is refused by kubectl (strict field validation) and otherwise dropped by the API server with a warning.',
    ),
  },
};

const CONDITION_SCHEMA: Schema = {
  type: 'object',
  description: 'One aspect of the topic\'s state (metav1.Condition).',
  required: ['type', 'status', 'lastTransitionTime', 'reason', 'message'],
  properties: {
    type: {
      type: 'string',
      maxLength: 316,
      description: 'Ready: the topic exists as specified and every partition has a leader. Reconciling: the operator is still carrying out the spec (e.g. moving replicas). Degraded: partitions are offline or under-replicated.',
    },
    status: { type: 'string', enum: ['True', 'False', 'Unknown'], description: 'True, False or Unknown.' },
    observedGeneration: { type: 'integer', format: 'int64', minimum: 0, description: 'metadata.generation the condition was computed from.' },
    lastTransitionTime: { type: 'string', format: 'date-time', description: 'When the status last changed.' },
    reason: { type: 'string', maxLength: 1024, minLength: 1, pattern: CONDITION_REASON_PATTERN, description: 'Why, as one CamelCase word (e.g. Reconciled, NotEnoughBrokers, PartitionDecrease).' },
    message: { type: 'string', maxLength: 32768, description: 'Why, for a human: what is wrong and what to change.' },
  },
};

const PARTITION_STATUS_SCHEMA: Schema = {
  type: 'object',
  description: 'Persisted state of one partition: the controller resumes from it after a restart or failover.',
  required: ['partition', 'replicas', 'leader', 'leaderEpoch', 'isr', 'partitionEpoch'],
  properties: {
    partition: int('Partition number, from 0.', { minimum: 0 }),
    replicas: brokerIds('Assigned replicas (broker ids); the first is the preferred leader. During a reassignment: the target replicas followed by the ones being removed.'),
    leader: int('Broker id of the leader; -1 when the partition is offline (no live in-sync replica).', { minimum: -1 }),
    leaderEpoch: int('Bumped at every leader change; brokers stamp it into every batch the leader writes.', { minimum: 0 }),
    isr: brokerIds('In-sync replicas: the leader and the followers that have every acknowledged record.'),
    partitionEpoch: int('Bumped at every change of this partition\'s state; the compare-and-set version of ISR changes.', { minimum: 0 }),
    addingReplicas: brokerIds('Replicas a reassignment is adding; it completes once they are all in sync.'),
    removingReplicas: brokerIds('Replicas a reassignment drops once the added ones are in sync.'),
    lastUncleanLeaderEpoch: int('Leader epoch of the latest unclean election (a leader from outside the ISR; acknowledged records may be missing), -1 if none.', { minimum: -1 }),
  },
};

const STATUS_SCHEMA: Schema = {
  type: 'object',
  description: 'Observed state, written by the operator only. The partition state here is the controller\'s persisted state: editing it can lose data.',
  properties: {
    observedGeneration: { type: 'integer', format: 'int64', minimum: 0, description: 'The metadata.generation the operator last acted on; the status describes that generation.' },
    topicId: { type: 'string', description: 'Stable identifier of the topic (the Topic\'s uid); a topic deleted and created again under the same name gets a new one.' },
    topicName: { type: 'string', description: 'Name of the topic on the brokers, as created.' },
    replicationFactor: int('Replication factor in force (during a reassignment: its target).', { minimum: 1 }),
    metadataVersion: { type: 'integer', format: 'int64', minimum: 0, description: 'Version of the cluster metadata in which this topic last changed.' },
    config: configSchema('Config overrides in force on the brokers (keys left out use their defaults).'),
    conditions: {
      type: 'array',
      description: 'Ready, Reconciling and Degraded, each with a one-word reason and a message.',
      'x-kubernetes-list-type': 'map',
      'x-kubernetes-list-map-keys': ['type'],
      items: CONDITION_SCHEMA,
    },
    partitions: {
      type: 'array',
      description: 'State of every partition: replicas, leader, leader epoch, ISR.',
      'x-kubernetes-list-type': 'map',
      'x-kubernetes-list-map-keys': ['partition'],
      items: PARTITION_STATUS_SCHEMA,
    },
    underReplicatedPartitions: int('Partitions with fewer in-sync replicas than the replication factor.', { minimum: 0 }),
    offlinePartitions: int('Partitions without a leader: nobody can write or read them until an in-sync replica returns.', { minimum: 0 }),
  },
};

export interface TopicCrd {
  apiVersion: 'apiextensions.k8s.io/v1';
  kind: 'CustomResourceDefinition';
  metadata: { name: string; labels: Record<string, string> };
  spec: {
    group: string;
    scope: 'Namespaced';
    names: { plural: string; singular: string; kind: string; listKind: string; shortNames: string[]; categories: string[] };
    versions: {
      name: string;
      served: boolean;
      storage: boolean;
      subresources: { status: Record<string, never> };
      additionalPrinterColumns: { name: string; type: string; jsonPath: string; description: string; priority?: number }[];
      schema: { openAPIV3Schema: Schema };
    }[];
  };
}

export function topicCrd(): TopicCrd {
  return {
    apiVersion: 'apiextensions.k8s.io/v1',
    kind: 'CustomResourceDefinition',
    metadata: { name: TOPIC_CRD_NAME, labels: { 'app.kubernetes.io/name': 'sluice', 'app.kubernetes.io/component': 'crd' } },
    spec: {
      group: TOPIC_GROUP,
      scope: 'Namespaced',
      names: { plural: TOPIC_PLURAL, singular: 'topic', kind: TOPIC_KIND, listKind: `${TOPIC_KIND}List`, shortNames: TOPIC_SHORT_NAMES, categories: TOPIC_CATEGORIES },
      versions: [
        {
          name: TOPIC_VERSION,
          served: true,
          storage: true,
          subresources: { status: {} },
          additionalPrinterColumns: [
            { name: 'Partitions', type: 'integer', jsonPath: '.spec.partitions', description: 'Number of partitions asked for.' },
            { name: 'Replicas', type: 'integer', jsonPath: '.status.replicationFactor', description: 'Replication factor in force.' },
            { name: 'Ready', type: 'string', jsonPath: '.status.conditions[?(@.type=="Ready")].status', description: 'Whether the topic exists as specified with every partition led.' },
            { name: 'UnderReplicated', type: 'integer', jsonPath: '.status.underReplicatedPartitions', description: 'Partitions with fewer in-sync replicas than the replication factor.' },
            { name: 'Offline', type: 'integer', jsonPath: '.status.offlinePartitions', description: 'Partitions without a leader.' },
            { name: 'Age', type: 'date', jsonPath: '.metadata.creationTimestamp', description: 'Time since the Topic was created.' },
          ],
          schema: {
            openAPIV3Schema: {
              type: 'object',
              description: 'A Sluice topic: a partitioned, replicated, persistent log. The operator assigns its partitions to broker pods, keeps their in-sync replicas and elects new leaders when a broker is lost. Deleting the Topic deletes its data on the brokers.',
              properties: {
                apiVersion: { type: 'string', description: 'APIVersion defines the versioned schema of this representation of an object.' },
                kind: { type: 'string', description: 'Kind is a string value representing the REST resource this object represents.' },
                metadata: { type: 'object' },
                spec: SPEC_SCHEMA,
                status: STATUS_SCHEMA,
              },
              required: ['spec'],
              'x-kubernetes-validations': [
                {
                  // metadata.name (a DNS subdomain, up to 253 characters) is the topic name unless
                  // spec.topicName is set; Kafka topic names stop at 249.
                  rule: `has(self.spec.topicName) || size(self.metadata.name) <= ${MAX_TOPIC_NAME_LENGTH}`,
                  message: `metadata.name is longer than ${MAX_TOPIC_NAME_LENGTH} characters, the limit for topic names; set spec.topicName to a shorter name`,
                },
              ],
            },
          },
        },
      ],
    },
  };
}

export const CRD_FILE = 'deploy/crds/topics.sluice.dev.yaml';

/** The YAML written to deploy/crds/topics.sluice.dev.yaml (and copied into the chart). */
export function topicCrdYaml(): string {
  const header = [
    '# The Topic CustomResourceDefinition (DESIGN §7).',
    '# GENERATED by `node operator/kubernetes/write-crd.ts` from operator/kubernetes/topic-crd.ts and',
    '# common/topic-config.ts: do not edit by hand; a test fails when this file is out of date.',
  ].join('\n');
  // lineWidth 0: descriptions stay on one line each, so diffs of this file read like the source.
  return `${header}\n${stringify(topicCrd(), { lineWidth: 0 })}`;
}
