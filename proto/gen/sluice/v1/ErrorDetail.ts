// Original file: proto/sluice/v1/common.proto

import type { ErrorCode as _sluice_v1_ErrorCode, ErrorCode__Output as _sluice_v1_ErrorCode__Output } from '../../sluice/v1/ErrorCode.ts';
import type { Long } from '@grpc/proto-loader';

export interface ErrorDetail {
  'code'?: (_sluice_v1_ErrorCode);
  'message'?: (string);
  'topic'?: (string);
  'partition'?: (number);
  'leader_id'?: (number);
  'leader_address'?: (string);
  'leader_epoch'?: (number);
  'log_start_offset'?: (number | string | Long);
  'log_end_offset'?: (number | string | Long);
}

export interface ErrorDetail__Output {
  'code': (_sluice_v1_ErrorCode__Output);
  'message': (string);
  'topic': (string);
  'partition': (number);
  'leader_id': (number);
  'leader_address': (string);
  'leader_epoch': (number);
  'log_start_offset': (number);
  'log_end_offset': (number);
}
