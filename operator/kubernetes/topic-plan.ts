// What reconciling a Topic (one that is not being deleted) should do, decided from the object and
// the committed cluster state alone: level-triggered, so the same inputs give the same plan
// whatever event led here. Pure. The core's transitions are themselves pure, so the plan runs the
// transition it proposes as a dry run: a plan to create or alter is one the core accepts, and a
// refusal carries the core's reason, turned into a condition reason and a message that names the
// spec field to change.
import { isSluiceError, type SluiceError } from '../../common/errors.ts';
import { validateTopicName } from '../../common/topic-config.ts';
import {
  activeBrokers,
  alterTopic,
  createTopic,
  findTopic,
  replicationFactorOf,
  type AlterTopicInput,
  type ClusterState,
  type CreateTopicInput,
  type TopicRecord,
} from '../core/cluster-state.ts';
import type { Refusal } from './topic-status.ts';
import { topicNameOf, type TopicObject } from './topic-resource.ts';

export type TopicPlan =
  | { readonly kind: 'create'; readonly input: CreateTopicInput }
  | { readonly kind: 'alter'; readonly input: AlterTopicInput; readonly topic: TopicRecord }
  | { readonly kind: 'refuse'; readonly refusal: Refusal }
  | { readonly kind: 'none'; readonly topic: TopicRecord };

/** The topic a Topic object created: its topic id is the object's uid. */
export function topicOwnedBy(state: ClusterState, uid: string | undefined): TopicRecord | undefined {
  return uid === undefined ? undefined : state.topics.find((t) => t.topicId === uid);
}

/**
 * `objectNameOf` names the Topic object that owns a topic id (for a name clash message).
 * Throws only for errors that are not a refusal of the spec (a bug, not the user's input).
 */
export function planTopic(t: TopicObject, state: ClusterState, objectNameOf: (topicId: string) => string | undefined): TopicPlan {
  const name = topicNameOf(t);
  const field = t.spec.topicName !== undefined ? 'spec.topicName' : 'metadata.name';
  try {
    validateTopicName(name);
  } catch (e) {
    return refuse('InvalidTopicName', `${field}: ${(e as Error).message}`);
  }
  const owned = topicOwnedBy(state, t.metadata.uid);
  const active = activeBrokers(state);
  const wantedRf = t.spec.replicationFactor;

  if (!owned) {
    const clash = findTopic(state, name);
    if (clash) {
      const other = objectNameOf(clash.topicId);
      return refuse(
        'TopicNameConflict',
        `topic "${name}" already exists${other ? `, created by Topic ${other}` : ''}; give this Topic another ${field} (or delete the other one first)`,
      );
    }
    if (active.length === 0) {
      return refuse('NotEnoughBrokers', 'no broker is registered with the operator, so no replica can be placed; the topic is created as soon as broker pods are running and registered');
    }
    if (wantedRf !== undefined && wantedRf > active.length) return notEnoughBrokers(wantedRf, active.map((b) => b.id));
    const input: CreateTopicInput = { name, topicId: t.metadata.uid ?? '', partitions: t.spec.partitions, replicationFactor: wantedRf ?? 0, config: t.spec.config ?? {} };
    return dryRun(() => createTopic(state, input), () => ({ kind: 'create', input }), wantedRf, active.length);
  }

  if (owned.name !== name) {
    return refuse('TopicNameImmutable', `${field} is "${name}" but this Topic created topic "${owned.name}"; a topic cannot be renamed: set it back, or create a new Topic`);
  }
  const current = owned.partitions.length;
  if (t.spec.partitions < current) {
    return refuse(
      'PartitionDecrease',
      `spec.partitions is ${t.spec.partitions} but the topic has ${current} partitions, and partitions never shrink (keys would move and records would be lost); set spec.partitions to ${current} or more`,
    );
  }
  const currentRf = replicationFactorOf(owned);
  const rfChange = wantedRf !== undefined && wantedRf !== currentRf;
  if (rfChange && wantedRf > active.length) return notEnoughBrokers(wantedRf, active.map((b) => b.id));
  const input: AlterTopicInput = {
    name,
    partitions: t.spec.partitions > current ? t.spec.partitions : 0,
    replicationFactor: rfChange ? wantedRf : 0,
    config: t.spec.config ?? {},
    // spec.config is the whole config: a key removed from it returns to its default.
    replaceConfig: true,
  };
  return dryRun(
    () => alterTopic(state, input),
    (outcome) => (outcome.state === state ? { kind: 'none', topic: owned } : { kind: 'alter', input, topic: owned }),
    wantedRf,
    active.length,
  );
}

function dryRun<O>(transition: () => O, plan: (outcome: O) => TopicPlan, wantedRf: number | undefined, activeCount: number): TopicPlan {
  let outcome: O;
  try {
    outcome = transition();
  } catch (e) {
    const refusal = refusalFor(e, wantedRf, activeCount);
    if (!refusal) throw e;
    return { kind: 'refuse', refusal };
  }
  return plan(outcome);
}

/** A refusal for an error of the core's transitions, or undefined when it is no refusal of the spec. */
export function refusalFor(e: unknown, wantedRf: number | undefined, activeCount: number): Refusal | undefined {
  if (!isSluiceError(e)) return undefined;
  const err: SluiceError = e;
  switch (err.code) {
    case 'INVALID_CONFIG':
      return { reason: 'InvalidConfig', message: `spec.config: ${err.message}` };
    case 'INVALID_PARTITIONS':
      return { reason: 'InvalidPartitions', message: `spec.partitions: ${err.message}` };
    case 'INVALID_TOPIC':
      return { reason: 'InvalidTopicName', message: err.message };
    case 'INVALID_REPLICATION_FACTOR':
      return { reason: wantedRf !== undefined && wantedRf > activeCount ? 'NotEnoughBrokers' : 'InvalidReplicationFactor', message: `spec.replicationFactor: ${err.message}` };
    case 'TOPIC_ALREADY_EXISTS':
      return { reason: 'TopicNameConflict', message: err.message };
    default:
      return undefined;
  }
}

function notEnoughBrokers(rf: number, active: number[]): TopicPlan {
  const n = active.length;
  return refuse(
    'NotEnoughBrokers',
    `spec.replicationFactor is ${rf} but ${n} ${n === 1 ? 'broker is' : 'brokers are'} registered and active (${active.join(', ')}); lower spec.replicationFactor to at most ${n}, or add broker pods`,
  );
}

function refuse(reason: string, message: string): TopicPlan {
  return { kind: 'refuse', refusal: { reason, message } };
}
