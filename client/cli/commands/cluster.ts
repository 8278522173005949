// `sluice cluster describe`: brokers and, per partition, leader, epoch, replicas, ISR, HW and
// LEO. Leaders, replicas and ISR come from the controller's state; HW and LEO from each
// broker's own DescribeReplicas, the numbers it actually has on disk.
import type { Command } from 'commander';
import { withAdmin } from '../client-session.ts';
import { printJson, printLine, renderTable, warn } from '../output.ts';
import type { ContextOf } from '../program.ts';

export interface ClusterView {
  clusterId: string;
  controllerId: number;
  brokers: { id: number; address: string; rack: string; state: string; epoch: number }[];
  partitions: {
    topic: string;
    partition: number;
    leader: number;
    leaderEpoch: number;
    replicas: number[];
    isr: number[];
    /** From the leader's DescribeReplicas; null when the leader could not be asked. */
    highWatermark: number | null;
    logEndOffset: number | null;
    /** LEO of every replica that answered, by broker id: shows how far followers lag. */
    replicaLogEndOffsets: Record<string, number>;
  }[];
  /** Brokers whose DescribeReplicas failed, with why. */
  unreachable: { id: number; address: string; error: string }[];
}

export function registerClusterCommand(program: Command, contextOf: ContextOf): void {
  const cluster = program.command('cluster').description('inspect the cluster');
  cluster
    .command('describe')
    .description('brokers (address, rack, state, epoch) and per partition leader, epoch, replicas, ISR, HW, LEO')
    .action(async (_opts: unknown, cmd: Command) => {
      const ctx = contextOf(cmd);
      const view = await withAdmin(ctx, async (admin) => {
        const described = await admin.describeCluster();
        const topics = await admin.listTopics();
        const states = await Promise.all(topics.map((t) => admin.describeTopic(t.name)));
        const brokers = described.brokers.map((b) => ({ id: b.brokerId, address: b.address, rack: b.rack, state: b.state, epoch: b.brokerEpoch }));
        const unreachable: ClusterView['unreachable'] = [];
        // Fenced brokers are asked too: their LEO shows what they hold while out of the ISR.
        const replicaReports = await Promise.all(brokers.map(async (b) => {
          try {
            return { id: b.id, replicas: (await admin.describeReplicas(b.address)).replicas };
          } catch (err) {
            unreachable.push({ id: b.id, address: b.address, error: err instanceof Error ? err.message : String(err) });
            return { id: b.id, replicas: [] };
          }
        }));
        const byReplica = new Map<string, { highWatermark: number; logEndOffset: number }>();
        for (const report of replicaReports) {
          for (const r of report.replicas) byReplica.set(`${report.id}/${r.topic}/${r.partition}`, r);
        }
        const partitions: ClusterView['partitions'] = [];
        for (const t of [...states].sort((a, b) => a.name.localeCompare(b.name))) {
          for (const p of [...t.partitions].sort((a, b) => a.partition - b.partition)) {
            const atLeader = byReplica.get(`${p.leader}/${t.name}/${p.partition}`);
            const replicaLogEndOffsets: Record<string, number> = {};
            for (const id of p.replicas) {
              const r = byReplica.get(`${id}/${t.name}/${p.partition}`);
              if (r) replicaLogEndOffsets[id] = r.logEndOffset;
            }
            partitions.push({
              topic: t.name,
              partition: p.partition,
              leader: p.leader,
              leaderEpoch: p.leaderEpoch,
              replicas: [...p.replicas],
              isr: [...p.isr],
              highWatermark: atLeader?.highWatermark ?? null,
              logEndOffset: atLeader?.logEndOffset ?? null,
              replicaLogEndOffsets,
            });
          }
        }
        return { clusterId: described.clusterId, controllerId: described.controllerId, brokers, partitions, unreachable } satisfies ClusterView;
      });
      if (ctx.output === 'json') return printJson(ctx.io, view);
      printLine(ctx.io, clusterText(view));
      for (const u of view.unreachable) warn(ctx.io, `broker ${u.id} (${u.address}) did not report its replicas: ${u.error}`);
    });
}

export function clusterText(view: ClusterView): string {
  const brokers = renderTable(
    ['BROKER', 'ADDRESS', 'RACK', 'STATE', 'EPOCH'],
    [...view.brokers].sort((a, b) => a.id - b.id).map((b) => [String(b.id), b.address, b.rack || '-', b.state, String(b.epoch)]),
  );
  const partitions = view.partitions.length === 0
    ? 'No topics.'
    : renderTable(
      ['TOPIC', 'PARTITION', 'LEADER', 'EPOCH', 'REPLICAS', 'ISR', 'HW', 'LEO'],
      view.partitions.map((p) => [
        p.topic,
        String(p.partition),
        p.leader < 0 ? 'none' : String(p.leader),
        String(p.leaderEpoch),
        p.replicas.join(','),
        p.isr.join(','),
        p.highWatermark === null ? '?' : String(p.highWatermark),
        p.logEndOffset === null ? '?' : String(p.logEndOffset),
      ]),
    );
  return [`Cluster ${view.clusterId}, controller ${view.controllerId}`, '', brokers, '', partitions].join('\n');
}
