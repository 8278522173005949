// Topic and cluster administration. Brokers forward topic calls to the active controller, so
// the admin client only needs broker addresses: it asks the brokers it knows in turn, and
// retries while the controller is moving (NOT_CONTROLLER) or a broker is down. Results are
// plain camelCase objects; failures are SluiceErrors with their codes.
import { SluiceError, type ErrorCode } from '../common/errors.ts';
import type { Logger } from '../common/logger.ts';
import { parseTopicConfig, topicConfigToStrings, validatePartitionCount, validateTopicName } from '../common/topic-config.ts';
import { resolveAdminOptions, type AdminOptions, type ResolvedAdminOptions } from './client-options.ts';
import { clientLogger } from './client-logger.ts';
import { ClusterMetadata, brokerAddress } from './cluster-metadata.ts';
import { ConnectionPool, callUnary, type BrokerConnection } from './connection-pool.ts';
import { listOffsets, type ListOffsetsRequest, type ListOffsetsResult } from './list-offsets.ts';
import { fromErrorDetail } from '../common/grpc-errors.ts';
import type { TopicState__Output } from '../proto/gen/sluice/v1/TopicState.ts';
import type { BrokerEndpoint__Output } from '../proto/gen/sluice/v1/BrokerEndpoint.ts';

export type TopicConfigInput = Record<string, string | number | boolean>;

export interface CreateTopicInput {
  name: string;
  partitions: number;
  /** Default: the cluster's (min(3, live brokers)). */
  replicationFactor?: number;
  config?: TopicConfigInput;
  /** Check the request without creating anything. */
  validateOnly?: boolean;
}

export interface AlterTopicInput {
  name: string;
  /** New partition count (only growth is allowed). */
  partitions?: number;
  replicationFactor?: number;
  /** Keys to set; with replaceConfig the whole config becomes this. */
  config?: TopicConfigInput;
  replaceConfig?: boolean;
  validateOnly?: boolean;
}

export interface PartitionDescription {
  partition: number;
  replicas: number[];
  /** -1 when offline. */
  leader: number;
  leaderEpoch: number;
  isr: number[];
  partitionEpoch: number;
  addingReplicas: number[];
  removingReplicas: number[];
}

export interface TopicDescription {
  name: string;
  topicId: string;
  /** Effective value of every known key (defaults filled in) for describeTopic. */
  config: Record<string, string>;
  partitions: PartitionDescription[];
}

export interface TopicListing {
  name: string;
  topicId: string;
  partitions: number;
  replicationFactor: number;
  underReplicatedPartitions: number;
  offlinePartitions: number;
}

export interface BrokerEndpointDescription {
  brokerId: number;
  host: string;
  port: number;
  rack: string;
  address: string;
}

export type BrokerStateName = 'active' | 'shuttingDown' | 'fenced' | 'unknown';

export interface BrokerDescription extends BrokerEndpointDescription {
  state: BrokerStateName;
  brokerEpoch: number;
}

export interface ClusterDescription {
  clusterId: string;
  controllerId: number;
  brokers: BrokerDescription[];
}

export interface ReplicaDescription {
  topic: string;
  partition: number;
  isLeader: boolean;
  leaderEpoch: number;
  logStartOffset: number;
  highWatermark: number;
  logEndOffset: number;
  sizeBytes: number;
}

export interface BrokerReplicas {
  brokerId: number;
  replicas: ReplicaDescription[];
}

export interface MetadataSnapshot {
  clusterId: string;
  controllerId: number;
  brokers: BrokerEndpointDescription[];
  topics: {
    name: string;
    topicId: string;
    error: { code: ErrorCode; message: string } | null;
    partitions: { partition: number; leaderId: number; leaderEpoch: number; replicas: number[]; isr: number[]; offlineReplicas: number[] }[];
  }[];
}

// Answers after which asking another broker (or the same one later) may succeed. They do not
// prove the call had no effect: the connection can drop, or the controller lose its lease,
// after the controller committed the change and before the reply arrived. So a call that is
// not idempotent says how to read the answer to such a retry (see CallOptions).
const RETRY_ELSEWHERE = new Set<ErrorCode>(['BROKER_NOT_AVAILABLE', 'NOT_CONTROLLER']);

interface CallOptions<T> {
  /**
   * For a call that is not idempotent: the result of a retry refused with `error` after an
   * earlier attempt may have taken effect (CreateTopic: TOPIC_ALREADY_EXISTS; DeleteTopic:
   * UNKNOWN_TOPIC_OR_PARTITION), or a rethrow when the refusal stands.
   */
  afterLostAttempt?: (error: SluiceError) => Promise<T>;
}

const BROKER_STATES: Record<string, BrokerStateName> = {
  BROKER_STATE_ACTIVE: 'active',
  BROKER_STATE_SHUTTING_DOWN: 'shuttingDown',
  BROKER_STATE_FENCED: 'fenced',
};

function endpoint(e: BrokerEndpoint__Output | null): BrokerEndpointDescription {
  const host = e?.host ?? '';
  const port = e?.port ?? 0;
  return { brokerId: e?.broker_id ?? -1, host, port, rack: e?.rack ?? '', address: brokerAddress(host, port) };
}

function topicDescription(t: TopicState__Output | null, name: string): TopicDescription {
  if (!t) throw new SluiceError('UNKNOWN', `the cluster answered without describing topic "${name}"`);
  return {
    name: t.name,
    topicId: t.topic_id,
    config: { ...t.config },
    partitions: t.partitions
      .map((p) => ({
        partition: p.partition,
        replicas: p.replicas,
        leader: p.leader,
        leaderEpoch: p.leader_epoch,
        isr: p.isr,
        partitionEpoch: p.partition_epoch,
        addingReplicas: p.adding_replicas,
        removingReplicas: p.removing_replicas,
      }))
      .sort((a, b) => a.partition - b.partition),
  };
}

function configStrings(config: TopicConfigInput | undefined): Record<string, string> {
  if (config === undefined) return {};
  return topicConfigToStrings(parseTopicConfig(config));
}

/** Whether a described topic is the one a CreateTopic request asked for: its partitions, replication factor and config. */
function matchesRequest(topic: TopicDescription, request: { partitions: number; replication_factor: number; config: Record<string, string> }): boolean {
  if (topic.partitions.length !== request.partitions) return false;
  // 0 asked for the cluster's default, which any factor satisfies.
  if (request.replication_factor !== 0 && topic.partitions.some((p) => p.replicas.length - p.removingReplicas.length !== request.replication_factor)) return false;
  return Object.entries(request.config).every(([key, value]) => topic.config[key] === value);
}

function optionalCount(what: string, value: number | undefined, max: number): number {
  if (value === undefined) return 0;
  if (!Number.isInteger(value) || value < 1 || value > max) {
    throw new SluiceError(what === 'partitions' ? 'INVALID_PARTITIONS' : 'INVALID_REPLICATION_FACTOR', `${what} must be a whole number from 1 to ${max} (got ${value})`);
  }
  return value;
}

export class Admin {
  readonly options: Readonly<ResolvedAdminOptions>;
  private readonly logger: Logger;
  private readonly pool: ConnectionPool;
  private readonly metadataCache: ClusterMetadata;
  private readonly abort = new AbortController();
  private closed = false;

  constructor(options: AdminOptions) {
    const o = resolveAdminOptions(options);
    this.options = o;
    this.logger = clientLogger(o.logger, 'admin', o.clientId);
    this.pool = new ConnectionPool(o.clientId);
    this.metadataCache = ClusterMetadata.forClient(this.pool, o, this.logger);
  }

  async createTopic(input: CreateTopicInput): Promise<TopicDescription> {
    validateTopicName(input?.name);
    validatePartitionCount(input.partitions);
    const request = {
      name: input.name,
      partitions: input.partitions,
      replication_factor: optionalCount('replicationFactor', input.replicationFactor, 32),
      config: configStrings(input.config),
      validate_only: input.validateOnly ?? false,
    };
    return this.call('CreateTopic', async (c) => topicDescription((await callUnary(c.admin, c.admin.CreateTopic, request, this.options.requestTimeoutMs, this.abort.signal)).topic, input.name), {
      afterLostAttempt: async (error) => {
        // Ours if it is what we asked for; then the lost attempt created it (or someone asked
        // for the very same topic at the same time, which is as good).
        if (error.code === 'TOPIC_ALREADY_EXISTS' && !request.validate_only) {
          const existing = await this.describeTopic(input.name).catch(() => null);
          if (existing !== null && matchesRequest(existing, request)) return existing;
        }
        throw error;
      },
    });
  }

  async alterTopic(input: AlterTopicInput): Promise<TopicDescription> {
    validateTopicName(input?.name);
    const request = {
      name: input.name,
      partitions: optionalCount('partitions', input.partitions, 10_000),
      replication_factor: optionalCount('replicationFactor', input.replicationFactor, 32),
      config: configStrings(input.config),
      replace_config: input.replaceConfig ?? false,
      validate_only: input.validateOnly ?? false,
    };
    // Safe to retry as is: the request states absolute targets (a partition count, a
    // replication factor, config values), so applying it twice changes nothing the second time.
    const res = await this.call('AlterTopic', (c) => callUnary(c.admin, c.admin.AlterTopic, request, this.options.requestTimeoutMs, this.abort.signal));
    return topicDescription(res.topic, input.name);
  }

  async deleteTopic(name: string): Promise<void> {
    validateTopicName(name);
    await this.call<unknown>('DeleteTopic', (c) => callUnary(c.admin, c.admin.DeleteTopic, { name }, this.options.requestTimeoutMs, this.abort.signal), {
      afterLostAttempt: async (error) => {
        // The lost attempt deleted it.
        if (error.code !== 'UNKNOWN_TOPIC_OR_PARTITION') throw error;
      },
    });
  }

  async listTopics(): Promise<TopicListing[]> {
    const res = await this.call('ListTopics', (c) => callUnary(c.admin, c.admin.ListTopics, {}, this.options.requestTimeoutMs, this.abort.signal));
    return res.topics
      .map((t) => ({
        name: t.name,
        topicId: t.topic_id,
        partitions: t.partitions,
        replicationFactor: t.replication_factor,
        underReplicatedPartitions: t.under_replicated_partitions,
        offlinePartitions: t.offline_partitions,
      }))
      .sort((a, b) => a.name.localeCompare(b.name));
  }

  async describeTopic(name: string): Promise<TopicDescription> {
    validateTopicName(name);
    const res = await this.call('DescribeTopic', (c) => callUnary(c.admin, c.admin.DescribeTopic, { name }, this.options.requestTimeoutMs, this.abort.signal));
    return topicDescription(res.topic, name);
  }

  async describeCluster(): Promise<ClusterDescription> {
    const res = await this.call('DescribeCluster', (c) => callUnary(c.admin, c.admin.DescribeCluster, {}, this.options.requestTimeoutMs, this.abort.signal));
    return {
      clusterId: res.cluster_id,
      controllerId: res.controller_id,
      brokers: res.brokers
        .map((b) => ({ ...endpoint(b.endpoint), state: BROKER_STATES[b.state] ?? 'unknown', brokerEpoch: b.broker_epoch }))
        .sort((a, b) => a.brokerId - b.brokerId),
    };
  }

  /** The replicas one broker hosts, with their offsets, as that broker sees them. */
  async describeReplicas(address: string): Promise<BrokerReplicas> {
    this.checkOpen();
    const conn = this.pool.get(address);
    const res = await callUnary(conn.admin, conn.admin.DescribeReplicas, {}, this.options.requestTimeoutMs, this.abort.signal);
    return {
      brokerId: res.broker_id,
      replicas: res.replicas.map((r) => ({
        topic: r.topic,
        partition: r.partition,
        isLeader: r.is_leader,
        leaderEpoch: r.leader_epoch,
        logStartOffset: r.log_start_offset,
        highWatermark: r.high_watermark,
        logEndOffset: r.log_end_offset,
        sizeBytes: r.size_bytes,
      })),
    };
  }

  /** What the brokers serve: live brokers, and partitions with leaders (every topic when none are named). */
  async metadata(topics: readonly string[] = []): Promise<MetadataSnapshot> {
    this.checkOpen();
    const { response } = await this.metadataCache.fetchRaw([...topics]);
    return {
      clusterId: response.cluster_id,
      controllerId: response.controller_id,
      brokers: response.brokers.map(endpoint).sort((a, b) => a.brokerId - b.brokerId),
      topics: response.topics.map((t) => {
        const error = fromErrorDetail(t.error);
        return {
          name: t.name,
          topicId: t.topic_id,
          error: error ? { code: error.code, message: error.message } : null,
          partitions: t.partitions
            .map((p) => ({ partition: p.partition, leaderId: p.leader_id, leaderEpoch: p.leader_epoch, replicas: p.replicas, isr: p.isr, offlineReplicas: p.offline_replicas }))
            .sort((a, b) => a.partition - b.partition),
        };
      }),
    };
  }

  /** Earliest (log start), latest (high watermark) or by-timestamp offsets, asked of each partition's leader. */
  async listOffsets(requests: readonly ListOffsetsRequest[]): Promise<ListOffsetsResult[]> {
    this.checkOpen();
    return listOffsets(this.pool, this.metadataCache, requests, {
      timeoutMs: this.options.requestTimeoutMs,
      retryBackoffMs: this.options.retryBackoffMs,
      signal: this.abort.signal,
    });
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.abort.abort();
    this.metadataCache.close();
    this.pool.close();
  }

  private checkOpen(): void {
    if (this.closed) throw new SluiceError('CLOSED', 'the admin client is closed; create a new one');
  }

  /** Tries the known brokers in turn until one answers or the request timeout passes. */
  private async call<T>(what: string, fn: (conn: BrokerConnection) => Promise<T>, options: CallOptions<T> = {}): Promise<T> {
    this.checkOpen();
    const deadline = Date.now() + this.options.requestTimeoutMs;
    let lastError: SluiceError | null = null;
    for (;;) {
      for (const address of this.metadataCache.candidateAddresses()) {
        this.checkOpen();
        try {
          return await fn(this.pool.get(address));
        } catch (err) {
          const error = err instanceof SluiceError ? err : new SluiceError('UNKNOWN', String(err), {}, { cause: err });
          if (!RETRY_ELSEWHERE.has(error.code) || this.closed) {
            // lastError is set only by an earlier attempt whose outcome is unknown.
            if (lastError !== null && options.afterLostAttempt !== undefined && !this.closed) return options.afterLostAttempt(error);
            throw error;
          }
          lastError = error;
          this.logger.debug({ broker: address, err: error }, `${what} failed; trying another broker`);
        }
      }
      if (Date.now() + this.options.retryBackoffMs >= deadline) {
        const unknownOutcome = options.afterLostAttempt !== undefined && lastError !== null ? '; it may still have taken effect, so check (describe or list the topics) before asking again' : '';
        throw new SluiceError(
          lastError?.code ?? 'BROKER_NOT_AVAILABLE',
          `${what} failed on every broker within ${this.options.requestTimeoutMs} ms: ${lastError?.message ?? 'no broker known'}${unknownOutcome}`,
          lastError?.details ?? {},
          { cause: lastError },
        );
      }
      // Learn about brokers the bootstrap list does not name before the next round.
      await this.metadataCache.refresh().catch(() => undefined);
      await new Promise((r) => setTimeout(r, this.options.retryBackoffMs));
    }
  }
}
