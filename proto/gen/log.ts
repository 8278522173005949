import type * as grpc from '@grpc/grpc-js';
import type { EnumTypeDefinition, MessageTypeDefinition } from '@grpc/proto-loader';

import type { BrokerEndpoint as _sluice_v1_BrokerEndpoint, BrokerEndpoint__Output as _sluice_v1_BrokerEndpoint__Output } from './sluice/v1/BrokerEndpoint.ts';
import type { ErrorDetail as _sluice_v1_ErrorDetail, ErrorDetail__Output as _sluice_v1_ErrorDetail__Output } from './sluice/v1/ErrorDetail.ts';
import type { FetchPartition as _sluice_v1_FetchPartition, FetchPartition__Output as _sluice_v1_FetchPartition__Output } from './sluice/v1/FetchPartition.ts';
import type { FetchPartitionResult as _sluice_v1_FetchPartitionResult, FetchPartitionResult__Output as _sluice_v1_FetchPartitionResult__Output } from './sluice/v1/FetchPartitionResult.ts';
import type { FetchRequest as _sluice_v1_FetchRequest, FetchRequest__Output as _sluice_v1_FetchRequest__Output } from './sluice/v1/FetchRequest.ts';
import type { FetchResponse as _sluice_v1_FetchResponse, FetchResponse__Output as _sluice_v1_FetchResponse__Output } from './sluice/v1/FetchResponse.ts';
import type { InitProducerIdRequest as _sluice_v1_InitProducerIdRequest, InitProducerIdRequest__Output as _sluice_v1_InitProducerIdRequest__Output } from './sluice/v1/InitProducerIdRequest.ts';
import type { InitProducerIdResponse as _sluice_v1_InitProducerIdResponse, InitProducerIdResponse__Output as _sluice_v1_InitProducerIdResponse__Output } from './sluice/v1/InitProducerIdResponse.ts';
import type { ListOffsetsPartition as _sluice_v1_ListOffsetsPartition, ListOffsetsPartition__Output as _sluice_v1_ListOffsetsPartition__Output } from './sluice/v1/ListOffsetsPartition.ts';
import type { ListOffsetsPartitionResult as _sluice_v1_ListOffsetsPartitionResult, ListOffsetsPartitionResult__Output as _sluice_v1_ListOffsetsPartitionResult__Output } from './sluice/v1/ListOffsetsPartitionResult.ts';
import type { ListOffsetsRequest as _sluice_v1_ListOffsetsRequest, ListOffsetsRequest__Output as _sluice_v1_ListOffsetsRequest__Output } from './sluice/v1/ListOffsetsRequest.ts';
import type { ListOffsetsResponse as _sluice_v1_ListOffsetsResponse, ListOffsetsResponse__Output as _sluice_v1_ListOffsetsResponse__Output } from './sluice/v1/ListOffsetsResponse.ts';
import type { LogServiceClient as _sluice_v1_LogServiceClient, LogServiceDefinition as _sluice_v1_LogServiceDefinition } from './sluice/v1/LogService.ts';
import type { PartitionState as _sluice_v1_PartitionState, PartitionState__Output as _sluice_v1_PartitionState__Output } from './sluice/v1/PartitionState.ts';
import type { ProduceRequest as _sluice_v1_ProduceRequest, ProduceRequest__Output as _sluice_v1_ProduceRequest__Output } from './sluice/v1/ProduceRequest.ts';
import type { ProduceResponse as _sluice_v1_ProduceResponse, ProduceResponse__Output as _sluice_v1_ProduceResponse__Output } from './sluice/v1/ProduceResponse.ts';
import type { SubscribeRequest as _sluice_v1_SubscribeRequest, SubscribeRequest__Output as _sluice_v1_SubscribeRequest__Output } from './sluice/v1/SubscribeRequest.ts';
import type { SubscribeResponse as _sluice_v1_SubscribeResponse, SubscribeResponse__Output as _sluice_v1_SubscribeResponse__Output } from './sluice/v1/SubscribeResponse.ts';
import type { TopicState as _sluice_v1_TopicState, TopicState__Output as _sluice_v1_TopicState__Output } from './sluice/v1/TopicState.ts';

type SubtypeConstructor<Constructor extends new (...args: any) => any, Subtype> = {
  new(...args: ConstructorParameters<Constructor>): Subtype;
};

export interface ProtoGrpcType {
  sluice: {
    v1: {
      Acks: EnumTypeDefinition
      BrokerEndpoint: MessageTypeDefinition<_sluice_v1_BrokerEndpoint, _sluice_v1_BrokerEndpoint__Output>
      ErrorCode: EnumTypeDefinition
      ErrorDetail: MessageTypeDefinition<_sluice_v1_ErrorDetail, _sluice_v1_ErrorDetail__Output>
      FetchPartition: MessageTypeDefinition<_sluice_v1_FetchPartition, _sluice_v1_FetchPartition__Output>
      FetchPartitionResult: MessageTypeDefinition<_sluice_v1_FetchPartitionResult, _sluice_v1_FetchPartitionResult__Output>
      FetchRequest: MessageTypeDefinition<_sluice_v1_FetchRequest, _sluice_v1_FetchRequest__Output>
      FetchResponse: MessageTypeDefinition<_sluice_v1_FetchResponse, _sluice_v1_FetchResponse__Output>
      InitProducerIdRequest: MessageTypeDefinition<_sluice_v1_InitProducerIdRequest, _sluice_v1_InitProducerIdRequest__Output>
      InitProducerIdResponse: MessageTypeDefinition<_sluice_v1_InitProducerIdResponse, _sluice_v1_InitProducerIdResponse__Output>
      ListOffsetsPartition: MessageTypeDefinition<_sluice_v1_ListOffsetsPartition, _sluice_v1_ListOffsetsPartition__Output>
      ListOffsetsPartitionResult: MessageTypeDefinition<_sluice_v1_ListOffsetsPartitionResult, _sluice_v1_ListOffsetsPartitionResult__Output>
      ListOffsetsRequest: MessageTypeDefinition<_sluice_v1_ListOffsetsRequest, _sluice_v1_ListOffsetsRequest__Output>
      ListOffsetsResponse: MessageTypeDefinition<_sluice_v1_ListOffsetsResponse, _sluice_v1_ListOffsetsResponse__Output>
      LogService: SubtypeConstructor<typeof grpc.Client, _sluice_v1_LogServiceClient> & { service: _sluice_v1_LogServiceDefinition }
      OffsetSpec: EnumTypeDefinition
      PartitionState: MessageTypeDefinition<_sluice_v1_PartitionState, _sluice_v1_PartitionState__Output>
      ProduceRequest: MessageTypeDefinition<_sluice_v1_ProduceRequest, _sluice_v1_ProduceRequest__Output>
      ProduceResponse: MessageTypeDefinition<_sluice_v1_ProduceResponse, _sluice_v1_ProduceResponse__Output>
      SubscribeRequest: MessageTypeDefinition<_sluice_v1_SubscribeRequest, _sluice_v1_SubscribeRequest__Output>
      SubscribeResponse: MessageTypeDefinition<_sluice_v1_SubscribeResponse, _sluice_v1_SubscribeResponse__Output>
      TopicState: MessageTypeDefinition<_sluice_v1_TopicState, _sluice_v1_TopicState__Output>
    }
  }
}

