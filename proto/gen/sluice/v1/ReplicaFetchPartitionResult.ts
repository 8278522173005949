// Original file: proto/sluice/v1/replica.proto

import type { ErrorDetail as _sluice_v1_ErrorDetail, ErrorDetail__Output as _sluice_v1_ErrorDetail__Output } from '../../sluice/v1/ErrorDetail.ts';
import type { DivergingEpoch as _sluice_v1_DivergingEpoch, DivergingEpoch__Output as _sluice_v1_DivergingEpoch__Output } from '../../sluice/v1/DivergingEpoch.ts';
import type { Long } from '@grpc/proto-loader';

export interface ReplicaFetchPartitionResult {
  'topic'?: (string);
  'partition'?: (number);
  'error'?: (_sluice_v1_ErrorDetail | null);
  'high_watermark'?: (number | string | Long);
  'log_start_offset'?: (number | string | Long);
  'log_end_offset'?: (number | string | Long);
  'diverging_epoch'?: (_sluice_v1_DivergingEpoch | null);
  'records'?: (Buffer | Uint8Array | string);
}

export interface ReplicaFetchPartitionResult__Output {
  'topic': (string);
  'partition': (number);
  'error': (_sluice_v1_ErrorDetail__Output | null);
  'high_watermark': (number);
  'log_start_offset': (number);
  'log_end_offset': (number);
  'diverging_epoch': (_sluice_v1_DivergingEpoch__Output | null);
  'records': (Buffer);
}
