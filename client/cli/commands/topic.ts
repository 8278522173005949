// `sluice topic create|list|describe|alter|delete`.
import type { Command } from 'commander';
import type { TopicDescription } from '../../index.ts';
import { MAX_PARTITIONS, TOPIC_CONFIG_KEYS, TOPIC_CONFIG_SCHEMA, validateTopicName } from '../../../common/topic-config.ts';
import { UsageError } from '../cli-errors.ts';
import { withAdmin } from '../client-session.ts';
import { collect, parseConfigPairs, parseInteger } from '../option-parsers.ts';
import { printJson, printLine, renderTable } from '../output.ts';
import { MAX_REPLICATION_FACTOR } from '../topic-manifest.ts';
import type { ContextOf } from '../program.ts';

export interface PartitionView {
  partition: number;
  leader: number;
  leaderEpoch: number;
  replicas: number[];
  isr: number[];
}

export interface TopicView {
  name: string;
  topicId: string;
  config: Record<string, string>;
  partitions: PartitionView[];
}

export function registerTopicCommand(program: Command, contextOf: ContextOf): void {
  const topic = program
    .command('topic')
    .description('create, list, describe, alter and delete topics');

  topic
    .command('create')
    .description('create a topic')
    .argument('<name>', 'topic name: 1-249 characters from [a-zA-Z0-9._-]')
    .requiredOption('--partitions <n>', 'number of partitions', (v) => parseInteger('--partitions', v, { min: 1, max: MAX_PARTITIONS }))
    .option('--replication-factor <r>', 'copies of each partition (default: the cluster default, min(3, live brokers))',
      (v) => parseInteger('--replication-factor', v, { min: 1, max: MAX_REPLICATION_FACTOR }))
    .option('--config <key=value>', 'a topic config override; repeat for more (keys below)', collect, [])
    .option('--validate-only', 'check the request with the cluster without creating anything')
    .addHelpText('after', `\n${configKeysHelp()}\n\nExample:\n  sluice topic create orders --partitions 6 --replication-factor 3 --config retention.ms=86400000`)
    .action(async (name: string, opts: { partitions: number; replicationFactor?: number; config: string[]; validateOnly?: boolean }, cmd: Command) => {
      const ctx = contextOf(cmd);
      checkTopicName(name);
      const { raw } = parseConfigPairs(opts.config);
      const created = await withAdmin(ctx, (admin) =>
        admin.createTopic({
          name,
          partitions: opts.partitions,
          ...(opts.replicationFactor !== undefined ? { replicationFactor: opts.replicationFactor } : {}),
          config: raw,
          validateOnly: opts.validateOnly === true,
        }),
      );
      const view = toTopicView(created);
      if (ctx.output === 'json') return printJson(ctx.io, view);
      const rf = view.partitions[0]?.replicas.length ?? opts.replicationFactor ?? 0;
      printLine(ctx.io, `${opts.validateOnly ? 'Validated' : 'Created'} topic "${name}" with ${opts.partitions} partition${opts.partitions === 1 ? '' : 's'}` +
        (rf > 0 ? ` and replication factor ${rf}.` : '.'));
    });

  topic
    .command('list')
    .description('list topics with their partition count and health')
    .action(async (_opts: unknown, cmd: Command) => {
      const ctx = contextOf(cmd);
      const topics = await withAdmin(ctx, (admin) => admin.listTopics());
      const sorted = [...topics].sort((a, b) => a.name.localeCompare(b.name));
      if (ctx.output === 'json') return printJson(ctx.io, sorted);
      if (sorted.length === 0) return printLine(ctx.io, 'No topics. Create one with `sluice topic create NAME --partitions N`.');
      printLine(ctx.io, renderTable(
        ['NAME', 'PARTITIONS', 'REPLICATION', 'UNDER-REPLICATED', 'OFFLINE'],
        sorted.map((t) => [t.name, String(t.partitions), String(t.replicationFactor), String(t.underReplicatedPartitions), String(t.offlinePartitions)]),
      ));
    });

  topic
    .command('describe')
    .description('show a topic\'s config and, per partition, leader, epoch, replicas and ISR')
    .argument('<name>', 'topic name')
    .action(async (name: string, _opts: unknown, cmd: Command) => {
      const ctx = contextOf(cmd);
      checkTopicName(name);
      const view = toTopicView(await withAdmin(ctx, (admin) => admin.describeTopic(name)));
      if (ctx.output === 'json') return printJson(ctx.io, view);
      printLine(ctx.io, describeTopicText(view));
    });

  topic
    .command('alter')
    .description('add partitions or change config (partitions never shrink)')
    .argument('<name>', 'topic name')
    .option('--partitions <n>', 'new partition count, larger than the current one', (v) => parseInteger('--partitions', v, { min: 1, max: MAX_PARTITIONS }))
    .option('--replication-factor <r>', 'new replication factor (a reassignment: replicas are added before old ones are dropped)',
      (v) => parseInteger('--replication-factor', v, { min: 1, max: MAX_REPLICATION_FACTOR }))
    .option('--config <key=value>', 'set a topic config key; repeat for more (keys below)', collect, [])
    .option('--validate-only', 'check the change with the cluster without applying it')
    .addHelpText('after', `\n${configKeysHelp()}\n\nExample:\n  sluice topic alter orders --partitions 12 --config retention.ms=-1`)
    .action(async (name: string, opts: { partitions?: number; replicationFactor?: number; config: string[]; validateOnly?: boolean }, cmd: Command) => {
      const ctx = contextOf(cmd);
      checkTopicName(name);
      const { raw } = parseConfigPairs(opts.config);
      if (opts.partitions === undefined && opts.replicationFactor === undefined && Object.keys(raw).length === 0) {
        throw new UsageError('nothing to change: give --partitions, --replication-factor or --config');
      }
      const altered = await withAdmin(ctx, (admin) =>
        admin.alterTopic({
          name,
          ...(opts.partitions !== undefined ? { partitions: opts.partitions } : {}),
          ...(opts.replicationFactor !== undefined ? { replicationFactor: opts.replicationFactor } : {}),
          ...(Object.keys(raw).length > 0 ? { config: raw } : {}),
          validateOnly: opts.validateOnly === true,
        }),
      );
      const view = toTopicView(altered);
      if (ctx.output === 'json') return printJson(ctx.io, view);
      printLine(ctx.io, `${opts.validateOnly ? 'Validated' : 'Altered'} topic "${name}": ${view.partitions.length} partitions` +
        (Object.keys(raw).length > 0 ? `, config ${Object.entries(raw).map(([k, v]) => `${k}=${v}`).join(', ')}` : '') + '.');
    });

  topic
    .command('delete')
    .description('delete a topic and its data on every broker')
    .argument('<name>', 'topic name')
    .action(async (name: string, _opts: unknown, cmd: Command) => {
      const ctx = contextOf(cmd);
      checkTopicName(name);
      await withAdmin(ctx, (admin) => admin.deleteTopic(name));
      if (ctx.output === 'json') return printJson(ctx.io, { name, deleted: true });
      printLine(ctx.io, `Deleted topic "${name}".`);
    });
}

export function checkTopicName(name: string): void {
  try {
    validateTopicName(name);
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
}

/** The admin client's topic state, reduced to what the CLI prints (and its JSON output). */
export function toTopicView(t: TopicDescription): TopicView {
  return {
    name: t.name,
    topicId: t.topicId,
    config: Object.fromEntries(Object.entries(t.config).sort(([a], [b]) => a.localeCompare(b))),
    partitions: [...t.partitions]
      .sort((a, b) => a.partition - b.partition)
      .map((p) => ({ partition: p.partition, leader: p.leader, leaderEpoch: p.leaderEpoch, replicas: [...p.replicas], isr: [...p.isr] })),
  };
}

export function describeTopicText(view: TopicView): string {
  const rf = view.partitions[0]?.replicas.length ?? 0;
  const lines = [
    `Topic: ${view.name}  TopicId: ${view.topicId}  PartitionCount: ${view.partitions.length}  ReplicationFactor: ${rf}`,
    `Configs: ${Object.entries(view.config).map(([k, v]) => `${k}=${v}`).join(', ') || '(defaults)'}`,
    '',
    renderTable(
      ['PARTITION', 'LEADER', 'LEADER-EPOCH', 'REPLICAS', 'ISR'],
      view.partitions.map((p) => [String(p.partition), p.leader < 0 ? 'none' : String(p.leader), String(p.leaderEpoch), p.replicas.join(','), p.isr.join(',')]),
    ),
  ];
  return lines.join('\n');
}

function configKeysHelp(): string {
  const props = TOPIC_CONFIG_SCHEMA.properties;
  const lines = TOPIC_CONFIG_KEYS.map((k) => `  ${k.padEnd(32)} ${props[k].description} (default ${String(props[k].default)})`);
  return `Topic config keys:\n${lines.join('\n')}`;
}
