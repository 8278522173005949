// Original file: proto/sluice/v1/admin.proto

import type { BrokerInfo as _sluice_v1_BrokerInfo, BrokerInfo__Output as _sluice_v1_BrokerInfo__Output } from '../../sluice/v1/BrokerInfo.ts';

export interface DescribeClusterResponse {
  'cluster_id'?: (string);
  'controller_id'?: (number);
  'brokers'?: (_sluice_v1_BrokerInfo)[];
}

export interface DescribeClusterResponse__Output {
  'cluster_id': (string);
  'controller_id': (number);
  'brokers': (_sluice_v1_BrokerInfo__Output)[];
}
