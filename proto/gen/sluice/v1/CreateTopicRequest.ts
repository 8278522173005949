// Original file: proto/sluice/v1/admin.proto


export interface CreateTopicRequest {
  'name'?: (string);
  'partitions'?: (number);
  'replication_factor'?: (number);
  'config'?: ({[key: string]: string});
  'validate_only'?: (boolean);
}

export interface CreateTopicRequest__Output {
  'name': (string);
  'partitions': (number);
  'replication_factor': (number);
  'config': ({[key: string]: string});
  'validate_only': (boolean);
}
