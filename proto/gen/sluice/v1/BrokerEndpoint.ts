// Original file: proto/sluice/v1/common.proto


export interface BrokerEndpoint {
  'broker_id'?: (number);
  'host'?: (string);
  'port'?: (number);
  'rack'?: (string);
}

export interface BrokerEndpoint__Output {
  'broker_id': (number);
  'host': (string);
  'port': (number);
  'rack': (string);
}
