// Original file: proto/sluice/v1/metadata.proto

import type { ErrorDetail as _sluice_v1_ErrorDetail, ErrorDetail__Output as _sluice_v1_ErrorDetail__Output } from '../../sluice/v1/ErrorDetail.ts';
import type { PartitionMetadata as _sluice_v1_PartitionMetadata, PartitionMetadata__Output as _sluice_v1_PartitionMetadata__Output } from '../../sluice/v1/PartitionMetadata.ts';

export interface TopicMetadata {
  'name'?: (string);
  'topic_id'?: (string);
  'error'?: (_sluice_v1_ErrorDetail | null);
  'partitions'?: (_sluice_v1_PartitionMetadata)[];
}

export interface TopicMetadata__Output {
  'name': (string);
  'topic_id': (string);
  'error': (_sluice_v1_ErrorDetail__Output | null);
  'partitions': (_sluice_v1_PartitionMetadata__Output)[];
}
