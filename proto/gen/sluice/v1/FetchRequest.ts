// Original file: proto/sluice/v1/log.proto

import type { FetchPartition as _sluice_v1_FetchPartition, FetchPartition__Output as _sluice_v1_FetchPartition__Output } from '../../sluice/v1/FetchPartition.ts';

export interface FetchRequest {
  'partitions'?: (_sluice_v1_FetchPartition)[];
  'max_wait_ms'?: (number);
  'min_bytes'?: (number);
  'max_bytes'?: (number);
}

export interface FetchRequest__Output {
  'partitions': (_sluice_v1_FetchPartition__Output)[];
  'max_wait_ms': (number);
  'min_bytes': (number);
  'max_bytes': (number);
}
