// Original file: proto/sluice/v1/log.proto

import type { Acks as _sluice_v1_Acks, Acks__Output as _sluice_v1_Acks__Output } from '../../sluice/v1/Acks.ts';
import type { Long } from '@grpc/proto-loader';

export interface ProduceRequest {
  'topic'?: (string);
  'partition'?: (number);
  'acks'?: (_sluice_v1_Acks);
  'timeout_ms'?: (number);
  'records'?: (Buffer | Uint8Array | string);
  'correlation_id'?: (number | string | Long);
}

export interface ProduceRequest__Output {
  'topic': (string);
  'partition': (number);
  'acks': (_sluice_v1_Acks__Output);
  'timeout_ms': (number);
  'records': (Buffer);
  'correlation_id': (number);
}
