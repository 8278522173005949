// Composition root of the broker process: wires the log manager, metadata cache, replica
// manager, services, servers and controller session, and owns the start and stop order.
import { randomUUID } from 'node:crypto';
import { SluiceError } from '../common/errors.ts';
import { createLogger, type Logger } from '../common/logger.ts';
import type { ClusterMetadata__Output } from '../proto/gen/sluice/v1/ClusterMetadata.ts';
import type { BrokerConfig } from './broker-config.ts';
import { createBrokerMetrics, type LeaderPartitionSample } from './broker-metrics.ts';
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
  readonly #adminService: AdminService;
  readonly #grpc: BrokerGrpcServer;
  readonly #http: BrokerHttpServer;
  #session: ControllerSession | undefined;
  #ports: BrokerPorts | undefined;
  #ready = false;
  #resolveReady!: () => void;
  readonly #readyPromise = new Promise<void>((resolve) => (this.#resolveReady = resolve));
  #stopping: Promise<void> | undefined;

  constructor(config: BrokerConfig, opts: { logger?: Logger } = {}) {
    this.config = config;
    this.logger = opts.logger ?? createLogger('broker', { broker: config.id });
    const logger = this.logger;
    this.#logs = new LogManager({ dataDir: config.dataDir, defaults: DEFAULT_LOG_CONFIG, logger });
    const purgatory = new DelayedOperationPurgatory((err) => logger.error({ err }, 'delayed operation failed; dropped it'));
    this.#replicas = new ReplicaManager({ brokerId: config.id, logManager: this.#logs, metadata: this.metadata, purgatory, logger });
    const producerIds = new ProducerIdManager(() => {
      if (!this.#session) throw new SluiceError('BROKER_NOT_AVAILABLE', 'the broker is starting; retry shortly');
      return this.#session.allocateProducerIds();
    });
    this.#logService = new LogService({ replicas: this.#replicas, producerIds, logger });
    this.#adminService = new AdminService({ controllerAddress: config.controller, brokerId: config.id, replicas: this.#replicas, logger });
    this.#grpc = new BrokerGrpcServer({ log: this.#logService.handlers, metadata: metadataServiceHandlers(this.metadata, logger), admin: this.#adminService.handlers });
    const registry = createBrokerMetrics({ leaderPartitions: () => this.#leaderSamples() }, config.id);
    this.#http = new BrokerHttpServer({ host: config.bindHost, port: config.httpPort, registry, logger, notReadyReason: () => this.#notReadyReason() });
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
    this.#session.start();
    logger.info({ grpcPort, httpPort, controller: config.controller, dataDir: config.dataDir, incarnationId: this.incarnationId }, 'broker started; registering with the controller');
    return this.#ports;
  }

  /**
   * Graceful stop: refuse new calls, answer parked requests and end streams, let in-flight
   * calls finish (bounded by shutdownTimeoutMs), then close the logs cleanly so the next start
   * needs no recovery. Idempotent.
   */
  stop(): Promise<void> {
    this.#stopping ??= this.#stop();
    return this.#stopping;
  }

  async #stop(): Promise<void> {
    const { logger } = this;
    logger.info('broker stopping');
    this.#ready = false;
    this.#grpc.setServing(false);
    const drained = this.#grpc.shutdown(this.config.shutdownTimeoutMs);
    this.#logService.closeStreams(new SluiceError('BROKER_NOT_AVAILABLE', `broker ${this.config.id} is shutting down; reconnect to the partition leader from fresh metadata`));
    this.#replicas.expireParked();
    await drained;
    await this.#session?.close();
    this.#adminService.close();
    await this.#logs.close();
    await this.#http.close();
    logger.info('broker stopped');
  }

  async #applyMetadata(md: ClusterMetadata__Output): Promise<void> {
    if (this.#stopping) return;
    const problems = this.metadata.update(md);
    for (const problem of problems) this.logger.error({ version: md.version }, `ignoring invalid topic config from the controller: ${problem}`);
    await this.#replicas.applyMetadata(md);
    this.logger.debug({ version: md.version, topics: md.topics.length, liveBrokers: md.live_brokers.length }, 'applied cluster metadata');
    if (!this.#ready && !this.#stopping) {
      this.#ready = true;
      this.#grpc.setServing(true);
      this.#resolveReady();
    }
  }

  #notReadyReason(): string | null {
    if (this.#stopping) return 'shutting down';
    if (this.#ready) return null;
    if ((this.#session?.brokerEpoch ?? -1) < 0) return `not registered with the controller at ${this.config.controller}`;
    return 'waiting for the first cluster metadata';
  }

  *#leaderSamples(): IterableIterator<LeaderPartitionSample> {
    for (const p of this.#replicas.hostedPartitions()) {
      if (!p.isLeader) continue;
      yield { topic: p.topic, partition: p.partition, highWatermark: p.log.highWatermark, logEndOffset: p.log.logEndOffset, isrSize: p.isr.length };
    }
  }
}
