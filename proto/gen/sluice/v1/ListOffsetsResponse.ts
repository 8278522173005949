// Original file: proto/sluice/v1/log.proto

import type { ListOffsetsPartitionResult as _sluice_v1_ListOffsetsPartitionResult, ListOffsetsPartitionResult__Output as _sluice_v1_ListOffsetsPartitionResult__Output } from '../../sluice/v1/ListOffsetsPartitionResult.ts';

export interface ListOffsetsResponse {
  'partitions'?: (_sluice_v1_ListOffsetsPartitionResult)[];
}

export interface ListOffsetsResponse__Output {
  'partitions': (_sluice_v1_ListOffsetsPartitionResult__Output)[];
}
