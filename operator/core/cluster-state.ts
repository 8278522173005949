// The controller's persisted model of the cluster, and every transition over it. Pure: a
// transition takes a state and a request and returns the next state, the events that explain
// the change, and its answer. No I/O, no clock, no randomness (ids come in with the request), so
// the local shell and the Kubernetes shell run the same rules and tests can run them by the
// thousand.
//
// Invariants every transition keeps (checked by cluster-invariants.ts):
// * ISR ⊆ replicas, never empty; the leader is in the ISR or is NO_LEADER.
// * A fenced broker leads nothing, and stays in an ISR only as its last member (Kafka keeps it
//   so that the partition can come back with it instead of losing data to an unclean election).
// * Every leader change bumps leaderEpoch and partitionEpoch, every partition change bumps
//   partitionEpoch, every change bumps metadataVersion. Epochs never go back, so a leader
//   epoch is never reused (DESIGN §12).
// * During a reassignment replicas = target ++ removingReplicas and addingReplicas ⊆ target;
//   a reassignment that can complete has completed (every transition that could let it finish
//   tries to).
import { SluiceError } from '../../common/errors.ts';
import { DEFAULT_TOPIC_CONFIG, parseTopicConfig, validatePartitionCount, validateTopicName, type TopicConfig } from '../../common/topic-config.ts';
import { electLeader, NO_LEADER } from './election.ts';
import { MAX_REPLICATION_FACTOR, placePartitions, reassignmentTargets, resolveReplicationFactor } from './placement.ts';
import { beginReassignment, reassignmentCompletion, targetReplicas } from './reassignment.ts';

export type BrokerLifecycle = 'active' | 'fenced' | 'shutting_down';

export interface BrokerRecord {
  readonly id: number;
  readonly host: string;
  readonly port: number;
  /** '' when the broker has no rack (zone). */
  readonly rack: string;
  /** Random per broker process start: tells a restarted broker from a reconnecting one. */
  readonly incarnationId: string;
  /** Identifies this incarnation; a new incarnation always gets a higher one. */
  readonly brokerEpoch: number;
  readonly state: BrokerLifecycle;
}

export interface PartitionRecord {
  readonly partition: number;
  /** Assigned replicas; the first is the preferred leader. During a reassignment: target ++ removingReplicas. */
  readonly replicas: readonly number[];
  /** NO_LEADER (-1) when offline. */
  readonly leader: number;
  readonly leaderEpoch: number;
  /** Committed ISR, kept in replica order. */
  readonly isr: readonly number[];
  readonly partitionEpoch: number;
  /** Replicas an ongoing reassignment adds; it completes once all of them are in the ISR. */
  readonly addingReplicas: readonly number[];
  /** Replicas an ongoing reassignment drops when it completes (the tail of `replicas`). */
  readonly removingReplicas: readonly number[];
  /**
   * Leader epoch of the latest unclean election (a leader from outside the committed ISR), -1 if
   * there was none: acknowledged records written before that epoch may be missing.
   */
  readonly lastUncleanLeaderEpoch: number;
}

/** Names one partition of one topic. */
export interface PartitionRef {
  readonly topic: string;
  readonly partition: number;
}

export interface TopicRecord {
  readonly name: string;
  readonly topicId: string;
  /** Overrides only; defaults come from common/topic-config.ts at read time. */
  readonly config: Readonly<Partial<TopicConfig>>;
  readonly partitions: readonly PartitionRecord[];
}

export interface ClusterState {
  readonly clusterId: string;
  /** Bumped by every change; the compare-and-set version of the persisted state. */
  readonly metadataVersion: number;
  readonly nextBrokerEpoch: number;
  readonly nextProducerId: number;
  /** Sorted by id. Brokers are never forgotten: their epochs must keep increasing. */
  readonly brokers: readonly BrokerRecord[];
  /** Sorted by name. */
  readonly topics: readonly TopicRecord[];
}

/**
 * session_expired: no heartbeat for the session timeout. session_closed: the stream closed after
 * a controlled shutdown. new_incarnation: the broker restarted. pod_lost (Kubernetes): its Pod was
 * deleted, failed or evicted, or its node is not ready — fenced at once, without waiting for the
 * session to lapse.
 */
export type FenceReason = 'session_expired' | 'session_closed' | 'new_incarnation' | 'pod_lost';
/**
 * Why a partition changed. For a change that moved leadership this is also the election reason
 * (the `reason` label of sluice_leader_elections_total); 'alter_partition' never moves it.
 */
export const PARTITION_CHANGE_REASONS = ['fenced', 'registered', 'controlled_shutdown', 'unclean_enabled', 'preferred', 'reassignment', 'alter_partition'] as const;
export type PartitionChangeReason = (typeof PARTITION_CHANGE_REASONS)[number];

export type ClusterEvent =
  | { readonly type: 'topic_created'; readonly topic: string; readonly topicId: string; readonly partitions: number; readonly replicationFactor: number }
  | {
      readonly type: 'topic_altered';
      readonly topic: string;
      readonly addedPartitions: number;
      readonly configChanged: boolean;
      readonly previousReplicationFactor: number;
      /** Differs from the previous one when this change started a reassignment. */
      readonly replicationFactor: number;
    }
  | { readonly type: 'topic_deleted'; readonly topic: string; readonly topicId: string }
  | { readonly type: 'broker_registered'; readonly brokerId: number; readonly brokerEpoch: number; readonly newIncarnation: boolean }
  | { readonly type: 'broker_unfenced'; readonly brokerId: number; readonly brokerEpoch: number }
  | { readonly type: 'broker_fenced'; readonly brokerId: number; readonly brokerEpoch: number; readonly reason: FenceReason }
  | { readonly type: 'broker_shutting_down'; readonly brokerId: number; readonly brokerEpoch: number }
  | {
      readonly type: 'partition_changed';
      readonly topic: string;
      readonly topicId: string;
      readonly partition: number;
      readonly previous: PartitionRecord;
      readonly current: PartitionRecord;
      readonly reason: PartitionChangeReason;
      /** The new leader came from outside the committed ISR. */
      readonly unclean: boolean;
    }
  | { readonly type: 'producer_ids_allocated'; readonly brokerId: number; readonly firstProducerId: number; readonly count: number };

/** What a transition produced. `state` is the input object itself when nothing changed. */
export interface Outcome<T> {
  readonly state: ClusterState;
  readonly events: readonly ClusterEvent[];
  readonly result: T;
}

export const PRODUCER_ID_BLOCK_SIZE = 1000;

export function initialClusterState(clusterId: string): ClusterState {
  if (!clusterId) throw new SluiceError('INVALID_REQUEST', 'a cluster needs a non-empty cluster id');
  // Producer ids start at 1 and broker epochs at 1 so that a proto3 field left at its default
  // (0) never names a real producer or incarnation.
  return { clusterId, metadataVersion: 0, nextBrokerEpoch: 1, nextProducerId: 1, brokers: [], topics: [] };
}

/** Whether brokers must hear about these events (producer id blocks are the controller's own). */
export function changesBrokerMetadata(events: readonly ClusterEvent[]): boolean {
  return events.some((e) => e.type !== 'producer_ids_allocated');
}

// ---------------------------------------------------------------------------------------------
// Queries

export function findTopic(state: ClusterState, name: string): TopicRecord | undefined {
  return state.topics.find((t) => t.name === name);
}

export function findBroker(state: ClusterState, id: number): BrokerRecord | undefined {
  return state.brokers.find((b) => b.id === id);
}

/** Brokers that take new replicas and leaderships. */
export function activeBrokers(state: ClusterState): BrokerRecord[] {
  return state.brokers.filter((b) => b.state === 'active');
}

/** Brokers whose session is alive: active ones and those in controlled shutdown (still serving). */
export function liveBrokers(state: ClusterState): BrokerRecord[] {
  return state.brokers.filter((b) => b.state !== 'fenced');
}

/** The replication factor the topic has, or is being reassigned to. */
export function replicationFactorOf(topic: TopicRecord): number {
  const p = topic.partitions[0];
  return p ? targetReplicas(p).length : 0;
}

/** Fewer in-sync copies than the replication factor asks for (during a reassignment: than the target). */
export function isUnderReplicated(p: PartitionRecord): boolean {
  const target = targetReplicas(p);
  return p.isr.filter((id) => target.includes(id)).length < target.length;
}

/**
 * Partitions whose preferred replica (the first) is active and in the ISR but does not lead:
 * what a preferred-leader rebalance would move (DESIGN §6).
 */
export function preferredLeaderCandidates(state: ClusterState): PartitionRef[] {
  const lifecycleOf = lifecycles(state.brokers);
  const out: PartitionRef[] = [];
  for (const t of state.topics) {
    for (const p of t.partitions) if (preferredLeaderEligible(p, lifecycleOf)) out.push({ topic: t.name, partition: p.partition });
  }
  return out;
}

export function isOffline(p: PartitionRecord): boolean {
  return p.leader === NO_LEADER;
}

/**
 * The broker record for (id, epoch), refused with STALE_BROKER_EPOCH when the epoch is not the
 * broker's current one: a request from an older incarnation (a paused or partitioned process
 * that was replaced) must never change state.
 */
export function checkBrokerEpoch(state: ClusterState, brokerId: number, brokerEpoch: number): BrokerRecord {
  const broker = findBroker(state, brokerId);
  if (!broker) {
    throw new SluiceError('STALE_BROKER_EPOCH', `broker ${brokerId} is not registered; open a BrokerSession and register before sending requests`, { brokerId });
  }
  if (broker.brokerEpoch !== brokerEpoch) {
    throw new SluiceError(
      'STALE_BROKER_EPOCH',
      `broker epoch ${brokerEpoch} of broker ${brokerId} is stale: the current epoch is ${broker.brokerEpoch} (a newer incarnation registered); this process must re-register or stop`,
      { brokerId },
    );
  }
  return broker;
}

// ---------------------------------------------------------------------------------------------
// Topics

export interface CreateTopicInput {
  readonly name: string;
  /** Chosen by the caller (a random UUID) so that this function stays deterministic. */
  readonly topicId: string;
  readonly partitions: number;
  /** 0 = the default, min(3, live brokers). */
  readonly replicationFactor: number;
  /** Strings from gRPC or typed values from YAML; unknown keys are refused. */
  readonly config?: Readonly<Record<string, unknown>>;
}

export function createTopic(state: ClusterState, input: CreateTopicInput): Outcome<TopicRecord> {
  validateTopicName(input.name);
  const existing = findTopic(state, input.name);
  if (existing) {
    throw new SluiceError(
      'TOPIC_ALREADY_EXISTS',
      `topic "${input.name}" already exists with ${existing.partitions.length} partitions; use AlterTopic to add partitions or change its config, or delete it first`,
      { topic: input.name },
    );
  }
  if (!input.topicId) throw new SluiceError('INVALID_REQUEST', 'a new topic needs a topic id');
  if (state.topics.some((t) => t.topicId === input.topicId)) {
    throw new SluiceError('INVALID_REQUEST', `topic id ${input.topicId} is already used by another topic`);
  }
  validatePartitionCount(input.partitions);
  const config = parseTopicConfig(input.config as Record<string, unknown> | undefined);
  const active = activeBrokers(state);
  const replicationFactor = resolveReplicationFactor(input.replicationFactor, active.map((b) => b.id));
  validateMinInsyncReplicas(input.name, replicationFactor, config);
  const assignments = placePartitions({
    brokers: active.map((b) => ({ id: b.id, rack: b.rack })),
    replicationFactor,
    count: input.partitions,
    topicAssignments: [],
    otherAssignments: allAssignments(state),
  });
  const topic: TopicRecord = {
    name: input.name,
    topicId: input.topicId,
    config,
    partitions: assignments.map((replicas, partition) => newPartition(partition, replicas)),
  };
  const topics = [...state.topics, topic].sort(byName);
  return finish(state, { ...state, topics }, [
    { type: 'topic_created', topic: topic.name, topicId: topic.topicId, partitions: input.partitions, replicationFactor },
  ], topic);
}

export interface AlterTopicInput {
  readonly name: string;
  /** New partition count, >= the current one; 0 = unchanged. */
  readonly partitions: number;
  /**
   * 0 = unchanged. Another value starts a reassignment to it (replacing any in progress), which
   * completes per partition once the new replicas are in sync.
   */
  readonly replicationFactor: number;
  readonly config?: Readonly<Record<string, unknown>>;
  /** Replace the whole override map instead of merging into it. */
  readonly replaceConfig: boolean;
}

export function alterTopic(state: ClusterState, input: AlterTopicInput): Outcome<TopicRecord> {
  const topic = requireTopic(state, input.name);
  const currentCount = topic.partitions.length;
  const rf = replicationFactorOf(topic);

  if (input.partitions !== 0) {
    validatePartitionCount(input.partitions);
    if (input.partitions < currentCount) {
      throw new SluiceError(
        'INVALID_PARTITIONS',
        `topic "${topic.name}" has ${currentCount} partitions and partitions never shrink (keys would move to other partitions and records would be lost); ask for ${currentCount} or more, or 0 to leave the count unchanged`,
        { topic: topic.name },
      );
    }
  }
  const overrides = parseTopicConfig(input.config as Record<string, unknown> | undefined);
  const config: Partial<TopicConfig> = input.replaceConfig ? overrides : { ...topic.config, ...overrides };
  const configChanged = !sameConfig(topic.config, config);
  const targetRf = input.replicationFactor === 0 ? rf : input.replicationFactor;
  if (targetRf !== rf) validateReplicationFactorRange(topic.name, targetRf);
  // Adding partitions alone does not touch the pair, so a topic stored before this check
  // existed can still grow.
  if (configChanged || targetRf !== rf) validateMinInsyncReplicas(topic.name, targetRf, config, rf);

  const added = input.partitions === 0 ? 0 : input.partitions - currentCount;
  if (added === 0 && !configChanged && targetRf === rf) return finish(state, state, [], topic);

  const events: ClusterEvent[] = [
    { type: 'topic_altered', topic: topic.name, addedPartitions: added, configChanged, previousReplicationFactor: rf, replicationFactor: targetRf },
  ];
  const lifecycleOf = lifecycles(state.brokers);
  let altered: TopicRecord = { ...topic, config };
  // Turning unclean election on is the operator choosing availability over acknowledged data
  // for partitions that are offline right now, so elect them at once (as Kafka does). Before the
  // reassignment, so that it keeps the leader this elects.
  if (config['unclean.leader.election.enable'] === true && topic.config['unclean.leader.election.enable'] !== true) {
    altered = electOffline(altered, lifecycleOf, () => true, 'unclean_enabled', events);
  }
  if (targetRf !== rf) {
    const targets = reassignmentTargets({
      brokers: state.brokers.map((b) => ({ id: b.id, rack: b.rack, state: b.state })),
      replicationFactor: targetRf,
      partitions: altered.partitions.map((p) => ({ replicas: p.replicas, adding: p.addingReplicas, leader: p.leader, isr: p.isr })),
      otherAssignments: allAssignments(state, topic.name),
    });
    const from = altered;
    altered = { ...from, partitions: from.partitions.map((p, i) => changePartition(from, p, beginReassignment(p, targets[i]!), 'reassignment', false, events)) };
  }
  // A shrink has nothing to wait for, and an unclean election may have unblocked one.
  altered = settleReassignments(altered, lifecycleOf, events);
  if (added > 0) {
    const active = activeBrokers(state);
    const assignments = placePartitions({
      brokers: active.map((b) => ({ id: b.id, rack: b.rack })),
      replicationFactor: targetRf,
      count: added,
      topicAssignments: altered.partitions.map(targetReplicas),
      otherAssignments: allAssignments(state, topic.name),
    });
    altered = { ...altered, partitions: [...altered.partitions, ...assignments.map((replicas, i) => newPartition(currentCount + i, replicas))] };
  }
  const topics = state.topics.map((t) => (t.name === topic.name ? altered : t));
  return finish(state, { ...state, topics }, events, altered);
}

function validateReplicationFactorRange(topic: string, to: number): void {
  if (!Number.isInteger(to) || to < 1 || to > MAX_REPLICATION_FACTOR) {
    throw new SluiceError('INVALID_REPLICATION_FACTOR', `replication factor must be an integer from 1 to ${MAX_REPLICATION_FACTOR}, or 0 to leave it unchanged (got ${to})`, { topic });
  }
}

/**
 * The one check, for topic creation, config changes and replication-factor changes alike, that
 * min.insync.replicas (as it will be after the request) does not exceed the replication factor
 * (likewise): otherwise the ISR can never be large enough and every acks=all produce fails with
 * NOT_ENOUGH_REPLICAS. A request that lowers the replication factor is told so, since that is
 * what it changed; `previousReplicationFactor` is the factor before an alter.
 */
function validateMinInsyncReplicas(topic: string, replicationFactor: number, config: Readonly<Partial<TopicConfig>>, previousReplicationFactor?: number): void {
  const minIsr = config['min.insync.replicas'] ?? DEFAULT_TOPIC_CONFIG['min.insync.replicas'];
  if (minIsr <= replicationFactor) return;
  if (previousReplicationFactor !== undefined && replicationFactor < previousReplicationFactor) {
    throw new SluiceError(
      'INVALID_REPLICATION_FACTOR',
      `lowering the replication factor of topic "${topic}" from ${previousReplicationFactor} to ${replicationFactor} would leave fewer replicas than its min.insync.replicas (${minIsr}), so every acks=all produce would fail with NOT_ENOUGH_REPLICAS; ` +
        `keep at least ${minIsr} replicas, or lower min.insync.replicas to ${replicationFactor} (in the same request or first)`,
      { topic },
    );
  }
  throw new SluiceError(
    'INVALID_CONFIG',
    `min.insync.replicas (${minIsr}) is larger than the replication factor (${replicationFactor}): acks=all writes could never succeed; lower min.insync.replicas or raise the replication factor`,
    { topic },
  );
}

export function deleteTopic(state: ClusterState, name: string): Outcome<TopicRecord> {
  const topic = requireTopic(state, name);
  const topics = state.topics.filter((t) => t.name !== name);
  return finish(state, { ...state, topics }, [{ type: 'topic_deleted', topic: name, topicId: topic.topicId }], topic);
}

// ---------------------------------------------------------------------------------------------
// Brokers

export interface BrokerRegistrationInput {
  readonly brokerId: number;
  readonly incarnationId: string;
  readonly host: string;
  readonly port: number;
  readonly rack: string;
}

/**
 * Registers a broker incarnation. The same incarnation keeps its epoch (a reconnect) and is
 * unfenced if it was fenced; a new incarnation gets a new epoch, after the old one is fenced: a
 * restarted broker may have lost unflushed records, so it must not stay in any ISR on the old
 * incarnation's word.
 */
export function registerBroker(state: ClusterState, input: BrokerRegistrationInput): Outcome<BrokerRecord> {
  validateRegistration(input);
  const events: ClusterEvent[] = [];
  const existing = findBroker(state, input.brokerId);
  let brokers = state.brokers;
  let topics = state.topics;
  let nextBrokerEpoch = state.nextBrokerEpoch;
  let record: BrokerRecord;
  let becameActive = false;
  const endpoint = { host: input.host, port: input.port, rack: input.rack };

  if (existing && existing.incarnationId === input.incarnationId) {
    const endpointChanged = existing.host !== input.host || existing.port !== input.port || existing.rack !== input.rack;
    record = { ...existing, ...endpoint, state: existing.state === 'fenced' ? 'active' : existing.state };
    if (existing.state === 'fenced') {
      events.push({ type: 'broker_unfenced', brokerId: record.id, brokerEpoch: record.brokerEpoch });
      becameActive = true;
    } else if (endpointChanged) {
      events.push({ type: 'broker_registered', brokerId: record.id, brokerEpoch: record.brokerEpoch, newIncarnation: false });
    }
  } else {
    if (existing && existing.state !== 'fenced') {
      const fenced: BrokerRecord = { ...existing, state: 'fenced' };
      brokers = upsertBroker(brokers, fenced);
      events.push({ type: 'broker_fenced', brokerId: existing.id, brokerEpoch: existing.brokerEpoch, reason: 'new_incarnation' });
      topics = withoutBroker(topics, existing.id, lifecycles(brokers), 'fenced', events);
    }
    record = { id: input.brokerId, ...endpoint, incarnationId: input.incarnationId, brokerEpoch: nextBrokerEpoch, state: 'active' };
    nextBrokerEpoch++;
    events.push({ type: 'broker_registered', brokerId: record.id, brokerEpoch: record.brokerEpoch, newIncarnation: true });
    becameActive = true;
  }
  brokers = upsertBroker(brokers, record);
  const states = lifecycles(brokers);
  if (becameActive) topics = topics.map((t) => electOffline(t, states, (p) => p.replicas.includes(record.id), 'registered', events));
  // A returning broker may be the active successor a reassignment that drops the leader waits for.
  topics = topics.map((t) => settleReassignments(t, states, events));
  return finish(state, { ...state, brokers, topics, nextBrokerEpoch }, events, record);
}

export interface FenceBrokerInput {
  readonly brokerId: number;
  /** Fence only this incarnation: a late timer of an older session must not fence a newer one. */
  readonly brokerEpoch?: number;
  readonly reason: FenceReason;
}

/**
 * Fences a broker: out of every ISR (except as a last member), and every partition it led gets
 * the next live ISR member in replica order, else an unclean leader where the topic allows it,
 * else goes offline. Fencing an unknown, already fenced or other-epoch broker changes nothing.
 */
export function fenceBroker(state: ClusterState, input: FenceBrokerInput): Outcome<void> {
  const broker = findBroker(state, input.brokerId);
  if (!broker || broker.state === 'fenced') return finish(state, state, [], undefined);
  if (input.brokerEpoch !== undefined && input.brokerEpoch !== broker.brokerEpoch) return finish(state, state, [], undefined);
  const events: ClusterEvent[] = [{ type: 'broker_fenced', brokerId: broker.id, brokerEpoch: broker.brokerEpoch, reason: input.reason }];
  const brokers = upsertBroker(state.brokers, { ...broker, state: 'fenced' });
  const lifecycleOf = lifecycles(brokers);
  // A smaller ISR may let a shrink complete; a new leader may let one that drops the old leader.
  const topics = withoutBroker(state.topics, broker.id, lifecycleOf, 'fenced', events).map((t) => settleReassignments(t, lifecycleOf, events));
  return finish(state, { ...state, brokers, topics }, events, undefined);
}

export interface ControlledShutdownInput {
  readonly brokerId: number;
  readonly brokerEpoch: number;
}

/**
 * A stopping broker asks to lose its leaderships first. Each one moves to another active ISR
 * member; where none exists the broker keeps leading (moving would take the partition offline
 * while the broker can still serve it). The broker also leaves every ISR it is a follower in, so
 * acks=all stops waiting for it. Answers how many leaderships remain; the broker retries until 0
 * or gives up.
 */
export function controlledShutdown(state: ClusterState, input: ControlledShutdownInput): Outcome<{ remainingLeaderships: number }> {
  const broker = checkBrokerEpoch(state, input.brokerId, input.brokerEpoch);
  if (broker.state === 'fenced') return finish(state, state, [], { remainingLeaderships: 0 });
  const events: ClusterEvent[] = [];
  let brokers = state.brokers;
  if (broker.state === 'active') {
    brokers = upsertBroker(brokers, { ...broker, state: 'shutting_down' });
    events.push({ type: 'broker_shutting_down', brokerId: broker.id, brokerEpoch: broker.brokerEpoch });
  }
  const lifecycleOf = lifecycles(brokers);
  const topics = withoutBroker(state.topics, broker.id, lifecycleOf, 'controlled_shutdown', events).map((t) => settleReassignments(t, lifecycleOf, events));
  let remainingLeaderships = 0;
  for (const t of topics) for (const p of t.partitions) if (p.leader === broker.id) remainingLeaderships++;
  return finish(state, { ...state, brokers, topics }, events, { remainingLeaderships });
}

// ---------------------------------------------------------------------------------------------
// Partitions

export interface AlterPartitionInput {
  readonly brokerId: number;
  readonly brokerEpoch: number;
  readonly topic: string;
  readonly partition: number;
  /** The leader epoch the proposing leader holds. */
  readonly leaderEpoch: number;
  /** The partition epoch the proposal is based on (compare-and-set). */
  readonly partitionEpoch: number;
  readonly newIsr: readonly number[];
}

/**
 * Commits an ISR change proposed by the partition leader (DESIGN §5). The proposal must come from
 * the current leader at the current leader epoch and be based on the current partition epoch;
 * anything else is a stale view that must not overwrite a newer decision.
 */
export function alterPartition(state: ClusterState, input: AlterPartitionInput): Outcome<PartitionRecord> {
  checkBrokerEpoch(state, input.brokerId, input.brokerEpoch);
  const topic = findTopic(state, input.topic);
  const p = topic?.partitions[input.partition];
  if (!topic || !p || !Number.isInteger(input.partition)) {
    throw new SluiceError(
      'UNKNOWN_TOPIC_OR_PARTITION',
      topic
        ? `topic "${input.topic}" has partitions 0..${topic.partitions.length - 1}; partition ${input.partition} does not exist`
        : `topic "${input.topic}" does not exist`,
      { topic: input.topic, partition: input.partition },
    );
  }
  const where = `${topic.name}-${p.partition}`;
  const details = { topic: topic.name, partition: p.partition, leaderId: p.leader, leaderEpoch: p.leaderEpoch };
  if (input.leaderEpoch !== p.leaderEpoch) {
    throw new SluiceError(
      'FENCED_LEADER_EPOCH',
      `leader epoch ${input.leaderEpoch} of ${where} is not the current one (${p.leaderEpoch}): the leadership changed; apply the latest metadata, and propose again only if still leader`,
      details,
    );
  }
  if (p.leader !== input.brokerId) {
    throw new SluiceError('NOT_LEADER', `broker ${input.brokerId} does not lead ${where} (the leader is ${p.leader}); only the leader proposes ISR changes`, details);
  }
  if (input.partitionEpoch !== p.partitionEpoch) {
    throw new SluiceError(
      'INVALID_REQUEST',
      `partition epoch ${input.partitionEpoch} of ${where} is stale (current ${p.partitionEpoch}): another change was committed first; apply the latest metadata and propose again from it`,
      details,
    );
  }
  const proposed = input.newIsr;
  const problem =
    proposed.length === 0 ? 'it is empty'
    : proposed.some((id) => !Number.isInteger(id)) ? 'it holds a non-integer broker id'
    : new Set(proposed).size !== proposed.length ? 'it names a broker twice'
    : proposed.some((id) => !p.replicas.includes(id)) ? `it names brokers outside the replicas [${p.replicas.join(', ')}]`
    : !proposed.includes(p.leader) ? `it leaves out the leader ${p.leader}`
    : undefined;
  if (problem) throw new SluiceError('INVALID_REQUEST', `ISR [${proposed.join(', ')}] proposed for ${where} is invalid: ${problem}`, details);
  // KIP-841: only an active broker may join the ISR. A fenced or stopping one could otherwise be
  // elected right after, with records it never received.
  for (const id of proposed) {
    if (p.isr.includes(id)) continue;
    const lifecycle = findBroker(state, id)?.state;
    if (lifecycle !== 'active') {
      throw new SluiceError('INVALID_REQUEST', `broker ${id} cannot join the ISR of ${where}: it is ${lifecycle === 'shutting_down' ? 'shutting down' : lifecycle ?? 'not registered'}`, details);
    }
  }
  const events: ClusterEvent[] = [];
  const next = changePartition(topic, p, { isr: proposed }, 'alter_partition', false, events);
  if (next === p) return finish(state, state, [], p);
  // The ISR growing is how the controller learns that added replicas caught up; it may also be
  // what lets a reassignment finish. The answer is the partition as committed after both.
  const altered = settleReassignments({ ...topic, partitions: topic.partitions.map((x) => (x === p ? next : x)) }, lifecycles(state.brokers), events);
  const topics = state.topics.map((t) => (t.name === topic.name ? altered : t));
  return finish(state, { ...state, topics }, events, altered.partitions[p.partition]!);
}

// ---------------------------------------------------------------------------------------------
// Preferred leaders

/**
 * Moves leadership back to the preferred replica (the first) of the partitions named, or of every
 * partition, wherever it is active and in the ISR (DESIGN §6). Eligibility is checked again here,
 * since the state may have moved on since the candidates were listed. Answers the partitions
 * moved.
 */
export function electPreferredLeaders(state: ClusterState, only?: readonly PartitionRef[]): Outcome<PartitionRef[]> {
  const lifecycleOf = lifecycles(state.brokers);
  const wanted = only && new Set(only.map((r) => `${r.topic}/${r.partition}`));
  const events: ClusterEvent[] = [];
  const moved: PartitionRef[] = [];
  const topics = state.topics.map((topic) => {
    let touched = false;
    const partitions = topic.partitions.map((p) => {
      if (wanted && !wanted.has(`${topic.name}/${p.partition}`)) return p;
      if (!preferredLeaderEligible(p, lifecycleOf)) return p;
      touched = true;
      moved.push({ topic: topic.name, partition: p.partition });
      return changePartition(topic, p, { leader: p.replicas[0]! }, 'preferred', false, events);
    });
    return touched ? { ...topic, partitions } : topic;
  });
  return finish(state, { ...state, topics }, events, moved);
}

// ---------------------------------------------------------------------------------------------
// Producer ids

/** A block of producer ids, never handed out twice: the next id is persisted before it is used. */
export function allocateProducerIds(state: ClusterState, input: { brokerId: number; brokerEpoch: number }): Outcome<{ firstProducerId: number; count: number }> {
  checkBrokerEpoch(state, input.brokerId, input.brokerEpoch);
  const firstProducerId = state.nextProducerId;
  const count = PRODUCER_ID_BLOCK_SIZE;
  return finish(state, { ...state, nextProducerId: firstProducerId + count }, [
    { type: 'producer_ids_allocated', brokerId: input.brokerId, firstProducerId, count },
  ], { firstProducerId, count });
}

// ---------------------------------------------------------------------------------------------
// Recovery

/**
 * The most one transition raises a partition's leader epoch or partition epoch: registering a
 * new incarnation may fence the old one (+1), elect the new one for the partitions it took
 * offline (+1), and let a reassignment complete (+1); an AlterTopic may elect uncleanly, start a
 * reassignment and complete it at once. The property tests hold every transition to this bound.
 */
export const MAX_EPOCH_BUMP_PER_CHANGE = 3;

/**
 * A state restored from the previous good copy may be one committed change behind what brokers
 * already acted on. Moves every counter past anything that change could have handed out, so
 * that no leader epoch, broker epoch, producer id or metadata version is issued twice; brokers
 * ignore metadata whose version is not newer than what they applied.
 */
export function skipPastLostChange(state: ClusterState): ClusterState {
  return {
    ...state,
    metadataVersion: state.metadataVersion + 2,
    nextBrokerEpoch: state.nextBrokerEpoch + 1,
    nextProducerId: state.nextProducerId + PRODUCER_ID_BLOCK_SIZE,
    topics: state.topics.map((t) => ({
      ...t,
      partitions: t.partitions.map((p) => ({
        ...p,
        leaderEpoch: p.leaderEpoch + MAX_EPOCH_BUMP_PER_CHANGE,
        partitionEpoch: p.partitionEpoch + MAX_EPOCH_BUMP_PER_CHANGE,
      })),
    })),
  };
}

// ---------------------------------------------------------------------------------------------
// Internals

function finish<T>(previous: ClusterState, next: ClusterState, events: readonly ClusterEvent[], result: T): Outcome<T> {
  if (events.length === 0) return { state: previous, events, result };
  return { state: { ...next, metadataVersion: previous.metadataVersion + 1 }, events, result };
}

function requireTopic(state: ClusterState, name: string): TopicRecord {
  const topic = findTopic(state, name);
  if (!topic) {
    throw new SluiceError('UNKNOWN_TOPIC_OR_PARTITION', `topic "${name}" does not exist; ListTopics shows the topics there are`, { topic: name });
  }
  return topic;
}

function validateRegistration(input: BrokerRegistrationInput): void {
  const problem =
    !Number.isInteger(input.brokerId) || input.brokerId < 0 ? `broker_id must be a non-negative integer (got ${input.brokerId})`
    : !input.incarnationId ? 'incarnation_id is empty; send a random id per process start'
    : !input.host ? 'host is empty; send the address other brokers and clients reach this broker at'
    : !Number.isInteger(input.port) || input.port < 1 || input.port > 65_535 ? `port must be from 1 to 65535 (got ${input.port})`
    : undefined;
  if (problem) throw new SluiceError('INVALID_REQUEST', `broker registration refused: ${problem}`, { brokerId: input.brokerId });
}

function allAssignments(state: ClusterState, exceptTopic?: string): number[][] {
  const out: number[][] = [];
  for (const t of state.topics) {
    if (t.name === exceptTopic) continue;
    for (const p of t.partitions) out.push([...p.replicas]);
  }
  return out;
}

function lifecycles(brokers: readonly BrokerRecord[]): (id: number) => BrokerLifecycle | undefined {
  const map = new Map(brokers.map((b) => [b.id, b.state]));
  return (id) => map.get(id);
}

function upsertBroker(brokers: readonly BrokerRecord[], record: BrokerRecord): BrokerRecord[] {
  return [...brokers.filter((b) => b.id !== record.id), record].sort((a, b) => a.id - b.id);
}

function newPartition(partition: number, replicas: readonly number[]): PartitionRecord {
  return {
    partition,
    replicas,
    leader: replicas[0]!,
    leaderEpoch: 0,
    isr: [...replicas],
    partitionEpoch: 0,
    addingReplicas: [],
    removingReplicas: [],
    lastUncleanLeaderEpoch: -1,
  };
}

function preferredLeaderEligible(p: PartitionRecord, lifecycleOf: (id: number) => BrokerLifecycle | undefined): boolean {
  const preferred = p.replicas[0];
  return preferred !== undefined && preferred !== p.leader && p.isr.includes(preferred) && lifecycleOf(preferred) === 'active';
}

/** Completes every reassignment of the topic that can complete now. */
function settleReassignments(topic: TopicRecord, lifecycleOf: (id: number) => BrokerLifecycle | undefined, events: ClusterEvent[]): TopicRecord {
  let touched = false;
  const partitions = topic.partitions.map((p) => {
    const done = reassignmentCompletion(p, lifecycleOf);
    if (!done) return p;
    touched = true;
    return changePartition(topic, p, done, 'reassignment', false, events);
  });
  return touched ? { ...topic, partitions } : topic;
}

function uncleanAllowed(topic: TopicRecord): boolean {
  return topic.config['unclean.leader.election.enable'] === true;
}

/**
 * Takes a broker out of partitions: as fencing (it is gone) or for a controlled shutdown (it is
 * leaving but still serves). `lifecycleOf` already reflects its new state.
 */
function withoutBroker(
  topics: readonly TopicRecord[],
  brokerId: number,
  lifecycleOf: (id: number) => BrokerLifecycle | undefined,
  reason: 'fenced' | 'controlled_shutdown',
  events: ClusterEvent[],
): readonly TopicRecord[] {
  return topics.map((topic) => {
    let touched = false;
    const partitions = topic.partitions.map((p) => {
      if (p.leader !== brokerId && !p.isr.includes(brokerId)) return p;
      // Never empty an ISR: its last member is the only replica known to hold every committed
      // record, so it stays to be elected when it returns.
      const isr = p.isr.length > 1 ? p.isr.filter((id) => id !== brokerId) : p.isr;
      let next: PartitionRecord;
      if (p.leader !== brokerId) {
        next = changePartition(topic, p, { isr }, reason, false, events);
      } else {
        const outcome = electLeader({
          replicas: p.replicas,
          isr,
          lifecycleOf,
          uncleanAllowed: reason === 'fenced' && uncleanAllowed(topic),
          excluded: [brokerId],
          addingReplicas: p.addingReplicas,
          allowShuttingDown: reason === 'fenced',
        });
        if (outcome.leader === NO_LEADER && reason === 'controlled_shutdown') return p;
        next = changePartition(topic, p, { leader: outcome.leader, isr: outcome.unclean ? [outcome.leader] : isr }, reason, outcome.unclean, events);
      }
      if (next !== p) touched = true;
      return next;
    });
    return touched ? { ...topic, partitions } : topic;
  });
}

/** Elects leaders for the topic's offline partitions that `which` selects. */
function electOffline(
  topic: TopicRecord,
  lifecycleOf: (id: number) => BrokerLifecycle | undefined,
  which: (p: PartitionRecord) => boolean,
  reason: PartitionChangeReason,
  events: ClusterEvent[],
): TopicRecord {
  let touched = false;
  const partitions = topic.partitions.map((p) => {
    if (p.leader !== NO_LEADER || !which(p)) return p;
    const outcome = electLeader({ replicas: p.replicas, isr: p.isr, lifecycleOf, uncleanAllowed: uncleanAllowed(topic), addingReplicas: p.addingReplicas });
    if (outcome.leader === NO_LEADER) return p;
    touched = true;
    // An unclean leader starts a new history: the ISR is just itself (Kafka does the same).
    return changePartition(topic, p, { leader: outcome.leader, isr: outcome.unclean ? [outcome.leader] : p.isr }, reason, outcome.unclean, events);
  });
  return touched ? { ...topic, partitions } : topic;
}

interface PartitionChange {
  readonly leader?: number;
  readonly isr?: readonly number[];
  readonly replicas?: readonly number[];
  readonly addingReplicas?: readonly number[];
  readonly removingReplicas?: readonly number[];
}

/** Applies a partition change with its epoch bumps, recording it; unchanged input comes back as is. */
function changePartition(
  topic: TopicRecord,
  p: PartitionRecord,
  change: PartitionChange,
  reason: PartitionChangeReason,
  unclean: boolean,
  events: ClusterEvent[],
): PartitionRecord {
  const replicas = change.replicas ?? p.replicas;
  const addingReplicas = change.addingReplicas ?? p.addingReplicas;
  const removingReplicas = change.removingReplicas ?? p.removingReplicas;
  const leader = change.leader ?? p.leader;
  const members = new Set(change.isr ?? p.isr);
  const isr = replicas.filter((id) => members.has(id));
  const leaderChanged = leader !== p.leader;
  const changed =
    leaderChanged || !sameList(isr, p.isr) || !sameList(replicas, p.replicas) || !sameList(addingReplicas, p.addingReplicas) || !sameList(removingReplicas, p.removingReplicas);
  if (!changed) return p;
  const leaderEpoch = leaderChanged ? p.leaderEpoch + 1 : p.leaderEpoch;
  const uncleanElection = unclean && leaderChanged;
  const next: PartitionRecord = {
    ...p,
    replicas,
    leader,
    isr,
    addingReplicas,
    removingReplicas,
    leaderEpoch,
    partitionEpoch: p.partitionEpoch + 1,
    lastUncleanLeaderEpoch: uncleanElection ? leaderEpoch : p.lastUncleanLeaderEpoch,
  };
  events.push({ type: 'partition_changed', topic: topic.name, topicId: topic.topicId, partition: p.partition, previous: p, current: next, reason, unclean: uncleanElection });
  return next;
}

function sameList(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((id, i) => id === b[i]);
}

function sameConfig(a: Readonly<Partial<TopicConfig>>, b: Readonly<Partial<TopicConfig>>): boolean {
  const ka = Object.keys(a) as (keyof TopicConfig)[];
  const kb = Object.keys(b) as (keyof TopicConfig)[];
  return ka.length === kb.length && ka.every((k) => Object.hasOwn(b, k) && a[k] === b[k]);
}

function byName(a: TopicRecord, b: TopicRecord): number {
  return a.name < b.name ? -1 : a.name > b.name ? 1 : 0;
}
