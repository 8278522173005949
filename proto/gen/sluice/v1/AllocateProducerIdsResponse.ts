// Original file: proto/sluice/v1/controller.proto

import type { ErrorDetail as _sluice_v1_ErrorDetail, ErrorDetail__Output as _sluice_v1_ErrorDetail__Output } from '../../sluice/v1/ErrorDetail.ts';
import type { Long } from '@grpc/proto-loader';

export interface AllocateProducerIdsResponse {
  'error'?: (_sluice_v1_ErrorDetail | null);
  'first_producer_id'?: (number | string | Long);
  'count'?: (number);
}

export interface AllocateProducerIdsResponse__Output {
  'error': (_sluice_v1_ErrorDetail__Output | null);
  'first_producer_id': (number);
  'count': (number);
}
