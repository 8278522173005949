// Original file: proto/sluice/v1/controller.proto

import type { Long } from '@grpc/proto-loader';

export interface BrokerHeartbeat {
  'broker_id'?: (number);
  'broker_epoch'?: (number | string | Long);
  'metadata_version'?: (number | string | Long);
}

export interface BrokerHeartbeat__Output {
  'broker_id': (number);
  'broker_epoch': (number);
  'metadata_version': (number);
}
