// The Sluice client library: what applications (and the CLI, tests and benchmarks) import.
export { Producer } from './producer.ts';
export { Consumer } from './consumer.ts';
export { Admin } from './admin.ts';
export type {
  AdminOptions,
  Acks,
  CommonClientOptions,
  Compression,
  ConsumerOptions,
  ProducerInterceptor,
  ProducerOptions,
} from './client-options.ts';
export type {
  AlterTopicInput,
  BrokerDescription,
  BrokerEndpointDescription,
  BrokerReplicas,
  BrokerStateName,
  ClusterDescription,
  CreateTopicInput,
  MetadataSnapshot,
  PartitionDescription,
  ReplicaDescription,
  TopicConfigInput,
  TopicDescription,
  TopicListing,
} from './admin.ts';
export type { ListOffsetsRequest, ListOffsetsResult, OffsetSpecInput } from './list-offsets.ts';
export type { ConsumerRecord, ProducerRecord, RecordHeader, RecordMetadata, TopicPartition } from './records.ts';
export { serializers, deserializers } from './serializers.ts';
export type { Deserializer, RawData, Serializer, SerializerName } from './serializers.ts';
export { partitioners } from './partitioner.ts';
export type { Partitioner } from './partitioner.ts';
export { SluiceError, isSluiceError } from '../common/errors.ts';
export type { Logger } from '../common/logger.ts';
export type { ErrorCode } from '../common/errors.ts';
