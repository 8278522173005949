// What `sluice apply` must do to make a topic match its manifest: create it, alter it, or
// nothing. Pure, so the rules (partitions only grow; the manifest's config is the whole config)
// are tested without a cluster.
import { SluiceError } from '../../common/errors.ts';
import {
  DEFAULT_TOPIC_CONFIG,
  TOPIC_CONFIG_KEYS,
  effectiveTopicConfig,
  parseTopicConfig,
  topicConfigToStrings,
  type TopicConfig,
} from '../../common/topic-config.ts';
import type { TopicManifest } from './topic-manifest.ts';

export interface CurrentTopic {
  partitions: number;
  replicationFactor: number;
  /** Effective config as the cluster reports it (every key, as strings). */
  config: Record<string, string>;
}

export type TopicPlan =
  | { action: 'create'; manifest: TopicManifest }
  | { action: 'unchanged'; manifest: TopicManifest }
  | {
      action: 'alter';
      manifest: TopicManifest;
      partitions?: { from: number; to: number };
      replicationFactor?: { from: number; to: number };
      /** Set when the config differs: the manifest's whole config, replacing the current one. */
      config?: { replace: Record<string, string>; changedKeys: string[] };
    };

export function planTopic(manifest: TopicManifest, current: CurrentTopic | null): TopicPlan {
  if (current === null) return { action: 'create', manifest };
  if (manifest.partitions < current.partitions) {
    throw new SluiceError(
      'INVALID_PARTITIONS',
      `${manifest.source}: topic "${manifest.topicName}" has ${current.partitions} partitions and the manifest asks for ${manifest.partitions}; ` +
        `partitions can be added but never removed (keys are spread over them and records live in them). ` +
        `Set spec.partitions to ${current.partitions} or more, or create a new topic and move the data.`,
    );
  }
  const plan: Extract<TopicPlan, { action: 'alter' }> = { action: 'alter', manifest };
  if (manifest.partitions > current.partitions) plan.partitions = { from: current.partitions, to: manifest.partitions };
  if (manifest.replicationFactor !== undefined && manifest.replicationFactor !== current.replicationFactor) {
    plan.replicationFactor = { from: current.replicationFactor, to: manifest.replicationFactor };
  }
  const changedKeys = configDifferences(effectiveTopicConfig(manifest.config), currentConfig(current.config));
  if (changedKeys.length > 0) plan.config = { replace: topicConfigToStrings(manifest.config), changedKeys };
  if (!plan.partitions && !plan.replicationFactor && !plan.config) return { action: 'unchanged', manifest };
  return plan;
}

// Keys this CLI does not know (a newer cluster) are not ours to judge; keys the cluster did not
// report are at their default.
function currentConfig(reported: Record<string, string>): TopicConfig {
  const known = Object.fromEntries(Object.entries(reported).filter(([k]) => (TOPIC_CONFIG_KEYS as string[]).includes(k)));
  return { ...DEFAULT_TOPIC_CONFIG, ...parseTopicConfig(known) };
}

function configDifferences(desired: TopicConfig, current: TopicConfig): string[] {
  return TOPIC_CONFIG_KEYS.filter((k) => desired[k] !== current[k]);
}

/** One line per plan, in kubectl's voice: `topic.sluice.dev/orders configured (…)`. */
export function describePlan(plan: TopicPlan): string {
  const name = `topic.sluice.dev/${plan.manifest.resourceName}`;
  switch (plan.action) {
    case 'create':
      return `${name} created (${plan.manifest.partitions} partitions${plan.manifest.replicationFactor ? `, replication factor ${plan.manifest.replicationFactor}` : ''})`;
    case 'unchanged':
      return `${name} unchanged`;
    case 'alter': {
      const changes: string[] = [];
      if (plan.partitions) changes.push(`partitions ${plan.partitions.from} -> ${plan.partitions.to}`);
      if (plan.replicationFactor) changes.push(`replication factor ${plan.replicationFactor.from} -> ${plan.replicationFactor.to}`);
      if (plan.config) changes.push(`config ${plan.config.changedKeys.join(', ')}`);
      return `${name} configured (${changes.join('; ')})`;
    }
  }
}
