// Original file: proto/sluice/v1/common.proto

import type { PartitionState as _sluice_v1_PartitionState, PartitionState__Output as _sluice_v1_PartitionState__Output } from '../../sluice/v1/PartitionState.ts';

export interface TopicState {
  'name'?: (string);
  'topic_id'?: (string);
  'config'?: ({[key: string]: string});
  'partitions'?: (_sluice_v1_PartitionState)[];
}

export interface TopicState__Output {
  'name': (string);
  'topic_id': (string);
  'config': ({[key: string]: string});
  'partitions': (_sluice_v1_PartitionState__Output)[];
}
