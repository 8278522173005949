// Original file: proto/sluice/v1/log.proto

import type { Long } from '@grpc/proto-loader';

export interface InitProducerIdResponse {
  'producer_id'?: (number | string | Long);
  'producer_epoch'?: (number);
}

export interface InitProducerIdResponse__Output {
  'producer_id': (number);
  'producer_epoch': (number);
}
