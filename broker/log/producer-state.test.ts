import { describe, expect, it } from 'vitest';
import { SluiceError } from '../../common/errors.ts';
import { ProducerStateManager, checkLeaderBatch, decodeProducerSnapshot, encodeProducerSnapshot, lastSequenceOf, withBatch, type ProducerBatchInfo, type ProducerEntry } from './producer-state.ts';

const details = { topic: 't', partition: 0 };
let nextOffset = 0;
function info(producerEpoch: number, baseSequence: number, count = 3, producerId = 1): ProducerBatchInfo {
  const baseOffset = nextOffset;
  nextOffset += count;
  return { producerId, producerEpoch, baseSequence, lastOffsetDelta: count - 1, baseOffset, lastOffset: baseOffset + count - 1, maxTimestamp: 1000 + baseOffset };
}

function codeOf(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    return (err as SluiceError).code;
  }
  return 'NONE';
}

describe('producer state', () => {
  it('wraps sequences at int32 max like Kafka', () => {
    expect(lastSequenceOf(10, 4)).toBe(14);
    expect(lastSequenceOf(0x7fffffff, 0)).toBe(0x7fffffff);
    expect(lastSequenceOf(0x7fffffff, 1)).toBe(0);
    expect(lastSequenceOf(0x7ffffffe, 5)).toBe(3);
  });

  it('validates leader batches', () => {
    let entry: ProducerEntry | undefined;
    expect(codeOf(() => checkLeaderBatch(entry, info(0, 1), details))).toBe('UNKNOWN_PRODUCER_ID');
    const first = info(0, 0);
    expect(checkLeaderBatch(entry, first, details)).toBeNull();
    entry = withBatch(entry, first);
    expect(checkLeaderBatch(entry, info(0, 0), details)).toMatchObject({ firstSeq: 0, lastSeq: 2, firstOffset: first.baseOffset });
    expect(codeOf(() => checkLeaderBatch(entry, info(0, 4), details))).toBe('OUT_OF_ORDER_SEQUENCE');
    expect(codeOf(() => checkLeaderBatch(entry, info(0, 2), details))).toBe('OUT_OF_ORDER_SEQUENCE');
    expect(checkLeaderBatch(entry, info(0, 3), details)).toBeNull();
    expect(codeOf(() => checkLeaderBatch(entry, info(1, 3), details))).toBe('OUT_OF_ORDER_SEQUENCE');
    expect(checkLeaderBatch(entry, info(1, 0), details)).toBeNull();
    entry = withBatch(entry, info(1, 0));
    expect(entry.batches).toHaveLength(1); // a new epoch forgets the old epoch's batches
    expect(codeOf(() => checkLeaderBatch(entry, info(0, 3), details))).toBe('INVALID_PRODUCER_EPOCH');
    expect(codeOf(() => checkLeaderBatch(entry, info(1, -1), details))).toBe('INVALID_REQUEST');
  });

  it('keeps the last five batches per producer', () => {
    let entry: ProducerEntry | undefined;
    for (let i = 0; i < 8; i++) entry = withBatch(entry, info(0, i * 3));
    expect(entry!.batches.map((b) => b.firstSeq)).toEqual([9, 12, 15, 18, 21]);
  });

  it('expires producers idle past the expiration time', () => {
    const state = new ProducerStateManager();
    state.update(info(0, 0, 1, 1));
    state.update({ ...info(0, 0, 1, 2), maxTimestamp: 50_000 });
    expect(state.removeExpired(50_500, 10_000)).toBe(1);
    expect(state.get(1)).toBeUndefined();
    expect(state.get(2)).toBeDefined();
  });

  it('round-trips snapshots and refuses damaged or misplaced ones', () => {
    const state = new ProducerStateManager();
    for (let i = 0; i < 7; i++) state.update(info(3, i * 3, 3, 10));
    state.update(info(0, 0, 1, 2 ** 40));
    const bytes = encodeProducerSnapshot(99, state.entries());
    expect(decodeProducerSnapshot(bytes, 99, 'p')).toEqual(state.entries());
    expect(() => decodeProducerSnapshot(bytes, 98, 'p')).toThrow(/taken at offset 99/);
    const flipped = Buffer.from(bytes);
    flipped[30]! ^= 1;
    expect(() => decodeProducerSnapshot(flipped, 99, 'p')).toThrow(/CRC/);
    expect(() => decodeProducerSnapshot(bytes.subarray(0, 10), 99, 'p')).toThrow(/shorter than the header/);
  });
});
