// A small Topic CRD for the double's own tests: the shapes the real one
// (deploy/crds/topics.sluice.dev.yaml) uses — an openAPIV3Schema with ranges, an enum, a default,
// dotted config keys, a status subresource with a list-map of conditions, a preserved-unknown
// subtree, and x-kubernetes-validations including transition rules. Not the real CRD: tests of
// the operator should load that one with readCrdFile().
import type { CustomResourceDefinition } from './resource-types.ts';

export function testTopicCrd(): CustomResourceDefinition {
  return {
    apiVersion: 'apiextensions.k8s.io/v1',
    kind: 'CustomResourceDefinition',
    metadata: { name: 'topics.sluice.dev' },
    spec: {
      group: 'sluice.dev',
      scope: 'Namespaced',
      names: { plural: 'topics', singular: 'topic', kind: 'Topic', listKind: 'TopicList', shortNames: ['tp'] },
      versions: [
        {
          name: 'v1alpha1',
          served: true,
          storage: true,
          subresources: { status: {} },
          selectableFields: [{ jsonPath: '.spec.topicName' }],
          schema: {
            openAPIV3Schema: {
              type: 'object',
              properties: {
                spec: {
                  type: 'object',
                  required: ['partitions'],
                  'x-kubernetes-validations': [
                    { rule: '!has(oldSelf.topicName) || has(self.topicName)', message: 'topicName cannot be removed once set', reason: 'FieldValueForbidden' },
                    {
                      rule: '!has(self.config) || !has(self.config.min__dot__insync__dot__replicas) || !has(self.replicationFactor) || self.config.min__dot__insync__dot__replicas <= self.replicationFactor',
                      messageExpression: '"min.insync.replicas (" + string(self.config.min__dot__insync__dot__replicas) + ") must not exceed replicationFactor (" + string(self.replicationFactor) + ")"',
                      fieldPath: '.config',
                    },
                  ],
                  properties: {
                    partitions: {
                      type: 'integer',
                      minimum: 1,
                      maximum: 10000,
                      'x-kubernetes-validations': [{ rule: 'self >= oldSelf', message: 'partitions may grow but never shrink' }],
                    },
                    replicationFactor: { type: 'integer', minimum: 1, maximum: 32 },
                    topicName: {
                      type: 'string',
                      minLength: 1,
                      maxLength: 249,
                      pattern: '^[a-zA-Z0-9._-]+$',
                      'x-kubernetes-validations': [{ rule: 'self == oldSelf', message: 'topicName is immutable' }],
                    },
                    config: {
                      type: 'object',
                      properties: {
                        'retention.ms': { type: 'integer', minimum: -1 },
                        'cleanup.policy': { type: 'string', enum: ['delete', 'compact', 'compact,delete'], default: 'delete' },
                        'min.insync.replicas': { type: 'integer', minimum: 1 },
                        'unclean.leader.election.enable': { type: 'boolean' },
                      },
                    },
                  },
                },
                status: {
                  type: 'object',
                  properties: {
                    observedGeneration: { type: 'integer' },
                    topicId: { type: 'string' },
                    conditions: {
                      type: 'array',
                      'x-kubernetes-list-type': 'map',
                      'x-kubernetes-list-map-keys': ['type'],
                      items: {
                        type: 'object',
                        required: ['type', 'status'],
                        properties: {
                          type: { type: 'string' },
                          status: { type: 'string', enum: ['True', 'False', 'Unknown'] },
                          reason: { type: 'string' },
                          message: { type: 'string' },
                          lastTransitionTime: { type: 'string', format: 'date-time' },
                          observedGeneration: { type: 'integer', nullable: true },
                        },
                      },
                    },
                    partitions: {
                      type: 'array',
                      items: {
                        type: 'object',
                        properties: {
                          partition: { type: 'integer' },
                          replicas: { type: 'array', items: { type: 'integer' }, 'x-kubernetes-list-type': 'set' },
                          leader: { type: 'integer' },
                          leaderEpoch: { type: 'integer' },
                        },
                      },
                    },
                    debug: { type: 'object', 'x-kubernetes-preserve-unknown-fields': true },
                  },
                },
              },
            },
          },
        },
      ],
    },
  };
}

export function topic(name: string, spec: Record<string, unknown>, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return { apiVersion: 'sluice.dev/v1alpha1', kind: 'Topic', metadata: { name, ...(extra.metadata as object) }, spec, ...(extra.status ? { status: extra.status } : {}) };
}
