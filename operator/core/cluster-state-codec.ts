// ClusterState <-> the JSON document a shell persists (a local file, later a Kubernetes object).
// Decoding checks every field's type and then every invariant, and says what is wrong where: a
// controller acting on a damaged state could reuse epochs or producer ids.
import { clusterStateViolations } from './cluster-invariants.ts';
import type { BrokerRecord, ClusterState, PartitionRecord, TopicRecord } from './cluster-state.ts';

/**
 * Bumped when the document shape changes incompatibly; older controllers refuse newer files.
 * 2 added reassignments (addingReplicas, removingReplicas) and lastUncleanLeaderEpoch, which an
 * older controller would silently drop. Format 1 documents still load: they predate both.
 */
export const STATE_FORMAT = 2;
const READABLE_FORMATS = [1, 2];

export interface StateDocument {
  readonly format: number;
  readonly state: ClusterState;
}

export function encodeClusterState(state: ClusterState): string {
  const doc: StateDocument = { format: STATE_FORMAT, state };
  return `${JSON.stringify(doc, null, 2)}\n`;
}

/** The state held by a persisted document; throws an Error naming the first problem found. */
export function decodeClusterState(text: string): ClusterState {
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (e) {
    throw new Error(`not valid JSON (${(e as Error).message})`);
  }
  const root = record(doc, '$');
  if (!READABLE_FORMATS.includes(root.format as number)) {
    throw new Error(`$.format is ${JSON.stringify(root.format)}; this controller reads formats ${READABLE_FORMATS.join(' and ')}`);
  }
  const s = record(root.state, '$.state');
  const state: ClusterState = {
    clusterId: str(s.clusterId, '$.state.clusterId'),
    metadataVersion: int(s.metadataVersion, '$.state.metadataVersion'),
    nextBrokerEpoch: int(s.nextBrokerEpoch, '$.state.nextBrokerEpoch'),
    nextProducerId: int(s.nextProducerId, '$.state.nextProducerId'),
    brokers: list(s.brokers, '$.state.brokers').map((b, i) => broker(b, `$.state.brokers[${i}]`)),
    topics: list(s.topics, '$.state.topics').map((t, i) => topic(t, `$.state.topics[${i}]`, root.format as number)),
  };
  const violations = clusterStateViolations(state);
  if (violations.length > 0) throw new Error(`inconsistent state: ${violations.slice(0, 5).join('; ')}${violations.length > 5 ? ` (and ${violations.length - 5} more)` : ''}`);
  return state;
}

function broker(v: unknown, at: string): BrokerRecord {
  const b = record(v, at);
  const state = str(b.state, `${at}.state`);
  if (state !== 'active' && state !== 'fenced' && state !== 'shutting_down') throw new Error(`${at}.state is ${JSON.stringify(state)}`);
  return {
    id: int(b.id, `${at}.id`),
    host: str(b.host, `${at}.host`),
    port: int(b.port, `${at}.port`),
    rack: str(b.rack, `${at}.rack`),
    incarnationId: str(b.incarnationId, `${at}.incarnationId`),
    brokerEpoch: int(b.brokerEpoch, `${at}.brokerEpoch`),
    state,
  };
}

function topic(v: unknown, at: string, format: number): TopicRecord {
  const t = record(v, at);
  const config = record(t.config, `${at}.config`);
  for (const [k, value] of Object.entries(config)) {
    if (typeof value !== 'number' && typeof value !== 'string' && typeof value !== 'boolean') throw new Error(`${at}.config["${k}"] is ${JSON.stringify(value)}`);
  }
  return {
    name: str(t.name, `${at}.name`),
    topicId: str(t.topicId, `${at}.topicId`),
    config: config as TopicRecord['config'],
    partitions: list(t.partitions, `${at}.partitions`).map((p, i) => partition(p, `${at}.partitions[${i}]`, format)),
  };
}

function partition(v: unknown, at: string, format: number): PartitionRecord {
  const p = record(v, at);
  // Format 1 predates reassignments and the unclean-election record: none was in progress or made.
  const v1 = format === 1;
  return {
    partition: int(p.partition, `${at}.partition`),
    replicas: list(p.replicas, `${at}.replicas`).map((r, i) => int(r, `${at}.replicas[${i}]`)),
    leader: int(p.leader, `${at}.leader`, -1),
    leaderEpoch: int(p.leaderEpoch, `${at}.leaderEpoch`),
    isr: list(p.isr, `${at}.isr`).map((r, i) => int(r, `${at}.isr[${i}]`)),
    partitionEpoch: int(p.partitionEpoch, `${at}.partitionEpoch`),
    addingReplicas: v1 ? [] : list(p.addingReplicas, `${at}.addingReplicas`).map((r, i) => int(r, `${at}.addingReplicas[${i}]`)),
    removingReplicas: v1 ? [] : list(p.removingReplicas, `${at}.removingReplicas`).map((r, i) => int(r, `${at}.removingReplicas[${i}]`)),
    lastUncleanLeaderEpoch: v1 ? -1 : int(p.lastUncleanLeaderEpoch, `${at}.lastUncleanLeaderEpoch`, -1),
  };
}

function record(v: unknown, at: string): Record<string, unknown> {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new Error(`${at} is not an object`);
  return v as Record<string, unknown>;
}

function list(v: unknown, at: string): unknown[] {
  if (!Array.isArray(v)) throw new Error(`${at} is not an array`);
  return v;
}

function str(v: unknown, at: string): string {
  if (typeof v !== 'string') throw new Error(`${at} is not a string`);
  return v;
}

function int(v: unknown, at: string, min = 0): number {
  if (!Number.isSafeInteger(v) || (v as number) < min) throw new Error(`${at} is ${JSON.stringify(v)}, not an integer >= ${min}`);
  return v as number;
}
