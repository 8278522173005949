// The local controller assembled: the data dir lock, the state file, the commit queue, broker
// sessions, the preferred-leader rebalance, the gRPC server (ControllerService, AdminService,
// grpc.health.v1, reflection) and the HTTP server.
import { randomUUID } from 'node:crypto';
import { mkdir } from 'node:fs/promises';
import * as grpc from '@grpc/grpc-js';
import { ReflectionService } from '@grpc/reflection';
import { HealthImplementation } from 'grpc-health-check';
import type { Logger } from '../../common/logger.ts';
import { silentLogger } from '../../common/logger.ts';
import { GRPC_SERVER_OPTIONS, loadSluiceProto, shutdownGrpcServer } from '../../common/proto.ts';
import type { ClusterEvent } from '../core/cluster-state.ts';
import { NO_LEADER } from '../core/election.ts';
import { electionsIn } from '../core/election-history.ts';
import { isReassigning } from '../core/reassignment.ts';
import { adminServiceHandlers } from './admin-service.ts';
import { BrokerSessions, type MetadataRepushed } from './broker-sessions.ts';
import { systemClock, type Clock } from './clock.ts';
import { CommittedState } from './committed-state.ts';
import { acquireControllerLock, type ControllerLock } from './controller-lock.ts';
import { ControllerMetrics } from './controller-metrics.ts';
import { DEFAULT_LEADER_REBALANCE_INTERVAL_MS } from './controller-options.ts';
import { controllerServiceHandlers } from './controller-service.ts';
import { startHttpServer, type RunningHttpServer } from './http-server.ts';
import { LeaderRebalancer } from './leader-rebalancer.ts';
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
  /** How often leadership moves back to in-sync preferred replicas; 0 disables. Default 10 s. */
  readonly leaderRebalanceIntervalMs?: number;
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
  readonly rebalancer: LeaderRebalancer;
  readonly metrics: ControllerMetrics;
  /** Stops serving: ends broker sessions, lets queued changes finish, closes both servers. */
  stop(): Promise<void>;
}

const SERVICES = ['sluice.v1.ControllerService', 'sluice.v1.AdminService'];
/** How long stop() waits for in-flight calls before cutting them. */
const SHUTDOWN_GRACE_MS = 5_000;

/**
 * Starts a controller; rejects (ControllerLockError, StateLoadError among others) when it cannot
 * serve safely.
 */
export async function startController(options: ControllerOptions): Promise<RunningController> {
  if (!(options.heartbeatIntervalMs > 0 && options.heartbeatIntervalMs < options.sessionTimeoutMs)) {
    throw new Error(`heartbeat interval (${options.heartbeatIntervalMs} ms) must be positive and below the session timeout (${options.sessionTimeoutMs} ms), or every broker would lapse`);
  }
  // Taken before the state file is even read: a second controller must not load, let alone
  // recover (and rewrite), a state another one is acting on.
  await mkdir(options.dataDir, { recursive: true });
  const lock = await acquireControllerLock(options.dataDir);
  try {
    return await startLocked(options, lock);
  } catch (e) {
    await lock.release();
    throw e;
  }
}

async function startLocked(options: ControllerOptions, lock: ControllerLock): Promise<RunningController> {
  const logger = options.logger ?? silentLogger();
  const clock = options.clock ?? systemClock;
  const newId = options.newId ?? randomUUID;

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
  sessions.events.on('repushed', (r: MetadataRepushed) => metrics.countRepush(r.brokerId));
  const rebalancer = new LeaderRebalancer({ committed, clock, intervalMs: options.leaderRebalanceIntervalMs ?? DEFAULT_LEADER_REBALANCE_INTERVAL_MS, logger });

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
    rebalancer.close();
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
    rebalancer.close();
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
      rebalancer.close();
      sessions.close();
      // Changes already accepted finish persisting before the process may exit.
      await committed.idle();
      await shutdownGrpcServer(server, SHUTDOWN_GRACE_MS);
      await http.close();
      // Last: the state file is no longer written once the queue is idle.
      await lock.release();
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
    rebalancer,
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
        epoch: e.current.leaderEpoch,
        partitionEpoch: e.current.partitionEpoch,
        replicas: e.current.replicas,
        isr: e.current.isr,
      };
      const [election] = electionsIn([e]);
      if (election) {
        // One line per election with the whole record under `election`: the controller history a
        // test reads back (election-history.ts) to check that leaders come from the committed ISR.
        if (election.unclean) {
          logger.error({ ...fields, election }, `UNCLEAN leader election: ${e.topic}-${e.partition} is led by ${election.leader}, outside the committed ISR [${election.committedIsr.join(', ')}]; acknowledged records may be lost`);
        } else {
          logger.info({ ...fields, election }, 'leader elected');
        }
      } else if (e.current.leader === NO_LEADER && e.previous.leader !== NO_LEADER) {
        logger.warn(fields, 'partition offline: no live in-sync replica');
      } else if (e.reason === 'reassignment') {
        const adding = e.current.addingReplicas;
        const removing = e.current.removingReplicas;
        logger.info({ ...fields, adding, removing }, isReassigning(e.current) ? 'partition reassignment started' : 'partition reassignment completed');
      } else {
        logger.info(fields, 'partition ISR changed');
      }
      return;
    }
    case 'topic_altered':
      if (e.replicationFactor !== e.previousReplicationFactor) {
        logger.info({ topic: e.topic, from: e.previousReplicationFactor, to: e.replicationFactor }, 'replication factor change started');
      }
      return;
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
