// Original file: proto/sluice/v1/controller.proto

import type { RegistrationAccepted as _sluice_v1_RegistrationAccepted, RegistrationAccepted__Output as _sluice_v1_RegistrationAccepted__Output } from '../../sluice/v1/RegistrationAccepted.ts';
import type { ClusterMetadata as _sluice_v1_ClusterMetadata, ClusterMetadata__Output as _sluice_v1_ClusterMetadata__Output } from '../../sluice/v1/ClusterMetadata.ts';
import type { ErrorDetail as _sluice_v1_ErrorDetail, ErrorDetail__Output as _sluice_v1_ErrorDetail__Output } from '../../sluice/v1/ErrorDetail.ts';

export interface BrokerSessionResponse {
  'registered'?: (_sluice_v1_RegistrationAccepted | null);
  'metadata'?: (_sluice_v1_ClusterMetadata | null);
  'error'?: (_sluice_v1_ErrorDetail | null);
  'kind'?: "registered"|"metadata"|"error";
}

export interface BrokerSessionResponse__Output {
  'registered'?: (_sluice_v1_RegistrationAccepted__Output | null);
  'metadata'?: (_sluice_v1_ClusterMetadata__Output | null);
  'error'?: (_sluice_v1_ErrorDetail__Output | null);
  'kind'?: "registered"|"metadata"|"error";
}
