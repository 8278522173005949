// One gRPC channel (one HTTP/2 connection) per broker address, shared by the LogService,
// MetadataService and AdminService clients of that broker. Every layer above asks the pool
// for a broker by address and never builds a channel of its own, so closing the pool closes
// every connection the client opened.
import * as grpc from '@grpc/grpc-js';
import { SluiceError } from '../common/errors.ts';
import { fromServiceError } from '../common/grpc-errors.ts';
import { GRPC_CHANNEL_OPTIONS, loadSluiceProto } from '../common/proto.ts';
import type { LogServiceClient } from '../proto/gen/sluice/v1/LogService.ts';
import type { MetadataServiceClient } from '../proto/gen/sluice/v1/MetadataService.ts';
import type { AdminServiceClient } from '../proto/gen/sluice/v1/AdminService.ts';

const RECEIVE_WINDOW_BYTES = 16 * 1024 * 1024;

export interface BrokerConnection {
  readonly address: string;
  readonly log: LogServiceClient;
  readonly metadata: MetadataServiceClient;
  readonly admin: AdminServiceClient;
}

export class ConnectionPool {
  readonly clientId: string;
  private readonly connections = new Map<string, { connection: BrokerConnection; channel: grpc.Channel }>();
  private closed = false;

  constructor(clientId: string) {
    this.clientId = clientId;
  }

  get(address: string): BrokerConnection {
    if (this.closed) throw new SluiceError('CLOSED', `the client was closed; create a new one to talk to ${address}`);
    const existing = this.connections.get(address);
    if (existing) return existing.connection;
    const { proto } = loadSluiceProto();
    const channel = new grpc.Channel(address, grpc.credentials.createInsecure(), {
      ...GRPC_CHANNEL_OPTIONS,
      'grpc.primary_user_agent': `sluice-client/${this.clientId}`,
      // Fetch responses carry megabytes; with HTTP/2's default 64 KiB receive window the
      // broker would stall every 64 KiB waiting for our window update.
      'grpc-node.flow_control_window': RECEIVE_WINDOW_BYTES,
    });
    const options = { channelOverride: channel };
    const insecure = grpc.credentials.createInsecure();
    const connection: BrokerConnection = {
      address,
      log: new proto.sluice.v1.LogService(address, insecure, options),
      metadata: new proto.sluice.v1.MetadataService(address, insecure, options),
      admin: new proto.sluice.v1.AdminService(address, insecure, options),
    };
    this.connections.set(address, { connection, channel });
    return connection;
  }

  close(): void {
    this.closed = true;
    for (const { channel } of this.connections.values()) channel.close();
    this.connections.clear();
  }
}

// The generated clients overload each method; TypeScript infers from the last overload,
// (request, callback), so that is the shape named here. The call itself passes CallOptions
// too, which every generated method also accepts.
type UnaryMethod<Req, Res> = (request: Req, callback: grpc.requestCallback<Res>) => grpc.ClientUnaryCall;
type UnaryMethodWithOptions<Req, Res> = (request: Req, options: grpc.CallOptions, callback: grpc.requestCallback<Res>) => grpc.ClientUnaryCall;

/**
 * A unary call as a promise with a deadline. Failures come back as SluiceErrors (the broker's
 * code and detail when it sent one; BROKER_NOT_AVAILABLE / REQUEST_TIMED_OUT for transport
 * failures). An aborted signal cancels the call (CLOSED).
 */
export function callUnary<Req, Res>(
  client: grpc.Client,
  method: UnaryMethod<Req, Res>,
  request: Req,
  timeoutMs: number,
  signal?: AbortSignal,
): Promise<Res> {
  return new Promise<Res>((resolve, reject) => {
    const invoke = method as unknown as UnaryMethodWithOptions<Req, Res>;
    const call = invoke.call(client, request, { deadline: Date.now() + timeoutMs }, (err, response) => {
      signal?.removeEventListener('abort', onAbort);
      if (err) reject(fromServiceError(err));
      else resolve(response as Res);
    });
    function onAbort(): void {
      call.cancel();
    }
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}
