// Original file: proto/sluice/v1/admin.proto

import type { Long } from '@grpc/proto-loader';

export interface ReplicaInfo {
  'topic'?: (string);
  'partition'?: (number);
  'is_leader'?: (boolean);
  'leader_epoch'?: (number);
  'log_start_offset'?: (number | string | Long);
  'high_watermark'?: (number | string | Long);
  'log_end_offset'?: (number | string | Long);
  'size_bytes'?: (number | string | Long);
}

export interface ReplicaInfo__Output {
  'topic': (string);
  'partition': (number);
  'is_leader': (boolean);
  'leader_epoch': (number);
  'log_start_offset': (number);
  'high_watermark': (number);
  'log_end_offset': (number);
  'size_bytes': (number);
}
