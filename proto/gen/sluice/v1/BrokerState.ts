// Original file: proto/sluice/v1/admin.proto

export const BrokerState = {
  BROKER_STATE_UNSPECIFIED: 'BROKER_STATE_UNSPECIFIED',
  BROKER_STATE_ACTIVE: 'BROKER_STATE_ACTIVE',
  BROKER_STATE_SHUTTING_DOWN: 'BROKER_STATE_SHUTTING_DOWN',
  BROKER_STATE_FENCED: 'BROKER_STATE_FENCED',
} as const;

export type BrokerState =
  | 'BROKER_STATE_UNSPECIFIED'
  | 0
  | 'BROKER_STATE_ACTIVE'
  | 1
  | 'BROKER_STATE_SHUTTING_DOWN'
  | 2
  | 'BROKER_STATE_FENCED'
  | 3

export type BrokerState__Output = typeof BrokerState[keyof typeof BrokerState]
