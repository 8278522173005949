// The broker's Prometheus registry (one per process, DESIGN §10). Partition gauges are computed
// at scrape time from the hosted partitions, so the produce and fetch paths never touch a
// metric.
import { Gauge, Registry, collectDefaultMetrics } from 'prom-client';

export interface LeaderPartitionSample {
  topic: string;
  partition: number;
  highWatermark: number;
  logEndOffset: number;
  isrSize: number;
}

export interface BrokerMetricsSource {
  /** The partitions this broker currently leads. */
  leaderPartitions(): Iterable<LeaderPartitionSample>;
}

export function createBrokerMetrics(source: BrokerMetricsSource, brokerId: number): Registry {
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
  perLeaderPartition('sluice_partition_isr_size', 'Number of in-sync replicas of a partition this broker leads, as last committed by the controller.', (s) => s.isrSize);
  return registry;
}
