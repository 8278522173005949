// AdminService handlers of the local controller (brokers forward admin calls here). A refused
// request fails the call with the gRPC status derived from its Sluice code, plus the
// sluice-error-* trailers (common/grpc-errors.ts), and a message that says what to change.
import * as grpc from '@grpc/grpc-js';
import { SluiceError } from '../../common/errors.ts';
import { asSluiceError, toServiceError } from '../../common/grpc-errors.ts';
import type { Logger } from '../../common/logger.ts';
import type { AdminServiceHandlers } from '../../proto/gen/sluice/v1/AdminService.ts';
import {
  alterTopic,
  createTopic,
  deleteTopic,
  findTopic,
  liveBrokers,
  type AlterTopicInput,
  type ClusterState,
  type CreateTopicInput,
  type Outcome,
  type TopicRecord,
} from '../core/cluster-state.ts';
import { toBrokerInfo, toTopicState, toTopicSummary } from '../core/metadata-view.ts';
import type { CommittedState } from './committed-state.ts';

export interface AdminServiceDeps {
  readonly committed: CommittedState;
  readonly controllerId: number;
  /** A fresh topic id (a random UUID in production). */
  readonly newTopicId: () => string;
  readonly logger: Logger;
}

export function adminServiceHandlers({ committed, controllerId, newTopicId, logger }: AdminServiceDeps): AdminServiceHandlers {
  const fail = (callback: (err: Partial<grpc.ServiceError>) => void, e: unknown, method: string) => {
    const err = asSluiceError(e);
    if (err.code === 'UNKNOWN') logger.error({ err: e, method }, 'admin request failed unexpectedly');
    callback(toServiceError(err));
  };

  /** validate_only runs the same transition on the current state and keeps nothing. */
  const run = (validateOnly: boolean, transition: (s: ClusterState) => Outcome<TopicRecord>): Promise<TopicRecord> => {
    if (!validateOnly) return committed.commit(transition);
    try {
      return Promise.resolve(transition(committed.current).result);
    } catch (e) {
      return Promise.reject(e);
    }
  };

  return {
    CreateTopic: (call, callback) => {
      const r = call.request;
      const input: CreateTopicInput = { name: r.name, topicId: newTopicId(), partitions: r.partitions, replicationFactor: r.replication_factor, config: r.config };
      run(r.validate_only, (s) => createTopic(s, input)).then(
        (topic) => {
          if (!r.validate_only) logger.info({ topic: topic.name, topicId: topic.topicId, partitions: topic.partitions.length }, 'topic created');
          const state = toTopicState(topic, 'effective');
          // Nothing was created, so there is no id to show.
          callback(null, { topic: r.validate_only ? { ...state, topic_id: '' } : state });
        },
        (e: unknown) => fail(callback, e, 'CreateTopic'),
      );
    },

    AlterTopic: (call, callback) => {
      const r = call.request;
      const input: AlterTopicInput = { name: r.name, partitions: r.partitions, replicationFactor: r.replication_factor, config: r.config, replaceConfig: r.replace_config };
      run(r.validate_only, (s) => alterTopic(s, input)).then(
        (topic) => {
          if (!r.validate_only) logger.info({ topic: topic.name, partitions: topic.partitions.length }, 'topic altered');
          callback(null, { topic: toTopicState(topic, 'effective') });
        },
        (e: unknown) => fail(callback, e, 'AlterTopic'),
      );
    },

    DeleteTopic: (call, callback) => {
      committed.commit((s) => deleteTopic(s, call.request.name)).then(
        (topic) => {
          logger.info({ topic: topic.name, topicId: topic.topicId }, 'topic deleted');
          callback(null, {});
        },
        (e: unknown) => fail(callback, e, 'DeleteTopic'),
      );
    },

    ListTopics: (_call, callback) => {
      callback(null, { topics: committed.current.topics.map(toTopicSummary) });
    },

    DescribeTopic: (call, callback) => {
      const topic = findTopic(committed.current, call.request.name);
      if (!topic) {
        fail(callback, new SluiceError('UNKNOWN_TOPIC_OR_PARTITION', `topic "${call.request.name}" does not exist; ListTopics shows the topics there are`, { topic: call.request.name }), 'DescribeTopic');
        return;
      }
      callback(null, { topic: toTopicState(topic, 'effective') });
    },

    DescribeCluster: (_call, callback) => {
      const s = committed.current;
      callback(null, { cluster_id: s.clusterId, controller_id: controllerId, brokers: s.brokers.map(toBrokerInfo) });
    },

    DescribeReplicas: (_call, callback) => {
      const brokers = liveBrokers(committed.current).map((b) => `${b.id} at ${b.host}:${b.port}`);
      // No Sluice code fits "wrong server for this call", so this is a bare gRPC status.
      callback({
        code: grpc.status.UNIMPLEMENTED,
        details: `DescribeReplicas is answered by each broker about the replicas it hosts, not by the controller; call it on a broker (${brokers.length > 0 ? `live: ${brokers.join(', ')}` : 'none is live'})`,
      });
    },
  };
}
