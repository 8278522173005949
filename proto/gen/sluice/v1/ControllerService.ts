// Original file: proto/sluice/v1/controller.proto

import type * as grpc from '@grpc/grpc-js'
import type { MethodDefinition } from '@grpc/proto-loader'
import type { AllocateProducerIdsRequest as _sluice_v1_AllocateProducerIdsRequest, AllocateProducerIdsRequest__Output as _sluice_v1_AllocateProducerIdsRequest__Output } from '../../sluice/v1/AllocateProducerIdsRequest.ts';
import type { AllocateProducerIdsResponse as _sluice_v1_AllocateProducerIdsResponse, AllocateProducerIdsResponse__Output as _sluice_v1_AllocateProducerIdsResponse__Output } from '../../sluice/v1/AllocateProducerIdsResponse.ts';
import type { AlterPartitionRequest as _sluice_v1_AlterPartitionRequest, AlterPartitionRequest__Output as _sluice_v1_AlterPartitionRequest__Output } from '../../sluice/v1/AlterPartitionRequest.ts';
import type { AlterPartitionResponse as _sluice_v1_AlterPartitionResponse, AlterPartitionResponse__Output as _sluice_v1_AlterPartitionResponse__Output } from '../../sluice/v1/AlterPartitionResponse.ts';
import type { BrokerSessionRequest as _sluice_v1_BrokerSessionRequest, BrokerSessionRequest__Output as _sluice_v1_BrokerSessionRequest__Output } from '../../sluice/v1/BrokerSessionRequest.ts';
import type { BrokerSessionResponse as _sluice_v1_BrokerSessionResponse, BrokerSessionResponse__Output as _sluice_v1_BrokerSessionResponse__Output } from '../../sluice/v1/BrokerSessionResponse.ts';
import type { ControlledShutdownRequest as _sluice_v1_ControlledShutdownRequest, ControlledShutdownRequest__Output as _sluice_v1_ControlledShutdownRequest__Output } from '../../sluice/v1/ControlledShutdownRequest.ts';
import type { ControlledShutdownResponse as _sluice_v1_ControlledShutdownResponse, ControlledShutdownResponse__Output as _sluice_v1_ControlledShutdownResponse__Output } from '../../sluice/v1/ControlledShutdownResponse.ts';

export interface ControllerServiceClient extends grpc.Client {
  AllocateProducerIds(argument: _sluice_v1_AllocateProducerIdsRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_sluice_v1_AllocateProducerIdsResponse__Output>): grpc.ClientUnaryCall;
  AllocateProducerIds(argument: _sluice_v1_AllocateProducerIdsRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_sluice_v1_AllocateProducerIdsResponse__Output>): grpc.ClientUnaryCall;
  AllocateProducerIds(argument: _sluice_v1_AllocateProducerIdsRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_sluice_v1_AllocateProducerIdsResponse__Output>): grpc.ClientUnaryCall;
  AllocateProducerIds(argument: _sluice_v1_AllocateProducerIdsRequest, callback: grpc.requestCallback<_sluice_v1_AllocateProducerIdsResponse__Output>): grpc.ClientUnaryCall;
  allocateProducerIds(argument: _sluice_v1_AllocateProducerIdsRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_sluice_v1_AllocateProducerIdsResponse__Output>): grpc.ClientUnaryCall;
  allocateProducerIds(argument: _sluice_v1_AllocateProducerIdsRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_sluice_v1_AllocateProducerIdsResponse__Output>): grpc.ClientUnaryCall;
  allocateProducerIds(argument: _sluice_v1_AllocateProducerIdsRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_sluice_v1_AllocateProducerIdsResponse__Output>): grpc.ClientUnaryCall;
  allocateProducerIds(argument: _sluice_v1_AllocateProducerIdsRequest, callback: grpc.requestCallback<_sluice_v1_AllocateProducerIdsResponse__Output>): grpc.ClientUnaryCall;
  
  AlterPartition(argument: _sluice_v1_AlterPartitionRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_sluice_v1_AlterPartitionResponse__Output>): grpc.ClientUnaryCall;
  AlterPartition(argument: _sluice_v1_AlterPartitionRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_sluice_v1_AlterPartitionResponse__Output>): grpc.ClientUnaryCall;
  AlterPartition(argument: _sluice_v1_AlterPartitionRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_sluice_v1_AlterPartitionResponse__Output>): grpc.ClientUnaryCall;
  AlterPartition(argument: _sluice_v1_AlterPartitionRequest, callback: grpc.requestCallback<_sluice_v1_AlterPartitionResponse__Output>): grpc.ClientUnaryCall;
  alterPartition(argument: _sluice_v1_AlterPartitionRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_sluice_v1_AlterPartitionResponse__Output>): grpc.ClientUnaryCall;
  alterPartition(argument: _sluice_v1_AlterPartitionRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_sluice_v1_AlterPartitionResponse__Output>): grpc.ClientUnaryCall;
  alterPartition(argument: _sluice_v1_AlterPartitionRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_sluice_v1_AlterPartitionResponse__Output>): grpc.ClientUnaryCall;
  alterPartition(argument: _sluice_v1_AlterPartitionRequest, callback: grpc.requestCallback<_sluice_v1_AlterPartitionResponse__Output>): grpc.ClientUnaryCall;
  
  BrokerSession(metadata: grpc.Metadata, options?: grpc.CallOptions): grpc.ClientDuplexStream<_sluice_v1_BrokerSessionRequest, _sluice_v1_BrokerSessionResponse__Output>;
  BrokerSession(options?: grpc.CallOptions): grpc.ClientDuplexStream<_sluice_v1_BrokerSessionRequest, _sluice_v1_BrokerSessionResponse__Output>;
  brokerSession(metadata: grpc.Metadata, options?: grpc.CallOptions): grpc.ClientDuplexStream<_sluice_v1_BrokerSessionRequest, _sluice_v1_BrokerSessionResponse__Output>;
  brokerSession(options?: grpc.CallOptions): grpc.ClientDuplexStream<_sluice_v1_BrokerSessionRequest, _sluice_v1_BrokerSessionResponse__Output>;
  
  ControlledShutdown(argument: _sluice_v1_ControlledShutdownRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_sluice_v1_ControlledShutdownResponse__Output>): grpc.ClientUnaryCall;
  ControlledShutdown(argument: _sluice_v1_ControlledShutdownRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_sluice_v1_ControlledShutdownResponse__Output>): grpc.ClientUnaryCall;
  ControlledShutdown(argument: _sluice_v1_ControlledShutdownRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_sluice_v1_ControlledShutdownResponse__Output>): grpc.ClientUnaryCall;
  ControlledShutdown(argument: _sluice_v1_ControlledShutdownRequest, callback: grpc.requestCallback<_sluice_v1_ControlledShutdownResponse__Output>): grpc.ClientUnaryCall;
  controlledShutdown(argument: _sluice_v1_ControlledShutdownRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_sluice_v1_ControlledShutdownResponse__Output>): grpc.ClientUnaryCall;
  controlledShutdown(argument: _sluice_v1_ControlledShutdownRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_sluice_v1_ControlledShutdownResponse__Output>): grpc.ClientUnaryCall;
  controlledShutdown(argument: _sluice_v1_ControlledShutdownRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_sluice_v1_ControlledShutdownResponse__Output>): grpc.ClientUnaryCall;
  controlledShutdown(argument: _sluice_v1_ControlledShutdownRequest, callback: grpc.requestCallback<_sluice_v1_ControlledShutdownResponse__Output>): grpc.ClientUnaryCall;
  
}

export interface ControllerServiceHandlers extends grpc.UntypedServiceImplementation {
  AllocateProducerIds: grpc.handleUnaryCall<_sluice_v1_AllocateProducerIdsRequest__Output, _sluice_v1_AllocateProducerIdsResponse>;
  
  AlterPartition: grpc.handleUnaryCall<_sluice_v1_AlterPartitionRequest__Output, _sluice_v1_AlterPartitionResponse>;
  
  BrokerSession: grpc.handleBidiStreamingCall<_sluice_v1_BrokerSessionRequest__Output, _sluice_v1_BrokerSessionResponse>;
  
  ControlledShutdown: grpc.handleUnaryCall<_sluice_v1_ControlledShutdownRequest__Output, _sluice_v1_ControlledShutdownResponse>;
  
}

export interface ControllerServiceDefinition extends grpc.ServiceDefinition {
  AllocateProducerIds: MethodDefinition<_sluice_v1_AllocateProducerIdsRequest, _sluice_v1_AllocateProducerIdsResponse, _sluice_v1_AllocateProducerIdsRequest__Output, _sluice_v1_AllocateProducerIdsResponse__Output>
  AlterPartition: MethodDefinition<_sluice_v1_AlterPartitionRequest, _sluice_v1_AlterPartitionResponse, _sluice_v1_AlterPartitionRequest__Output, _sluice_v1_AlterPartitionResponse__Output>
  BrokerSession: MethodDefinition<_sluice_v1_BrokerSessionRequest, _sluice_v1_BrokerSessionResponse, _sluice_v1_BrokerSessionRequest__Output, _sluice_v1_BrokerSessionResponse__Output>
  ControlledShutdown: MethodDefinition<_sluice_v1_ControlledShutdownRequest, _sluice_v1_ControlledShutdownResponse, _sluice_v1_ControlledShutdownRequest__Output, _sluice_v1_ControlledShutdownResponse__Output>
}
