import { describe, expect, it } from 'vitest';
import { SluiceError } from '../common/errors.ts';
import { resolveAdminOptions, resolveConsumerOptions, resolveProducerOptions } from './client-options.ts';
import { Producer } from './producer.ts';

const bootstrapServers = ['127.0.0.1:9092'];

function errorOf(fn: () => unknown): SluiceError {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(SluiceError);
    return err as SluiceError;
  }
  throw new Error('expected an error');
}

describe('producer options', () => {
  it('fills Kafka-like defaults, with idempotence on', () => {
    const o = resolveProducerOptions({ bootstrapServers });
    expect(o).toMatchObject({
      acks: 'all',
      lingerMs: 5,
      batchSize: 262_144,
      bufferMemory: 64 * 1024 * 1024,
      maxBlockMs: 60_000,
      compression: 'none',
      idempotence: true,
      maxInFlight: 5,
      retries: Number.POSITIVE_INFINITY,
      deliveryTimeoutMs: 120_000,
      retryBackoffMs: 100,
      requestTimeoutMs: 30_000,
      partitioner: 'default',
      interceptors: [],
    });
  });

  it('names the bad option, what it accepts and what it got', () => {
    const e = errorOf(() => resolveProducerOptions({ bootstrapServers, acks: 2 }));
    expect(e.code).toBe('INVALID_CONFIG');
    expect(e.message).toBe(`Producer option "acks" must be 'all', 1 or 0 (got 2)`);
  });

  it('suggests the right spelling of an unknown option', () => {
    const e = errorOf(() => resolveProducerOptions({ bootstrapServers, lingerMS: 10 }));
    expect(e.message).toContain('unknown Producer option "lingerMS" (did you mean "lingerMs"?)');
  });

  it('reports every problem at once', () => {
    const e = errorOf(() => resolveProducerOptions({ bootstrapServers: ['no-port'], batchSize: -1, compression: 'lz4' }));
    expect(e.message).toContain('"bootstrapServers"');
    expect(e.message).toContain('"batchSize" must be a whole number of bytes from 1 to 66060288 (63 MiB), so that one produce request fits in a 64 MiB gRPC message (got -1)');
    expect(e.message).toContain(`"compression" must be 'none', 'gzip' or 'zstd' (got "lz4")`);
  });

  it('refuses idempotence asked for together with acks other than all', () => {
    const e = errorOf(() => resolveProducerOptions({ bootstrapServers, acks: 1, idempotence: true }));
    expect(e.message).toContain("idempotence requires acks 'all' (got acks 1)");
    const f = errorOf(() => resolveProducerOptions({ bootstrapServers, idempotence: true, maxInFlight: 6 }));
    expect(f.message).toContain('at most 5 batches in flight');
  });

  it('turns default idempotence off when acks or maxInFlight rule it out', () => {
    expect(resolveProducerOptions({ bootstrapServers, acks: 1 }).idempotence).toBe(false);
    expect(resolveProducerOptions({ bootstrapServers, maxInFlight: 10 }).idempotence).toBe(false);
    expect(resolveProducerOptions({ bootstrapServers, acks: 'all' }).idempotence).toBe(true);
  });

  it('accepts Infinity and whole numbers for retries, nothing else', () => {
    expect(resolveProducerOptions({ bootstrapServers, retries: 3 }).retries).toBe(3);
    expect(errorOf(() => resolveProducerOptions({ bootstrapServers, retries: 1.5 })).message).toContain('"retries" must be a whole number >= 0, or Infinity (got 1.5)');
  });

  it('checks that the delivery timeout covers one attempt', () => {
    const e = errorOf(() => resolveProducerOptions({ bootstrapServers, deliveryTimeoutMs: 1000, requestTimeoutMs: 2000 }));
    expect(e.message).toContain('deliveryTimeoutMs (1000) must be at least lingerMs + requestTimeoutMs (2005)');
  });

  it('checks functions where functions are expected', () => {
    const e = errorOf(() => resolveProducerOptions({ bootstrapServers, interceptors: [{ onSend: 'nope' }] }));
    expect(e.message).toContain('Producer option "interceptors" at 0.onSend must be a function (got "nope")');
    expect(errorOf(() => resolveProducerOptions({ bootstrapServers, valueSerializer: 'yaml' })).message).toContain('"valueSerializer" must be');
    expect(resolveProducerOptions({ bootstrapServers, valueSerializer: (v: unknown) => Buffer.from(String(v)) }).valueSerializer).toBeTypeOf('function');
  });

  it('does not modify the object it was given', () => {
    const given = { bootstrapServers };
    resolveProducerOptions(given);
    expect(given).toEqual({ bootstrapServers });
  });

  it('is validated when the Producer is constructed', () => {
    expect(() => new Producer({ bootstrapServers: [] })).toThrow(/"bootstrapServers" must be a non-empty array/);
  });
});

describe('consumer and admin options', () => {
  it('fills consumer defaults', () => {
    expect(resolveConsumerOptions({ bootstrapServers })).toMatchObject({
      maxWaitMs: 500,
      minBytes: 1,
      maxBytes: 50 * 1024 * 1024,
      maxPartitionFetchBytes: 1024 * 1024,
      autoOffsetReset: 'latest',
      maxPollRecords: 500,
    });
  });

  it('names bad consumer options', () => {
    expect(errorOf(() => resolveConsumerOptions({ bootstrapServers, autoOffsetReset: 'smallest' })).message).toBe(
      `Consumer option "autoOffsetReset" must be 'earliest', 'latest' or 'none' (got "smallest")`,
    );
    expect(errorOf(() => resolveConsumerOptions({ bootstrapServers, maxBytes: 10, maxPartitionFetchBytes: 20 })).message).toContain(
      'maxPartitionFetchBytes (20) must not exceed maxBytes (10)',
    );
  });

  it('caps fetch and batch sizes so that every request and reply fits in one 64 MiB gRPC message', () => {
    const gib = 2 * 1024 * 1024 * 1024 - 1;
    for (const option of ['maxBytes', 'maxPartitionFetchBytes'] as const) {
      const e = errorOf(() => resolveConsumerOptions({ bootstrapServers, maxBytes: 100 * 1024 * 1024, [option]: gib }));
      expect(e.code).toBe('INVALID_CONFIG');
      expect(e.message).toContain(`Consumer option "${option}" must be a whole number of bytes from 1 to 66060288 (63 MiB), so that one fetch reply fits in a 64 MiB gRPC message (got ${gib})`);
    }
    expect(resolveConsumerOptions({ bootstrapServers, maxBytes: 66060288, maxPartitionFetchBytes: 66060288 }).maxBytes).toBe(66060288);
    const e = errorOf(() => resolveProducerOptions({ bootstrapServers, batchSize: 64 * 1024 * 1024 }));
    expect(e.message).toContain('Producer option "batchSize" must be a whole number of bytes from 1 to 66060288 (63 MiB), so that one produce request fits in a 64 MiB gRPC message (got 67108864)');
  });

  it('requires bootstrapServers and refuses producer options on an admin client', () => {
    expect(errorOf(() => resolveAdminOptions({})).message).toContain('Admin option "bootstrapServers" is required');
    expect(errorOf(() => resolveAdminOptions({ bootstrapServers, acks: 1 })).message).toContain('unknown Admin option "acks"');
    expect(errorOf(() => resolveAdminOptions(null)).message).toContain('Admin options must be an object');
  });
});
