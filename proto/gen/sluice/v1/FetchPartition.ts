// Original file: proto/sluice/v1/log.proto

import type { Long } from '@grpc/proto-loader';

export interface FetchPartition {
  'topic'?: (string);
  'partition'?: (number);
  'fetch_offset'?: (number | string | Long);
  'max_bytes'?: (number);
}

export interface FetchPartition__Output {
  'topic': (string);
  'partition': (number);
  'fetch_offset': (number);
  'max_bytes': (number);
}
