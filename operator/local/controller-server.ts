// The local controller assembled: the state file, the commit queue, broker sessions, the gRPC
// server (ControllerService, AdminService, grpc.health.v1, reflection) and the HTTP server.
import { randomUUID } from 'node:crypto';
import * as grpc from '@grpc/grpc-js';
import { ReflectionService } from '@grpc/reflection';
import { HealthImplementation } from 'grpc-health-check';
import type { Logger } from '../../common/logger.ts';
import { silentLogger } from '../../common/logger.ts';
import { GRPC_SERVER_OPTIONS, loadSluiceProto } from '../../common/proto.ts';
import type { ClusterEvent } from '../core/cluster-state.ts';
import { NO_LEADER } from '../core/election.ts';
import { adminServiceHandlers } from './admin-service.ts';
import { BrokerSessions } from './broker-sessions.ts';
import { systemClock, type Clock } from './clock.ts';
import { CommittedState } from './committed-state.ts';
import { ControllerMetrics } from './controller-metrics.ts';
import { controllerServiceHandlers } from './controller-service.ts';
import { startHttpServer, type RunningHttpServer } from './http-server.ts';
import { StateStore } from './state-store.ts';

export interface ControllerOptions {
  readonly host: string;
  /** gRPC port; 0 picks a free one. */
  readonly port: number;
  /** HTTP port (/metrics, /healthz, /readyz); 0 picks a free one. */
  readonly httpPort: number;
  readonly dataDir: string;
  readonly sessionTimeoutMs: number;
  readonly heartbeatIntervalMs: number;
  /** The controller's id, reported to brokers as controller_id. */
  readonly nodeId: number;
  readonly clock?: Clock;
  readonly logger?: Logger;
  /** Source of cluster and topic ids; random UUIDs unless a test needs fixed ones. */
  readonly newId?: () => string;
}

export interface RunningController {
  readonly grpcPort: number;
  readonly httpPort: number;
  /** host:port of the gRPC server. */
  readonly grpcAddress: string;
  /** host:port of the HTTP server. */
  readonly httpAddress: string;
  readonly committed: CommittedState;
  readonly sessions: BrokerSessions;
  readonly metrics: ControllerMetrics;
  /** Stops serving: ends broker sessions, lets queued changes finish, closes both servers. */
  stop(): Promise<void>;
}

const SERVICES = ['sluice.v1.ControllerService', 'sluice.v1.AdminService'];
/** How long stop() waits for in-flight calls before cutting them. */
const SHUTDOWN_GRACE_MS = 5_000;

/** Starts a controller; rejects (StateLoadError among others) when it cannot serve safely. */
export async function startController(options: ControllerOptions): Promise<RunningController> {
  const logger = options.logger ?? silentLogger();
  const clock = options.clock ?? systemClock;
  const newId = options.newId ?? randomUUID;
  if (!(options.heartbeatIntervalMs > 0 && options.heartbeatIntervalMs < options.sessionTimeoutMs)) {
    throw new Error(`heartbeat interval (${options.heartbeatIntervalMs} ms) must be positive and below the session timeout (${options.sessionTimeoutMs} ms), or every broker would lapse`);
  }

  const store = new StateStore(options.dataDir);
  const loaded = await store.load(newId);
  const s0 = loaded.state;
  if (loaded.origin === 'backup') {
    logger.error({ problem: loaded.problem, version: s0.metadataVersion }, `controller state restored from ${store.backupFile}; every epoch and producer id counter was moved past what the lost change could have issued`);
  }
  logger.info(
    { origin: loaded.origin, file: store.file, clusterId: s0.clusterId, version: s0.metadataVersion, topics: s0.topics.length, brokers: s0.brokers.length },
    loaded.origin === 'new' ? 'new cluster created' : 'controller state loaded',
  );

  const committed = new CommittedState(store, s0, logger);
  const metrics = new ControllerMetrics(() => committed.current);
  committed.onChange((change) => {
    metrics.record(change);
    for (const e of change.events) logEvent(logger, e);
  });
  const sessions = new BrokerSessions({
    committed,
    clock,
    sessionTimeoutMs: options.sessionTimeoutMs,
    heartbeatIntervalMs: options.heartbeatIntervalMs,
    controllerId: options.nodeId,
    logger,
  });

  const { definition, proto } = loadSluiceProto();
  const server = new grpc.Server(GRPC_SERVER_OPTIONS);
  server.addService(proto.sluice.v1.ControllerService.service, controllerServiceHandlers({ committed, sessions, logger }));
  server.addService(proto.sluice.v1.AdminService.service, adminServiceHandlers({ committed, controllerId: options.nodeId, newTopicId: newId, logger }));
  const health = new HealthImplementation({ '': 'SERVING', ...Object.fromEntries(SERVICES.map((s) => [s, 'SERVING' as const])) });
  health.addToServer(server);
  new ReflectionService(definition, { services: SERVICES }).addToServer(server);

  let grpcPort: number;
  try {
    grpcPort = await new Promise<number>((resolve, reject) => {
      server.bindAsync(`${hostForBind(options.host)}:${options.port}`, grpc.ServerCredentials.createInsecure(), (err, port) => (err ? reject(err) : resolve(port)));
    });
  } catch (e) {
    sessions.close();
    throw new Error(`cannot serve gRPC on ${options.host}:${options.port}: ${(e as Error).message}`, { cause: e });
  }

  let stopping = false;
  let http: RunningHttpServer;
  try {
    http = await startHttpServer({
      host: options.host,
      port: options.httpPort,
      registry: metrics.registry,
      notReadyReason: () => (stopping ? 'stopping' : committed.healthy ? null : 'controller state can no longer be persisted safely; restart the controller'),
    });
  } catch (e) {
    sessions.close();
    server.forceShutdown();
    throw new Error(`cannot serve HTTP on ${options.host}:${options.httpPort}: ${(e as Error).message}`, { cause: e });
  }
  metrics.setActive(true);

  let stopped: Promise<void> | undefined;
  const stop = () => {
    stopped ??= (async () => {
      stopping = true;
      metrics.setActive(false);
      for (const s of ['', ...SERVICES]) health.setStatus(s, 'NOT_SERVING');
      sessions.close();
      // Changes already accepted finish persisting before the process may exit.
      await committed.idle();
      await new Promise<void>((resolve) => {
        const force = setTimeout(() => {
          server.forceShutdown();
          resolve();
        }, SHUTDOWN_GRACE_MS);
        server.tryShutdown(() => {
          clearTimeout(force);
          resolve();
        });
      });
      await http.close();
      logger.info('controller stopped');
    })();
    return stopped;
  };

  return {
    grpcPort,
    httpPort: http.port,
    grpcAddress: formatAddress(options.host, grpcPort),
    httpAddress: formatAddress(options.host, http.port),
    committed,
    sessions,
    metrics,
    stop,
  };
}

function hostForBind(host: string): string {
  return host.includes(':') && !host.startsWith('[') ? `[${host}]` : host;
}

function formatAddress(host: string, port: number): string {
  return `${hostForBind(host)}:${port}`;
}

function logEvent(logger: Logger, e: ClusterEvent): void {
  switch (e.type) {
    case 'partition_changed': {
      const fields = {
        topic: e.topic,
        partition: e.partition,
        reason: e.reason,
        leader: e.current.leader,
        previousLeader: e.previous.leader,
        epoch: e.current.leaderEpoch,
        partitionEpoch: e.current.partitionEpoch,
        isr: e.current.isr,
      };
      if (e.unclean) logger.error(fields, 'unclean leader election: acknowledged records may be lost');
      else if (e.current.leader === NO_LEADER) logger.warn(fields, 'partition offline: no live in-sync replica');
      else if (e.current.leader !== e.previous.leader) logger.info(fields, 'partition leader elected');
      else logger.info(fields, 'partition ISR changed');
      return;
    }
    case 'broker_fenced':
      logger.warn({ broker: e.brokerId, epoch: e.brokerEpoch, reason: e.reason }, 'broker fenced');
      return;
    case 'broker_registered':
    case 'broker_unfenced':
    case 'broker_shutting_down':
      logger.info({ broker: e.brokerId, epoch: e.brokerEpoch }, e.type.replaceAll('_', ' '));
      return;
    default:
      return;
  }
}
