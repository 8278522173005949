// Original file: proto/sluice/v1/metadata.proto


export interface PartitionMetadata {
  'partition'?: (number);
  'leader_id'?: (number);
  'leader_epoch'?: (number);
  'replicas'?: (number)[];
  'isr'?: (number)[];
  'offline_replicas'?: (number)[];
}

export interface PartitionMetadata__Output {
  'partition': (number);
  'leader_id': (number);
  'leader_epoch': (number);
  'replicas': (number)[];
  'isr': (number)[];
  'offline_replicas': (number)[];
}
