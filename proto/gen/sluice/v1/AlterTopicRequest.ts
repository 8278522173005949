// Original file: proto/sluice/v1/admin.proto


export interface AlterTopicRequest {
  'name'?: (string);
  'partitions'?: (number);
  'replication_factor'?: (number);
  'config'?: ({[key: string]: string});
  'replace_config'?: (boolean);
  'validate_only'?: (boolean);
}

export interface AlterTopicRequest__Output {
  'name': (string);
  'partitions': (number);
  'replication_factor': (number);
  'config': ({[key: string]: string});
  'replace_config': (boolean);
  'validate_only': (boolean);
}
