// `sluice apply -f FILE`: Topic manifests, created or brought up to date, as kubectl apply does
// with the same files in Kubernetes.
import * as fs from 'node:fs/promises';
import type { Command } from 'commander';
import type { Admin } from '../../index.ts';
import { isSluiceError } from '../../../common/errors.ts';
import { describePlan, planTopic, type CurrentTopic, type TopicPlan } from '../apply-plan.ts';
import { withAdmin } from '../client-session.ts';
import { collect } from '../option-parsers.ts';
import { printJson, printLine, type CliIo } from '../output.ts';
import { parseTopicManifests, type TopicManifest } from '../topic-manifest.ts';
import type { ContextOf } from '../program.ts';

export function registerApplyCommand(program: Command, contextOf: ContextOf): void {
  program
    .command('apply')
    .description('create or update topics from Topic YAML (apiVersion sluice.dev/v1alpha1, kind Topic)')
    .requiredOption('-f, --filename <file>', 'YAML with one or more Topic documents; - reads stdin; repeatable', collect)
    .option('--dry-run', 'validate and print what would change, without changing anything')
    .addHelpText('after', `
Every file is validated before anything is applied: unknown fields, unknown config keys and
out-of-range values are reported with the file, the document and the field. A topic that
exists is altered to match (more partitions, config); fewer partitions than it has is refused.
spec.config is the whole config: keys left out return to their defaults.

Example (deploy/examples/topic.yaml):
  apiVersion: sluice.dev/v1alpha1
  kind: Topic
  metadata: {name: orders}
  spec:
    partitions: 6
    replicationFactor: 3
    config: {retention.ms: 604800000, min.insync.replicas: 2}`)
    .action(async (opts: { filename: string[]; dryRun?: boolean }, cmd: Command) => {
      const ctx = contextOf(cmd);
      const manifests: TopicManifest[] = [];
      for (const file of opts.filename) {
        const text = file === '-' ? await readStream(ctx.io.stdin) : await fs.readFile(file, 'utf8');
        manifests.push(...parseTopicManifests(text, file === '-' ? '<stdin>' : file));
      }
      await withAdmin(ctx, async (admin) => {
        // Plan everything before changing anything, so a refused manifest leaves all topics as they were.
        const plans: TopicPlan[] = [];
        for (const manifest of manifests) plans.push(planTopic(manifest, await currentTopic(admin, manifest.topicName)));
        const results: { name: string; topic: string; action: TopicPlan['action']; message: string }[] = [];
        for (const plan of plans) {
          if (!opts.dryRun) await execute(admin, plan);
          const message = `${describePlan(plan)}${opts.dryRun ? ' (dry run)' : ''}`;
          results.push({ name: plan.manifest.resourceName, topic: plan.manifest.topicName, action: plan.action, message });
          if (ctx.output === 'text') printLine(ctx.io, message);
        }
        if (ctx.output === 'json') printJson(ctx.io, { dryRun: opts.dryRun === true, topics: results });
      });
    });
}

async function currentTopic(admin: Admin, name: string): Promise<CurrentTopic | null> {
  try {
    const t = await admin.describeTopic(name);
    return { partitions: t.partitions.length, replicationFactor: t.partitions[0]?.replicas.length ?? 0, config: t.config };
  } catch (err) {
    if (isSluiceError(err, 'UNKNOWN_TOPIC_OR_PARTITION')) return null;
    throw err;
  }
}

async function execute(admin: Admin, plan: TopicPlan): Promise<void> {
  const m = plan.manifest;
  switch (plan.action) {
    case 'unchanged':
      return;
    case 'create':
      await admin.createTopic({
        name: m.topicName,
        partitions: m.partitions,
        ...(m.replicationFactor !== undefined ? { replicationFactor: m.replicationFactor } : {}),
        config: Object.fromEntries(Object.entries(m.config).map(([k, v]) => [k, String(v)])),
      });
      return;
    case 'alter':
      await admin.alterTopic({
        name: m.topicName,
        ...(plan.partitions ? { partitions: plan.partitions.to } : {}),
        ...(plan.replicationFactor ? { replicationFactor: plan.replicationFactor.to } : {}),
        ...(plan.config ? { config: plan.config.replace, replaceConfig: true } : {}),
      });
      return;
  }
}

export async function readStream(stream: CliIo['stdin']): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(typeof chunk === 'string' ? Buffer.from(chunk) : (chunk as Buffer));
  return Buffer.concat(chunks).toString('utf8');
}
