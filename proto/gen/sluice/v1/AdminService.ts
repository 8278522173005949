// Original file: proto/sluice/v1/admin.proto

import type * as grpc from '@grpc/grpc-js'
import type { MethodDefinition } from '@grpc/proto-loader'
import type { AlterTopicRequest as _sluice_v1_AlterTopicRequest, AlterTopicRequest__Output as _sluice_v1_AlterTopicRequest__Output } from '../../sluice/v1/AlterTopicRequest.ts';
import type { AlterTopicResponse as _sluice_v1_AlterTopicResponse, AlterTopicResponse__Output as _sluice_v1_AlterTopicResponse__Output } from '../../sluice/v1/AlterTopicResponse.ts';
import type { CreateTopicRequest as _sluice_v1_CreateTopicRequest, CreateTopicRequest__Output as _sluice_v1_CreateTopicRequest__Output } from '../../sluice/v1/CreateTopicRequest.ts';
import type { CreateTopicResponse as _sluice_v1_CreateTopicResponse, CreateTopicResponse__Output as _sluice_v1_CreateTopicResponse__Output } from '../../sluice/v1/CreateTopicResponse.ts';
import type { DeleteTopicRequest as _sluice_v1_DeleteTopicRequest, DeleteTopicRequest__Output as _sluice_v1_DeleteTopicRequest__Output } from '../../sluice/v1/DeleteTopicRequest.ts';
import type { DeleteTopicResponse as _sluice_v1_DeleteTopicResponse, DeleteTopicResponse__Output as _sluice_v1_DeleteTopicResponse__Output } from '../../sluice/v1/DeleteTopicResponse.ts';
import type { DescribeClusterRequest as _sluice_v1_DescribeClusterRequest, DescribeClusterRequest__Output as _sluice_v1_DescribeClusterRequest__Output } from '../../sluice/v1/DescribeClusterRequest.ts';
import type { DescribeClusterResponse as _sluice_v1_DescribeClusterResponse, DescribeClusterResponse__Output as _sluice_v1_DescribeClusterResponse__Output } from '../../sluice/v1/DescribeClusterResponse.ts';
import type { DescribeReplicasRequest as _sluice_v1_DescribeReplicasRequest, DescribeReplicasRequest__Output as _sluice_v1_DescribeReplicasRequest__Output } from '../../sluice/v1/DescribeReplicasRequest.ts';
import type { DescribeReplicasResponse as _sluice_v1_DescribeReplicasResponse, DescribeReplicasResponse__Output as _sluice_v1_DescribeReplicasResponse__Output } from '../../sluice/v1/DescribeReplicasResponse.ts';
import type { DescribeTopicRequest as _sluice_v1_DescribeTopicRequest, DescribeTopicRequest__Output as _sluice_v1_DescribeTopicRequest__Output } from '../../sluice/v1/DescribeTopicRequest.ts';
import type { DescribeTopicResponse as _sluice_v1_DescribeTopicResponse, DescribeTopicResponse__Output as _sluice_v1_DescribeTopicResponse__Output } from '../../sluice/v1/DescribeTopicResponse.ts';
import type { ListTopicsRequest as _sluice_v1_ListTopicsRequest, ListTopicsRequest__Output as _sluice_v1_ListTopicsRequest__Output } from '../../sluice/v1/ListTopicsRequest.ts';
import type { ListTopicsResponse as _sluice_v1_ListTopicsResponse, ListTopicsResponse__Output as _sluice_v1_ListTopicsResponse__Output } from '../../sluice/v1/ListTopicsResponse.ts';

export interface AdminServiceClient extends grpc.Client {
  AlterTopic(argument: _sluice_v1_AlterTopicRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_sluice_v1_AlterTopicResponse__Output>): grpc.ClientUnaryCall;
  AlterTopic(argument: _sluice_v1_AlterTopicRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_sluice_v1_AlterTopicResponse__Output>): grpc.ClientUnaryCall;
  AlterTopic(argument: _sluice_v1_AlterTopicRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_sluice_v1_AlterTopicResponse__Output>): grpc.ClientUnaryCall;
  AlterTopic(argument: _sluice_v1_AlterTopicRequest, callback: grpc.requestCallback<_sluice_v1_AlterTopicResponse__Output>): grpc.ClientUnaryCall;
  alterTopic(argument: _sluice_v1_AlterTopicRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_sluice_v1_AlterTopicResponse__Output>): grpc.ClientUnaryCall;
  alterTopic(argument: _sluice_v1_AlterTopicRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_sluice_v1_AlterTopicResponse__Output>): grpc.ClientUnaryCall;
  alterTopic(argument: _sluice_v1_AlterTopicRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_sluice_v1_AlterTopicResponse__Output>): grpc.ClientUnaryCall;
  alterTopic(argument: _sluice_v1_AlterTopicRequest, callback: grpc.requestCallback<_sluice_v1_AlterTopicResponse__Output>): grpc.ClientUnaryCall;
  
  CreateTopic(argument: _sluice_v1_CreateTopicRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_sluice_v1_CreateTopicResponse__Output>): grpc.ClientUnaryCall;
  CreateTopic(argument: _sluice_v1_CreateTopicRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_sluice_v1_CreateTopicResponse__Output>): grpc.ClientUnaryCall;
  CreateTopic(argument: _sluice_v1_CreateTopicRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_sluice_v1_CreateTopicResponse__Output>): grpc.ClientUnaryCall;
  CreateTopic(argument: _sluice_v1_CreateTopicRequest, callback: grpc.requestCallback<_sluice_v1_CreateTopicResponse__Output>): grpc.ClientUnaryCall;
  createTopic(argument: _sluice_v1_CreateTopicRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_sluice_v1_CreateTopicResponse__Output>): grpc.ClientUnaryCall;
  createTopic(argument: _sluice_v1_CreateTopicRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_sluice_v1_CreateTopicResponse__Output>): grpc.ClientUnaryCall;
  createTopic(argument: _sluice_v1_CreateTopicRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_sluice_v1_CreateTopicResponse__Output>): grpc.ClientUnaryCall;
  createTopic(argument: _sluice_v1_CreateTopicRequest, callback: grpc.requestCallback<_sluice_v1_CreateTopicResponse__Output>): grpc.ClientUnaryCall;
  
  DeleteTopic(argument: _sluice_v1_DeleteTopicRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_sluice_v1_DeleteTopicResponse__Output>): grpc.ClientUnaryCall;
  DeleteTopic(argument: _sluice_v1_DeleteTopicRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_sluice_v1_DeleteTopicResponse__Output>): grpc.ClientUnaryCall;
  DeleteTopic(argument: _sluice_v1_DeleteTopicRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_sluice_v1_DeleteTopicResponse__Output>): grpc.ClientUnaryCall;
  DeleteTopic(argument: _sluice_v1_DeleteTopicRequest, callback: grpc.requestCallback<_sluice_v1_DeleteTopicResponse__Output>): grpc.ClientUnaryCall;
  deleteTopic(argument: _sluice_v1_DeleteTopicRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_sluice_v1_DeleteTopicResponse__Output>): grpc.ClientUnaryCall;
  deleteTopic(argument: _sluice_v1_DeleteTopicRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_sluice_v1_DeleteTopicResponse__Output>): grpc.ClientUnaryCall;
  deleteTopic(argument: _sluice_v1_DeleteTopicRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_sluice_v1_DeleteTopicResponse__Output>): grpc.ClientUnaryCall;
  deleteTopic(argument: _sluice_v1_DeleteTopicRequest, callback: grpc.requestCallback<_sluice_v1_DeleteTopicResponse__Output>): grpc.ClientUnaryCall;
  
  DescribeCluster(argument: _sluice_v1_DescribeClusterRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_sluice_v1_DescribeClusterResponse__Output>): grpc.ClientUnaryCall;
  DescribeCluster(argument: _sluice_v1_DescribeClusterRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_sluice_v1_DescribeClusterResponse__Output>): grpc.ClientUnaryCall;
  DescribeCluster(argument: _sluice_v1_DescribeClusterRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_sluice_v1_DescribeClusterResponse__Output>): grpc.ClientUnaryCall;
  DescribeCluster(argument: _sluice_v1_DescribeClusterRequest, callback: grpc.requestCallback<_sluice_v1_DescribeClusterResponse__Output>): grpc.ClientUnaryCall;
  describeCluster(argument: _sluice_v1_DescribeClusterRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_sluice_v1_DescribeClusterResponse__Output>): grpc.ClientUnaryCall;
  describeCluster(argument: _sluice_v1_DescribeClusterRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_sluice_v1_DescribeClusterResponse__Output>): grpc.ClientUnaryCall;
  describeCluster(argument: _sluice_v1_DescribeClusterRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_sluice_v1_DescribeClusterResponse__Output>): grpc.ClientUnaryCall;
  describeCluster(argument: _sluice_v1_DescribeClusterRequest, callback: grpc.requestCallback<_sluice_v1_DescribeClusterResponse__Output>): grpc.ClientUnaryCall;
  
  DescribeReplicas(argument: _sluice_v1_DescribeReplicasRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_sluice_v1_DescribeReplicasResponse__Output>): grpc.ClientUnaryCall;
  DescribeReplicas(argument: _sluice_v1_DescribeReplicasRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_sluice_v1_DescribeReplicasResponse__Output>): grpc.ClientUnaryCall;
  DescribeReplicas(argument: _sluice_v1_DescribeReplicasRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_sluice_v1_DescribeReplicasResponse__Output>): grpc.ClientUnaryCall;
  DescribeReplicas(argument: _sluice_v1_DescribeReplicasRequest, callback: grpc.requestCallback<_sluice_v1_DescribeReplicasResponse__Output>): grpc.ClientUnaryCall;
  describeReplicas(argument: _sluice_v1_DescribeReplicasRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_sluice_v1_DescribeReplicasResponse__Output>): grpc.ClientUnaryCall;
  describeReplicas(argument: _sluice_v1_DescribeReplicasRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_sluice_v1_DescribeReplicasResponse__Output>): grpc.ClientUnaryCall;
  describeReplicas(argument: _sluice_v1_DescribeReplicasRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_sluice_v1_DescribeReplicasResponse__Output>): grpc.ClientUnaryCall;
  describeReplicas(argument: _sluice_v1_DescribeReplicasRequest, callback: grpc.requestCallback<_sluice_v1_DescribeReplicasResponse__Output>): grpc.ClientUnaryCall;
  
  DescribeTopic(argument: _sluice_v1_DescribeTopicRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_sluice_v1_DescribeTopicResponse__Output>): grpc.ClientUnaryCall;
  DescribeTopic(argument: _sluice_v1_DescribeTopicRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_sluice_v1_DescribeTopicResponse__Output>): grpc.ClientUnaryCall;
  DescribeTopic(argument: _sluice_v1_DescribeTopicRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_sluice_v1_DescribeTopicResponse__Output>): grpc.ClientUnaryCall;
  DescribeTopic(argument: _sluice_v1_DescribeTopicRequest, callback: grpc.requestCallback<_sluice_v1_DescribeTopicResponse__Output>): grpc.ClientUnaryCall;
  describeTopic(argument: _sluice_v1_DescribeTopicRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_sluice_v1_DescribeTopicResponse__Output>): grpc.ClientUnaryCall;
  describeTopic(argument: _sluice_v1_DescribeTopicRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_sluice_v1_DescribeTopicResponse__Output>): grpc.ClientUnaryCall;
  describeTopic(argument: _sluice_v1_DescribeTopicRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_sluice_v1_DescribeTopicResponse__Output>): grpc.ClientUnaryCall;
  describeTopic(argument: _sluice_v1_DescribeTopicRequest, callback: grpc.requestCallback<_sluice_v1_DescribeTopicResponse__Output>): grpc.ClientUnaryCall;
  
  ListTopics(argument: _sluice_v1_ListTopicsRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_sluice_v1_ListTopicsResponse__Output>): grpc.ClientUnaryCall;
  ListTopics(argument: _sluice_v1_ListTopicsRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_sluice_v1_ListTopicsResponse__Output>): grpc.ClientUnaryCall;
  ListTopics(argument: _sluice_v1_ListTopicsRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_sluice_v1_ListTopicsResponse__Output>): grpc.ClientUnaryCall;
  ListTopics(argument: _sluice_v1_ListTopicsRequest, callback: grpc.requestCallback<_sluice_v1_ListTopicsResponse__Output>): grpc.ClientUnaryCall;
  listTopics(argument: _sluice_v1_ListTopicsRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_sluice_v1_ListTopicsResponse__Output>): grpc.ClientUnaryCall;
  listTopics(argument: _sluice_v1_ListTopicsRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_sluice_v1_ListTopicsResponse__Output>): grpc.ClientUnaryCall;
  listTopics(argument: _sluice_v1_ListTopicsRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_sluice_v1_ListTopicsResponse__Output>): grpc.ClientUnaryCall;
  listTopics(argument: _sluice_v1_ListTopicsRequest, callback: grpc.requestCallback<_sluice_v1_ListTopicsResponse__Output>): grpc.ClientUnaryCall;
  
}

export interface AdminServiceHandlers extends grpc.UntypedServiceImplementation {
  AlterTopic: grpc.handleUnaryCall<_sluice_v1_AlterTopicRequest__Output, _sluice_v1_AlterTopicResponse>;
  
  CreateTopic: grpc.handleUnaryCall<_sluice_v1_CreateTopicRequest__Output, _sluice_v1_CreateTopicResponse>;
  
  DeleteTopic: grpc.handleUnaryCall<_sluice_v1_DeleteTopicRequest__Output, _sluice_v1_DeleteTopicResponse>;
  
  DescribeCluster: grpc.handleUnaryCall<_sluice_v1_DescribeClusterRequest__Output, _sluice_v1_DescribeClusterResponse>;
  
  DescribeReplicas: grpc.handleUnaryCall<_sluice_v1_DescribeReplicasRequest__Output, _sluice_v1_DescribeReplicasResponse>;
  
  DescribeTopic: grpc.handleUnaryCall<_sluice_v1_DescribeTopicRequest__Output, _sluice_v1_DescribeTopicResponse>;
  
  ListTopics: grpc.handleUnaryCall<_sluice_v1_ListTopicsRequest__Output, _sluice_v1_ListTopicsResponse>;
  
}

export interface AdminServiceDefinition extends grpc.ServiceDefinition {
  AlterTopic: MethodDefinition<_sluice_v1_AlterTopicRequest, _sluice_v1_AlterTopicResponse, _sluice_v1_AlterTopicRequest__Output, _sluice_v1_AlterTopicResponse__Output>
  CreateTopic: MethodDefinition<_sluice_v1_CreateTopicRequest, _sluice_v1_CreateTopicResponse, _sluice_v1_CreateTopicRequest__Output, _sluice_v1_CreateTopicResponse__Output>
  DeleteTopic: MethodDefinition<_sluice_v1_DeleteTopicRequest, _sluice_v1_DeleteTopicResponse, _sluice_v1_DeleteTopicRequest__Output, _sluice_v1_DeleteTopicResponse__Output>
  DescribeCluster: MethodDefinition<_sluice_v1_DescribeClusterRequest, _sluice_v1_DescribeClusterResponse, _sluice_v1_DescribeClusterRequest__Output, _sluice_v1_DescribeClusterResponse__Output>
  DescribeReplicas: MethodDefinition<_sluice_v1_DescribeReplicasRequest, _sluice_v1_DescribeReplicasResponse, _sluice_v1_DescribeReplicasRequest__Output, _sluice_v1_DescribeReplicasResponse__Output>
  DescribeTopic: MethodDefinition<_sluice_v1_DescribeTopicRequest, _sluice_v1_DescribeTopicResponse, _sluice_v1_DescribeTopicRequest__Output, _sluice_v1_DescribeTopicResponse__Output>
  ListTopics: MethodDefinition<_sluice_v1_ListTopicsRequest, _sluice_v1_ListTopicsResponse, _sluice_v1_ListTopicsRequest__Output, _sluice_v1_ListTopicsResponse__Output>
}
