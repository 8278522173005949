// Original file: proto/sluice/v1/log.proto

import type { ListOffsetsPartition as _sluice_v1_ListOffsetsPartition, ListOffsetsPartition__Output as _sluice_v1_ListOffsetsPartition__Output } from '../../sluice/v1/ListOffsetsPartition.ts';

export interface ListOffsetsRequest {
  'partitions'?: (_sluice_v1_ListOffsetsPartition)[];
}

export interface ListOffsetsRequest__Output {
  'partitions': (_sluice_v1_ListOffsetsPartition__Output)[];
}
