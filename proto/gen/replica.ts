import type * as grpc from '@grpc/grpc-js';
import type { EnumTypeDefinition, MessageTypeDefinition } from '@grpc/proto-loader';

import type { BrokerEndpoint as _sluice_v1_BrokerEndpoint, BrokerEndpoint__Output as _sluice_v1_BrokerEndpoint__Output } from './sluice/v1/BrokerEndpoint.ts';
import type { DivergingEpoch as _sluice_v1_DivergingEpoch, DivergingEpoch__Output as _sluice_v1_DivergingEpoch__Output } from './sluice/v1/DivergingEpoch.ts';
import type { ErrorDetail as _sluice_v1_ErrorDetail, ErrorDetail__Output as _sluice_v1_ErrorDetail__Output } from './sluice/v1/ErrorDetail.ts';
import type { PartitionState as _sluice_v1_PartitionState, PartitionState__Output as _sluice_v1_PartitionState__Output } from './sluice/v1/PartitionState.ts';
import type { ReplicaFetchPartition as _sluice_v1_ReplicaFetchPartition, ReplicaFetchPartition__Output as _sluice_v1_ReplicaFetchPartition__Output } from './sluice/v1/ReplicaFetchPartition.ts';
import type { ReplicaFetchPartitionResult as _sluice_v1_ReplicaFetchPartitionResult, ReplicaFetchPartitionResult__Output as _sluice_v1_ReplicaFetchPartitionResult__Output } from './sluice/v1/ReplicaFetchPartitionResult.ts';
import type { ReplicaFetchRequest as _sluice_v1_ReplicaFetchRequest, ReplicaFetchRequest__Output as _sluice_v1_ReplicaFetchRequest__Output } from './sluice/v1/ReplicaFetchRequest.ts';
import type { ReplicaFetchResponse as _sluice_v1_ReplicaFetchResponse, ReplicaFetchResponse__Output as _sluice_v1_ReplicaFetchResponse__Output } from './sluice/v1/ReplicaFetchResponse.ts';
import type { ReplicaServiceClient as _sluice_v1_ReplicaServiceClient, ReplicaServiceDefinition as _sluice_v1_ReplicaServiceDefinition } from './sluice/v1/ReplicaService.ts';
import type { TopicState as _sluice_v1_TopicState, TopicState__Output as _sluice_v1_TopicState__Output } from './sluice/v1/TopicState.ts';

type SubtypeConstructor<Constructor extends new (...args: any) => any, Subtype> = {
  new(...args: ConstructorParameters<Constructor>): Subtype;
};

export interface ProtoGrpcType {
  sluice: {
    v1: {
      BrokerEndpoint: MessageTypeDefinition<_sluice_v1_BrokerEndpoint, _sluice_v1_BrokerEndpoint__Output>
      DivergingEpoch: MessageTypeDefinition<_sluice_v1_DivergingEpoch, _sluice_v1_DivergingEpoch__Output>
      ErrorCode: EnumTypeDefinition
      ErrorDetail: MessageTypeDefinition<_sluice_v1_ErrorDetail, _sluice_v1_ErrorDetail__Output>
      PartitionState: MessageTypeDefinition<_sluice_v1_PartitionState, _sluice_v1_PartitionState__Output>
      ReplicaFetchPartition: MessageTypeDefinition<_sluice_v1_ReplicaFetchPartition, _sluice_v1_ReplicaFetchPartition__Output>
      ReplicaFetchPartitionResult: MessageTypeDefinition<_sluice_v1_ReplicaFetchPartitionResult, _sluice_v1_ReplicaFetchPartitionResult__Output>
      ReplicaFetchRequest: MessageTypeDefinition<_sluice_v1_ReplicaFetchRequest, _sluice_v1_ReplicaFetchRequest__Output>
      ReplicaFetchResponse: MessageTypeDefinition<_sluice_v1_ReplicaFetchResponse, _sluice_v1_ReplicaFetchResponse__Output>
      ReplicaService: SubtypeConstructor<typeof grpc.Client, _sluice_v1_ReplicaServiceClient> & { service: _sluice_v1_ReplicaServiceDefinition }
      TopicState: MessageTypeDefinition<_sluice_v1_TopicState, _sluice_v1_TopicState__Output>
    }
  }
}

