// AdminService in Kubernetes mode (brokers forward admin calls to the active controller): the
// Topic objects are the source of truth, so CreateTopic creates a Topic, AlterTopic changes its
// spec, DeleteTopic deletes it, and each answers once the operator has reconciled the change
// (or refused it, with the refusal as the error). A request is first checked against the
// committed state with the same pure transitions the reconcile will run, so a bad request fails
// at once with a precise code instead of leaving a refused Topic behind. Reads (List, Describe,
// DescribeCluster) are the local shell's, over the committed state.
import { createHash } from 'node:crypto';
import { ApiException, type CustomObjectsApi } from '@kubernetes/client-node';
import type * as grpc from '@grpc/grpc-js';
import { SluiceError, type ErrorCode } from '../../common/errors.ts';
import { asSluiceError, toServiceError } from '../../common/grpc-errors.ts';
import type { Logger } from '../../common/logger.ts';
import { parseTopicConfig } from '../../common/topic-config.ts';
import type { AdminServiceHandlers } from '../../proto/gen/sluice/v1/AdminService.ts';
import { alterTopic, createTopic, findTopic, type TopicRecord } from '../core/cluster-state.ts';
import { toTopicState } from '../core/metadata-view.ts';
import { adminServiceHandlers } from '../local/admin-service.ts';
import type { LeaderSession } from './leader-session.ts';
import { TOPIC_API_VERSION, TOPIC_GROUP, TOPIC_KIND, TOPIC_PLURAL, TOPIC_VERSION } from './topic-crd.ts';
import { topicOwnedBy } from './topic-plan.ts';
import { TOPIC_FINALIZER, type TopicObject, type TopicSpec } from './topic-resource.ts';
import type { Refusal } from './topic-status.ts';

export interface KubeAdminServiceOptions {
  readonly current: () => LeaderSession | undefined;
  readonly api: CustomObjectsApi;
  readonly namespace: string;
  readonly controllerId: number;
  readonly logger: Logger;
  /** How long a call waits for the operator to reconcile what it changed. Default 15 s. */
  readonly reconcileTimeoutMs?: number;
}

const REFUSAL_CODES: Record<string, ErrorCode> = {
  NotEnoughBrokers: 'INVALID_REPLICATION_FACTOR',
  InvalidReplicationFactor: 'INVALID_REPLICATION_FACTOR',
  InvalidConfig: 'INVALID_CONFIG',
  InvalidPartitions: 'INVALID_PARTITIONS',
  PartitionDecrease: 'INVALID_PARTITIONS',
  InvalidTopicName: 'INVALID_TOPIC',
  TopicNameConflict: 'TOPIC_ALREADY_EXISTS',
  TopicNameImmutable: 'INVALID_REQUEST',
};

const DNS_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;

/** The Topic object name for a topic name: itself where Kubernetes allows it, else a readable, unique derivative. */
export function objectNameFor(topicName: string): string {
  if (topicName.length <= 253 && DNS_SUBDOMAIN.test(topicName)) return topicName;
  const base = topicName.toLowerCase().replace(/[^a-z0-9.-]+/g, '-').replace(/^[^a-z0-9]+|[^a-z0-9]+$/g, '').slice(0, 200) || 'topic';
  // Two names that differ only in case or in characters replaced above must not share an object.
  return `${base}-${createHash('sha256').update(topicName).digest('hex').slice(0, 8)}`;
}

export function kubeAdminServiceHandlers(o: KubeAdminServiceOptions): AdminServiceHandlers {
  const timeoutMs = o.reconcileTimeoutMs ?? 15_000;
  const reads = new WeakMap<LeaderSession, AdminServiceHandlers>();
  const T = { group: TOPIC_GROUP, version: TOPIC_VERSION, plural: TOPIC_PLURAL, namespace: o.namespace };

  const leader = (): LeaderSession => {
    const s = o.current();
    if (!s) throw new SluiceError('NOT_CONTROLLER', 'this operator is a standby, not the active controller; retry against the active one');
    return s;
  };
  const readHandlers = (s: LeaderSession): AdminServiceHandlers => {
    let h = reads.get(s);
    if (!h) {
      h = adminServiceHandlers({ committed: s.committed, controllerId: o.controllerId, newTopicId: () => '', logger: o.logger });
      reads.set(s, h);
    }
    return h;
  };
  const fail = (callback: (err: Partial<grpc.ServiceError>) => void, e: unknown, method: string) => {
    const err = e instanceof ApiException ? new SluiceError('UNKNOWN', `Kubernetes API error ${e.code} in ${method}: ${String(e.body)}`) : asSluiceError(e);
    if (err.code === 'UNKNOWN') o.logger.error({ err: e, method }, 'admin request failed unexpectedly');
    callback(toServiceError(err));
  };
  const refusalError = (r: Refusal, topic: string) => new SluiceError(REFUSAL_CODES[r.reason] ?? 'INVALID_REQUEST', r.message, { topic });

  /** Waits until the operator has reconciled `generation` of the object; answers its topic. */
  const reconciled = async (s: LeaderSession, objectName: string, uid: string, generation: number, topicName: string): Promise<TopicRecord> => {
    const deadline = Date.now() + timeoutMs;
    s.enqueueTopic(objectName);
    for (;;) {
      const verdict = s.statuses.verdictOf(objectName);
      if (verdict && verdict.observedGeneration >= generation) {
        if (verdict.refusal) throw refusalError(verdict.refusal, topicName);
        const topic = topicOwnedBy(s.committed.current, uid);
        if (topic) return topic;
      }
      if (o.current() !== s) throw new SluiceError('NOT_CONTROLLER', 'this operator stopped being the active controller while the request was under way; retry');
      if (Date.now() > deadline) {
        throw new SluiceError('REQUEST_TIMED_OUT', `Topic ${objectName} was written but not reconciled within ${timeoutMs} ms; see kubectl describe topic ${objectName}`, { topic: topicName });
      }
      await new Promise((r) => setTimeout(r, 25));
    }
  };

  return {
    CreateTopic: (call, callback) => {
      const r = call.request;
      void (async () => {
        const s = leader();
        const config = parseTopicConfig(r.config);
        const checked = createTopic(s.committed.current, { name: r.name, topicId: 'validate-only', partitions: r.partitions, replicationFactor: r.replication_factor, config }).result;
        if (r.validate_only) return { topic: { ...toTopicState(checked, 'effective'), topic_id: '' } };
        const objectName = objectNameFor(r.name);
        const spec: TopicSpec = {
          partitions: r.partitions,
          ...(r.replication_factor > 0 ? { replicationFactor: r.replication_factor } : {}),
          ...(objectName !== r.name ? { topicName: r.name } : {}),
          ...(Object.keys(config).length > 0 ? { config } : {}),
        };
        const body: TopicObject = { apiVersion: TOPIC_API_VERSION, kind: TOPIC_KIND, metadata: { name: objectName, namespace: o.namespace, finalizers: [TOPIC_FINALIZER] }, spec };
        let created: TopicObject;
        try {
          created = (await o.api.createNamespacedCustomObject({ ...T, body })) as TopicObject;
        } catch (e) {
          if (e instanceof ApiException && e.code === 409) {
            throw new SluiceError('TOPIC_ALREADY_EXISTS', `a Topic object named ${objectName} already exists (it may still be deleting its data); pick another name or wait`, { topic: r.name });
          }
          throw e;
        }
        o.logger.info({ topic: r.name, topicObject: objectName }, 'Topic created for CreateTopic');
        const topic = await reconciled(s, objectName, created.metadata.uid!, created.metadata.generation ?? 1, r.name);
        return { topic: toTopicState(topic, 'effective') };
      })().then(
        (res) => callback(null, res),
        (e: unknown) => fail(callback, e, 'CreateTopic'),
      );
    },

    AlterTopic: (call, callback) => {
      const r = call.request;
      void (async () => {
        const s = leader();
        const config = parseTopicConfig(r.config);
        const input = { name: r.name, partitions: r.partitions, replicationFactor: r.replication_factor, config, replaceConfig: r.replace_config };
        const checked = alterTopic(s.committed.current, input).result;
        if (r.validate_only) return { topic: toTopicState(checked, 'effective') };
        const objectName = s.objectNames.get(checked.topicId);
        if (!objectName) throw new SluiceError('UNKNOWN_TOPIC_OR_PARTITION', `topic "${r.name}" has no Topic object (it is being deleted)`, { topic: r.name });
        for (let attempt = 0; ; attempt++) {
          const obj = (await o.api.getNamespacedCustomObject({ ...T, name: objectName })) as TopicObject;
          const spec: TopicSpec = {
            ...obj.spec,
            ...(r.partitions > 0 ? { partitions: r.partitions } : {}),
            ...(r.replication_factor > 0 ? { replicationFactor: r.replication_factor } : {}),
            config: r.replace_config ? config : { ...(obj.spec.config ?? {}), ...config },
          };
          try {
            const written = (await o.api.replaceNamespacedCustomObject({ ...T, name: objectName, body: { ...obj, spec } })) as TopicObject;
            const topic = await reconciled(s, objectName, written.metadata.uid!, written.metadata.generation ?? 1, r.name);
            return { topic: toTopicState(topic, 'effective') };
          } catch (e) {
            // Someone else changed the spec in between: apply this request to their version.
            if (!(e instanceof ApiException && e.code === 409) || attempt >= 5) throw e;
          }
        }
      })().then(
        (res) => callback(null, res),
        (e: unknown) => fail(callback, e, 'AlterTopic'),
      );
    },

    DeleteTopic: (call, callback) => {
      const name = call.request.name;
      void (async () => {
        const s = leader();
        const topic = findTopic(s.committed.current, name);
        if (!topic) throw new SluiceError('UNKNOWN_TOPIC_OR_PARTITION', `topic "${name}" does not exist; ListTopics shows the topics there are`, { topic: name });
        const objectName = s.objectNames.get(topic.topicId);
        if (objectName) {
          try {
            await o.api.deleteNamespacedCustomObject({ ...T, name: objectName });
          } catch (e) {
            if (!(e instanceof ApiException && e.code === 404)) throw e;
          }
          s.enqueueTopic(objectName);
        }
        // Answered once the deletion is committed (brokers are told next); the Topic object itself
        // goes when every live broker has deleted the data.
        const deadline = Date.now() + timeoutMs;
        while (topicOwnedBy(s.committed.current, topic.topicId)) {
          if (Date.now() > deadline) throw new SluiceError('REQUEST_TIMED_OUT', `the deletion of topic "${name}" was requested but not carried out within ${timeoutMs} ms`, { topic: name });
          await new Promise((r) => setTimeout(r, 25));
        }
        o.logger.info({ topic: name, topicObject: objectName }, 'Topic deleted for DeleteTopic');
        return {};
      })().then(
        (res) => callback(null, res),
        (e: unknown) => fail(callback, e, 'DeleteTopic'),
      );
    },

    ListTopics: (call, callback) => {
      try {
        readHandlers(leader()).ListTopics(call, callback);
      } catch (e) {
        fail(callback, e, 'ListTopics');
      }
    },
    DescribeTopic: (call, callback) => {
      try {
        readHandlers(leader()).DescribeTopic(call, callback);
      } catch (e) {
        fail(callback, e, 'DescribeTopic');
      }
    },
    DescribeCluster: (call, callback) => {
      try {
        readHandlers(leader()).DescribeCluster(call, callback);
      } catch (e) {
        fail(callback, e, 'DescribeCluster');
      }
    },
    DescribeReplicas: (call, callback) => {
      try {
        readHandlers(leader()).DescribeReplicas(call, callback);
      } catch (e) {
        fail(callback, e, 'DescribeReplicas');
      }
    },
  };
}
