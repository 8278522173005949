// Original file: proto/sluice/v1/log.proto

import type { ErrorDetail as _sluice_v1_ErrorDetail, ErrorDetail__Output as _sluice_v1_ErrorDetail__Output } from '../../sluice/v1/ErrorDetail.ts';
import type { Long } from '@grpc/proto-loader';

export interface FetchPartitionResult {
  'topic'?: (string);
  'partition'?: (number);
  'error'?: (_sluice_v1_ErrorDetail | null);
  'high_watermark'?: (number | string | Long);
  'log_start_offset'?: (number | string | Long);
  'records'?: (Buffer | Uint8Array | string);
}

export interface FetchPartitionResult__Output {
  'topic': (string);
  'partition': (number);
  'error': (_sluice_v1_ErrorDetail__Output | null);
  'high_watermark': (number);
  'log_start_offset': (number);
  'records': (Buffer);
}
