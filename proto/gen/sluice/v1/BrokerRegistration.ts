// Original file: proto/sluice/v1/controller.proto


export interface BrokerRegistration {
  'broker_id'?: (number);
  'incarnation_id'?: (string);
  'host'?: (string);
  'port'?: (number);
  'rack'?: (string);
}

export interface BrokerRegistration__Output {
  'broker_id': (number);
  'incarnation_id': (string);
  'host': (string);
  'port': (number);
  'rack': (string);
}
