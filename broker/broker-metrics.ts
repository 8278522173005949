// The broker's Prometheus registry (one per process, DESIGN §10; the list is docs/metrics.md).
// Partition gauges are computed at scrape time from the hosted partitions, so they cost the
// produce and fetch paths nothing and vanish with the partition. The hot paths only add to
// counters and one histogram, keyed by strings they already hold.
import { statfs } from 'node:fs/promises';
import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { SluiceError } from '../common/errors.ts';
import { collectProcessMetrics } from '../common/process-metrics.ts';
import { countRecords } from '../common/record-batch.ts';

export interface FollowerSample {
  replica: number;
  /** -1 while the leader has not heard from it since it became leader. */
  logEndOffset: number;
}

export interface LeaderPartitionSample {
  topic: string;
  partition: number;
  highWatermark: number;
  logEndOffset: number;
  isrSize: number;
  replicas: number;
  minInsyncReplicas: number;
  followers: readonly FollowerSample[];
}

export interface HostedPartitionSample {
  topic: string;
  partition: number;
  isLeader: boolean;
  /** Bytes of all the replica's segments. */
  sizeBytes: number;
}

export interface BrokerMetricsSource {
  /** The partitions this broker currently leads. */
  leaderPartitions(): Iterable<LeaderPartitionSample>;
  /** Every partition replica this broker hosts, leader or follower. */
  hostedPartitions(): Iterable<HostedPartitionSample>;
  /** The data directory, whose file system the log-dir gauges describe. */
  dataDir: string;
}

/** Record-batch traffic, as ReplicaManager sees it (the hot paths call these). */
export interface TrafficListener {
  /** A leader appended a producer's batches (not called for a recognised duplicate). */
  producedIn(topic: string, bytes: number, messages: number): void;
  /** Batches read for a consumer (Fetch, Subscribe). */
  sentOut(topic: string, records: Buffer): void;
  /** A follower appended batches fetched from its leader. */
  replicatedIn(topic: string, bytes: number): void;
}

/**
 * Times one request: `method` is the gRPC method, `startedAt` a performance.now() reading,
 * `error` what the caller was answered (null = ok).
 */
export type RequestObserver = (method: string, startedAt: number, error: SluiceError | string | null) => void;

export interface BrokerMetrics {
  readonly registry: Registry;
  /** sluice_isr_shrinks_total: ISR shrinks this broker proposed and the controller committed. */
  readonly isrShrinks: Counter;
  /** sluice_isr_expands_total: ISR expansions this broker proposed and the controller committed. */
  readonly isrExpands: Counter;
  readonly traffic: TrafficListener;
  readonly observeRequest: RequestObserver;
}

/** Request latency buckets, seconds: sub-millisecond appends up to long-poll fetches. */
const REQUEST_BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];

export function createBrokerMetrics(source: BrokerMetricsSource, brokerId: number): BrokerMetrics {
  const registry = new Registry();
  registry.setDefaultLabels({ broker: String(brokerId) });
  collectProcessMetrics(registry);

  const labelNames = ['topic', 'partition'] as const;
  const perLeaderPartition = (name: string, help: string, value: (s: LeaderPartitionSample) => number): void => {
    new Gauge({
      name,
      help,
      labelNames,
      registers: [registry],
      collect() {
        // Reset first so a partition this broker stopped leading disappears from the scrape.
        this.reset();
        for (const s of source.leaderPartitions()) this.set({ topic: s.topic, partition: String(s.partition) }, value(s));
      },
    });
  };
  perLeaderPartition('sluice_partition_high_watermark', 'High watermark of a partition this broker leads: the offset the next committed record gets.', (s) => s.highWatermark);
  perLeaderPartition('sluice_partition_log_end_offset', 'Log end offset of a partition this broker leads: the offset the next appended record gets.', (s) => s.logEndOffset);
  perLeaderPartition('sluice_partition_hw_lag_messages', 'Records of a partition this broker leads that are appended but not committed yet (LEO - HW).', (s) => s.logEndOffset - s.highWatermark);
  perLeaderPartition('sluice_partition_isr_size', 'Number of in-sync replicas of a partition this broker leads, as last committed by the controller.', (s) => s.isrSize);
  perLeaderPartition('sluice_partition_replicas', 'Number of assigned replicas of a partition this broker leads.', (s) => s.replicas);
  perLeaderPartition('sluice_partition_under_replicated', '1 when a partition this broker leads has fewer in-sync replicas than assigned ones.', (s) => (s.isrSize < s.replicas ? 1 : 0));
  perLeaderPartition('sluice_partition_under_min_isr', '1 when a partition this broker leads has fewer in-sync replicas than min.insync.replicas: acks=all produces are refused.', (s) => (s.isrSize < s.minInsyncReplicas ? 1 : 0));
  perLeaderPartition('sluice_partition_at_min_isr', '1 when a partition this broker leads has exactly min.insync.replicas in-sync replicas: one more loss refuses acks=all produces.', (s) => (s.isrSize === s.minInsyncReplicas ? 1 : 0));

  new Gauge({
    name: 'sluice_replica_lag_messages',
    help: 'Records a follower of a partition this broker leads is behind the leader (leader LEO - follower LEO), as of its last fetch.',
    labelNames: ['topic', 'partition', 'replica'] as const,
    registers: [registry],
    collect() {
      this.reset();
      for (const s of source.leaderPartitions()) {
        for (const f of s.followers) {
          // A follower not heard from since this broker became leader has no lag to report yet.
          if (f.logEndOffset < 0) continue;
          this.set({ topic: s.topic, partition: String(s.partition), replica: String(f.replica) }, Math.max(0, s.logEndOffset - f.logEndOffset));
        }
      }
    },
  });

  new Gauge({
    name: 'sluice_log_size_bytes',
    help: 'Bytes of all log segments of a partition replica this broker hosts (leader or follower).',
    labelNames,
    registers: [registry],
    collect() {
      this.reset();
      for (const s of source.hostedPartitions()) this.set({ topic: s.topic, partition: String(s.partition) }, s.sizeBytes);
    },
  });
  new Gauge({
    name: 'sluice_broker_partitions',
    help: 'Partition replicas this broker hosts, leader or follower.',
    registers: [registry],
    collect() {
      let n = 0;
      for (const _ of source.hostedPartitions()) n++;
      this.set(n);
    },
  });
  new Gauge({
    name: 'sluice_broker_leader_partitions',
    help: 'Partitions this broker leads.',
    registers: [registry],
    collect() {
      let n = 0;
      for (const s of source.hostedPartitions()) if (s.isLeader) n++;
      this.set(n);
    },
  });
  new Gauge({
    name: 'sluice_log_dir_total_bytes',
    help: 'Size of the file system that holds the broker\'s data directory.',
    registers: [registry],
    async collect() {
      const fs = await statfs(source.dataDir);
      this.set(fs.blocks * fs.bsize);
    },
  });
  new Gauge({
    name: 'sluice_log_dir_free_bytes',
    help: 'Bytes still available to the broker on the file system of its data directory; appends fail with STORAGE_ERROR at 0.',
    registers: [registry],
    async collect() {
      const fs = await statfs(source.dataDir);
      this.set(fs.bavail * fs.bsize);
    },
  });

  const isrShrinks = new Counter({ name: 'sluice_isr_shrinks_total', help: 'ISR shrinks this broker proposed as leader and the controller committed.', registers: [registry] });
  const isrExpands = new Counter({ name: 'sluice_isr_expands_total', help: 'ISR expansions this broker proposed as leader and the controller committed.', registers: [registry] });

  // Per-topic traffic counters. A topic's series go away once this broker hosts none of its
  // partitions (moved away or deleted), so topic churn cannot grow the scrape without bound.
  // Each counter remembers which topics it has series for, and forgets them with the series.
  const perTopic = (name: string, help: string): ((topic: string, value: number) => void) => {
    const labelled = new Set<string>();
    const counter = new Counter({
      name,
      help,
      labelNames: ['topic'],
      registers: [registry],
      collect() {
        if (labelled.size === 0) return;
        const hosted = new Set<string>();
        for (const s of source.hostedPartitions()) hosted.add(s.topic);
        for (const topic of labelled) {
          if (hosted.has(topic)) continue;
          this.remove({ topic });
          labelled.delete(topic);
        }
      },
    });
    return (topic, value) => {
      labelled.add(topic);
      counter.inc({ topic }, value);
    };
  };
  const bytesIn = perTopic('sluice_bytes_in_total', 'Record-batch bytes this broker appended as leader from producers (idempotent retries it recognised are not counted).');
  const messagesIn = perTopic('sluice_messages_in_total', 'Records this broker appended as leader from producers.');
  const bytesOut = perTopic('sluice_bytes_out_total', 'Record-batch bytes this broker sent to consumers (Fetch and Subscribe; not to followers).');
  const messagesOut = perTopic('sluice_messages_out_total', 'Records this broker sent to consumers, counted from the batch headers.');
  const replicationIn = perTopic('sluice_replication_bytes_in_total', 'Record-batch bytes this broker appended as follower from partition leaders.');
  const traffic: TrafficListener = {
    producedIn(topic, bytes, messages) {
      bytesIn(topic, bytes);
      messagesIn(topic, messages);
    },
    sentOut(topic, records) {
      if (records.length === 0) return;
      bytesOut(topic, records.length);
      messagesOut(topic, countRecords(records));
    },
    replicatedIn(topic, bytes) {
      replicationIn(topic, bytes);
    },
  };

  const duration = new Histogram({
    name: 'sluice_request_duration_seconds',
    help:
      'Time from receiving a request to answering it, by gRPC method (ProduceStream and ReplicaFetch per request on the stream) and result ' +
      '(ok, or the Sluice error code answered). Fetch and ReplicaFetch include their long-poll wait.',
    labelNames: ['method', 'result'],
    buckets: REQUEST_BUCKETS,
    registers: [registry],
  });
  const observeRequest: RequestObserver = (method, startedAt, error) => {
    const result = error === null ? 'ok' : typeof error === 'string' ? error : error.code;
    duration.observe({ method, result }, (performance.now() - startedAt) / 1000);
  };
  return { registry, isrShrinks, isrExpands, traffic, observeRequest };
}
