// sluice.v1.AdminService on a broker: topic administration is forwarded unchanged to the
// controller (clients only need broker addresses), and the controller's answer, error status
// and Sluice error trailers included, goes back to the caller as is. DescribeReplicas is the
// one call a broker answers itself, from the logs it hosts.
import * as grpc from '@grpc/grpc-js';
import { SluiceError } from '../../common/errors.ts';
import { asSluiceError, fromServiceError, toServiceError } from '../../common/grpc-errors.ts';
import type { Logger } from '../../common/logger.ts';
import { loadSluiceProto } from '../../common/proto.ts';
import { CONTROLLER_CHANNEL_OPTIONS } from '../controller-session.ts';
import type { AdminServiceClient, AdminServiceHandlers } from '../../proto/gen/sluice/v1/AdminService.ts';
import type { ReplicaInfo } from '../../proto/gen/sluice/v1/ReplicaInfo.ts';
import type { ReplicaManager } from '../replica-manager.ts';

/** Deadline of a forwarded call when the caller set none. */
const DEFAULT_FORWARD_TIMEOUT_MS = 30_000;

type ForwardedMethod = 'CreateTopic' | 'AlterTopic' | 'DeleteTopic' | 'ListTopics' | 'DescribeTopic' | 'DescribeCluster';
const FORWARDED: readonly ForwardedMethod[] = ['CreateTopic', 'AlterTopic', 'DeleteTopic', 'ListTopics', 'DescribeTopic', 'DescribeCluster'];

type UnaryForward = (request: unknown, options: grpc.CallOptions, callback: (err: grpc.ServiceError | null, response?: unknown) => void) => grpc.ClientUnaryCall;

export interface AdminServiceOptions {
  controllerAddress: string;
  brokerId: number;
  replicas: ReplicaManager;
  logger: Logger;
}

export class AdminService {
  readonly handlers: AdminServiceHandlers;
  readonly #client: AdminServiceClient;
  readonly #opts: AdminServiceOptions;

  constructor(opts: AdminServiceOptions) {
    this.#opts = opts;
    const { proto } = loadSluiceProto();
    this.#client = new proto.sluice.v1.AdminService(opts.controllerAddress, grpc.credentials.createInsecure(), CONTROLLER_CHANNEL_OPTIONS);
    const handlers: Record<string, grpc.handleUnaryCall<unknown, unknown>> = {};
    for (const method of FORWARDED) handlers[method] = (call, callback) => this.#forward(method, call, callback);
    handlers.DescribeReplicas = (_call, callback) => {
      try {
        callback(null, { broker_id: opts.brokerId, replicas: this.#describeReplicas() });
      } catch (err) {
        opts.logger.error({ err }, 'DescribeReplicas failed unexpectedly');
        callback(toServiceError(asSluiceError(err)));
      }
    };
    this.handlers = handlers as unknown as AdminServiceHandlers;
  }

  close(): void {
    this.#client.close();
  }

  #forward(method: ForwardedMethod, call: grpc.ServerUnaryCall<unknown, unknown>, callback: grpc.sendUnaryData<unknown>): void {
    const deadline = call.getDeadline();
    const callerDeadline = deadline instanceof Date ? deadline.getTime() : deadline;
    const options: grpc.CallOptions = { deadline: Number.isFinite(callerDeadline) ? callerDeadline : Date.now() + DEFAULT_FORWARD_TIMEOUT_MS };
    const invoke = (this.#client[method] as unknown as UnaryForward).bind(this.#client);
    const outgoing = invoke(call.request, options, (err, response) => {
      if (!err) {
        callback(null, response);
        return;
      }
      callback(toServiceError(this.#controllerError(err)));
    });
    call.on('cancelled', () => outgoing.cancel());
  }

  #controllerError(err: grpc.ServiceError): SluiceError {
    const carriesDetail = (err.metadata?.get('sluice-error-bin').length ?? 0) > 0;
    if (!carriesDetail && err.code === grpc.status.UNAVAILABLE) {
      // Without this the client would read "broker unreachable" about the broker it reached.
      return new SluiceError('BROKER_NOT_AVAILABLE', `the controller at ${this.#opts.controllerAddress} is unreachable (${err.details}); retry later`, {}, { cause: err });
    }
    return fromServiceError(err);
  }

  #describeReplicas(): ReplicaInfo[] {
    const replicas: ReplicaInfo[] = [];
    for (const p of this.#opts.replicas.hostedPartitions()) {
      const log = p.log;
      replicas.push({
        topic: p.topic,
        partition: p.partition,
        is_leader: p.isLeader,
        leader_epoch: p.leaderEpoch,
        log_start_offset: log.logStartOffset,
        high_watermark: log.highWatermark,
        log_end_offset: log.logEndOffset,
        size_bytes: log.sizeInBytes(),
      });
    }
    replicas.sort((a, b) => (a.topic === b.topic ? a.partition! - b.partition! : a.topic! < b.topic! ? -1 : 1));
    return replicas;
  }
}
