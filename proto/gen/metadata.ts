import type * as grpc from '@grpc/grpc-js';
import type { EnumTypeDefinition, MessageTypeDefinition } from '@grpc/proto-loader';

import type { BrokerEndpoint as _sluice_v1_BrokerEndpoint, BrokerEndpoint__Output as _sluice_v1_BrokerEndpoint__Output } from './sluice/v1/BrokerEndpoint.ts';
import type { ErrorDetail as _sluice_v1_ErrorDetail, ErrorDetail__Output as _sluice_v1_ErrorDetail__Output } from './sluice/v1/ErrorDetail.ts';
import type { MetadataRequest as _sluice_v1_MetadataRequest, MetadataRequest__Output as _sluice_v1_MetadataRequest__Output } from './sluice/v1/MetadataRequest.ts';
import type { MetadataResponse as _sluice_v1_MetadataResponse, MetadataResponse__Output as _sluice_v1_MetadataResponse__Output } from './sluice/v1/MetadataResponse.ts';
import type { MetadataServiceClient as _sluice_v1_MetadataServiceClient, MetadataServiceDefinition as _sluice_v1_MetadataServiceDefinition } from './sluice/v1/MetadataService.ts';
import type { PartitionMetadata as _sluice_v1_PartitionMetadata, PartitionMetadata__Output as _sluice_v1_PartitionMetadata__Output } from './sluice/v1/PartitionMetadata.ts';
import type { PartitionState as _sluice_v1_PartitionState, PartitionState__Output as _sluice_v1_PartitionState__Output } from './sluice/v1/PartitionState.ts';
import type { TopicMetadata as _sluice_v1_TopicMetadata, TopicMetadata__Output as _sluice_v1_TopicMetadata__Output } from './sluice/v1/TopicMetadata.ts';
import type { TopicState as _sluice_v1_TopicState, TopicState__Output as _sluice_v1_TopicState__Output } from './sluice/v1/TopicState.ts';

type SubtypeConstructor<Constructor extends new (...args: any) => any, Subtype> = {
  new(...args: ConstructorParameters<Constructor>): Subtype;
};

export interface ProtoGrpcType {
  sluice: {
    v1: {
      BrokerEndpoint: MessageTypeDefinition<_sluice_v1_BrokerEndpoint, _sluice_v1_BrokerEndpoint__Output>
      ErrorCode: EnumTypeDefinition
      ErrorDetail: MessageTypeDefinition<_sluice_v1_ErrorDetail, _sluice_v1_ErrorDetail__Output>
      MetadataRequest: MessageTypeDefinition<_sluice_v1_MetadataRequest, _sluice_v1_MetadataRequest__Output>
      MetadataResponse: MessageTypeDefinition<_sluice_v1_MetadataResponse, _sluice_v1_MetadataResponse__Output>
      MetadataService: SubtypeConstructor<typeof grpc.Client, _sluice_v1_MetadataServiceClient> & { service: _sluice_v1_MetadataServiceDefinition }
      PartitionMetadata: MessageTypeDefinition<_sluice_v1_PartitionMetadata, _sluice_v1_PartitionMetadata__Output>
      PartitionState: MessageTypeDefinition<_sluice_v1_PartitionState, _sluice_v1_PartitionState__Output>
      TopicMetadata: MessageTypeDefinition<_sluice_v1_TopicMetadata, _sluice_v1_TopicMetadata__Output>
      TopicState: MessageTypeDefinition<_sluice_v1_TopicState, _sluice_v1_TopicState__Output>
    }
  }
}

