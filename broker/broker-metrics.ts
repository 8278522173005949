// The broker's Prometheus registry (one per process, DESIGN §10). Partition gauges are computed
// at scrape time from the hosted partitions, so the produce and fetch paths never touch a
// metric; only the ISR change counters are counted as changes commit.
import { Counter, Gauge, Registry, collectDefaultMetrics } from 'prom-client';

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

export interface BrokerMetricsSource {
  /** The partitions this broker currently leads. */
  leaderPartitions(): Iterable<LeaderPartitionSample>;
}

export interface BrokerMetrics {
  readonly registry: Registry;
  /** sluice_isr_shrinks_total: ISR shrinks this broker proposed and the controller committed. */
  readonly isrShrinks: Counter;
  /** sluice_isr_expands_total: ISR expansions this broker proposed and the controller committed. */
  readonly isrExpands: Counter;
}

export function createBrokerMetrics(source: BrokerMetricsSource, brokerId: number): BrokerMetrics {
  const registry = new Registry();
  registry.setDefaultLabels({ broker: String(brokerId) });
  collectDefaultMetrics({ register: registry });

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

  const isrShrinks = new Counter({ name: 'sluice_isr_shrinks_total', help: 'ISR shrinks this broker proposed as leader and the controller committed.', registers: [registry] });
  const isrExpands = new Counter({ name: 'sluice_isr_expands_total', help: 'ISR expansions this broker proposed as leader and the controller committed.', registers: [registry] });
  return { registry, isrShrinks, isrExpands };
}
