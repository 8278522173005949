// Original file: proto/sluice/v1/controller.proto

import type { Long } from '@grpc/proto-loader';

export interface RegistrationAccepted {
  'broker_epoch'?: (number | string | Long);
  'heartbeat_interval_ms'?: (number);
  'session_timeout_ms'?: (number);
  'cluster_id'?: (string);
  'controller_id'?: (number);
}

export interface RegistrationAccepted__Output {
  'broker_epoch': (number);
  'heartbeat_interval_ms': (number);
  'session_timeout_ms': (number);
  'cluster_id': (string);
  'controller_id': (number);
}
