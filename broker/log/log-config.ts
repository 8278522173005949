// Settings of one partition log. The topic-level names (`segment.bytes`, …) live in
// common/topic-config.ts; this is the camelCase shape the log engine reads on every append.
import { SluiceError } from '../../common/errors.ts';
import type { TopicConfig } from '../../common/topic-config.ts';

export interface LogConfig {
  /** Roll the active segment before it would grow past this many bytes (segment.bytes). */
  segmentBytes: number;
  /** Roll the active segment once its first batch is older than this (segment.ms). */
  segmentMs: number;
  /** Delete a closed segment once its newest record is older than this; -1 keeps forever. */
  retentionMs: number;
  /** Delete the oldest closed segments while the log is larger than this; -1 means no limit. */
  retentionBytes: number;
  /** Largest record batch accepted from a producer (max.message.bytes). */
  maxMessageBytes: number;
  /** Bytes between two entries of the sparse offset and time indexes. */
  indexIntervalBytes: number;
  /** fsync after this many messages; Number.MAX_SAFE_INTEGER never does (page cache + replication). */
  flushMessages: number;
  /** fsync when the oldest unflushed append is this old; Number.MAX_SAFE_INTEGER never does. */
  flushMs: number;
}

const INT32_MAX = 0x7fffffff;
const SEVEN_DAYS_MS = 7 * 24 * 60 * 60 * 1000;

/** Kafka's defaults (log.segment.bytes, log.roll.ms, log.retention.ms, …). */
export const DEFAULT_LOG_CONFIG: LogConfig = Object.freeze({
  segmentBytes: 1024 * 1024 * 1024,
  segmentMs: SEVEN_DAYS_MS,
  retentionMs: SEVEN_DAYS_MS,
  retentionBytes: -1,
  maxMessageBytes: 1_048_588,
  indexIntervalBytes: 4096,
  flushMessages: Number.MAX_SAFE_INTEGER,
  flushMs: Number.MAX_SAFE_INTEGER,
});

/** The log settings a topic config implies; keys the log does not use keep `base`'s values. */
export function logConfigFromTopicConfig(topic: Partial<TopicConfig>, base: LogConfig = DEFAULT_LOG_CONFIG): LogConfig {
  return validateLogConfig({
    ...base,
    ...(topic['segment.bytes'] !== undefined && { segmentBytes: topic['segment.bytes'] }),
    ...(topic['segment.ms'] !== undefined && { segmentMs: topic['segment.ms'] }),
    ...(topic['retention.ms'] !== undefined && { retentionMs: topic['retention.ms'] }),
    ...(topic['retention.bytes'] !== undefined && { retentionBytes: topic['retention.bytes'] }),
    ...(topic['max.message.bytes'] !== undefined && { maxMessageBytes: topic['max.message.bytes'] }),
    ...(topic['flush.messages'] !== undefined && { flushMessages: topic['flush.messages'] }),
    ...(topic['flush.ms'] !== undefined && { flushMs: topic['flush.ms'] }),
  });
}

function check(ok: boolean, key: keyof LogConfig, value: number, rule: string): void {
  if (!ok) throw new SluiceError('INVALID_CONFIG', `log config ${key} must be ${rule}, got ${value}`);
}

const isInt = Number.isSafeInteger;

/**
 * Refuses settings the engine cannot honour. segmentBytes is capped at int32 because index
 * entries store file positions as int32 (Kafka's limit for the same reason).
 */
export function validateLogConfig(config: LogConfig): LogConfig {
  check(isInt(config.segmentBytes) && config.segmentBytes >= 14 && config.segmentBytes <= INT32_MAX, 'segmentBytes', config.segmentBytes, `an integer in [14, ${INT32_MAX}]`);
  check(isInt(config.segmentMs) && config.segmentMs >= 1, 'segmentMs', config.segmentMs, 'an integer >= 1');
  check(isInt(config.retentionMs) && config.retentionMs >= -1, 'retentionMs', config.retentionMs, 'an integer >= -1');
  check(isInt(config.retentionBytes) && config.retentionBytes >= -1, 'retentionBytes', config.retentionBytes, 'an integer >= -1');
  check(isInt(config.maxMessageBytes) && config.maxMessageBytes >= 0 && config.maxMessageBytes <= INT32_MAX, 'maxMessageBytes', config.maxMessageBytes, `an integer in [0, ${INT32_MAX}]`);
  check(isInt(config.indexIntervalBytes) && config.indexIntervalBytes >= 0, 'indexIntervalBytes', config.indexIntervalBytes, 'an integer >= 0');
  check(isInt(config.flushMessages) && config.flushMessages >= 1, 'flushMessages', config.flushMessages, 'an integer >= 1');
  check(isInt(config.flushMs) && config.flushMs >= 0, 'flushMs', config.flushMs, 'an integer >= 0');
  return config;
}
