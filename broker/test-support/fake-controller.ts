// Test double of the controller, for broker tests: a real grpc-js server speaking the
// ControllerService side of the broker session protocol (register -> registered + metadata
// pushes, heartbeats, producer id blocks) and an AdminService that records what brokers
// forward to it. It decides nothing by itself: tests set the metadata it pushes and the
// answers it gives.
import * as grpc from '@grpc/grpc-js';
import { SluiceError } from '../../common/errors.ts';
import { toErrorDetail, toServiceError } from '../../common/grpc-errors.ts';
import { GRPC_SERVER_OPTIONS, loadSluiceProto } from '../../common/proto.ts';
import type { AdminServiceHandlers } from '../../proto/gen/sluice/v1/AdminService.ts';
import type { BrokerEndpoint } from '../../proto/gen/sluice/v1/BrokerEndpoint.ts';
import type { BrokerHeartbeat__Output } from '../../proto/gen/sluice/v1/BrokerHeartbeat.ts';
import type { BrokerRegistration__Output } from '../../proto/gen/sluice/v1/BrokerRegistration.ts';
import type { BrokerSessionRequest__Output } from '../../proto/gen/sluice/v1/BrokerSessionRequest.ts';
import type { BrokerSessionResponse } from '../../proto/gen/sluice/v1/BrokerSessionResponse.ts';
import type { ClusterMetadata } from '../../proto/gen/sluice/v1/ClusterMetadata.ts';
import type { ControllerServiceHandlers } from '../../proto/gen/sluice/v1/ControllerService.ts';
import type { TopicState } from '../../proto/gen/sluice/v1/TopicState.ts';

export const FAKE_CLUSTER_ID = 'fake-cluster';
export const FAKE_CONTROLLER_ID = 1000;

type AdminMethod = 'CreateTopic' | 'AlterTopic' | 'DeleteTopic' | 'ListTopics' | 'DescribeTopic' | 'DescribeCluster';
export interface RecordedAdminCall {
  method: AdminMethod;
  request: unknown;
}
/** What the fake answers an admin call with: a response object, or an error to fail with. */
export type AdminResponder = (method: AdminMethod, request: unknown) => object | SluiceError;

type Session = grpc.ServerDuplexStream<BrokerSessionRequest__Output, BrokerSessionResponse>;

export interface TopicSpec {
  name: string;
  topicId?: string;
  partitions: number;
  /** Replicas of every partition; the first is the leader unless `leader` says otherwise. */
  replicas: number[];
  leader?: number;
  leaderEpoch?: number;
  isr?: number[];
  config?: Record<string, string>;
}

/** A TopicState as the real controller would push it. */
export function topicState(spec: TopicSpec): TopicState {
  return {
    name: spec.name,
    topic_id: spec.topicId ?? `${spec.name}-id`,
    config: spec.config ?? {},
    partitions: Array.from({ length: spec.partitions }, (_, p) => ({
      partition: p,
      replicas: spec.replicas,
      leader: spec.leader ?? spec.replicas[0],
      leader_epoch: spec.leaderEpoch ?? 1,
      isr: spec.isr ?? spec.replicas,
      partition_epoch: 1,
      adding_replicas: [],
      removing_replicas: [],
    })),
  };
}

export class FakeController {
  readonly registrations: BrokerRegistration__Output[] = [];
  readonly heartbeats: BrokerHeartbeat__Output[] = [];
  readonly adminCalls: RecordedAdminCall[] = [];
  readonly producerIdRequests: { broker_id: number; broker_epoch: number }[] = [];
  readonly controlledShutdowns: { broker_id: number; broker_epoch: number }[] = [];
  adminResponder: AdminResponder = () => ({});
  producerIdBlockSize = 1000;
  heartbeatIntervalMs = 50;
  /** The cluster id it registers brokers into and pushes with metadata. */
  clusterId = FAKE_CLUSTER_ID;
  /** Term stamped on every snapshot (ClusterMetadata.controller_epoch). */
  controllerEpoch = 0;
  /** Set: every new broker session is refused with this error, as a standby operator does. */
  standby: SluiceError | null = null;

  #server = new grpc.Server(GRPC_SERVER_OPTIONS);
  #sessions = new Set<Session>();
  #version = 0;
  #nextBrokerEpoch = 1;
  #epochByIncarnation = new Map<string, number>();
  #nextProducerId = 0;
  #topics: TopicState[] = [];
  /** Extra live brokers beyond the registered ones (brokers that exist only in metadata). */
  #otherBrokers: BrokerEndpoint[] = [];
  #registered = new Map<number, BrokerEndpoint>();
  port = 0;

  constructor() {
    const { proto } = loadSluiceProto();
    this.#server.addService(proto.sluice.v1.ControllerService.service, this.#controllerHandlers());
    this.#server.addService(proto.sluice.v1.AdminService.service, this.#adminHandlers());
  }

  get address(): string {
    return `127.0.0.1:${this.port}`;
  }

  get metadataVersion(): number {
    return this.#version;
  }

  async start(port = 0): Promise<void> {
    this.port = await new Promise<number>((resolve, reject) => {
      this.#server.bindAsync(`127.0.0.1:${port}`, grpc.ServerCredentials.createInsecure(), (err, p) => (err ? reject(err) : resolve(p)));
    });
  }

  async stop(): Promise<void> {
    for (const s of this.#sessions) s.end();
    this.#server.forceShutdown();
  }

  /** Sets the topics and brokers of the metadata and pushes a new version to every session. */
  setMetadata(topics: TopicState[], otherBrokers: BrokerEndpoint[] = this.#otherBrokers): void {
    this.#topics = topics;
    this.#otherBrokers = otherBrokers;
    this.#version++;
    for (const s of this.#sessions) s.write({ metadata: this.#snapshot() });
  }

  /** Ends every broker session with an error message, as the controller does on a stale epoch. */
  refuseSessions(error: SluiceError): void {
    for (const s of this.#sessions) {
      s.write({ error: toErrorDetail(error) });
      s.end();
    }
    this.#sessions.clear();
  }

  #snapshot(): ClusterMetadata {
    return {
      version: this.#version,
      cluster_id: this.clusterId,
      controller_id: FAKE_CONTROLLER_ID,
      controller_epoch: this.controllerEpoch,
      live_brokers: [...this.#registered.values(), ...this.#otherBrokers],
      topics: this.#topics,
    };
  }

  #controllerHandlers(): ControllerServiceHandlers {
    return {
      BrokerSession: (call) => {
        if (this.standby) {
          call.write({ error: toErrorDetail(this.standby) });
          call.end();
          return;
        }
        this.#sessions.add(call);
        call.on('data', (msg: BrokerSessionRequest__Output) => {
          if (msg.kind === 'register' && msg.register) {
            const r = msg.register;
            this.registrations.push(r);
            let epoch = this.#epochByIncarnation.get(r.incarnation_id);
            if (epoch === undefined) {
              epoch = this.#nextBrokerEpoch++;
              this.#epochByIncarnation.set(r.incarnation_id, epoch);
            }
            this.#registered.set(r.broker_id, { broker_id: r.broker_id, host: r.host, port: r.port, rack: r.rack });
            call.write({ registered: { broker_epoch: epoch, heartbeat_interval_ms: this.heartbeatIntervalMs, session_timeout_ms: 10 * this.heartbeatIntervalMs, cluster_id: this.clusterId, controller_id: FAKE_CONTROLLER_ID } });
            call.write({ metadata: this.#snapshot() });
          } else if (msg.kind === 'heartbeat' && msg.heartbeat) {
            this.heartbeats.push(msg.heartbeat);
          }
        });
        call.on('error', () => this.#sessions.delete(call));
        call.on('end', () => {
          this.#sessions.delete(call);
          call.end();
        });
      },
      AllocateProducerIds: (call, callback) => {
        this.producerIdRequests.push({ broker_id: call.request.broker_id, broker_epoch: call.request.broker_epoch });
        const first = this.#nextProducerId;
        this.#nextProducerId += this.producerIdBlockSize;
        callback(null, { first_producer_id: first, count: this.producerIdBlockSize });
      },
      AlterPartition: (_call, callback) => callback(toServiceError(new SluiceError('INVALID_REQUEST', 'the fake controller does not implement AlterPartition'))),
      ControlledShutdown: (call, callback) => {
        this.controlledShutdowns.push({ broker_id: call.request.broker_id, broker_epoch: call.request.broker_epoch });
        callback(null, { remaining_leaderships: 0 });
      },
    };
  }

  #adminHandlers(): AdminServiceHandlers {
    const forwarded = (method: AdminMethod): grpc.handleUnaryCall<unknown, object> => (call, callback) => {
      this.adminCalls.push({ method, request: call.request });
      const answer = this.adminResponder(method, call.request);
      if (answer instanceof SluiceError) callback(toServiceError(answer));
      else callback(null, answer);
    };
    return {
      CreateTopic: forwarded('CreateTopic'),
      AlterTopic: forwarded('AlterTopic'),
      DeleteTopic: forwarded('DeleteTopic'),
      ListTopics: forwarded('ListTopics'),
      DescribeTopic: forwarded('DescribeTopic'),
      DescribeCluster: forwarded('DescribeCluster'),
      DescribeReplicas: (_call, callback) => callback(toServiceError(new SluiceError('INVALID_REQUEST', 'DescribeReplicas must be answered by the broker, not forwarded'))),
    };
  }
}
