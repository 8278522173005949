import { describe, expect, it } from 'vitest';
import { DEFAULT_LOG_CONFIG, logConfigFromTopicConfig, validateLogConfig } from './log-config.ts';

describe('log config', () => {
  it('defaults to Kafka\'s values', () => {
    expect(DEFAULT_LOG_CONFIG).toEqual({
      segmentBytes: 1073741824,
      segmentMs: 604800000,
      retentionMs: 604800000,
      retentionBytes: -1,
      maxMessageBytes: 1048588,
      indexIntervalBytes: 4096,
      flushMessages: Number.MAX_SAFE_INTEGER,
      flushMs: Number.MAX_SAFE_INTEGER,
    });
  });

  it('maps topic config keys onto log settings', () => {
    expect(logConfigFromTopicConfig({ 'segment.bytes': 1000, 'retention.ms': -1, 'flush.messages': 1 })).toMatchObject({ segmentBytes: 1000, retentionMs: -1, flushMessages: 1, segmentMs: 604800000 });
  });

  it('refuses settings the engine cannot honour', () => {
    expect(() => validateLogConfig({ ...DEFAULT_LOG_CONFIG, segmentBytes: 2 ** 31 })).toThrow(/segmentBytes/);
    expect(() => validateLogConfig({ ...DEFAULT_LOG_CONFIG, retentionMs: -2 })).toThrow(/retentionMs/);
    expect(() => validateLogConfig({ ...DEFAULT_LOG_CONFIG, flushMessages: 0 })).toThrow(/flushMessages/);
  });
});
