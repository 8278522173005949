// Original file: proto/sluice/v1/controller.proto

import type { BrokerRegistration as _sluice_v1_BrokerRegistration, BrokerRegistration__Output as _sluice_v1_BrokerRegistration__Output } from '../../sluice/v1/BrokerRegistration.ts';
import type { BrokerHeartbeat as _sluice_v1_BrokerHeartbeat, BrokerHeartbeat__Output as _sluice_v1_BrokerHeartbeat__Output } from '../../sluice/v1/BrokerHeartbeat.ts';

export interface BrokerSessionRequest {
  'register'?: (_sluice_v1_BrokerRegistration | null);
  'heartbeat'?: (_sluice_v1_BrokerHeartbeat | null);
  'kind'?: "register"|"heartbeat";
}

export interface BrokerSessionRequest__Output {
  'register'?: (_sluice_v1_BrokerRegistration__Output | null);
  'heartbeat'?: (_sluice_v1_BrokerHeartbeat__Output | null);
  'kind'?: "register"|"heartbeat";
}
