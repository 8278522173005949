// Loads the sluice.v1 contract once per process. The .proto files are the source of truth;
// proto/gen holds the TypeScript types generated from them (`npm run proto:gen`).
import { fileURLToPath } from 'node:url';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import type { ProtoGrpcType as LogProto } from '../proto/gen/log.ts';
import type { ProtoGrpcType as MetadataProto } from '../proto/gen/metadata.ts';
import type { ProtoGrpcType as AdminProto } from '../proto/gen/admin.ts';
import type { ProtoGrpcType as ControllerProto } from '../proto/gen/controller.ts';
import type { ProtoGrpcType as ReplicaProto } from '../proto/gen/replica.ts';

export const PROTO_ROOT = fileURLToPath(new URL('../proto', import.meta.url));
export const PROTO_FILES = [
  'sluice/v1/common.proto',
  'sluice/v1/log.proto',
  'sluice/v1/metadata.proto',
  'sluice/v1/admin.proto',
  'sluice/v1/controller.proto',
  'sluice/v1/replica.proto',
];

// These options must match the ones `npm run proto:gen` passes, or the generated types lie.
export const PROTO_LOADER_OPTIONS: protoLoader.Options = {
  keepCase: true,
  longs: Number,
  enums: String,
  defaults: true,
  oneofs: true,
  includeDirs: [PROTO_ROOT],
};

type SluiceProto = LogProto & MetadataProto & AdminProto & ControllerProto & ReplicaProto;

let loaded: { definition: protoLoader.PackageDefinition; proto: SluiceProto } | undefined;

export function loadSluiceProto(): { definition: protoLoader.PackageDefinition; proto: SluiceProto } {
  if (!loaded) {
    const definition = protoLoader.loadSync(PROTO_FILES, PROTO_LOADER_OPTIONS);
    const proto = grpc.loadPackageDefinition(definition) as unknown as SluiceProto;
    loaded = { definition, proto };
  }
  return loaded;
}

/** Largest gRPC message either side accepts: fetch responses carry up to 50 MiB of batches. */
export const MAX_GRPC_MESSAGE_BYTES = 64 * 1024 * 1024;

export const GRPC_CHANNEL_OPTIONS: grpc.ChannelOptions = {
  'grpc.max_receive_message_length': MAX_GRPC_MESSAGE_BYTES,
  'grpc.max_send_message_length': MAX_GRPC_MESSAGE_BYTES,
  'grpc.keepalive_time_ms': 10_000,
  'grpc.keepalive_timeout_ms': 5_000,
  'grpc.keepalive_permit_without_calls': 1,
};

export const GRPC_SERVER_OPTIONS: grpc.ServerOptions = {
  'grpc.max_receive_message_length': MAX_GRPC_MESSAGE_BYTES,
  'grpc.max_send_message_length': MAX_GRPC_MESSAGE_BYTES,
  // Clients ping every 10 s; allow it without calls in flight so idle streams stay up.
  'grpc.keepalive_permit_without_calls': 1,
  'grpc.http2.min_ping_interval_without_data_ms': 5_000,
};

/**
 * Stops a gRPC server: no new calls, the ones in flight may finish; after graceMs the rest are
 * cut off, so a stuck client cannot hold a stopping process forever.
 */
export function shutdownGrpcServer(server: grpc.Server, graceMs: number): Promise<void> {
  return new Promise((resolve) => {
    const force = setTimeout(() => {
      server.forceShutdown();
      resolve();
    }, graceMs);
    server.tryShutdown(() => {
      clearTimeout(force);
      resolve();
    });
  });
}
