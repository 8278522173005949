// Original file: proto/sluice/v1/replica.proto

import type { Long } from '@grpc/proto-loader';

export interface DivergingEpoch {
  'epoch'?: (number);
  'end_offset'?: (number | string | Long);
}

export interface DivergingEpoch__Output {
  'epoch': (number);
  'end_offset': (number);
}
