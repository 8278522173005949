// The part of the controller's state that belongs to no topic — cluster id, metadata version,
// broker epochs and records, the next producer id — persisted as one JSON annotation on the
// operator's leader-election Lease.
//
// Why the Lease and not a ConfigMap: every write of it is a compare-and-set on the Lease's
// resourceVersion by the process that holds the Lease, so a deposed operator (paused, partitioned)
// cannot overwrite what the new leader persisted — its write fails with 409 and it learns it lost
// leadership. It also keeps RBAC to one extra resource (leases), and the active operator rewrites
// the record with every renewal, so a Lease deleted by hand is recreated with it.
import type { BrokerRecord, ClusterState } from '../core/cluster-state.ts';

export const CLUSTER_RECORD_ANNOTATION = 'sluice.dev/cluster-state';
const FORMAT = 1;

export interface ClusterRecord {
  readonly clusterId: string;
  readonly metadataVersion: number;
  readonly nextBrokerEpoch: number;
  readonly nextProducerId: number;
  readonly brokers: readonly BrokerRecord[];
}

export function clusterRecordOf(state: ClusterState): ClusterRecord {
  return {
    clusterId: state.clusterId,
    metadataVersion: state.metadataVersion,
    nextBrokerEpoch: state.nextBrokerEpoch,
    nextProducerId: state.nextProducerId,
    brokers: state.brokers,
  };
}

/** Whether the non-topic part of the state differs (metadataVersion aside). */
export function clusterFieldsChanged(a: ClusterState, b: ClusterState): boolean {
  return a.clusterId !== b.clusterId || a.nextBrokerEpoch !== b.nextBrokerEpoch || a.nextProducerId !== b.nextProducerId || JSON.stringify(a.brokers) !== JSON.stringify(b.brokers);
}

export function encodeClusterRecord(r: ClusterRecord): string {
  return JSON.stringify({ format: FORMAT, ...r });
}

/** The record held by the annotation; throws an Error naming the first problem. */
export function decodeClusterRecord(text: string): ClusterRecord {
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (e) {
    throw new Error(`annotation ${CLUSTER_RECORD_ANNOTATION} is not valid JSON (${(e as Error).message})`);
  }
  const o = obj(doc, '$');
  if (o.format !== FORMAT) throw new Error(`annotation ${CLUSTER_RECORD_ANNOTATION} has format ${JSON.stringify(o.format)}; this operator reads format ${FORMAT}`);
  const brokers = Array.isArray(o.brokers) ? o.brokers : fail('$.brokers is not an array');
  return {
    clusterId: str(o.clusterId, '$.clusterId'),
    metadataVersion: int(o.metadataVersion, '$.metadataVersion'),
    nextBrokerEpoch: int(o.nextBrokerEpoch, '$.nextBrokerEpoch'),
    nextProducerId: int(o.nextProducerId, '$.nextProducerId'),
    brokers: brokers.map((b: unknown, i: number) => {
      const at = `$.brokers[${i}]`;
      const r = obj(b, at);
      const state = str(r.state, `${at}.state`);
      if (state !== 'active' && state !== 'fenced' && state !== 'shutting_down') fail(`${at}.state is ${JSON.stringify(state)}`);
      return {
        id: int(r.id, `${at}.id`),
        host: str(r.host, `${at}.host`),
        port: int(r.port, `${at}.port`),
        rack: str(r.rack, `${at}.rack`),
        incarnationId: str(r.incarnationId, `${at}.incarnationId`),
        brokerEpoch: int(r.brokerEpoch, `${at}.brokerEpoch`),
        state: state as BrokerRecord['state'],
      };
    }),
  };
}

function fail(message: string): never {
  throw new Error(`annotation ${CLUSTER_RECORD_ANNOTATION}: ${message}`);
}

function obj(v: unknown, at: string): Record<string, unknown> {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) fail(`${at} is not an object`);
  return v as Record<string, unknown>;
}

function str(v: unknown, at: string): string {
  if (typeof v !== 'string') fail(`${at} is not a string`);
  return v as string;
}

function int(v: unknown, at: string): number {
  if (!Number.isSafeInteger(v) || (v as number) < 0) fail(`${at} is ${JSON.stringify(v)}, not a non-negative integer`);
  return v as number;
}
