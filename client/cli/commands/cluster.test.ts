import { describe, expect, it } from 'vitest';
import { clusterText, type ClusterView } from './cluster.ts';

describe('clusterText', () => {
  it('shows brokers and per partition leader, epoch, replicas, ISR, HW and LEO; unknown offsets as ?', () => {
    const view: ClusterView = {
      clusterId: 'c1',
      controllerId: 1000,
      brokers: [
        { id: 1, address: '127.0.0.1:9093', rack: 'zone-b', state: 'fenced', epoch: 7 },
        { id: 0, address: '127.0.0.1:9092', rack: '', state: 'active', epoch: 4 },
      ],
      partitions: [
        { topic: 'orders', partition: 0, leader: 0, leaderEpoch: 3, replicas: [0, 1], isr: [0], highWatermark: 120, logEndOffset: 125, replicaLogEndOffsets: { 0: 125, 1: 90 } },
        { topic: 'orders', partition: 1, leader: -1, leaderEpoch: 5, replicas: [1], isr: [], highWatermark: null, logEndOffset: null, replicaLogEndOffsets: {} },
      ],
      unreachable: [],
    };
    expect(clusterText(view)).toBe([
      'Cluster c1, controller 1000',
      '',
      'BROKER  ADDRESS         RACK    STATE   EPOCH',
      '0       127.0.0.1:9092  -       active  4',
      '1       127.0.0.1:9093  zone-b  fenced  7',
      '',
      'TOPIC   PARTITION  LEADER  EPOCH  REPLICAS  ISR  HW   LEO',
      'orders  0          0       3      0,1       0    120  125',
      'orders  1          none    5      1              ?    ?',
    ].join('\n'));
  });
});
