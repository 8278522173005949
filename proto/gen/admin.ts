import type * as grpc from '@grpc/grpc-js';
import type { EnumTypeDefinition, MessageTypeDefinition } from '@grpc/proto-loader';

import type { AdminServiceClient as _sluice_v1_AdminServiceClient, AdminServiceDefinition as _sluice_v1_AdminServiceDefinition } from './sluice/v1/AdminService.ts';
import type { AlterTopicRequest as _sluice_v1_AlterTopicRequest, AlterTopicRequest__Output as _sluice_v1_AlterTopicRequest__Output } from './sluice/v1/AlterTopicRequest.ts';
import type { AlterTopicResponse as _sluice_v1_AlterTopicResponse, AlterTopicResponse__Output as _sluice_v1_AlterTopicResponse__Output } from './sluice/v1/AlterTopicResponse.ts';
import type { BrokerEndpoint as _sluice_v1_BrokerEndpoint, BrokerEndpoint__Output as _sluice_v1_BrokerEndpoint__Output } from './sluice/v1/BrokerEndpoint.ts';
import type { BrokerInfo as _sluice_v1_BrokerInfo, BrokerInfo__Output as _sluice_v1_BrokerInfo__Output } from './sluice/v1/BrokerInfo.ts';
import type { CreateTopicRequest as _sluice_v1_CreateTopicRequest, CreateTopicRequest__Output as _sluice_v1_CreateTopicRequest__Output } from './sluice/v1/CreateTopicRequest.ts';
import type { CreateTopicResponse as _sluice_v1_CreateTopicResponse, CreateTopicResponse__Output as _sluice_v1_CreateTopicResponse__Output } from './sluice/v1/CreateTopicResponse.ts';
import type { DeleteTopicRequest as _sluice_v1_DeleteTopicRequest, DeleteTopicRequest__Output as _sluice_v1_DeleteTopicRequest__Output } from './sluice/v1/DeleteTopicRequest.ts';
import type { DeleteTopicResponse as _sluice_v1_DeleteTopicResponse, DeleteTopicResponse__Output as _sluice_v1_DeleteTopicResponse__Output } from './sluice/v1/DeleteTopicResponse.ts';
import type { DescribeClusterRequest as _sluice_v1_DescribeClusterRequest, DescribeClusterRequest__Output as _sluice_v1_DescribeClusterRequest__Output } from './sluice/v1/DescribeClusterRequest.ts';
import type { DescribeClusterResponse as _sluice_v1_DescribeClusterResponse, DescribeClusterResponse__Output as _sluice_v1_DescribeClusterResponse__Output } from './sluice/v1/DescribeClusterResponse.ts';
import type { DescribeReplicasRequest as _sluice_v1_DescribeReplicasRequest, DescribeReplicasRequest__Output as _sluice_v1_DescribeReplicasRequest__Output } from './sluice/v1/DescribeReplicasRequest.ts';
import type { DescribeReplicasResponse as _sluice_v1_DescribeReplicasResponse, DescribeReplicasResponse__Output as _sluice_v1_DescribeReplicasResponse__Output } from './sluice/v1/DescribeReplicasResponse.ts';
import type { DescribeTopicRequest as _sluice_v1_DescribeTopicRequest, DescribeTopicRequest__Output as _sluice_v1_DescribeTopicRequest__Output } from './sluice/v1/DescribeTopicRequest.ts';
import type { DescribeTopicResponse as _sluice_v1_DescribeTopicResponse, DescribeTopicResponse__Output as _sluice_v1_DescribeTopicResponse__Output } from './sluice/v1/DescribeTopicResponse.ts';
import type { ErrorDetail as _sluice_v1_ErrorDetail, ErrorDetail__Output as _sluice_v1_ErrorDetail__Output } from './sluice/v1/ErrorDetail.ts';
import type { ListTopicsRequest as _sluice_v1_ListTopicsRequest, ListTopicsRequest__Output as _sluice_v1_ListTopicsRequest__Output } from './sluice/v1/ListTopicsRequest.ts';
import type { ListTopicsResponse as _sluice_v1_ListTopicsResponse, ListTopicsResponse__Output as _sluice_v1_ListTopicsResponse__Output } from './sluice/v1/ListTopicsResponse.ts';
import type { PartitionState as _sluice_v1_PartitionState, PartitionState__Output as _sluice_v1_PartitionState__Output } from './sluice/v1/PartitionState.ts';
import type { ReplicaInfo as _sluice_v1_ReplicaInfo, ReplicaInfo__Output as _sluice_v1_ReplicaInfo__Output } from './sluice/v1/ReplicaInfo.ts';
import type { TopicState as _sluice_v1_TopicState, TopicState__Output as _sluice_v1_TopicState__Output } from './sluice/v1/TopicState.ts';
import type { TopicSummary as _sluice_v1_TopicSummary, TopicSummary__Output as _sluice_v1_TopicSummary__Output } from './sluice/v1/TopicSummary.ts';

type SubtypeConstructor<Constructor extends new (...args: any) => any, Subtype> = {
  new(...args: ConstructorParameters<Constructor>): Subtype;
};

export interface ProtoGrpcType {
  sluice: {
    v1: {
      AdminService: SubtypeConstructor<typeof grpc.Client, _sluice_v1_AdminServiceClient> & { service: _sluice_v1_AdminServiceDefinition }
      AlterTopicRequest: MessageTypeDefinition<_sluice_v1_AlterTopicRequest, _sluice_v1_AlterTopicRequest__Output>
      AlterTopicResponse: MessageTypeDefinition<_sluice_v1_AlterTopicResponse, _sluice_v1_AlterTopicResponse__Output>
      BrokerEndpoint: MessageTypeDefinition<_sluice_v1_BrokerEndpoint, _sluice_v1_BrokerEndpoint__Output>
      BrokerInfo: MessageTypeDefinition<_sluice_v1_BrokerInfo, _sluice_v1_BrokerInfo__Output>
      BrokerState: EnumTypeDefinition
      CreateTopicRequest: MessageTypeDefinition<_sluice_v1_CreateTopicRequest, _sluice_v1_CreateTopicRequest__Output>
      CreateTopicResponse: MessageTypeDefinition<_sluice_v1_CreateTopicResponse, _sluice_v1_CreateTopicResponse__Output>
      DeleteTopicRequest: MessageTypeDefinition<_sluice_v1_DeleteTopicRequest, _sluice_v1_DeleteTopicRequest__Output>
      DeleteTopicResponse: MessageTypeDefinition<_sluice_v1_DeleteTopicResponse, _sluice_v1_DeleteTopicResponse__Output>
      DescribeClusterRequest: MessageTypeDefinition<_sluice_v1_DescribeClusterRequest, _sluice_v1_DescribeClusterRequest__Output>
      DescribeClusterResponse: MessageTypeDefinition<_sluice_v1_DescribeClusterResponse, _sluice_v1_DescribeClusterResponse__Output>
      DescribeReplicasRequest: MessageTypeDefinition<_sluice_v1_DescribeReplicasRequest, _sluice_v1_DescribeReplicasRequest__Output>
      DescribeReplicasResponse: MessageTypeDefinition<_sluice_v1_DescribeReplicasResponse, _sluice_v1_DescribeReplicasResponse__Output>
      DescribeTopicRequest: MessageTypeDefinition<_sluice_v1_DescribeTopicRequest, _sluice_v1_DescribeTopicRequest__Output>
      DescribeTopicResponse: MessageTypeDefinition<_sluice_v1_DescribeTopicResponse, _sluice_v1_DescribeTopicResponse__Output>
      ErrorCode: EnumTypeDefinition
      ErrorDetail: MessageTypeDefinition<_sluice_v1_ErrorDetail, _sluice_v1_ErrorDetail__Output>
      ListTopicsRequest: MessageTypeDefinition<_sluice_v1_ListTopicsRequest, _sluice_v1_ListTopicsRequest__Output>
      ListTopicsResponse: MessageTypeDefinition<_sluice_v1_ListTopicsResponse, _sluice_v1_ListTopicsResponse__Output>
      PartitionState: MessageTypeDefinition<_sluice_v1_PartitionState, _sluice_v1_PartitionState__Output>
      ReplicaInfo: MessageTypeDefinition<_sluice_v1_ReplicaInfo, _sluice_v1_ReplicaInfo__Output>
      TopicState: MessageTypeDefinition<_sluice_v1_TopicState, _sluice_v1_TopicState__Output>
      TopicSummary: MessageTypeDefinition<_sluice_v1_TopicSummary, _sluice_v1_TopicSummary__Output>
    }
  }
}

