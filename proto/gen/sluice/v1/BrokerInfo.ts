// Original file: proto/sluice/v1/admin.proto

import type { BrokerEndpoint as _sluice_v1_BrokerEndpoint, BrokerEndpoint__Output as _sluice_v1_BrokerEndpoint__Output } from '../../sluice/v1/BrokerEndpoint.ts';
import type { BrokerState as _sluice_v1_BrokerState, BrokerState__Output as _sluice_v1_BrokerState__Output } from '../../sluice/v1/BrokerState.ts';
import type { Long } from '@grpc/proto-loader';

export interface BrokerInfo {
  'endpoint'?: (_sluice_v1_BrokerEndpoint | null);
  'state'?: (_sluice_v1_BrokerState);
  'broker_epoch'?: (number | string | Long);
}

export interface BrokerInfo__Output {
  'endpoint': (_sluice_v1_BrokerEndpoint__Output | null);
  'state': (_sluice_v1_BrokerState__Output);
  'broker_epoch': (number);
}
