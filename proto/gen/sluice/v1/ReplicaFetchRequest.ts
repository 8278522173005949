// Original file: proto/sluice/v1/replica.proto

import type { ReplicaFetchPartition as _sluice_v1_ReplicaFetchPartition, ReplicaFetchPartition__Output as _sluice_v1_ReplicaFetchPartition__Output } from '../../sluice/v1/ReplicaFetchPartition.ts';
import type { Long } from '@grpc/proto-loader';

export interface ReplicaFetchRequest {
  'correlation_id'?: (number | string | Long);
  'replica_id'?: (number);
  'broker_epoch'?: (number | string | Long);
  'max_wait_ms'?: (number);
  'min_bytes'?: (number);
  'max_bytes'?: (number);
  'partitions'?: (_sluice_v1_ReplicaFetchPartition)[];
}

export interface ReplicaFetchRequest__Output {
  'correlation_id': (number);
  'replica_id': (number);
  'broker_epoch': (number);
  'max_wait_ms': (number);
  'min_bytes': (number);
  'max_bytes': (number);
  'partitions': (_sluice_v1_ReplicaFetchPartition__Output)[];
}
