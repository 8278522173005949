// Original file: proto/sluice/v1/metadata.proto

import type { BrokerEndpoint as _sluice_v1_BrokerEndpoint, BrokerEndpoint__Output as _sluice_v1_BrokerEndpoint__Output } from '../../sluice/v1/BrokerEndpoint.ts';
import type { TopicMetadata as _sluice_v1_TopicMetadata, TopicMetadata__Output as _sluice_v1_TopicMetadata__Output } from '../../sluice/v1/TopicMetadata.ts';

export interface MetadataResponse {
  'cluster_id'?: (string);
  'controller_id'?: (number);
  'brokers'?: (_sluice_v1_BrokerEndpoint)[];
  'topics'?: (_sluice_v1_TopicMetadata)[];
}

export interface MetadataResponse__Output {
  'cluster_id': (string);
  'controller_id': (number);
  'brokers': (_sluice_v1_BrokerEndpoint__Output)[];
  'topics': (_sluice_v1_TopicMetadata__Output)[];
}
