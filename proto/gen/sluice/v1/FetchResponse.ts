// Original file: proto/sluice/v1/log.proto

import type { FetchPartitionResult as _sluice_v1_FetchPartitionResult, FetchPartitionResult__Output as _sluice_v1_FetchPartitionResult__Output } from '../../sluice/v1/FetchPartitionResult.ts';

export interface FetchResponse {
  'partitions'?: (_sluice_v1_FetchPartitionResult)[];
}

export interface FetchResponse__Output {
  'partitions': (_sluice_v1_FetchPartitionResult__Output)[];
}
