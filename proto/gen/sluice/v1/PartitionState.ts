// Original file: proto/sluice/v1/common.proto


export interface PartitionState {
  'partition'?: (number);
  'replicas'?: (number)[];
  'leader'?: (number);
  'leader_epoch'?: (number);
  'isr'?: (number)[];
  'partition_epoch'?: (number);
  'adding_replicas'?: (number)[];
  'removing_replicas'?: (number)[];
  'last_unclean_leader_epoch'?: (number);
}

export interface PartitionState__Output {
  'partition': (number);
  'replicas': (number)[];
  'leader': (number);
  'leader_epoch': (number);
  'isr': (number)[];
  'partition_epoch': (number);
  'adding_replicas': (number)[];
  'removing_replicas': (number)[];
  'last_unclean_leader_epoch': (number);
}
