// Composition root of the broker process: wires the log manager, metadata cache, replica
// manager (with replication), services, servers and controller session, and owns the start
// and stop order: a stop first moves leaderships away (controlled shutdown), then closes.
import { randomUUID } from 'node:crypto';
import { SluiceError } from '../common/errors.ts';
import { createLogger, type Logger } from '../common/logger.ts';
import type { ClusterMetadata__Output } from '../proto/gen/sluice/v1/ClusterMetadata.ts';
import type { BrokerConfig } from './broker-config.ts';
import { createBrokerMetrics, type BrokerMetrics, type HostedPartitionSample, type LeaderPartitionSample } from './broker-metrics.ts';
import { clusterIdVerdict, readBrokerIdentity, writeBrokerIdentity } from './cluster-identity.ts';
import { movableLeaderships, runControlledShutdown } from './controlled-shutdown.ts';
import { ControllerSession } from './controller-session.ts';
import { DelayedOperationPurgatory } from './delayed-operations.ts';
import { BrokerGrpcServer } from './grpc-server.ts';
import { BrokerHttpServer } from './http-server.ts';
import { DEFAULT_LOG_CONFIG } from './log/log-config.ts';
import { LogManager } from './log/log-manager.ts';
import { MetadataCache } from './metadata-cache.ts';
import { ProducerIdManager } from './producer-id-manager.ts';
import { ReplicaManager } from './replica-manager.ts';
import { AdminService } from './services/admin-service.ts';
import { LogService } from './services/log-service.ts';
import { metadataServiceHandlers } from './services/metadata-service.ts';
import { ReplicaService } from './services/replica-service.ts';

/** How often readiness re-checks the start-up catch-up deadline. */
const CATCH_UP_CHECK_INTERVAL_MS = 500;
/** A refused metadata snapshot (other cluster) is logged at most this often. */
const CLUSTER_MISMATCH_LOG_INTERVAL_MS = 10_000;

export interface BrokerPorts {
  grpcPort: number;
  httpPort: number;
}

export class Broker {
  readonly config: BrokerConfig;
  readonly logger: Logger;
  /** Random per process start: lets the controller tell a reconnect from a restart. */
  readonly incarnationId = randomUUID();
  readonly metadata = new MetadataCache();
  readonly #logs: LogManager;
  readonly #replicas: ReplicaManager;
  readonly #logService: LogService;
  readonly #replicaService: ReplicaService;
  readonly #adminService: AdminService;
  readonly #grpc: BrokerGrpcServer;
  readonly #http: BrokerHttpServer;
  readonly #metrics: BrokerMetrics;
  #session: ControllerSession | undefined;
  /** The cluster this data directory belongs to (meta.properties); null until the first metadata. */
  #clusterId: string | null = null;
  /** Set while metadata from another cluster is being refused (the readiness reason says so). */
  #foreignCluster: string | null = null;
  #lastMismatchLogMs = 0;
  /** Past the controlled shutdown: metadata is no longer applied. */
  #closing = false;
  #ports: BrokerPorts | undefined;
  #ready = false;
  /**
   * Past the start-up catch-up: back in the ISR of every followed partition whose leader is
   * alive, or --ready-catch-up-timeout-ms passed. Readiness (gRPC health, /readyz) waits for
   * it, so a rolling restart or a drain does not stop the next broker while this one still
   * copies what it missed, which would leave partitions under min.insync.replicas.
   */
  #caughtUp = false;
  #catchUpDeadline = 0;
  #catchUpTimer: NodeJS.Timeout | undefined;
  #resolveReady!: () => void;
  readonly #readyPromise = new Promise<void>((resolve) => (this.#resolveReady = resolve));
  #stopping: Promise<void> | undefined;

  constructor(config: BrokerConfig, opts: { logger?: Logger } = {}) {
    this.config = config;
    this.logger = opts.logger ?? createLogger('broker', { broker: config.id });
    const logger = this.logger;
    this.#logs = new LogManager({ dataDir: config.dataDir, defaults: DEFAULT_LOG_CONFIG, logger });
    const purgatory = new DelayedOperationPurgatory((err) => logger.error({ err }, 'delayed operation failed; dropped it'));
    this.#metrics = createBrokerMetrics(
      {
        leaderPartitions: () => this.#leaderSamples(),
        hostedPartitions: () => this.#hostedSamples(),
        dataDir: config.dataDir,
      },
      config.id,
    );
    this.#replicas = new ReplicaManager({
      brokerId: config.id,
      logManager: this.#logs,
      metadata: this.metadata,
      purgatory,
      logger,
      controller: {
        brokerEpoch: () => this.#session?.brokerEpoch ?? -1,
        alterPartition: (proposal) => {
          if (!this.#session) throw new SluiceError('BROKER_NOT_AVAILABLE', 'the broker is starting; no controller session yet');
          return this.#session.alterPartition(proposal);
        },
      },
      replication: { lagTimeMaxMs: config.replicaLagTimeMaxMs, fetchWaitMaxMs: config.replicaFetchWaitMaxMs },
      onIsrChange: (kind) => (kind === 'shrink' ? this.#metrics.isrShrinks : this.#metrics.isrExpands).inc(),
      traffic: this.#metrics.traffic,
    });
    const producerIds = new ProducerIdManager(() => {
      if (!this.#session) throw new SluiceError('BROKER_NOT_AVAILABLE', 'the broker is starting; retry shortly');
      return this.#session.allocateProducerIds();
    });
    const observeRequest = this.#metrics.observeRequest;
    this.#logService = new LogService({ replicas: this.#replicas, producerIds, logger, observeRequest });
    this.#replicaService = new ReplicaService({ replicas: this.#replicas, logger, observeRequest });
    this.#adminService = new AdminService({ controllerAddress: config.controller, brokerId: config.id, replicas: this.#replicas, logger });
    this.#grpc = new BrokerGrpcServer({
      log: this.#logService.handlers,
      metadata: metadataServiceHandlers(this.metadata, logger),
      admin: this.#adminService.handlers,
      replica: this.#replicaService.handlers,
    }, observeRequest);
    this.#http = new BrokerHttpServer({ host: config.bindHost, port: config.httpPort, registry: this.#metrics.registry, logger, notReadyReason: () => this.#notReadyReason() });
  }

  get ready(): boolean {
    return this.#ready;
  }

  /** The replica manager, for in-process tests and diagnostics. */
  get replicas(): ReplicaManager {
    return this.#replicas;
  }

  /** Resolves once the first cluster metadata from the controller has been applied. */
  whenReady(): Promise<void> {
    return this.#readyPromise;
  }

  /**
   * Loads the logs, binds both servers and opens the controller session. The gRPC port must
   * be bound before registering: the controller hands the real port to clients.
   */
  async start(): Promise<BrokerPorts> {
    const { config, logger } = this;
    const identity = await readBrokerIdentity(config.dataDir);
    if (identity && identity.brokerId !== config.id) {
      // Serving another broker's replicas under this id would hand the controller LEOs and
      // epochs of logs it never assigned here.
      throw new SluiceError('INVALID_CONFIG', `the data directory ${config.dataDir} belongs to broker ${identity.brokerId} of cluster ${identity.clusterId}, not broker ${config.id}; start it with --id ${identity.brokerId} or give this broker its own --data-dir`);
    }
    this.#clusterId = identity?.clusterId ?? null;
    await this.#logs.open();
    this.#logs.startBackgroundTasks({ retentionCheckIntervalMs: config.retentionCheckIntervalMs, flushCheckIntervalMs: config.flushCheckIntervalMs });
    const grpcPort = await this.#grpc.bind(config.bindHost, config.port);
    const httpPort = await this.#http.listen();
    this.#ports = { grpcPort, httpPort };
    this.#session = new ControllerSession({
      controllerAddress: config.controller,
      brokerId: config.id,
      incarnationId: this.incarnationId,
      host: config.host,
      port: grpcPort,
      rack: config.rack,
      logger,
      applyMetadata: (md) => this.#applyMetadata(md),
    });
    this.#replicas.startReplication();
    this.#session.start();
    logger.info({ grpcPort, httpPort, controller: config.controller, dataDir: config.dataDir, incarnationId: this.incarnationId, clusterId: this.#clusterId }, 'broker started; registering with the controller');
    return this.#ports;
  }

  /**
   * Graceful stop: first a controlled shutdown (leaderships move away while this broker still
   * serves and follows metadata), then refuse new calls, answer parked requests and end
   * streams, stop replicating, let in-flight calls finish (bounded by shutdownTimeoutMs), and
   * close the logs cleanly so the next start needs no recovery. Idempotent.
   */
  stop(): Promise<void> {
    this.#stopping ??= this.#stop();
    return this.#stopping;
  }

  async #stop(): Promise<void> {
    const { logger } = this;
    logger.info('broker stopping');
    // Not ready from the first moment (readiness probes stop routing here), but still serving
    // and following metadata while the controller moves leaderships away.
    const wasReady = this.#ready;
    this.#ready = false;
    clearInterval(this.#catchUpTimer);
    this.#catchUpTimer = undefined;
    if (wasReady) await this.#controlledShutdown();
    this.#closing = true;
    this.#grpc.setServing(false);
    const drained = this.#grpc.shutdown(this.config.shutdownTimeoutMs);
    this.#logService.closeStreams(new SluiceError('BROKER_NOT_AVAILABLE', `broker ${this.config.id} is shutting down; reconnect to the partition leader from fresh metadata`));
    this.#replicaService.closeStreams();
    // Fetchers first: an append they have in flight finishes before the logs close.
    await this.#replicas.stopReplication();
    this.#replicas.expireParked();
    await drained;
    await this.#session?.close();
    this.#adminService.close();
    await this.#logs.close();
    await this.#http.close();
    logger.info('broker stopped');
  }

  async #controlledShutdown(): Promise<void> {
    const session = this.#session;
    if (this.config.controlledShutdownTimeoutMs <= 0 || !session || session.brokerEpoch < 0) return;
    const led = (): { isr: readonly number[] }[] => [...this.#replicas.hostedPartitions()].filter((p) => p.isLeader);
    if (led().length === 0) return;
    await runControlledShutdown({
      ask: (timeoutMs) => session.controlledShutdown(timeoutMs),
      movable: () => movableLeaderships(led(), this.config.id, (id) => this.metadata.isAlive(id)),
      timeoutMs: this.config.controlledShutdownTimeoutMs,
      logger: this.logger,
    });
  }

  async #applyMetadata(md: ClusterMetadata__Output): Promise<void> {
    if (this.#closing) return;
    if (!(await this.#acceptCluster(md))) return;
    const problems = this.metadata.update(md);
    for (const problem of problems) this.logger.error({ version: md.version }, `ignoring invalid topic config from the controller: ${problem}`);
    await this.#replicas.applyMetadata(md);
    this.logger.debug({ version: md.version, topics: md.topics.length, liveBrokers: md.live_brokers.length }, 'applied cluster metadata');
    if (!this.#ready && !this.#stopping && !this.#closing) {
      this.#ready = true;
      if (this.#catchUpDeadline === 0) this.#catchUpDeadline = Date.now() + this.config.readyCatchUpTimeoutMs;
      this.#resolveReady();
    }
    this.#updateServing();
  }

  /** Followed partitions, with a live leader, whose committed ISR does not hold this broker. */
  #laggingPartitions(): string[] {
    const out: string[] = [];
    for (const p of this.#replicas.hostedPartitions()) {
      if (p.isLeader || p.leaderId < 0 || !this.metadata.isAlive(p.leaderId) || p.isr.includes(this.config.id)) continue;
      out.push(`${p.topic}-${p.partition}`);
    }
    return out;
  }

  /** gRPC health follows readiness: serving once ready and past the start-up catch-up. */
  #updateServing(): void {
    if (!this.#ready || this.#stopping || this.#closing) return;
    if (!this.#caughtUp) {
      const lagging = this.#laggingPartitions();
      if (lagging.length === 0) {
        this.#caughtUp = true;
        if (this.#catchUpTimer) this.logger.info('back in the ISR of every followed partition whose leader is alive; ready');
      } else if (Date.now() >= this.#catchUpDeadline) {
        this.#caughtUp = true;
        this.logger.warn({ lagging: lagging.slice(0, 20), count: lagging.length, timeoutMs: this.config.readyCatchUpTimeoutMs }, 'still outside the ISR of partitions whose leader is alive after --ready-catch-up-timeout-ms; reporting ready anyway');
      } else {
        // ISR changes arrive as metadata (which calls this again); the timer is for the deadline.
        this.#catchUpTimer ??= setInterval(() => this.#updateServing(), CATCH_UP_CHECK_INTERVAL_MS).unref();
      }
      if (this.#caughtUp) {
        clearInterval(this.#catchUpTimer);
        this.#catchUpTimer = undefined;
      }
    }
    this.#grpc.setServing(this.#caughtUp);
  }

  /**
   * Metadata from the cluster this data belongs to is applied; from any other it is refused,
   * with nothing deleted (see cluster-identity.ts). The first cluster seen is written down.
   */
  async #acceptCluster(md: ClusterMetadata__Output): Promise<boolean> {
    const verdict = clusterIdVerdict(this.#clusterId, md.cluster_id);
    if (verdict === 'different') {
      this.#foreignCluster = md.cluster_id || '(none)';
      if (this.#ready) {
        this.#ready = false;
        this.#grpc.setServing(false);
      }
      const now = Date.now();
      if (now - this.#lastMismatchLogMs >= CLUSTER_MISMATCH_LOG_INTERVAL_MS) {
        this.#lastMismatchLogMs = now;
        this.logger.error(
          { clusterId: this.#clusterId, offeredClusterId: md.cluster_id, version: md.version, controller: this.config.controller, dataDir: this.config.dataDir },
          `REFUSING metadata from a controller of another cluster (${md.cluster_id || 'no cluster id'}); this data directory belongs to cluster ${this.#clusterId}. Nothing is deleted. A controller that lost its state must be restored; if this broker really moved to a new cluster, move its data directory away`,
        );
      }
      return false;
    }
    if (verdict === 'adopt') {
      await writeBrokerIdentity(this.config.dataDir, { clusterId: md.cluster_id, brokerId: this.config.id });
      this.#clusterId = md.cluster_id;
      this.logger.info({ clusterId: md.cluster_id, dataDir: this.config.dataDir }, 'data directory joined the cluster');
    }
    this.#foreignCluster = null;
    return true;
  }

  #notReadyReason(): string | null {
    if (this.#stopping) return 'shutting down';
    if (this.#foreignCluster !== null) return `refusing metadata of cluster ${this.#foreignCluster}: this data directory belongs to cluster ${this.#clusterId}`;
    if (this.#ready && this.#caughtUp) return null;
    if (this.#ready) {
      const lagging = this.#laggingPartitions();
      const shown = lagging.slice(0, 3).join(', ') + (lagging.length > 3 ? ', …' : '');
      return `catching up: not yet back in the ISR of ${lagging.length} partition(s) whose leader is alive (${shown}); ready by ${new Date(this.#catchUpDeadline).toISOString()} at the latest`;
    }
    if ((this.#session?.brokerEpoch ?? -1) < 0) return `not registered with the controller at ${this.config.controller}`;
    return 'waiting for the first cluster metadata';
  }

  *#hostedSamples(): IterableIterator<HostedPartitionSample> {
    for (const p of this.#replicas.hostedPartitions()) {
      yield { topic: p.topic, partition: p.partition, isLeader: p.isLeader, sizeBytes: p.log.sizeInBytes() };
    }
  }

  *#leaderSamples(): IterableIterator<LeaderPartitionSample> {
    for (const p of this.#replicas.hostedPartitions()) {
      if (!p.isLeader) continue;
      yield {
        topic: p.topic,
        partition: p.partition,
        highWatermark: p.log.highWatermark,
        logEndOffset: p.log.logEndOffset,
        isrSize: p.isr.length,
        replicas: p.replicas.length,
        minInsyncReplicas: p.minInsyncReplicas,
        followers: [...p.followers].map(([replica, f]) => ({ replica, logEndOffset: f.logEndOffset })),
      };
    }
  }
}
