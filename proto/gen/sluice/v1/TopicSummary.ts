// Original file: proto/sluice/v1/admin.proto


export interface TopicSummary {
  'name'?: (string);
  'topic_id'?: (string);
  'partitions'?: (number);
  'replication_factor'?: (number);
  'under_replicated_partitions'?: (number);
  'offline_partitions'?: (number);
}

export interface TopicSummary__Output {
  'name': (string);
  'topic_id': (string);
  'partitions': (number);
  'replication_factor': (number);
  'under_replicated_partitions': (number);
  'offline_partitions': (number);
}
