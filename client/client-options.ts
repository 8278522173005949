// Option objects of Producer, Consumer and Admin: checked once, in the constructor, against a
// JSON schema, with defaults filled in. Everything behind the constructor may then trust its
// options; a mistake is reported at once, naming the option, what it accepts and what it got,
// instead of surfacing later as a stuck send.
import { Ajv, type ErrorObject } from 'ajv';
import { SluiceError } from '../common/errors.ts';
import type { Logger } from '../common/logger.ts';
import { MAX_GRPC_MESSAGE_BYTES } from '../common/proto.ts';
import type { Partitioner } from './partitioner.ts';
import type { RecordMetadata, ProducerRecord } from './records.ts';
import type { Deserializer, Serializer, SerializerName } from './serializers.ts';

const MIB = 1024 * 1024;
const MAX_INT32 = 2_147_483_647;
/** Idempotent producers may have at most this many batches in flight per partition: brokers
 *  keep the last 5 batches per producer and partition for duplicate detection (as Kafka). */
export const MAX_IN_FLIGHT_IDEMPOTENT = 5;
/**
 * Most record bytes one request or reply may carry: the gRPC message limit of clients and
 * brokers, less 1 MiB for the protobuf envelope around the batches (topic names, offsets, per
 * partition). Past it grpc-js fails the call with RESOURCE_EXHAUSTED, every time.
 */
export const MAX_RECORD_BYTES_PER_MESSAGE = MAX_GRPC_MESSAGE_BYTES - MIB;
const GRPC_LIMIT_NOTE = `(${MAX_RECORD_BYTES_PER_MESSAGE / MIB} MiB), so that one`;
const GRPC_LIMIT_END = `fits in a ${MAX_GRPC_MESSAGE_BYTES / MIB} MiB gRPC message`;

export interface CommonClientOptions {
  /** `host:port` of one or more brokers; the rest of the cluster is learned from them. */
  bootstrapServers: string[];
  clientId?: string;
  requestTimeoutMs?: number;
  retryBackoffMs?: number;
  /** Metadata is refreshed at least this often even without errors (new partitions, moved leaders). */
  metadataMaxAgeMs?: number;
  logger?: Logger;
}

export interface ProducerInterceptor<K = unknown, V = unknown> {
  /** May return a modified record; runs before serialization. */
  onSend?(record: ProducerRecord<K, V>): ProducerRecord<K, V>;
  /** Once per record, when it is acknowledged (metadata) or has failed (error). */
  onAcknowledgement?(metadata: RecordMetadata | null, error: SluiceError | null): void;
}

export type Acks = 'all' | 1 | 0;
export type Compression = 'none' | 'gzip' | 'zstd';

export interface ProducerOptions<K = unknown, V = unknown> extends CommonClientOptions {
  acks?: Acks;
  lingerMs?: number;
  batchSize?: number;
  bufferMemory?: number;
  maxBlockMs?: number;
  compression?: Compression;
  idempotence?: boolean;
  maxInFlight?: number;
  retries?: number;
  deliveryTimeoutMs?: number;
  partitioner?: 'default' | 'roundRobin' | Partitioner;
  keySerializer?: SerializerName | Serializer<K>;
  valueSerializer?: SerializerName | Serializer<V>;
  interceptors?: ProducerInterceptor<K, V>[];
}

export interface ConsumerOptions<K = unknown, V = unknown> extends CommonClientOptions {
  maxWaitMs?: number;
  minBytes?: number;
  maxBytes?: number;
  maxPartitionFetchBytes?: number;
  maxPollRecords?: number;
  autoOffsetReset?: 'earliest' | 'latest' | 'none';
  keyDeserializer?: SerializerName | Deserializer<K>;
  valueDeserializer?: SerializerName | Deserializer<V>;
}

export type AdminOptions = CommonClientOptions;

type Resolved<T> = { [P in keyof T]-?: Exclude<T[P], undefined> };
type ResolvedCommon = Resolved<Omit<CommonClientOptions, 'logger'>> & { logger?: Logger };

export type ResolvedProducerOptions = ResolvedCommon &
  Resolved<Omit<ProducerOptions, keyof CommonClientOptions | 'keySerializer' | 'valueSerializer'>> & {
    keySerializer?: SerializerName | Serializer<unknown>;
    valueSerializer?: SerializerName | Serializer<unknown>;
  };

export type ResolvedConsumerOptions = ResolvedCommon &
  Resolved<Omit<ConsumerOptions, keyof CommonClientOptions | 'keyDeserializer' | 'valueDeserializer'>> & {
    keyDeserializer?: SerializerName | Deserializer<unknown>;
    valueDeserializer?: SerializerName | Deserializer<unknown>;
  };

export type ResolvedAdminOptions = ResolvedCommon;

// ---------------------------------------------------------------------------------------------
// Schemas. `expected` is an annotation read by the error formatter: what the option accepts, in
// words a user can act on.

const ajv = new Ajv({ allErrors: true, strict: true, useDefaults: true });
ajv.addVocabulary(['expected']);
// JSON schema cannot say "a function" or "Infinity"; these are the two JavaScript values the
// options legitimately carry.
ajv.addKeyword({
  keyword: 'jsType',
  schemaType: 'string',
  errors: false,
  validate: (kind: string, data: unknown) =>
    kind === 'infinity' ? data === Number.POSITIVE_INFINITY : kind === 'object' ? typeof data === 'object' && data !== null : typeof data === kind,
});

const int = (min: number, max: number, def: number | undefined, expected: string) =>
  def === undefined ? { type: 'integer', minimum: min, maximum: max, expected } : { type: 'integer', minimum: min, maximum: max, default: def, expected };

const COMMON_PROPERTIES = {
  bootstrapServers: {
    type: 'array',
    minItems: 1,
    items: { type: 'string', pattern: '^(\\[[0-9a-fA-F:.]+\\]|[^\\s:/\\[\\]]+):\\d{1,5}$' },
    expected: 'a non-empty array of "host:port" strings, for example ["127.0.0.1:9092"]',
  },
  clientId: { type: 'string', minLength: 1, default: 'sluice', expected: 'a non-empty string' },
  requestTimeoutMs: int(1, MAX_INT32, 30_000, 'a whole number of milliseconds >= 1'),
  retryBackoffMs: int(0, MAX_INT32, 100, 'a whole number of milliseconds >= 0'),
  metadataMaxAgeMs: int(1, MAX_INT32, 300_000, 'a whole number of milliseconds >= 1'),
  logger: { jsType: 'object', expected: 'a pino logger' },
} as const;

const functionOrName = (expected: string) => ({
  anyOf: [{ enum: ['buffer', 'string', 'json'] }, { jsType: 'function' }],
  expected,
});

const PRODUCER_SCHEMA = {
  type: 'object',
  required: ['bootstrapServers'],
  additionalProperties: false,
  properties: {
    ...COMMON_PROPERTIES,
    acks: { enum: ['all', 1, 0], default: 'all', expected: "'all', 1 or 0" },
    lingerMs: int(0, MAX_INT32, 5, 'a whole number of milliseconds >= 0'),
    // 256 KiB rather than Kafka's 16 KiB: one gRPC message costs more fixed work (HTTP/2 frame,
    // protobuf envelope, a stream write) than one record of a Kafka request, so larger batches
    // are what keeps the per-batch cost small next to the bytes moved.
    batchSize: int(1, MAX_RECORD_BYTES_PER_MESSAGE, 262_144, `a whole number of bytes from 1 to ${MAX_RECORD_BYTES_PER_MESSAGE} ${GRPC_LIMIT_NOTE} produce request ${GRPC_LIMIT_END}`),
    bufferMemory: int(1, Number.MAX_SAFE_INTEGER, 64 * MIB, 'a whole number of bytes >= 1'),
    maxBlockMs: int(0, MAX_INT32, 60_000, 'a whole number of milliseconds >= 0'),
    compression: { enum: ['none', 'gzip', 'zstd'], default: 'none', expected: "'none', 'gzip' or 'zstd'" },
    idempotence: { type: 'boolean', expected: 'true or false' },
    maxInFlight: int(1, 1000, 5, 'a whole number from 1 to 1000'),
    retries: { anyOf: [{ type: 'integer', minimum: 0 }, { jsType: 'infinity' }], expected: 'a whole number >= 0, or Infinity' },
    deliveryTimeoutMs: int(1, MAX_INT32, 120_000, 'a whole number of milliseconds >= 1'),
    partitioner: {
      anyOf: [{ enum: ['default', 'roundRobin'] }, { jsType: 'object' }],
      expected: "'default', 'roundRobin', or an object with a partition(topic, key, numPartitions) method",
    },
    keySerializer: functionOrName("'buffer', 'string', 'json', or a function (data, topic) => Buffer | null"),
    valueSerializer: functionOrName("'buffer', 'string', 'json', or a function (data, topic) => Buffer | null"),
    interceptors: {
      type: 'array',
      items: {
        type: 'object',
        additionalProperties: false,
        properties: { onSend: { jsType: 'function' }, onAcknowledgement: { jsType: 'function' } },
      },
      expected: 'an array of objects with optional onSend(record) and onAcknowledgement(metadata, error) functions',
    },
  },
} as const;

const CONSUMER_SCHEMA = {
  type: 'object',
  required: ['bootstrapServers'],
  additionalProperties: false,
  properties: {
    ...COMMON_PROPERTIES,
    maxWaitMs: int(0, MAX_INT32, 500, 'a whole number of milliseconds >= 0'),
    minBytes: int(0, MAX_INT32, 1, 'a whole number of bytes >= 0'),
    maxBytes: int(1, MAX_RECORD_BYTES_PER_MESSAGE, 50 * MIB, `a whole number of bytes from 1 to ${MAX_RECORD_BYTES_PER_MESSAGE} ${GRPC_LIMIT_NOTE} fetch reply ${GRPC_LIMIT_END}`),
    maxPartitionFetchBytes: int(1, MAX_RECORD_BYTES_PER_MESSAGE, MIB, `a whole number of bytes from 1 to ${MAX_RECORD_BYTES_PER_MESSAGE} ${GRPC_LIMIT_NOTE} fetch reply ${GRPC_LIMIT_END}`),
    maxPollRecords: int(1, MAX_INT32, 500, 'a whole number >= 1'),
    autoOffsetReset: { enum: ['earliest', 'latest', 'none'], default: 'latest', expected: "'earliest', 'latest' or 'none'" },
    keyDeserializer: functionOrName("'buffer', 'string', 'json', or a function (data, topic) => value"),
    valueDeserializer: functionOrName("'buffer', 'string', 'json', or a function (data, topic) => value"),
  },
} as const;

const ADMIN_SCHEMA = {
  type: 'object',
  required: ['bootstrapServers'],
  additionalProperties: false,
  properties: { ...COMMON_PROPERTIES },
} as const;

const validators = {
  Producer: { schema: PRODUCER_SCHEMA, validate: ajv.compile(PRODUCER_SCHEMA) },
  Consumer: { schema: CONSUMER_SCHEMA, validate: ajv.compile(CONSUMER_SCHEMA) },
  Admin: { schema: ADMIN_SCHEMA, validate: ajv.compile(ADMIN_SCHEMA) },
};

type Kind = keyof typeof validators;

function describeValue(value: unknown): string {
  if (typeof value === 'function') return 'a function';
  if (typeof value === 'string') return JSON.stringify(value);
  if (typeof value === 'number' || typeof value === 'boolean' || value === null || value === undefined) return String(value);
  try {
    const json = JSON.stringify(value);
    return json.length > 80 ? `${json.slice(0, 77)}...` : json;
  } catch {
    return typeof value;
  }
}

function valueAt(root: Record<string, unknown>, pointer: string): unknown {
  let current: unknown = root;
  for (const part of pointer.split('/').slice(1)) {
    current = (current as Record<string, unknown> | undefined)?.[part.replace(/~1/g, '/').replace(/~0/g, '~')];
  }
  return current;
}

function formatErrors(kind: Kind, errors: ErrorObject[], input: Record<string, unknown>): string {
  const properties = validators[kind].schema.properties as Record<string, { expected?: string }>;
  const seen = new Set<string>();
  const problems: string[] = [];
  for (const e of errors) {
    if (e.keyword === 'additionalProperties' && e.instancePath === '') {
      const name = String(e.params.additionalProperty);
      const known = Object.keys(properties);
      const near = known.find((k) => k.toLowerCase() === name.toLowerCase());
      problems.push(`unknown ${kind} option "${name}"${near ? ` (did you mean "${near}"?)` : ''}; known options: ${known.join(', ')}`);
      continue;
    }
    if (e.keyword === 'required') {
      problems.push(`${kind} option "${String(e.params.missingProperty)}" is required: ${properties[String(e.params.missingProperty)]?.expected ?? ''}`);
      continue;
    }
    // The option is the first path segment; nested failures (an interceptor's field) are
    // reported against the option with ajv's own words for the inner part.
    const [, option = '', ...rest] = e.instancePath.split('/');
    const key = rest.length > 0 ? e.instancePath : option;
    if (seen.has(key)) continue;
    seen.add(key);
    const got = describeValue(valueAt(input, e.instancePath));
    if (rest.length > 0) {
      const inner = e.keyword === 'jsType' ? 'must be a function' : e.keyword === 'additionalProperties' ? `must not have "${String(e.params.additionalProperty)}"` : e.message;
      problems.push(`${kind} option "${option}" at ${rest.join('.')} ${inner} (got ${got}); expected ${properties[option]?.expected ?? 'a valid value'}`);
    } else {
      problems.push(`${kind} option "${option}" must be ${properties[option]?.expected ?? e.message} (got ${got})`);
    }
  }
  return problems.join('; ');
}

function validate<T>(kind: Kind, input: unknown): T {
  if (typeof input !== 'object' || input === null || Array.isArray(input)) {
    throw new SluiceError('INVALID_CONFIG', `${kind} options must be an object such as { bootstrapServers: ['127.0.0.1:9092'] } (got ${describeValue(input)})`);
  }
  // A copy: defaults are filled in place, and the caller's object is not ours to change.
  const copy = { ...(input as Record<string, unknown>) };
  for (const [k, v] of Object.entries(copy)) if (v === undefined) delete copy[k];
  const v = validators[kind].validate;
  if (!v(copy)) throw new SluiceError('INVALID_CONFIG', formatErrors(kind, v.errors ?? [], copy));
  return copy as T;
}

function invalid(kind: Kind, message: string): SluiceError {
  return new SluiceError('INVALID_CONFIG', `${kind} options: ${message}`);
}

export function resolveProducerOptions(input: unknown): ResolvedProducerOptions {
  const o = validate<ProducerOptions & Record<string, unknown>>('Producer', input);
  const explicitIdempotence = o.idempotence;
  if (explicitIdempotence === true) {
    if (o.acks !== 'all') {
      throw invalid('Producer', `idempotence requires acks 'all' (got acks ${describeValue(o.acks)}); set acks: 'all', or idempotence: false`);
    }
    if (o.maxInFlight! > MAX_IN_FLIGHT_IDEMPOTENT) {
      throw invalid('Producer', `idempotence allows at most ${MAX_IN_FLIGHT_IDEMPOTENT} batches in flight per partition (got maxInFlight ${o.maxInFlight}); lower maxInFlight, or set idempotence: false`);
    }
  }
  // As Kafka 3.x: idempotence is on by default, but a configuration that cannot be idempotent
  // (acks 1/0, more in flight than brokers remember) quietly means "off" unless asked for.
  const idempotence = explicitIdempotence ?? (o.acks === 'all' && o.maxInFlight! <= MAX_IN_FLIGHT_IDEMPOTENT);
  if (o.deliveryTimeoutMs! < o.lingerMs! + o.requestTimeoutMs!) {
    throw invalid(
      'Producer',
      `deliveryTimeoutMs (${o.deliveryTimeoutMs}) must be at least lingerMs + requestTimeoutMs (${o.lingerMs! + o.requestTimeoutMs!}), or a record could expire before its first attempt finished`,
    );
  }
  return {
    ...(o as ResolvedProducerOptions),
    idempotence,
    retries: o.retries ?? Number.POSITIVE_INFINITY,
    partitioner: o.partitioner ?? 'default',
    interceptors: o.interceptors ?? [],
  };
}

export function resolveConsumerOptions(input: unknown): ResolvedConsumerOptions {
  const o = validate<ResolvedConsumerOptions>('Consumer', input);
  if (o.maxPartitionFetchBytes > o.maxBytes) {
    throw invalid('Consumer', `maxPartitionFetchBytes (${o.maxPartitionFetchBytes}) must not exceed maxBytes (${o.maxBytes})`);
  }
  if (o.minBytes > o.maxBytes) {
    throw invalid('Consumer', `minBytes (${o.minBytes}) must not exceed maxBytes (${o.maxBytes})`);
  }
  return o;
}

export function resolveAdminOptions(input: unknown): ResolvedAdminOptions {
  return validate<ResolvedAdminOptions>('Admin', input);
}
