// Original file: proto/sluice/v1/metadata.proto

import type * as grpc from '@grpc/grpc-js'
import type { MethodDefinition } from '@grpc/proto-loader'
import type { MetadataRequest as _sluice_v1_MetadataRequest, MetadataRequest__Output as _sluice_v1_MetadataRequest__Output } from '../../sluice/v1/MetadataRequest.ts';
import type { MetadataResponse as _sluice_v1_MetadataResponse, MetadataResponse__Output as _sluice_v1_MetadataResponse__Output } from '../../sluice/v1/MetadataResponse.ts';

export interface MetadataServiceClient extends grpc.Client {
  Metadata(argument: _sluice_v1_MetadataRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_sluice_v1_MetadataResponse__Output>): grpc.ClientUnaryCall;
  Metadata(argument: _sluice_v1_MetadataRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_sluice_v1_MetadataResponse__Output>): grpc.ClientUnaryCall;
  Metadata(argument: _sluice_v1_MetadataRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_sluice_v1_MetadataResponse__Output>): grpc.ClientUnaryCall;
  Metadata(argument: _sluice_v1_MetadataRequest, callback: grpc.requestCallback<_sluice_v1_MetadataResponse__Output>): grpc.ClientUnaryCall;
  metadata(argument: _sluice_v1_MetadataRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_sluice_v1_MetadataResponse__Output>): grpc.ClientUnaryCall;
  metadata(argument: _sluice_v1_MetadataRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_sluice_v1_MetadataResponse__Output>): grpc.ClientUnaryCall;
  metadata(argument: _sluice_v1_MetadataRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_sluice_v1_MetadataResponse__Output>): grpc.ClientUnaryCall;
  metadata(argument: _sluice_v1_MetadataRequest, callback: grpc.requestCallback<_sluice_v1_MetadataResponse__Output>): grpc.ClientUnaryCall;
  
}

export interface MetadataServiceHandlers extends grpc.UntypedServiceImplementation {
  Metadata: grpc.handleUnaryCall<_sluice_v1_MetadataRequest__Output, _sluice_v1_MetadataResponse>;
  
}

export interface MetadataServiceDefinition extends grpc.ServiceDefinition {
  Metadata: MethodDefinition<_sluice_v1_MetadataRequest, _sluice_v1_MetadataResponse, _sluice_v1_MetadataRequest__Output, _sluice_v1_MetadataResponse__Output>
}
