// Original file: proto/sluice/v1/replica.proto

import type { Long } from '@grpc/proto-loader';

export interface ReplicaFetchPartition {
  'topic'?: (string);
  'partition'?: (number);
  'fetch_offset'?: (number | string | Long);
  'last_fetched_epoch'?: (number);
  'current_leader_epoch'?: (number);
  'log_start_offset'?: (number | string | Long);
  'max_bytes'?: (number);
}

export interface ReplicaFetchPartition__Output {
  'topic': (string);
  'partition': (number);
  'fetch_offset': (number);
  'last_fetched_epoch': (number);
  'current_leader_epoch': (number);
  'log_start_offset': (number);
  'max_bytes': (number);
}
