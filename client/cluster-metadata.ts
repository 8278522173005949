// The client's view of the cluster: live brokers and, per topic the client uses, its partitions
// and their leaders. Learned from the bootstrap list, refreshed when something fails (single
// flight, at most once per retryBackoffMs), when a NOT_LEADER reply names no leader, and at
// least every metadataMaxAgeMs. A NOT_LEADER reply that names the leader is applied at once,
// so the retry goes straight to the new leader without a metadata round trip (DESIGN §8).
import { SluiceError } from '../common/errors.ts';
import type { Logger } from '../common/logger.ts';
import { fromErrorDetail } from '../common/grpc-errors.ts';
import { callUnary, type ConnectionPool } from './connection-pool.ts';
import type { MetadataResponse__Output } from '../proto/gen/sluice/v1/MetadataResponse.ts';

export interface BrokerInfo {
  id: number;
  host: string;
  port: number;
  rack: string;
  /** `host:port`, the key of the connection pool. */
  address: string;
}

export interface PartitionInfo {
  partition: number;
  /** -1 when the partition is offline. */
  leaderId: number;
  leaderEpoch: number;
  replicas: number[];
  isr: number[];
  offlineReplicas: number[];
}

export interface TopicInfo {
  name: string;
  topicId: string;
  /** Indexed by partition number. */
  partitions: PartitionInfo[];
}

export interface ClusterMetadataOptions {
  bootstrapServers: string[];
  requestTimeoutMs: number;
  retryBackoffMs: number;
  metadataMaxAgeMs: number;
  logger: Logger;
}

export function brokerAddress(host: string, port: number): string {
  return host.includes(':') && !host.startsWith('[') ? `[${host}]:${port}` : `${host}:${port}`;
}

function splitAddress(address: string): { host: string; port: number } {
  const at = address.lastIndexOf(':');
  return { host: address.slice(0, at).replace(/^\[(.*)\]$/, '$1'), port: Number(address.slice(at + 1)) };
}

const noop = (): void => {};

export class ClusterMetadata {
  clusterId = '';
  controllerId = -1;
  private readonly pool: ConnectionPool;
  private readonly options: ClusterMetadataOptions;
  private readonly brokers = new Map<number, BrokerInfo>();
  private readonly topics = new Map<string, TopicInfo>();
  private readonly topicErrors = new Map<string, SluiceError>();
  private readonly tracked = new Set<string>();
  private readonly listeners = new Set<() => void>();
  private inflight: Promise<void> | null = null;
  private inflightTopics = new Set<string>();
  private queued: Promise<void> | null = null;
  private lastRefreshStartedAt = 0;
  private deferredTimer: NodeJS.Timeout | null = null;
  private periodicTimer: NodeJS.Timeout | null = null;
  private rotation = 0;
  private closed = false;

  constructor(pool: ConnectionPool, options: ClusterMetadataOptions) {
    this.pool = pool;
    this.options = options;
  }

  /** The metadata cache of a producer, consumer or admin client, from its resolved options. */
  static forClient(pool: ConnectionPool, o: Omit<ClusterMetadataOptions, 'logger'>, logger: Logger): ClusterMetadata {
    const { bootstrapServers, requestTimeoutMs, retryBackoffMs, metadataMaxAgeMs } = o;
    return new ClusterMetadata(pool, { bootstrapServers, requestTimeoutMs, retryBackoffMs, metadataMaxAgeMs, logger });
  }

  /** Starts the periodic refresh (metadataMaxAgeMs). */
  start(): void {
    if (this.periodicTimer || this.closed) return;
    this.periodicTimer = setInterval(() => this.requestRefresh(), this.options.metadataMaxAgeMs);
    this.periodicTimer.unref();
  }

  close(): void {
    this.closed = true;
    if (this.periodicTimer) clearInterval(this.periodicTimer);
    if (this.deferredTimer) clearTimeout(this.deferredTimer);
    this.periodicTimer = null;
    this.deferredTimer = null;
    this.listeners.clear();
  }

  /** Called after every refresh attempt, successful or not, and after a leader hint is applied. */
  onUpdate(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Adds topics to those refreshed; returns true if any was new. */
  track(topics: Iterable<string>): boolean {
    let added = false;
    for (const t of topics) {
      if (!this.tracked.has(t)) {
        this.tracked.add(t);
        added = true;
      }
    }
    return added;
  }

  topic(name: string): TopicInfo | undefined {
    return this.topics.get(name);
  }

  /** Why the last refresh did not return the topic (usually UNKNOWN_TOPIC_OR_PARTITION). */
  topicError(name: string): SluiceError | undefined {
    return this.topicErrors.get(name);
  }

  broker(id: number): BrokerInfo | undefined {
    return this.brokers.get(id);
  }

  brokerList(): BrokerInfo[] {
    return [...this.brokers.values()];
  }

  /** The leader's id and address, or null when the partition has no leader or it is not a known broker. */
  leaderFor(topic: string, partition: number): BrokerInfo | null {
    const p = this.topics.get(topic)?.partitions[partition];
    if (!p || p.leaderId < 0) return null;
    return this.brokers.get(p.leaderId) ?? null;
  }

  /**
   * Applies the leader named by a NOT_LEADER (or similar) error. Returns true when the error
   * named a leader other than the broker that answered, i.e. the request can be re-routed now;
   * otherwise a refresh is requested and false returned.
   */
  applyLeaderHint(topic: string, partition: number, err: SluiceError, answeredBy: string): boolean {
    const { leaderId, leaderAddress, leaderEpoch } = err.details;
    const p = this.topics.get(topic)?.partitions[partition];
    if (leaderId === undefined || leaderId < 0 || !leaderAddress || leaderAddress === answeredBy || !p) {
      this.requestRefresh();
      return false;
    }
    // A hint older than what we know (a reply that was overtaken by a newer election) must not
    // move the partition back to a deposed leader (KIP-320).
    if (leaderEpoch !== undefined && leaderEpoch < p.leaderEpoch) {
      this.requestRefresh();
      return false;
    }
    p.leaderId = leaderId;
    if (leaderEpoch !== undefined) p.leaderEpoch = leaderEpoch;
    const { host, port } = splitAddress(leaderAddress);
    const known = this.brokers.get(leaderId);
    this.brokers.set(leaderId, { id: leaderId, host, port, rack: known?.rack ?? '', address: leaderAddress });
    this.notify();
    return true;
  }

  /**
   * A background refresh: single flight, and never more often than once per retryBackoffMs so
   * a partition without a leader does not turn into a metadata storm.
   */
  requestRefresh(): void {
    if (this.closed || this.deferredTimer) return;
    if (this.inflight) {
      this.refresh().catch(noop);
      return;
    }
    const wait = this.lastRefreshStartedAt + this.options.retryBackoffMs - Date.now();
    if (wait <= 0) {
      this.refresh().catch(noop);
      return;
    }
    this.deferredTimer = setTimeout(() => {
      this.deferredTimer = null;
      this.refresh().catch(noop);
    }, wait);
    this.deferredTimer.unref();
  }

  /** Fetches metadata for the tracked topics now (joining a refresh in flight that covers them). */
  refresh(): Promise<void> {
    if (this.closed) return Promise.reject(new SluiceError('CLOSED', 'the client was closed'));
    if (this.inflight) {
      let covered = true;
      for (const t of this.tracked) if (!this.inflightTopics.has(t)) covered = false;
      if (covered) return this.inflight;
      this.queued ??= this.inflight.then(noop, noop).then(() => {
        this.queued = null;
        return this.refresh();
      });
      return this.queued;
    }
    const topics = [...this.tracked];
    this.inflightTopics = new Set(topics);
    this.lastRefreshStartedAt = Date.now();
    const run = this.fetchAndApply(topics);
    this.inflight = run;
    run.then(
      () => {
        this.inflight = null;
        this.notify();
      },
      (err: unknown) => {
        this.inflight = null;
        this.options.logger.warn({ err }, 'metadata refresh failed');
        this.notify();
      },
    );
    return run;
  }

  /** First contact: refreshes until some broker answers, retrying within the timeout. */
  async bootstrap(timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      try {
        await this.refresh();
        return;
      } catch (err) {
        if (this.closed || !(err instanceof SluiceError) || !err.retriable || Date.now() + this.options.retryBackoffMs >= deadline) {
          if (err instanceof SluiceError && err.retriable) {
            throw new SluiceError(err.code, `could not reach the cluster within ${timeoutMs} ms: ${err.message}`, err.details, { cause: err });
          }
          throw err;
        }
      }
      await new Promise((r) => setTimeout(r, this.options.retryBackoffMs));
    }
  }

  /**
   * Refreshes until the topic is known, retrying within the deadline. Throws the topic's own
   * error (UNKNOWN_TOPIC_OR_PARTITION) or the last transport error when the deadline passes.
   */
  async waitForTopic(topic: string, timeoutMs: number): Promise<TopicInfo> {
    this.track([topic]);
    const deadline = Date.now() + timeoutMs;
    let lastError: unknown;
    for (;;) {
      const info = this.topics.get(topic);
      if (info) return info;
      if (Date.now() >= deadline) {
        const topicError = this.topicErrors.get(topic);
        if (topicError) {
          throw new SluiceError(topicError.code, `${topicError.message} (still so after ${timeoutMs} ms)`, { ...topicError.details, topic });
        }
        if (lastError instanceof SluiceError) throw lastError;
        throw new SluiceError('UNKNOWN_TOPIC_OR_PARTITION', `topic "${topic}" did not appear in the cluster metadata within ${timeoutMs} ms; create it first or check the name`, { topic });
      }
      try {
        await this.refresh();
      } catch (err) {
        lastError = err;
        if (err instanceof SluiceError && err.code === 'CLOSED') throw err;
      }
      if (!this.topics.has(topic)) {
        await new Promise((r) => setTimeout(r, Math.max(0, Math.min(this.options.retryBackoffMs, deadline - Date.now()))));
      }
    }
  }

  /** One Metadata call, tried on each known broker and bootstrap server in turn. */
  async fetchRaw(topics: string[]): Promise<{ response: MetadataResponse__Output; address: string }> {
    const candidates = this.candidateAddresses();
    let lastError: unknown;
    for (const address of candidates) {
      if (this.closed) throw new SluiceError('CLOSED', 'the client was closed');
      try {
        const conn = this.pool.get(address);
        const response = await callUnary(conn.metadata, conn.metadata.Metadata, { topics }, this.options.requestTimeoutMs);
        return { response, address };
      } catch (err) {
        lastError = err;
        this.options.logger.debug({ err, broker: address }, 'metadata request failed; trying the next broker');
      }
    }
    const cause = lastError instanceof Error ? lastError.message : String(lastError);
    throw new SluiceError(
      lastError instanceof SluiceError && lastError.code !== 'UNKNOWN' ? lastError.code : 'BROKER_NOT_AVAILABLE',
      `no broker answered a metadata request (tried ${candidates.join(', ')}): ${cause}`,
      {},
      { cause: lastError },
    );
  }

  /** Known brokers (starting at a different one each call), then the bootstrap servers. */
  candidateAddresses(): string[] {
    const known = [...this.brokers.values()].map((b) => b.address);
    // Start at a different broker each time, so one slow broker is not asked first forever.
    const start = known.length > 0 ? this.rotation++ % known.length : 0;
    const ordered = [...known.slice(start), ...known.slice(0, start)];
    for (const b of this.options.bootstrapServers) if (!ordered.includes(b)) ordered.push(b);
    return ordered;
  }

  private async fetchAndApply(topics: string[]): Promise<void> {
    const { response } = await this.fetchRaw(topics);
    if (this.closed) return;
    this.apply(response, topics);
  }

  private apply(response: MetadataResponse__Output, requested: string[]): void {
    this.clusterId = response.cluster_id;
    this.controllerId = response.controller_id;
    const previousBrokers = new Map(this.brokers);
    this.brokers.clear();
    for (const b of response.brokers) {
      this.brokers.set(b.broker_id, { id: b.broker_id, host: b.host, port: b.port, rack: b.rack, address: brokerAddress(b.host, b.port) });
    }
    const seen = new Set<string>();
    for (const t of response.topics) {
      seen.add(t.name);
      const error = fromErrorDetail(t.error);
      if (error) {
        this.topics.delete(t.name);
        this.topicErrors.set(t.name, error);
        continue;
      }
      this.topicErrors.delete(t.name);
      const previous = this.topics.get(t.name);
      const partitions: PartitionInfo[] = [];
      for (const p of t.partitions) {
        const info: PartitionInfo = {
          partition: p.partition,
          leaderId: p.leader_id,
          leaderEpoch: p.leader_epoch,
          replicas: p.replicas,
          isr: p.isr,
          offlineReplicas: p.offline_replicas,
        };
        // A broker whose metadata lags may report an older leader than a hint we already
        // applied; keep the newer one (KIP-320). A recreated topic (new id) starts over.
        const old = previous?.topicId === t.topic_id ? previous.partitions[p.partition] : undefined;
        if (old && old.leaderEpoch > info.leaderEpoch) {
          info.leaderId = old.leaderId;
          info.leaderEpoch = old.leaderEpoch;
          // The hinted leader may be missing from the lagging broker list too.
          const hinted = previousBrokers.get(old.leaderId);
          if (hinted && !this.brokers.has(old.leaderId)) this.brokers.set(old.leaderId, hinted);
        }
        partitions[p.partition] = info;
      }
      this.topics.set(t.name, { name: t.name, topicId: t.topic_id, partitions });
    }
    for (const name of requested) {
      if (!seen.has(name)) {
        this.topics.delete(name);
        this.topicErrors.set(name, new SluiceError('UNKNOWN_TOPIC_OR_PARTITION', `topic "${name}" does not exist`, { topic: name }));
      }
    }
    if (requested.length === 0) {
      for (const name of [...this.topics.keys()]) if (!seen.has(name)) this.topics.delete(name);
    }
  }

  private notify(): void {
    for (const l of [...this.listeners]) {
      try {
        l();
      } catch (err) {
        this.options.logger.error({ err }, 'metadata listener threw');
      }
    }
  }
}
