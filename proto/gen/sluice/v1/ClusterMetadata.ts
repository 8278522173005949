// Original file: proto/sluice/v1/controller.proto

import type { BrokerEndpoint as _sluice_v1_BrokerEndpoint, BrokerEndpoint__Output as _sluice_v1_BrokerEndpoint__Output } from '../../sluice/v1/BrokerEndpoint.ts';
import type { TopicState as _sluice_v1_TopicState, TopicState__Output as _sluice_v1_TopicState__Output } from '../../sluice/v1/TopicState.ts';
import type { Long } from '@grpc/proto-loader';

export interface ClusterMetadata {
  'version'?: (number | string | Long);
  'cluster_id'?: (string);
  'controller_id'?: (number);
  'live_brokers'?: (_sluice_v1_BrokerEndpoint)[];
  'topics'?: (_sluice_v1_TopicState)[];
  'controller_epoch'?: (number | string | Long);
}

export interface ClusterMetadata__Output {
  'version': (number);
  'cluster_id': (string);
  'controller_id': (number);
  'live_brokers': (_sluice_v1_BrokerEndpoint__Output)[];
  'topics': (_sluice_v1_TopicState__Output)[];
  'controller_epoch': (number);
}
