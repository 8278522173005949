// Original file: proto/sluice/v1/controller.proto

import type { ErrorDetail as _sluice_v1_ErrorDetail, ErrorDetail__Output as _sluice_v1_ErrorDetail__Output } from '../../sluice/v1/ErrorDetail.ts';

export interface ControlledShutdownResponse {
  'error'?: (_sluice_v1_ErrorDetail | null);
  'remaining_leaderships'?: (number);
}

export interface ControlledShutdownResponse__Output {
  'error': (_sluice_v1_ErrorDetail__Output | null);
  'remaining_leaderships': (number);
}
