// Original file: proto/sluice/v1/admin.proto

import type { ReplicaInfo as _sluice_v1_ReplicaInfo, ReplicaInfo__Output as _sluice_v1_ReplicaInfo__Output } from '../../sluice/v1/ReplicaInfo.ts';

export interface DescribeReplicasResponse {
  'broker_id'?: (number);
  'replicas'?: (_sluice_v1_ReplicaInfo)[];
}

export interface DescribeReplicasResponse__Output {
  'broker_id': (number);
  'replicas': (_sluice_v1_ReplicaInfo__Output)[];
}
