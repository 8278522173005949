// Original file: proto/sluice/v1/controller.proto

import type { ErrorDetail as _sluice_v1_ErrorDetail, ErrorDetail__Output as _sluice_v1_ErrorDetail__Output } from '../../sluice/v1/ErrorDetail.ts';
import type { PartitionState as _sluice_v1_PartitionState, PartitionState__Output as _sluice_v1_PartitionState__Output } from '../../sluice/v1/PartitionState.ts';

export interface AlterPartitionResponse {
  'error'?: (_sluice_v1_ErrorDetail | null);
  'state'?: (_sluice_v1_PartitionState | null);
}

export interface AlterPartitionResponse__Output {
  'error': (_sluice_v1_ErrorDetail__Output | null);
  'state': (_sluice_v1_PartitionState__Output | null);
}
