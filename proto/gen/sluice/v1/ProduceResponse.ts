// Original file: proto/sluice/v1/log.proto

import type { ErrorDetail as _sluice_v1_ErrorDetail, ErrorDetail__Output as _sluice_v1_ErrorDetail__Output } from '../../sluice/v1/ErrorDetail.ts';
import type { Long } from '@grpc/proto-loader';

export interface ProduceResponse {
  'correlation_id'?: (number | string | Long);
  'error'?: (_sluice_v1_ErrorDetail | null);
  'base_offset'?: (number | string | Long);
  'log_start_offset'?: (number | string | Long);
  'duplicate'?: (boolean);
}

export interface ProduceResponse__Output {
  'correlation_id': (number);
  'error': (_sluice_v1_ErrorDetail__Output | null);
  'base_offset': (number);
  'log_start_offset': (number);
  'duplicate': (boolean);
}
