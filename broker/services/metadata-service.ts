// sluice.v1.MetadataService: answered from the metadata the controller pushed, so clients can
// find partition leaders by asking any broker.
import { SluiceError } from '../../common/errors.ts';
import { asSluiceError, toErrorDetail, toServiceError } from '../../common/grpc-errors.ts';
import type { Logger } from '../../common/logger.ts';
import type { MetadataResponse } from '../../proto/gen/sluice/v1/MetadataResponse.ts';
import type { MetadataServiceHandlers } from '../../proto/gen/sluice/v1/MetadataService.ts';
import type { TopicMetadata } from '../../proto/gen/sluice/v1/TopicMetadata.ts';
import type { CachedTopic, MetadataCache } from '../metadata-cache.ts';

export function metadataResponse(cache: MetadataCache, requested: readonly string[]): MetadataResponse {
  const topics: TopicMetadata[] = [];
  if (requested.length === 0) {
    for (const t of cache.topics()) topics.push(topicMetadata(cache, t));
    topics.sort((a, b) => (a.name! < b.name! ? -1 : a.name! > b.name! ? 1 : 0));
  } else {
    for (const name of new Set(requested)) {
      const t = cache.topic(name);
      if (t) topics.push(topicMetadata(cache, t));
      else topics.push({ name, topic_id: '', partitions: [], error: toErrorDetail(new SluiceError('UNKNOWN_TOPIC_OR_PARTITION', `topic "${name}" does not exist`, { topic: name })) });
    }
  }
  return {
    cluster_id: cache.clusterId,
    controller_id: cache.controllerId,
    brokers: [...cache.liveBrokers()].sort((a, b) => a.broker_id - b.broker_id),
    topics,
  };
}

function topicMetadata(cache: MetadataCache, t: CachedTopic): TopicMetadata {
  const partitions = [];
  for (const p of t.partitions) {
    if (!p) continue;
    partitions.push({
      partition: p.partition,
      leader_id: p.leader,
      leader_epoch: p.leader_epoch,
      replicas: p.replicas,
      isr: p.isr,
      offline_replicas: p.replicas.filter((id) => !cache.isAlive(id)),
    });
  }
  return { name: t.name, topic_id: t.topicId, error: null, partitions };
}

export function metadataServiceHandlers(cache: MetadataCache, logger: Logger): MetadataServiceHandlers {
  return {
    Metadata: (call, callback) => {
      try {
        callback(null, metadataResponse(cache, call.request.topics));
      } catch (err) {
        logger.error({ err }, 'Metadata failed unexpectedly');
        callback(toServiceError(asSluiceError(err)));
      }
    },
  };
}
