// The operator process assembled (DESIGN §2, Kubernetes mode): informers for Topics, broker Pods
// and Nodes; Lease election; while leading, a LeaderSession (state loaded from Kubernetes, broker
// sessions, reconciles); a gRPC server with the same ControllerService and AdminService as the
// local controller (a standby answers NOT_CONTROLLER); an HTTP server with /healthz, /readyz —
// ready only while leading, so the Service routes brokers to the active operator — and /metrics.
import { randomUUID } from 'node:crypto';
import * as grpc from '@grpc/grpc-js';
import { ReflectionService } from '@grpc/reflection';
import { CoordinationV1Api, CoreV1Api, CustomObjectsApi, type KubeConfig, type KubernetesListObject, type V1Node, type V1Pod } from '@kubernetes/client-node';
import { HealthImplementation } from 'grpc-health-check';
import { SluiceError } from '../../common/errors.ts';
import { toErrorDetail } from '../../common/grpc-errors.ts';
import type { Logger } from '../../common/logger.ts';
import { GRPC_SERVER_OPTIONS, loadSluiceProto, shutdownGrpcServer } from '../../common/proto.ts';
import type { ControllerServiceHandlers } from '../../proto/gen/sluice/v1/ControllerService.ts';
import { systemClock, type Clock } from '../local/clock.ts';
import { startHttpServer, type RunningHttpServer } from '../local/http-server.ts';
import { EventRecorder } from './event-recorder.ts';
import { kubeAdminServiceHandlers } from './kube-admin-service.ts';
import { LeaderSession } from './leader-session.ts';
import { LeaseElector } from './lease-elector.ts';
import { OperatorMetrics } from './operator-metrics.ts';
import { ResilientInformer } from './resilient-informer.ts';
import type { OperatorCliOptions } from './operator-options.ts';
import { TOPIC_GROUP, TOPIC_PLURAL, TOPIC_VERSION } from './topic-crd.ts';
import type { TopicObject } from './topic-resource.ts';

export interface OperatorOptions extends Omit<OperatorCliOptions, 'kubeconfig' | 'namespace'> {
  readonly kubeConfig: KubeConfig;
  /** Namespace of the Topics, the broker Pods and the Lease. */
  readonly namespace: string;
  readonly logger: Logger;
  readonly clock?: Clock;
  readonly newClusterId?: () => string;
}

export interface RunningOperator {
  readonly grpcAddress: string;
  readonly httpAddress: string;
  readonly elector: LeaseElector;
  /** The leader session while this process is the active controller. */
  current(): LeaderSession | undefined;
  stop(): Promise<void>;
}

const SERVICES = ['sluice.v1.ControllerService', 'sluice.v1.AdminService'];
/** While leading without a session (loading failed), how often loading is tried again. */
const SESSION_RETRY_MS = 2_000;
const SHUTDOWN_GRACE_MS = 5_000;

export async function startOperator(o: OperatorOptions): Promise<RunningOperator> {
  const logger = o.logger;
  const clock = o.clock ?? systemClock;
  const custom = o.kubeConfig.makeApiClient(CustomObjectsApi);
  const core = o.kubeConfig.makeApiClient(CoreV1Api);
  const coordination = o.kubeConfig.makeApiClient(CoordinationV1Api);

  let session: LeaderSession | undefined;
  let notReady: string = 'standby: waiting to become the active controller';
  const metrics = new OperatorMetrics(() => session?.committed.current);

  const topics = new ResilientInformer<TopicObject>({
    kubeConfig: o.kubeConfig,
    path: `/apis/${TOPIC_GROUP}/${TOPIC_VERSION}/namespaces/${o.namespace}/${TOPIC_PLURAL}`,
    list: async () => (await custom.listNamespacedCustomObject({ group: TOPIC_GROUP, version: TOPIC_VERSION, plural: TOPIC_PLURAL, namespace: o.namespace })) as KubernetesListObject<TopicObject>,
    name: 'topics',
    onChange: (t) => session?.enqueueTopic(t.metadata.name),
    onRestart: () => metrics.informerRestarted('topics'),
    stallTimeoutMs: o.stallTimeoutMs,
    logger,
  });
  const pods = new ResilientInformer<V1Pod>({
    kubeConfig: o.kubeConfig,
    path: `/api/v1/namespaces/${o.namespace}/pods`,
    list: () => core.listNamespacedPod({ namespace: o.namespace, labelSelector: o.brokerSelector }),
    labelSelector: o.brokerSelector,
    name: 'pods',
    onChange: () => session?.enqueueBrokers(),
    onRestart: () => metrics.informerRestarted('pods'),
    stallTimeoutMs: o.stallTimeoutMs,
    logger,
  });
  const nodes = new ResilientInformer<V1Node>({
    kubeConfig: o.kubeConfig,
    path: '/api/v1/nodes',
    list: () => core.listNode(),
    name: 'nodes',
    onChange: () => session?.enqueueBrokers(),
    onRestart: () => metrics.informerRestarted('nodes'),
    stallTimeoutMs: o.stallTimeoutMs,
    logger,
  });
  for (const i of [topics, pods, nodes]) i.start();

  const events = new EventRecorder(core, o.namespace, o.identity, logger);
  const elector = new LeaseElector({
    api: coordination,
    namespace: o.namespace,
    name: o.leaseName,
    identity: o.identity,
    leaseDurationMs: o.leaseDurationMs,
    renewDeadlineMs: o.renewDeadlineMs,
    retryPeriodMs: o.retryPeriodMs,
    logger,
  });

  // -- leadership: one transition at a time -------------------------------------------------
  let stopping = false;
  let broken: string | undefined;
  let transition: Promise<void> = Promise.resolve();
  let retryTimer: NodeJS.Timeout | undefined;
  const health = new HealthImplementation({ '': 'SERVING', ...Object.fromEntries(SERVICES.map((s) => [s, 'NOT_SERVING' as const])) });
  const setServing = (serving: boolean) => {
    for (const s of SERVICES) health.setStatus(s, serving ? 'SERVING' : 'NOT_SERVING');
  };

  const settle = (): void => {
    transition = transition.then(async () => {
      const lead = !stopping && elector.isLeader;
      if (session && (!lead || broken !== undefined)) {
        const old = session;
        session = undefined;
        setServing(false);
        metrics.leadershipChanged(false);
        notReady = broken ? `restarting the controller after: ${broken}` : 'standby: another operator is the active controller';
        logger.warn({ reason: broken ?? 'leadership lost' }, 'stopping the active controller');
        await old.stop();
        broken = undefined;
      }
      if (!lead || session) return;
      if (!(topics.synced && pods.synced && nodes.synced)) {
        notReady = 'waiting for the Topic, Pod and Node caches to fill';
        scheduleRetry(200);
        return;
      }
      try {
        const s = await LeaderSession.start({
          namespace: o.namespace,
          custom,
          core,
          elector,
          topics,
          pods,
          nodes,
          events,
          metrics,
          clock,
          logger,
          sessionTimeoutMs: o.sessionTimeoutMs,
          heartbeatIntervalMs: o.heartbeatIntervalMs,
          controllerId: o.nodeId,
          leaderRebalanceIntervalMs: o.leaderRebalanceIntervalMs,
          resyncIntervalMs: o.resyncIntervalMs,
          newClusterId: o.newClusterId ?? randomUUID,
          onBroken: (reason) => {
            broken ??= reason;
            settle();
          },
        });
        if (stopping || !elector.isLeader) {
          await s.stop();
          return settle();
        }
        session = s;
        setServing(true);
        metrics.leadershipChanged(true);
        notReady = '';
      } catch (e) {
        // A takeover that failed to persist reported itself broken too; nothing of it runs, so
        // nothing is left to stop (the next session must not be torn down for it).
        broken = undefined;
        notReady = `cannot take over as the active controller: ${(e as Error).message}`;
        logger.error({ err: e }, 'could not take over as the active controller; trying again');
        scheduleRetry(SESSION_RETRY_MS);
      }
    });
  };
  const scheduleRetry = (ms: number) => {
    if (retryTimer || stopping) return;
    retryTimer = setTimeout(() => {
      retryTimer = undefined;
      settle();
    }, ms);
  };
  elector.on('leading', settle);
  elector.on('stopped', settle);
  // isLeader also turns false without an event when renewals stall; check it regularly.
  const watchdog = setInterval(() => {
    if (session && !elector.isLeader) settle();
  }, Math.max(50, Math.floor(o.retryPeriodMs / 2)));

  // -- gRPC ------------------------------------------------------------------------------------
  const notController = () => new SluiceError('NOT_CONTROLLER', `operator ${o.identity} is a standby, not the active controller${elector.observedHolder ? ` (${elector.observedHolder} is)` : ''}; reconnect through the controller Service`);
  const controllerHandlers: ControllerServiceHandlers = {
    BrokerSession: (call) => {
      if (session) return session.controllerHandlers.BrokerSession(call);
      call.write({ error: toErrorDetail(notController()) });
      call.end();
    },
    AllocateProducerIds: (call, callback) => (session ? session.controllerHandlers.AllocateProducerIds(call, callback) : callback(null, { error: toErrorDetail(notController()) })),
    AlterPartition: (call, callback) => (session ? session.controllerHandlers.AlterPartition(call, callback) : callback(null, { error: toErrorDetail(notController()) })),
    ControlledShutdown: (call, callback) => (session ? session.controllerHandlers.ControlledShutdown(call, callback) : callback(null, { error: toErrorDetail(notController()) })),
  };
  const { definition, proto } = loadSluiceProto();
  const server = new grpc.Server(GRPC_SERVER_OPTIONS);
  server.addService(proto.sluice.v1.ControllerService.service, controllerHandlers);
  server.addService(proto.sluice.v1.AdminService.service, kubeAdminServiceHandlers({ current: () => session, api: custom, namespace: o.namespace, controllerId: o.nodeId, logger }));
  health.addToServer(server);
  new ReflectionService(definition, { services: SERVICES }).addToServer(server);

  let http: RunningHttpServer | undefined;
  let grpcPort: number;
  try {
    grpcPort = await new Promise<number>((resolve, reject) => {
      server.bindAsync(`${bracket(o.host)}:${o.port}`, grpc.ServerCredentials.createInsecure(), (err, port) => (err ? reject(err) : resolve(port)));
    });
    http = await startHttpServer({
      host: o.host,
      port: o.httpPort,
      registry: metrics.registry,
      notReadyReason: () => (stopping ? 'stopping' : session && session.committed.healthy ? null : notReady || 'the controller state can no longer be persisted; restarting it'),
    });
  } catch (e) {
    clearInterval(watchdog);
    server.forceShutdown();
    await Promise.all([topics, pods, nodes].map((i) => i.stop()));
    throw new Error(`cannot serve on ${o.host}: ${(e as Error).message}`, { cause: e });
  }
  metrics.controller.setActive(false);
  elector.start();

  let stopped: Promise<void> | undefined;
  const stop = () => {
    stopped ??= (async () => {
      stopping = true;
      clearInterval(watchdog);
      if (retryTimer) clearTimeout(retryTimer);
      settle();
      await transition;
      // Released only once the session stopped: the next leader must not overlap with it.
      await elector.stop();
      await Promise.all([topics, pods, nodes].map((i) => i.stop()));
      await shutdownGrpcServer(server, SHUTDOWN_GRACE_MS);
      await http?.close();
      logger.info('operator stopped');
    })();
    return stopped;
  };

  return {
    grpcAddress: `${bracket(o.host)}:${grpcPort}`,
    httpAddress: `${bracket(o.host)}:${http.port}`,
    elector,
    current: () => session,
    stop,
  };
}

function bracket(host: string): string {
  return host.includes(':') && !host.startsWith('[') ? `[${host}]` : host;
}
