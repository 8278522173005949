// Topic names and topic config: the one definition of which keys exist, their types, ranges and
// defaults. The controller validates against it, the broker turns it into log settings, the CLI
// checks Topic YAML with it, and the CRD schema is generated from the same JSON schema.
import { Ajv } from 'ajv';
import { SluiceError } from './errors.ts';

const MAX_INT32 = 2_147_483_647;
const MAX_SAFE = Number.MAX_SAFE_INTEGER;
/** 63 MiB: MAX_GRPC_MESSAGE_BYTES (common/proto.ts, 64 MiB) less 1 MiB for the fetch reply's
 *  other fields. Spelt out rather than imported so the schema module stays free of gRPC. */
export const MAX_MESSAGE_BYTES_LIMIT = 66_060_288;

/** JSON schema of `spec.config` (and of the config map of CreateTopic). Every key is described. */
export const TOPIC_CONFIG_SCHEMA = {
  type: 'object',
  additionalProperties: false,
  properties: {
    'retention.ms': {
      type: 'integer', minimum: -1, maximum: MAX_SAFE, default: 604_800_000,
      description: 'How long to keep a closed segment, in milliseconds, measured from its newest record. -1 keeps data forever.',
    },
    'retention.bytes': {
      type: 'integer', minimum: -1, maximum: MAX_SAFE, default: -1,
      description: 'Largest size of one partition log in bytes before its oldest segments are deleted. -1 means no size limit.',
    },
    'cleanup.policy': {
      type: 'string', enum: ['delete', 'compact', 'compact,delete'], default: 'delete',
      description: 'delete: drop old segments by retention. compact: keep the latest record per key. compact,delete: both.',
    },
    'min.insync.replicas': {
      type: 'integer', minimum: 1, maximum: 32, default: 1,
      description: 'With acks=all, the fewest in-sync replicas that must hold a record before it is acknowledged; below it producers get NOT_ENOUGH_REPLICAS.',
    },
    'segment.bytes': {
      type: 'integer', minimum: 14, maximum: MAX_INT32, default: 1_073_741_824,
      description: 'Size in bytes at which a partition log rolls to a new segment file.',
    },
    'segment.ms': {
      type: 'integer', minimum: 1, maximum: MAX_SAFE, default: 604_800_000,
      description: 'Age in milliseconds at which a segment is rolled even if not full, so that retention can delete it.',
    },
    'max.message.bytes': {
      type: 'integer', minimum: 0, maximum: MAX_MESSAGE_BYTES_LIMIT, default: 1_048_588,
      description: 'Largest record batch in bytes the topic accepts (after compression). Larger batches are refused with MESSAGE_TOO_LARGE. ' +
        'At most 63 MiB: a batch travels whole in one gRPC message (64 MiB limit, less room for the rest of the reply), ' +
        'so a larger one could be written but never fetched by a consumer or follower.',
    },
    'flush.messages': {
      type: 'integer', minimum: 1, maximum: MAX_SAFE, default: MAX_SAFE,
      description: 'fsync the log after this many messages. The default relies on replication and the page cache, as Kafka does.',
    },
    'flush.ms': {
      type: 'integer', minimum: 0, maximum: MAX_SAFE, default: MAX_SAFE,
      description: 'fsync the log when its oldest unflushed message is this old, in milliseconds.',
    },
    'unclean.leader.election.enable': {
      type: 'boolean', default: false,
      description: 'Allow a replica outside the ISR to become leader when no in-sync replica is alive. Trades acknowledged data for availability.',
    },
  },
} as const;

type Props = typeof TOPIC_CONFIG_SCHEMA.properties;
export type TopicConfigKey = keyof Props;
export const TOPIC_CONFIG_KEYS = Object.keys(TOPIC_CONFIG_SCHEMA.properties) as TopicConfigKey[];

export interface TopicConfig {
  'retention.ms': number;
  'retention.bytes': number;
  'cleanup.policy': 'delete' | 'compact' | 'compact,delete';
  'min.insync.replicas': number;
  'segment.bytes': number;
  'segment.ms': number;
  'max.message.bytes': number;
  'flush.messages': number;
  'flush.ms': number;
  'unclean.leader.election.enable': boolean;
}

export const DEFAULT_TOPIC_CONFIG: TopicConfig = Object.fromEntries(
  TOPIC_CONFIG_KEYS.map((k) => [k, TOPIC_CONFIG_SCHEMA.properties[k].default]),
) as unknown as TopicConfig;

const ajv = new Ajv({ allErrors: true, strict: true });
const validateConfigSchema = ajv.compile(TOPIC_CONFIG_SCHEMA);

/**
 * Turns a config map (strings from gRPC, or typed values from YAML) into typed overrides.
 * Unknown keys and out-of-range values are refused with INVALID_CONFIG and a message naming
 * the key, what it accepts, and what was given.
 */
export function parseTopicConfig(input: Record<string, unknown> | undefined): Partial<TopicConfig> {
  const out: Record<string, unknown> = {};
  for (const [key, raw] of Object.entries(input ?? {})) {
    if (!Object.hasOwn(TOPIC_CONFIG_SCHEMA.properties, key)) {
      throw new SluiceError('INVALID_CONFIG', `unknown topic config key "${key}"; known keys: ${TOPIC_CONFIG_KEYS.join(', ')}`);
    }
    out[key] = coerce(TOPIC_CONFIG_SCHEMA.properties[key as TopicConfigKey].type, raw);
  }
  if (!validateConfigSchema(out)) {
    const problems = (validateConfigSchema.errors ?? []).map((e) => {
      const key = e.instancePath.replace(/^\//, '').replace(/~1/g, '/');
      return `${key} ${e.message} (got ${JSON.stringify(out[key])})`;
    });
    throw new SluiceError('INVALID_CONFIG', `invalid topic config: ${problems.join('; ')}`);
  }
  return out as Partial<TopicConfig>;
}

function coerce(type: string, raw: unknown): unknown {
  if (typeof raw !== 'string') return raw;
  const s = raw.trim();
  if (type === 'integer' && /^-?\d+$/.test(s)) return Number(s);
  if (type === 'boolean' && (s === 'true' || s === 'false')) return s === 'true';
  return raw;
}

/** Overrides on top of the defaults: the effective config of a topic. */
export function effectiveTopicConfig(overrides: Record<string, unknown> | undefined): TopicConfig {
  return { ...DEFAULT_TOPIC_CONFIG, ...parseTopicConfig(overrides) };
}

/** Typed config -> the string map carried by gRPC (only the keys given). */
export function topicConfigToStrings(config: Partial<TopicConfig>): Record<string, string> {
  return Object.fromEntries(Object.entries(config).map(([k, v]) => [k, String(v)]));
}

const TOPIC_NAME = /^[a-zA-Z0-9._-]+$/;
export const MAX_TOPIC_NAME_LENGTH = 249;
export const MAX_PARTITIONS = 10_000;

/** Kafka's topic name rules: [a-zA-Z0-9._-], 1..249 chars, not "." or "..". */
export function validateTopicName(name: string): void {
  if (typeof name !== 'string' || name.length === 0) {
    throw new SluiceError('INVALID_TOPIC', 'topic name is empty; use 1-249 characters from [a-zA-Z0-9._-]');
  }
  if (name.length > MAX_TOPIC_NAME_LENGTH) {
    throw new SluiceError('INVALID_TOPIC', `topic name is ${name.length} characters long; the limit is ${MAX_TOPIC_NAME_LENGTH}`);
  }
  if (name === '.' || name === '..') {
    throw new SluiceError('INVALID_TOPIC', `topic name "${name}" is not allowed`);
  }
  if (!TOPIC_NAME.test(name)) {
    throw new SluiceError('INVALID_TOPIC', `topic name "${name}" has characters outside [a-zA-Z0-9._-]`);
  }
}

export function validatePartitionCount(partitions: number): void {
  if (!Number.isInteger(partitions) || partitions < 1 || partitions > MAX_PARTITIONS) {
    throw new SluiceError('INVALID_PARTITIONS', `partition count must be an integer from 1 to ${MAX_PARTITIONS} (got ${partitions})`);
  }
}
