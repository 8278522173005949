import { describe, expect, it } from 'vitest';
import { DEFAULT_TOPIC_CONFIG, MAX_MESSAGE_BYTES_LIMIT, effectiveTopicConfig, parseTopicConfig, validatePartitionCount, validateTopicName } from './topic-config.ts';
import { MAX_GRPC_MESSAGE_BYTES } from './proto.ts';
import { SluiceError } from './errors.ts';

function codeOf(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (err) {
    return err instanceof SluiceError ? err.code : 'not-a-sluice-error';
  }
  return undefined;
}

describe('topic config', () => {
  it('parses strings from gRPC maps into typed values', () => {
    expect(parseTopicConfig({ 'retention.ms': '1000', 'unclean.leader.election.enable': 'true', 'cleanup.policy': 'compact' })).toEqual({
      'retention.ms': 1000,
      'unclean.leader.election.enable': true,
      'cleanup.policy': 'compact',
    });
  });

  it('fills defaults for keys not given', () => {
    const cfg = effectiveTopicConfig({ 'min.insync.replicas': 2 });
    expect(cfg['min.insync.replicas']).toBe(2);
    expect(cfg['retention.ms']).toBe(DEFAULT_TOPIC_CONFIG['retention.ms']);
    expect(cfg['max.message.bytes']).toBe(1_048_588);
  });

  it('caps max.message.bytes at 63 MiB, below the gRPC message limit, so any accepted batch can be fetched', () => {
    expect(MAX_MESSAGE_BYTES_LIMIT).toBe(MAX_GRPC_MESSAGE_BYTES - 1024 * 1024);
    expect(parseTopicConfig({ 'max.message.bytes': '66060288' })).toEqual({ 'max.message.bytes': 66_060_288 });
    expect(() => parseTopicConfig({ 'max.message.bytes': '66060289' })).toThrow(/max.message.bytes must be <= 66060288/);
    expect(codeOf(() => parseTopicConfig({ 'max.message.bytes': MAX_GRPC_MESSAGE_BYTES }))).toBe('INVALID_CONFIG');
  });

  it('refuses unknown keys, naming the known ones', () => {
    expect(() => parseTopicConfig({ 'retention.hours': '1' })).toThrow(/unknown topic config key "retention.hours".*retention.ms/);
  });

  it('refuses out-of-range and mistyped values with the key in the message', () => {
    expect(() => parseTopicConfig({ 'retention.ms': '-2' })).toThrow(/retention.ms must be >= -1/);
    expect(() => parseTopicConfig({ 'min.insync.replicas': 0 })).toThrow(/min.insync.replicas/);
    expect(() => parseTopicConfig({ 'segment.bytes': 'big' })).toThrow(/segment.bytes must be integer/);
    expect(() => parseTopicConfig({ 'cleanup.policy': 'forever' })).toThrow(/cleanup.policy must be equal to one of the allowed values/);
    expect(codeOf(() => parseTopicConfig({ 'flush.ms': 1.5 }))).toBe('INVALID_CONFIG');
  });
});

describe('topic names and partition counts', () => {
  it('accepts Kafka-legal names', () => {
    for (const name of ['orders', 'a', 'my.topic_v2-x', 'x'.repeat(249)]) expect(() => validateTopicName(name)).not.toThrow();
  });

  it('refuses illegal names with INVALID_TOPIC', () => {
    for (const name of ['', '.', '..', 'has space', 'slash/y', 'ünïcode', 'x'.repeat(250)]) {
      expect(codeOf(() => validateTopicName(name))).toBe('INVALID_TOPIC');
    }
  });

  it('refuses partition counts outside 1..10000', () => {
    for (const n of [0, -1, 1.5, 10_001, Number.NaN]) expect(codeOf(() => validatePartitionCount(n))).toBe('INVALID_PARTITIONS');
    expect(() => validatePartitionCount(1)).not.toThrow();
  });
});
