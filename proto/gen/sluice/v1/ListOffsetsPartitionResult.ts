// Original file: proto/sluice/v1/log.proto

import type { ErrorDetail as _sluice_v1_ErrorDetail, ErrorDetail__Output as _sluice_v1_ErrorDetail__Output } from '../../sluice/v1/ErrorDetail.ts';
import type { Long } from '@grpc/proto-loader';

export interface ListOffsetsPartitionResult {
  'topic'?: (string);
  'partition'?: (number);
  'error'?: (_sluice_v1_ErrorDetail | null);
  'offset'?: (number | string | Long);
  'timestamp'?: (number | string | Long);
  'leader_epoch'?: (number);
}

export interface ListOffsetsPartitionResult__Output {
  'topic': (string);
  'partition': (number);
  'error': (_sluice_v1_ErrorDetail__Output | null);
  'offset': (number);
  'timestamp': (number);
  'leader_epoch': (number);
}
