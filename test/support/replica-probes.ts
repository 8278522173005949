// What the replication tests look at from outside the processes: the committed partition state
// as brokers serve it, each replica's own LEO/HW (DescribeReplicas), the bytes of each replica's
// log on disk, and the brokers' /metrics.
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { DescribeReplicasResponse__Output } from '../../proto/gen/sluice/v1/DescribeReplicasResponse.ts';
import type { ReplicaInfo__Output } from '../../proto/gen/sluice/v1/ReplicaInfo.ts';
import type { TestCluster } from './cluster.ts';
import { RawBroker, unary } from './raw-grpc.ts';

export interface PartitionView {
  leader: number;
  leaderEpoch: number;
  replicas: number[];
  isr: number[];
}

/** The partition as the metadata of the broker at `address` shows it (undefined if unknown). */
export async function partitionView(raw: RawBroker, topic: string, partition: number): Promise<PartitionView | undefined> {
  const md = await raw.metadata([topic], 3_000);
  const p = md.topics.find((t) => t.name === topic)?.partitions.find((x) => x.partition === partition);
  if (!p) return undefined;
  return { leader: Number(p.leader_id), leaderEpoch: Number(p.leader_epoch), replicas: p.replicas.map(Number), isr: p.isr.map(Number) };
}

/** The broker's own view of its replica of the partition (LEO, HW, role), or undefined. */
export async function replicaInfo(raw: RawBroker, topic: string, partition: number): Promise<ReplicaInfo__Output | undefined> {
  const res = await unary<DescribeReplicasResponse__Output>((md, opts, cb) => raw.admin.DescribeReplicas({}, md, opts, cb), 3_000);
  return res.replicas.find((r) => r.topic === topic && r.partition === partition);
}

/**
 * The bytes of a replica's log: every segment file, in offset order. Segments roll at different
 * points on different replicas, but the concatenation is the log.
 */
export function logBytes(cluster: TestCluster, topic: string, partition: number, brokerId: number): Buffer {
  const dir = cluster.partitionDir(topic, partition, brokerId);
  const files = fs.readdirSync(dir).filter((f) => f.endsWith('.log')).sort();
  return Buffer.concat(files.map((f) => fs.readFileSync(path.join(dir, f))));
}

/** The value of a metric sample on a broker's /metrics, or undefined when the series is absent. */
export async function metricValue(httpAddress: string, name: string, labels: Record<string, string> = {}): Promise<number | undefined> {
  const text = await (await fetch(`http://${httpAddress}/metrics`)).text();
  for (const line of text.split('\n')) {
    if (!line.startsWith(`${name}{`) && !line.startsWith(`${name} `)) continue;
    const labelText = line.slice(name.length).match(/^\{([^}]*)\}/)?.[1] ?? '';
    if (Object.entries(labels).every(([k, v]) => labelText.includes(`${k}="${v}"`))) return Number(line.slice(line.lastIndexOf(' ') + 1));
  }
  return undefined;
}
