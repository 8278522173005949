// Everything the operator runs while it holds the Lease, built fresh at each takeover from what
// Kubernetes persisted and torn down when leadership ends: the committed state (the local shell's
// CommittedState over a KubeStatePersister), broker sessions, the preferred-leader rebalance, the
// ControllerService handlers, and the work queue reconciling Topics and broker Pods.
import type { CoreV1Api, CustomObjectsApi, V1Node, V1Pod } from '@kubernetes/client-node';
import { SluiceError } from '../../common/errors.ts';
import type { Logger } from '../../common/logger.ts';
import type { ControllerServiceHandlers } from '../../proto/gen/sluice/v1/ControllerService.ts';
import { initialClusterState, type ClusterEvent, type ClusterState } from '../core/cluster-state.ts';
import { electionsIn } from '../core/election-history.ts';
import { BrokerSessions, type MetadataRepushed } from '../local/broker-sessions.ts';
import type { Clock } from '../local/clock.ts';
import { CommittedState } from '../local/committed-state.ts';
import { StateConflictError } from '../local/state-store.ts';
import { controllerServiceHandlers } from '../local/controller-service.ts';
import { LeaderRebalancer } from '../local/leader-rebalancer.ts';
import { BrokerLiveness } from './broker-liveness.ts';
import { CLUSTER_RECORD_ANNOTATION, decodeClusterRecord, type ClusterRecord } from './cluster-record.ts';
import { topicEventsOf } from './cluster-events.ts';
import type { EventRecorder } from './event-recorder.ts';
import { KubeStatePersister } from './kube-state-persister.ts';
import type { LeaseElector } from './lease-elector.ts';
import type { OperatorMetrics } from './operator-metrics.ts';
import type { ResilientInformer } from './resilient-informer.ts';
import { assembleClusterState, takeover } from './state-loader.ts';
import { TOPIC_GROUP, TOPIC_PLURAL, TOPIC_VERSION } from './topic-crd.ts';
import { TopicReconciler } from './topic-reconciler.ts';
import { persistedTopicOf, type TopicObject } from './topic-resource.ts';
import { TopicStatusWriter } from './topic-status-writer.ts';
import { WorkQueue } from './work-queue.ts';

export interface LeaderSessionOptions {
  readonly namespace: string;
  readonly custom: CustomObjectsApi;
  readonly core: CoreV1Api;
  readonly elector: LeaseElector;
  readonly topics: ResilientInformer<TopicObject>;
  readonly pods: ResilientInformer<V1Pod>;
  readonly nodes: ResilientInformer<V1Node>;
  readonly events: EventRecorder;
  readonly metrics: OperatorMetrics;
  readonly clock: Clock;
  readonly logger: Logger;
  readonly sessionTimeoutMs: number;
  readonly heartbeatIntervalMs: number;
  readonly controllerId: number;
  readonly leaderRebalanceIntervalMs: number;
  /** Every Topic and the broker Pods are reconciled at least this often. */
  readonly resyncIntervalMs: number;
  readonly newClusterId: () => string;
  /** The session cannot go on (state partly persisted, or another leader wrote); restart it. */
  readonly onBroken: (reason: string) => void;
}

export const BROKERS_KEY = 'brokers';
const TOPIC_KEY_PREFIX = 'topic/';

export class LeaderSession {
  readonly committed: CommittedState;
  readonly sessions: BrokerSessions;
  readonly controllerHandlers: ControllerServiceHandlers;
  readonly objectNames: Map<string, string>;
  readonly reconciler: TopicReconciler;
  readonly statuses: TopicStatusWriter;
  readonly #o: LeaderSessionOptions;
  readonly #queue: WorkQueue;
  readonly #rebalancer: LeaderRebalancer;
  readonly #liveness: BrokerLiveness;
  #resync: (() => void) | undefined;
  #stopped = false;

  private constructor(o: LeaderSessionOptions, committed: CommittedState, objectNames: Map<string, string>, statuses: TopicStatusWriter, liveness: BrokerLiveness) {
    this.#o = o;
    this.committed = committed;
    this.objectNames = objectNames;
    this.statuses = statuses;
    this.#liveness = liveness;
    const logger = o.logger;
    this.sessions = new BrokerSessions({
      committed,
      clock: o.clock,
      sessionTimeoutMs: o.sessionTimeoutMs,
      heartbeatIntervalMs: o.heartbeatIntervalMs,
      controllerId: o.controllerId,
      // The Lease's transitions as this operator took it: a higher term than any leader before.
      controllerEpoch: o.elector.leaseTransitions,
      logger,
      admitRegistration: liveness.admit,
    });
    liveness.attach(this.sessions);
    this.sessions.events.on('repushed', (r: MetadataRepushed) => o.metrics.controller.countRepush(r.brokerId));
    this.#rebalancer = new LeaderRebalancer({ committed, clock: o.clock, intervalMs: o.leaderRebalanceIntervalMs, logger });
    this.controllerHandlers = controllerServiceHandlers({ committed, sessions: this.sessions, logger });
    this.reconciler = new TopicReconciler({
      committed,
      sessions: this.sessions,
      statuses,
      events: o.events,
      api: o.custom,
      namespace: o.namespace,
      cached: (name) => o.topics.get(name, o.namespace),
      objectNames,
      logger,
    });
    this.#queue = new WorkQueue({
      clock: o.clock,
      logger,
      handler: (key) => this.#reconcile(key),
      onError: (key) => o.metrics.reconcileError(kindOf(key)),
    });
    committed.onChange((change) => {
      o.metrics.controller.record(change);
      this.#announce(change.events);
      // Brokers coming and going decide refusals (NotEnoughBrokers) and deletions (which wait for
      // brokers): every Topic is looked at again.
      if (change.events.some((e) => e.type === 'broker_registered' || e.type === 'broker_unfenced' || e.type === 'broker_fenced')) this.enqueueAll();
    });
  }

  /**
   * Loads the persisted state, takes it over (persisting the takeover) and starts reconciling.
   * Rejects when the state cannot be loaded safely; nothing is left running then.
   */
  static async start(o: LeaderSessionOptions): Promise<LeaderSession> {
    const logger = o.logger;
    // A fresh list, not the informer's cache: the previous leader's last writes must be in it.
    const list = (await o.custom.listNamespacedCustomObject({ group: TOPIC_GROUP, version: TOPIC_VERSION, plural: TOPIC_PLURAL, namespace: o.namespace })) as { items: TopicObject[] };
    const record = loadClusterRecord(o.elector.annotations(), list.items, o.newClusterId);
    const loaded = assembleClusterState(record, list.items);
    for (const { name, problem } of loaded.ignored) logger.error({ topicObject: name, problem }, 'Topic status not loaded');
    const objectNames = new Map(loaded.objectNames);
    const statuses = new TopicStatusWriter({ api: o.custom, namespace: o.namespace, cached: (name) => o.topics.get(name, o.namespace), logger });
    for (const t of list.items) statuses.seed(t);
    const persister = new KubeStatePersister({
      persisted: loaded.state,
      statuses,
      writeLeaseAnnotations: (a) => o.elector.writeAnnotations(a),
      objectNameOf: (topic) => objectNames.get(topic.topicId),
      onBroken: (reason) => o.onBroken(reason),
      leading: () => o.elector.isLeader,
      logger,
    });
    const committed = new CommittedState(persister, loaded.state, logger);
    const liveness = new BrokerLiveness({ pods: () => o.pods.list(o.namespace), nodes: () => o.nodes.list(), committed, logger, terminatingPollMs: o.heartbeatIntervalMs });
    // Built before the takeover commit so that its events are logged and counted like any other.
    const session = new LeaderSession(o, committed, objectNames, statuses, liveness);
    try {
      const { refenced } = await committed.commit((s) => takeover(s));
      const s = committed.current;
      logger.info(
        { clusterId: s.clusterId, version: s.metadataVersion, topics: s.topics.length, brokers: s.brokers.length, refenced, transitions: o.elector.leaseTransitions },
        'took over as the active controller',
      );
    } catch (e) {
      await session.stop();
      throw e;
    }
    session.#start();
    return session;
  }

  /** Queues every Topic (and the broker Pods) for a reconcile. */
  enqueueAll(): void {
    this.#queue.add(BROKERS_KEY);
    const names = new Set<string>([...this.#o.topics.list(this.#o.namespace).map((t) => t.metadata.name), ...this.objectNames.values()]);
    for (const name of names) this.#queue.add(`${TOPIC_KEY_PREFIX}${name}`);
  }

  enqueueTopic(name: string): void {
    this.#queue.add(`${TOPIC_KEY_PREFIX}${name}`);
  }

  enqueueBrokers(): void {
    this.#queue.add(BROKERS_KEY);
  }

  /** Resolves once queued reconciles have run (tests). */
  idle(): Promise<void> {
    return this.#queue.idle();
  }

  async stop(): Promise<void> {
    if (this.#stopped) return;
    this.#stopped = true;
    this.#resync?.();
    this.#rebalancer.close();
    this.sessions.close();
    await this.#queue.stop();
    await this.committed.idle();
  }

  #start(): void {
    this.enqueueAll();
    const arm = () => {
      this.#resync = this.#o.clock.setTimer(() => {
        this.enqueueAll();
        arm();
      }, this.#o.resyncIntervalMs);
    };
    arm();
  }

  async #reconcile(key: string): Promise<{ requeueAfterMs?: number }> {
    if (this.#stopped) return {};
    if (!this.committed.healthy) throw new SluiceError('NOT_CONTROLLER', 'the committed state is broken; the leader session is being restarted');
    const kind = kindOf(key);
    const started = performance.now();
    try {
      if (key === BROKERS_KEY) return await this.#liveness.reconcile();
      return await this.reconciler.reconcile(key.slice(TOPIC_KEY_PREFIX.length));
    } catch (e) {
      // A status write met partition state this leader did not write: another operator acts as
      // leader (or took over meanwhile). Nothing more may be acted on; reload.
      if (e instanceof StateConflictError) this.#o.onBroken(e.message);
      throw e;
    } finally {
      this.#o.metrics.reconcileDuration(kind, (performance.now() - started) / 1000);
    }
  }

  /** Logs a committed change's events and records the Kubernetes Events about topics. */
  #announce(events: readonly ClusterEvent[]): void {
    const logger = this.#o.logger;
    for (const e of events) {
      if (e.type === 'broker_fenced') logger.warn({ broker: e.brokerId, epoch: e.brokerEpoch, reason: e.reason }, 'broker fenced');
      else if (e.type === 'broker_registered' || e.type === 'broker_unfenced' || e.type === 'broker_shutting_down') logger.info({ broker: e.brokerId, epoch: e.brokerEpoch }, e.type.replaceAll('_', ' '));
    }
    for (const election of electionsIn(events)) {
      // One line per election with the whole record (election-history.ts reads these back).
      if (election.unclean) logger.error({ topic: election.topic, partition: election.partition, epoch: election.leaderEpoch, election }, 'UNCLEAN leader election');
      else logger.info({ topic: election.topic, partition: election.partition, epoch: election.leaderEpoch, election }, 'leader elected');
    }
    const state = this.committed.current;
    for (const te of topicEventsOf(events, (name) => state.topics.find((t) => t.name === name)?.topicId)) {
      const objectName = this.objectNames.get(te.topicId);
      const obj = objectName ? this.#o.topics.get(objectName, this.#o.namespace) : undefined;
      if (obj) void this.#o.events.record(obj, te);
    }
  }
}

function kindOf(key: string): 'topic' | 'brokers' {
  return key === BROKERS_KEY ? 'brokers' : 'topic';
}

/**
 * The cluster record from the Lease. Missing on a first start, which is fine when no Topic has
 * persisted state yet; missing while Topics have some means the record was lost (the Lease was
 * deleted while no operator ran), and starting over would reuse broker epochs and producer ids
 * and hand brokers a new cluster id they would refuse.
 */
export function loadClusterRecord(annotations: Record<string, string>, topics: readonly TopicObject[], newClusterId: () => string): ClusterRecord {
  const text = annotations[CLUSTER_RECORD_ANNOTATION];
  if (text !== undefined) return decodeClusterRecord(text);
  const persisted = topics.filter((t) => persistedTopicOf(t) !== undefined).map((t) => t.metadata.name);
  if (persisted.length > 0) {
    throw new Error(
      `the Lease has no ${CLUSTER_RECORD_ANNOTATION} annotation, but Topics hold persisted partition state (${persisted.slice(0, 5).join(', ')}${persisted.length > 5 ? ', …' : ''}): ` +
        'the cluster record (cluster id, broker epochs, producer ids) was lost. Restore the annotation from a backup of the Lease; the operator refuses to start a new cluster over existing data.',
    );
  }
  const fresh: ClusterState = initialClusterState(newClusterId());
  return { clusterId: fresh.clusterId, metadataVersion: fresh.metadataVersion, nextBrokerEpoch: fresh.nextBrokerEpoch, nextProducerId: fresh.nextProducerId, brokers: fresh.brokers };
}
