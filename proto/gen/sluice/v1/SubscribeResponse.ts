// Original file: proto/sluice/v1/log.proto

import type { Long } from '@grpc/proto-loader';

export interface SubscribeResponse {
  'high_watermark'?: (number | string | Long);
  'log_start_offset'?: (number | string | Long);
  'records'?: (Buffer | Uint8Array | string);
}

export interface SubscribeResponse__Output {
  'high_watermark': (number);
  'log_start_offset': (number);
  'records': (Buffer);
}
