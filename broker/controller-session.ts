// The broker's side of ControllerService.BrokerSession: register, heartbeat, receive cluster
// metadata snapshots. The session is what keeps the broker alive in the controller's eyes, so
// it reconnects forever with a short capped backoff, re-registering with the same
// incarnation id: the controller then recognises a reconnect (same process, same broker
// epoch) as opposed to a restart (new incarnation, new epoch, fencing of the old one).
import * as grpc from '@grpc/grpc-js';
import { SluiceError } from '../common/errors.ts';
import { fromErrorDetail, fromServiceError } from '../common/grpc-errors.ts';
import type { Logger } from '../common/logger.ts';
import { GRPC_CHANNEL_OPTIONS, loadSluiceProto } from '../common/proto.ts';
import type { BrokerSessionRequest } from '../proto/gen/sluice/v1/BrokerSessionRequest.ts';
import type { BrokerSessionResponse__Output } from '../proto/gen/sluice/v1/BrokerSessionResponse.ts';
import type { ClusterMetadata__Output } from '../proto/gen/sluice/v1/ClusterMetadata.ts';
import type { ControllerServiceClient } from '../proto/gen/sluice/v1/ControllerService.ts';
import type { RegistrationAccepted__Output } from '../proto/gen/sluice/v1/RegistrationAccepted.ts';
import type { PartitionState__Output } from '../proto/gen/sluice/v1/PartitionState.ts';
import type { ProducerIdBlock } from './producer-id-manager.ts';

const BACKOFF_INITIAL_MS = 100;
const BACKOFF_MAX_MS = 2_000;
const DEFAULT_HEARTBEAT_INTERVAL_MS = 1_000;
const ALLOCATE_PRODUCER_IDS_TIMEOUT_MS = 10_000;
const METADATA_RETRY_MS = 1_000;
const ALTER_PARTITION_TIMEOUT_MS = 10_000;

/** A proposed ISR change, as the leader sends it (broker id and epoch are the session's). */
export interface AlterPartitionProposal {
  topic: string;
  partition: number;
  leaderEpoch: number;
  partitionEpoch: number;
  newIsr: readonly number[];
}

/**
 * The controller's answer: the committed state (also on a refusal, so a leader with a stale view
 * catches up at once) and the refusal, if any. A transport failure rejects instead.
 */
export interface AlterPartitionAnswer {
  error: SluiceError | null;
  state: PartitionState__Output | null;
}

/**
 * Channel options for talking to the controller. grpc-js backs off reconnecting a lost
 * connection up to 120 s by default, and calls fail fast meanwhile; a broker must find a
 * restarted controller within the session backoff, or it stays fenced for minutes.
 */
export const CONTROLLER_CHANNEL_OPTIONS: grpc.ChannelOptions = {
  ...GRPC_CHANNEL_OPTIONS,
  'grpc.initial_reconnect_backoff_ms': BACKOFF_INITIAL_MS,
  'grpc.max_reconnect_backoff_ms': BACKOFF_MAX_MS,
  // A channel of its own, never a connection shared through grpc-js's global subchannel pool:
  // replacing the client (see #renewChannel) must really open a new connection.
  'grpc.use_local_subchannel_pool': 1,
};

interface MetadataOrder {
  version: number;
  controller_epoch?: number;
}

/** Snapshots are ordered by controller term, then version: a new term wins whatever its version. */
export function newerMetadata(candidate: MetadataOrder, than: MetadataOrder): boolean {
  const a = Number(candidate.controller_epoch ?? 0);
  const b = Number(than.controller_epoch ?? 0);
  return a !== b ? a > b : candidate.version > than.version;
}

/** How long a replaced channel stays open for the unary calls still in flight on it. */
const RETIRED_CHANNEL_GRACE_MS = 30_000;

export interface ControllerSessionOptions {
  controllerAddress: string;
  brokerId: number;
  incarnationId: string;
  host: string;
  /** The real bound gRPC port (never 0). */
  port: number;
  rack: string;
  logger: Logger;
  /**
   * Applies a metadata snapshot newer than every one applied before. Calls never overlap;
   * while one runs, only the newest snapshot that arrives is kept for the next call.
   */
  applyMetadata(metadata: ClusterMetadata__Output): Promise<void>;
  onRegistered?(accepted: RegistrationAccepted__Output): void;
}

type SessionCall = grpc.ClientDuplexStream<BrokerSessionRequest, BrokerSessionResponse__Output>;

export class ControllerSession {
  readonly #opts: ControllerSessionOptions;
  readonly #log: Logger;
  #client: ControllerServiceClient;
  /** Replaced channels, closed once the calls still in flight on them had their time. */
  readonly #retired = new Set<ControllerServiceClient>();
  #call: SessionCall | undefined;
  #brokerEpoch = -1;
  #heartbeat: NodeJS.Timeout | undefined;
  #reconnect: NodeJS.Timeout | undefined;
  #backoffMs = BACKOFF_INITIAL_MS;
  #closed = false;
  /** Version and controller term of the last snapshot applied. */
  #applied: MetadataOrder = { version: -1, controller_epoch: -1 };
  /** Highest controller term seen: metadata of a lower one is refused. */
  #controllerEpoch = -1;
  #refusedEpoch = -1;
  #pendingMetadata: ClusterMetadata__Output | undefined;
  #applying: Promise<void> | undefined;

  constructor(opts: ControllerSessionOptions) {
    this.#opts = opts;
    this.#log = opts.logger;
    this.#client = this.#newClient();
  }

  #newClient(): ControllerServiceClient {
    const { proto } = loadSluiceProto();
    return new proto.sluice.v1.ControllerService(this.#opts.controllerAddress, grpc.credentials.createInsecure(), CONTROLLER_CHANNEL_OPTIONS);
  }

  /**
   * Replaces the channel after a lost session. gRPC would reconnect over the same HTTP/2
   * connection while it stays up; but in Kubernetes the controller address is a Service, and a
   * deposed operator that keeps running keeps that connection open and answers NOT_CONTROLLER
   * forever. A new connection is routed afresh, to the operator that is Ready now.
   */
  #renewChannel(): void {
    const retired = this.#client;
    this.#client = this.#newClient();
    this.#retired.add(retired);
    setTimeout(() => {
      this.#retired.delete(retired);
      retired.close();
    }, RETIRED_CHANNEL_GRACE_MS).unref();
  }

  /** -1 until the controller accepted a registration. */
  get brokerEpoch(): number {
    return this.#brokerEpoch;
  }

  get appliedMetadataVersion(): number {
    return this.#applied.version;
  }

  start(): void {
    this.#connect();
  }

  async allocateProducerIds(): Promise<ProducerIdBlock> {
    if (this.#brokerEpoch < 0) {
      throw new SluiceError('BROKER_NOT_AVAILABLE', `broker ${this.#opts.brokerId} is not registered with the controller at ${this.#opts.controllerAddress} yet; retry shortly`);
    }
    const request = { broker_id: this.#opts.brokerId, broker_epoch: this.#brokerEpoch };
    const response = await new Promise<{ error: unknown; first_producer_id: number; count: number }>((resolve, reject) => {
      this.#client.AllocateProducerIds(request, { deadline: Date.now() + ALLOCATE_PRODUCER_IDS_TIMEOUT_MS }, (err, res) => {
        if (err || !res) reject(fromServiceError(err));
        else resolve(res);
      });
    });
    const error = fromErrorDetail(response.error as Parameters<typeof fromErrorDetail>[0]);
    if (error) throw error;
    return { firstProducerId: response.first_producer_id, count: response.count };
  }

  /** Proposes an ISR change (DESIGN §5); the leader uses it only once the answer commits it. */
  async alterPartition(proposal: AlterPartitionProposal): Promise<AlterPartitionAnswer> {
    const brokerEpoch = this.#registeredEpoch();
    const request = {
      broker_id: this.#opts.brokerId,
      broker_epoch: brokerEpoch,
      topic: proposal.topic,
      partition: proposal.partition,
      leader_epoch: proposal.leaderEpoch,
      partition_epoch: proposal.partitionEpoch,
      new_isr: [...proposal.newIsr],
    };
    const response = await new Promise<{ error: unknown; state: PartitionState__Output | null }>((resolve, reject) => {
      this.#client.AlterPartition(request, { deadline: Date.now() + ALTER_PARTITION_TIMEOUT_MS }, (err, res) => {
        if (err || !res) reject(fromServiceError(err));
        else resolve(res);
      });
    });
    return { error: fromErrorDetail(response.error as Parameters<typeof fromErrorDetail>[0]), state: response.state };
  }

  /**
   * Asks the controller to move this broker's leaderships away (DESIGN §6). Answers how many it
   * still leads; 0 also when the controller already fenced this broker.
   */
  async controlledShutdown(timeoutMs: number): Promise<number> {
    const request = { broker_id: this.#opts.brokerId, broker_epoch: this.#registeredEpoch() };
    const response = await new Promise<{ error: unknown; remaining_leaderships: number }>((resolve, reject) => {
      this.#client.ControlledShutdown(request, { deadline: Date.now() + timeoutMs }, (err, res) => {
        if (err || !res) reject(fromServiceError(err));
        else resolve(res);
      });
    });
    const error = fromErrorDetail(response.error as Parameters<typeof fromErrorDetail>[0]);
    if (error) throw error;
    return response.remaining_leaderships;
  }

  #registeredEpoch(): number {
    if (this.#brokerEpoch < 0) {
      throw new SluiceError('BROKER_NOT_AVAILABLE', `broker ${this.#opts.brokerId} is not registered with the controller at ${this.#opts.controllerAddress} yet; retry shortly`);
    }
    return this.#brokerEpoch;
  }

  /** Ends the session; waits for a metadata application in progress to finish. */
  async close(): Promise<void> {
    this.#closed = true;
    clearTimeout(this.#reconnect);
    this.#stopHeartbeat();
    const call = this.#call;
    this.#call = undefined;
    if (call) {
      call.end();
      call.cancel();
    }
    await this.#applying;
    this.#client.close();
    for (const c of this.#retired) c.close();
    this.#retired.clear();
  }

  #connect(): void {
    if (this.#closed) return;
    const call = this.#client.BrokerSession();
    this.#call = call;
    let ended = false;
    const end = (reason: string): void => {
      if (ended) return;
      ended = true;
      this.#sessionEnded(call, reason);
    };
    call.on('data', (msg: BrokerSessionResponse__Output) => {
      try {
        this.#onMessage(call, msg);
      } catch (err) {
        this.#log.error({ err }, 'failed to handle a controller session message');
      }
    });
    // Without an 'error' listener a lost controller would crash the process.
    call.on('error', (err: grpc.ServiceError) => end(`${grpc.status[err.code] ?? err.code}: ${err.details || err.message}`));
    call.on('end', () => end('the controller ended the stream'));
    call.write({
      register: {
        broker_id: this.#opts.brokerId,
        incarnation_id: this.#opts.incarnationId,
        host: this.#opts.host,
        port: this.#opts.port,
        rack: this.#opts.rack,
      },
    });
  }

  #onMessage(call: SessionCall, msg: BrokerSessionResponse__Output): void {
    if (call !== this.#call) return;
    switch (msg.kind) {
      case 'registered': {
        const accepted = msg.registered!;
        const previous = this.#brokerEpoch;
        this.#brokerEpoch = accepted.broker_epoch;
        this.#backoffMs = BACKOFF_INITIAL_MS;
        this.#log.info({ epoch: accepted.broker_epoch, previousEpoch: previous, clusterId: accepted.cluster_id, controllerId: accepted.controller_id }, 'registered with the controller');
        this.#startHeartbeat(accepted.heartbeat_interval_ms > 0 ? accepted.heartbeat_interval_ms : DEFAULT_HEARTBEAT_INTERVAL_MS);
        this.#opts.onRegistered?.(accepted);
        return;
      }
      case 'metadata':
        this.#offerMetadata(msg.metadata!);
        return;
      case 'error': {
        const err = fromErrorDetail(msg.error) ?? new SluiceError('UNKNOWN', 'the controller ended the session without an error code');
        // Loud on purpose: a refused session means this broker is fenced until it re-registers.
        this.#log.error({ code: err.code, epoch: this.#brokerEpoch, err: err.message }, 'the controller ended the broker session; registering again');
        this.#sessionEnded(call, `controller error ${err.code}`);
        call.end();
        call.cancel();
        return;
      }
      default:
        this.#log.warn({ kind: msg.kind }, 'ignoring an unknown controller session message');
    }
  }

  #sessionEnded(call: SessionCall, reason: string): void {
    // Events of a call already given up (cancelled after an error message, or by close())
    // must not touch the session that replaced it.
    if (call !== this.#call) return;
    this.#call = undefined;
    this.#stopHeartbeat();
    if (this.#closed || this.#reconnect !== undefined) return;
    this.#renewChannel();
    const delay = this.#backoffMs;
    this.#backoffMs = Math.min(this.#backoffMs * 2, BACKOFF_MAX_MS);
    this.#log.warn({ reason, retryInMs: delay, controller: this.#opts.controllerAddress }, 'controller session lost; reconnecting');
    this.#reconnect = setTimeout(() => {
      this.#reconnect = undefined;
      this.#connect();
    }, delay);
  }

  #startHeartbeat(intervalMs: number): void {
    this.#stopHeartbeat();
    this.#heartbeat = setInterval(() => {
      const call = this.#call;
      if (!call || this.#brokerEpoch < 0) return;
      call.write({ heartbeat: { broker_id: this.#opts.brokerId, broker_epoch: this.#brokerEpoch, metadata_version: this.#applied.version } });
    }, intervalMs);
  }

  #stopHeartbeat(): void {
    clearInterval(this.#heartbeat);
    this.#heartbeat = undefined;
  }

  #offerMetadata(metadata: ClusterMetadata__Output): void {
    const epoch = Number(metadata.controller_epoch ?? 0);
    if (epoch < this.#controllerEpoch) {
      // A deposed controller still pushing: what it has is not the cluster's state any more.
      if (this.#refusedEpoch !== epoch) {
        this.#refusedEpoch = epoch;
        this.#log.warn({ controllerEpoch: epoch, current: this.#controllerEpoch, version: metadata.version }, 'refusing metadata from a controller of an older term');
      }
      return;
    }
    if (!newerMetadata(metadata, this.#pendingMetadata ?? this.#applied)) return;
    this.#controllerEpoch = epoch;
    // Snapshots are complete, so one that arrives while another is being applied simply
    // replaces any older one still waiting.
    this.#pendingMetadata = metadata;
    this.#applying ??= this.#drainMetadata().finally(() => {
      this.#applying = undefined;
    });
  }

  async #drainMetadata(): Promise<void> {
    while (this.#pendingMetadata && !this.#closed) {
      const metadata = this.#pendingMetadata;
      this.#pendingMetadata = undefined;
      if (!newerMetadata(metadata, this.#applied) || Number(metadata.controller_epoch ?? 0) < this.#controllerEpoch) continue;
      try {
        await this.#opts.applyMetadata(metadata);
        this.#applied = { version: metadata.version, controller_epoch: Number(metadata.controller_epoch ?? 0) };
      } catch (err) {
        // Not marking it applied means the heartbeat keeps reporting the older version, so
        // the controller can see this broker lagging; the next snapshot retries everything.
        this.#log.error({ err, version: metadata.version }, 'failed to apply cluster metadata; retrying');
        setTimeout(() => {
          if (!this.#closed) this.#offerMetadata(metadata);
        }, METADATA_RETRY_MS).unref();
      }
    }
  }
}
