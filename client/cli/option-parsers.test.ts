import { describe, expect, it } from 'vitest';
import { UsageError } from './cli-errors.ts';
import {
  parseAcks,
  parseCompression,
  parseConfigPairs,
  parseInteger,
  parseStartOffset,
  parseTimestamp,
  resolveBootstrapServers,
} from './option-parsers.ts';

describe('parseInteger', () => {
  it('accepts whole numbers in range and names the option when refusing', () => {
    expect(parseInteger('--partitions', '12', { min: 1 })).toBe(12);
    expect(parseInteger('--throughput', '-1', { min: -1 })).toBe(-1);
    expect(() => parseInteger('--partitions', '0', { min: 1, max: 10 })).toThrow(new UsageError('--partitions must be a whole number from 1 to 10 (got "0")'));
    for (const bad of ['1.5', 'abc', '', '1e3', '12abc', '99999999999999999999']) {
      expect(() => parseInteger('--n', bad)).toThrow(UsageError);
    }
  });
});

describe('resolveBootstrapServers', () => {
  it('prefers the flag, then the environment, then 127.0.0.1:9092', () => {
    const env = { SLUICE_BOOTSTRAP_SERVERS: 'envhost:9000' };
    expect(resolveBootstrapServers('a:1, b:2', env)).toEqual(['a:1', 'b:2']);
    expect(resolveBootstrapServers(undefined, env)).toEqual(['envhost:9000']);
    expect(resolveBootstrapServers(undefined, {})).toEqual(['127.0.0.1:9092']);
    expect(resolveBootstrapServers('[::1]:9092', {})).toEqual(['[::1]:9092']);
  });

  it('says which source holds a bad address', () => {
    expect(() => resolveBootstrapServers('localhost', {})).toThrow(/--bootstrap-server: "localhost" is not HOST:PORT/);
    expect(() => resolveBootstrapServers(undefined, { SLUICE_BOOTSTRAP_SERVERS: 'h:99999' })).toThrow(/SLUICE_BOOTSTRAP_SERVERS: "h:99999"/);
    expect(() => resolveBootstrapServers(' , ', {})).toThrow(/--bootstrap-server is empty/);
  });
});

describe('parseAcks / parseCompression', () => {
  it('maps the spellings Kafka tools accept', () => {
    expect(parseAcks('all')).toBe('all');
    expect(parseAcks('-1')).toBe('all');
    expect(parseAcks('1')).toBe(1);
    expect(parseAcks('0')).toBe(0);
    expect(() => parseAcks('2')).toThrow(/--acks must be all, 1 or 0/);
    expect(parseCompression('gzip')).toBe('gzip');
    expect(() => parseCompression('snappy')).toThrow(/--compression must be one of none, gzip, zstd/);
  });
});

describe('parseConfigPairs', () => {
  it('takes repeated and comma-joined pairs and types them with the topic config schema', () => {
    const { raw, typed } = parseConfigPairs(['retention.ms=1000,cleanup.policy=compact,delete', 'unclean.leader.election.enable=true']);
    expect(raw).toEqual({ 'retention.ms': '1000', 'cleanup.policy': 'compact,delete', 'unclean.leader.election.enable': 'true' });
    expect(typed).toEqual({ 'retention.ms': 1000, 'cleanup.policy': 'compact,delete', 'unclean.leader.election.enable': true });
  });

  it('refuses unknown keys, bad values, missing "=" and repeats, naming the key', () => {
    expect(() => parseConfigPairs(['retention.msx=1'])).toThrow(/--config: unknown topic config key "retention.msx"/);
    expect(() => parseConfigPairs(['min.insync.replicas=0'])).toThrow(/min\.insync\.replicas must be >= 1/);
    expect(() => parseConfigPairs(['retention.ms'])).toThrow(/--config expects KEY=VALUE \(got "retention.ms"\)/);
    expect(() => parseConfigPairs(['retention.ms=1', 'retention.ms=2'])).toThrow(/retention.ms is given twice/);
    for (const bad of [['retention.msx=1'], ['=1']]) expect(() => parseConfigPairs(bad)).toThrow(UsageError);
  });
});

describe('parseTimestamp / parseStartOffset', () => {
  it('reads epoch milliseconds and ISO-8601, and nothing looser', () => {
    expect(parseTimestamp('1700000000000')).toBe(1_700_000_000_000);
    expect(parseTimestamp('2025-01-31T12:00:00Z')).toBe(Date.UTC(2025, 0, 31, 12));
    expect(() => parseTimestamp('March 7')).toThrow(/--from-timestamp must be milliseconds since the epoch or an ISO-8601 time/);
    expect(() => parseTimestamp('2025-13-45T99:00:00Z')).toThrow(UsageError);
  });

  it('takes a number, earliest or latest', () => {
    expect(parseStartOffset('42')).toBe(42);
    expect(parseStartOffset('earliest')).toBe('earliest');
    expect(parseStartOffset('latest')).toBe('latest');
    expect(() => parseStartOffset('-3')).toThrow(/--offset must be a whole number from 0/);
  });
});
