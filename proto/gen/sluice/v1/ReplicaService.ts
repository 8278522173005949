// Original file: proto/sluice/v1/replica.proto

import type * as grpc from '@grpc/grpc-js'
import type { MethodDefinition } from '@grpc/proto-loader'
import type { ReplicaFetchRequest as _sluice_v1_ReplicaFetchRequest, ReplicaFetchRequest__Output as _sluice_v1_ReplicaFetchRequest__Output } from '../../sluice/v1/ReplicaFetchRequest.ts';
import type { ReplicaFetchResponse as _sluice_v1_ReplicaFetchResponse, ReplicaFetchResponse__Output as _sluice_v1_ReplicaFetchResponse__Output } from '../../sluice/v1/ReplicaFetchResponse.ts';

export interface ReplicaServiceClient extends grpc.Client {
  ReplicaFetch(metadata: grpc.Metadata, options?: grpc.CallOptions): grpc.ClientDuplexStream<_sluice_v1_ReplicaFetchRequest, _sluice_v1_ReplicaFetchResponse__Output>;
  ReplicaFetch(options?: grpc.CallOptions): grpc.ClientDuplexStream<_sluice_v1_ReplicaFetchRequest, _sluice_v1_ReplicaFetchResponse__Output>;
  replicaFetch(metadata: grpc.Metadata, options?: grpc.CallOptions): grpc.ClientDuplexStream<_sluice_v1_ReplicaFetchRequest, _sluice_v1_ReplicaFetchResponse__Output>;
  replicaFetch(options?: grpc.CallOptions): grpc.ClientDuplexStream<_sluice_v1_ReplicaFetchRequest, _sluice_v1_ReplicaFetchResponse__Output>;
  
}

export interface ReplicaServiceHandlers extends grpc.UntypedServiceImplementation {
  ReplicaFetch: grpc.handleBidiStreamingCall<_sluice_v1_ReplicaFetchRequest__Output, _sluice_v1_ReplicaFetchResponse>;
  
}

export interface ReplicaServiceDefinition extends grpc.ServiceDefinition {
  ReplicaFetch: MethodDefinition<_sluice_v1_ReplicaFetchRequest, _sluice_v1_ReplicaFetchResponse, _sluice_v1_ReplicaFetchRequest__Output, _sluice_v1_ReplicaFetchResponse__Output>
}
