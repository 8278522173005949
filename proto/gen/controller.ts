import type * as grpc from '@grpc/grpc-js';
import type { EnumTypeDefinition, MessageTypeDefinition } from '@grpc/proto-loader';

import type { AllocateProducerIdsRequest as _sluice_v1_AllocateProducerIdsRequest, AllocateProducerIdsRequest__Output as _sluice_v1_AllocateProducerIdsRequest__Output } from './sluice/v1/AllocateProducerIdsRequest.ts';
import type { AllocateProducerIdsResponse as _sluice_v1_AllocateProducerIdsResponse, AllocateProducerIdsResponse__Output as _sluice_v1_AllocateProducerIdsResponse__Output } from './sluice/v1/AllocateProducerIdsResponse.ts';
import type { AlterPartitionRequest as _sluice_v1_AlterPartitionRequest, AlterPartitionRequest__Output as _sluice_v1_AlterPartitionRequest__Output } from './sluice/v1/AlterPartitionRequest.ts';
import type { AlterPartitionResponse as _sluice_v1_AlterPartitionResponse, AlterPartitionResponse__Output as _sluice_v1_AlterPartitionResponse__Output } from './sluice/v1/AlterPartitionResponse.ts';
import type { BrokerEndpoint as _sluice_v1_BrokerEndpoint, BrokerEndpoint__Output as _sluice_v1_BrokerEndpoint__Output } from './sluice/v1/BrokerEndpoint.ts';
import type { BrokerHeartbeat as _sluice_v1_BrokerHeartbeat, BrokerHeartbeat__Output as _sluice_v1_BrokerHeartbeat__Output } from './sluice/v1/BrokerHeartbeat.ts';
import type { BrokerRegistration as _sluice_v1_BrokerRegistration, BrokerRegistration__Output as _sluice_v1_BrokerRegistration__Output } from './sluice/v1/BrokerRegistration.ts';
import type { BrokerSessionRequest as _sluice_v1_BrokerSessionRequest, BrokerSessionRequest__Output as _sluice_v1_BrokerSessionRequest__Output } from './sluice/v1/BrokerSessionRequest.ts';
import type { BrokerSessionResponse as _sluice_v1_BrokerSessionResponse, BrokerSessionResponse__Output as _sluice_v1_BrokerSessionResponse__Output } from './sluice/v1/BrokerSessionResponse.ts';
import type { ClusterMetadata as _sluice_v1_ClusterMetadata, ClusterMetadata__Output as _sluice_v1_ClusterMetadata__Output } from './sluice/v1/ClusterMetadata.ts';
import type { ControlledShutdownRequest as _sluice_v1_ControlledShutdownRequest, ControlledShutdownRequest__Output as _sluice_v1_ControlledShutdownRequest__Output } from './sluice/v1/ControlledShutdownRequest.ts';
import type { ControlledShutdownResponse as _sluice_v1_ControlledShutdownResponse, ControlledShutdownResponse__Output as _sluice_v1_ControlledShutdownResponse__Output } from './sluice/v1/ControlledShutdownResponse.ts';
import type { ControllerServiceClient as _sluice_v1_ControllerServiceClient, ControllerServiceDefinition as _sluice_v1_ControllerServiceDefinition } from './sluice/v1/ControllerService.ts';
import type { ErrorDetail as _sluice_v1_ErrorDetail, ErrorDetail__Output as _sluice_v1_ErrorDetail__Output } from './sluice/v1/ErrorDetail.ts';
import type { PartitionState as _sluice_v1_PartitionState, PartitionState__Output as _sluice_v1_PartitionState__Output } from './sluice/v1/PartitionState.ts';
import type { RegistrationAccepted as _sluice_v1_RegistrationAccepted, RegistrationAccepted__Output as _sluice_v1_RegistrationAccepted__Output } from './sluice/v1/RegistrationAccepted.ts';
import type { TopicState as _sluice_v1_TopicState, TopicState__Output as _sluice_v1_TopicState__Output } from './sluice/v1/TopicState.ts';

type SubtypeConstructor<Constructor extends new (...args: any) => any, Subtype> = {
  new(...args: ConstructorParameters<Constructor>): Subtype;
};

export interface ProtoGrpcType {
  sluice: {
    v1: {
      AllocateProducerIdsRequest: MessageTypeDefinition<_sluice_v1_AllocateProducerIdsRequest, _sluice_v1_AllocateProducerIdsRequest__Output>
      AllocateProducerIdsResponse: MessageTypeDefinition<_sluice_v1_AllocateProducerIdsResponse, _sluice_v1_AllocateProducerIdsResponse__Output>
      AlterPartitionRequest: MessageTypeDefinition<_sluice_v1_AlterPartitionRequest, _sluice_v1_AlterPartitionRequest__Output>
      AlterPartitionResponse: MessageTypeDefinition<_sluice_v1_AlterPartitionResponse, _sluice_v1_AlterPartitionResponse__Output>
      BrokerEndpoint: MessageTypeDefinition<_sluice_v1_BrokerEndpoint, _sluice_v1_BrokerEndpoint__Output>
      BrokerHeartbeat: MessageTypeDefinition<_sluice_v1_BrokerHeartbeat, _sluice_v1_BrokerHeartbeat__Output>
      BrokerRegistration: MessageTypeDefinition<_sluice_v1_BrokerRegistration, _sluice_v1_BrokerRegistration__Output>
      BrokerSessionRequest: MessageTypeDefinition<_sluice_v1_BrokerSessionRequest, _sluice_v1_BrokerSessionRequest__Output>
      BrokerSessionResponse: MessageTypeDefinition<_sluice_v1_BrokerSessionResponse, _sluice_v1_BrokerSessionResponse__Output>
      ClusterMetadata: MessageTypeDefinition<_sluice_v1_ClusterMetadata, _sluice_v1_ClusterMetadata__Output>
      ControlledShutdownRequest: MessageTypeDefinition<_sluice_v1_ControlledShutdownRequest, _sluice_v1_ControlledShutdownRequest__Output>
      ControlledShutdownResponse: MessageTypeDefinition<_sluice_v1_ControlledShutdownResponse, _sluice_v1_ControlledShutdownResponse__Output>
      ControllerService: SubtypeConstructor<typeof grpc.Client, _sluice_v1_ControllerServiceClient> & { service: _sluice_v1_ControllerServiceDefinition }
      ErrorCode: EnumTypeDefinition
      ErrorDetail: MessageTypeDefinition<_sluice_v1_ErrorDetail, _sluice_v1_ErrorDetail__Output>
      PartitionState: MessageTypeDefinition<_sluice_v1_PartitionState, _sluice_v1_PartitionState__Output>
      RegistrationAccepted: MessageTypeDefinition<_sluice_v1_RegistrationAccepted, _sluice_v1_RegistrationAccepted__Output>
      TopicState: MessageTypeDefinition<_sluice_v1_TopicState, _sluice_v1_TopicState__Output>
    }
  }
}

