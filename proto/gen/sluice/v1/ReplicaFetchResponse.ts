// Original file: proto/sluice/v1/replica.proto

import type { ReplicaFetchPartitionResult as _sluice_v1_ReplicaFetchPartitionResult, ReplicaFetchPartitionResult__Output as _sluice_v1_ReplicaFetchPartitionResult__Output } from '../../sluice/v1/ReplicaFetchPartitionResult.ts';
import type { Long } from '@grpc/proto-loader';

export interface ReplicaFetchResponse {
  'correlation_id'?: (number | string | Long);
  'partitions'?: (_sluice_v1_ReplicaFetchPartitionResult)[];
}

export interface ReplicaFetchResponse__Output {
  'correlation_id': (number);
  'partitions': (_sluice_v1_ReplicaFetchPartitionResult__Output)[];
}
