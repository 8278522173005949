// Original file: proto/sluice/v1/log.proto

import type { Long } from '@grpc/proto-loader';

export interface SubscribeRequest {
  'topic'?: (string);
  'partition'?: (number);
  'offset'?: (number | string | Long);
  'max_bytes'?: (number);
}

export interface SubscribeRequest__Output {
  'topic': (string);
  'partition': (number);
  'offset': (number);
  'max_bytes': (number);
}
