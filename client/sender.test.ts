import { describe, expect, it } from 'vitest';
import { encodeRecordBatch, readBatchHeader, validateBatch, decodeRecordBatch } from '../common/record-batch.ts';
import { restampProducerState } from './sender.ts';

describe('restampProducerState', () => {
  it('moves producer id, epoch and sequence of an encoded batch and keeps its CRC valid', () => {
    for (const compression of ['none', 'gzip'] as const) {
      const records = [{ value: Buffer.from('a'), timestamp: 5 }, { key: Buffer.from('k'), value: Buffer.from('b'), timestamp: 6 }];
      const batch = encodeRecordBatch(records, { compression, producerId: 7, producerEpoch: 1, baseSequence: 40 });
      restampProducerState(batch, 2 ** 33 + 5, 3, 12);
      const header = validateBatch(batch, 0, Number.POSITIVE_INFINITY, { fromProducer: true });
      expect(header).toMatchObject({ producerId: 2 ** 33 + 5, producerEpoch: 3, baseSequence: 12, recordsCount: 2 });
      expect(decodeRecordBatch(batch).records.map((r) => r.value!.toString())).toEqual(['a', 'b']);
    }
  });

  it('changes nothing but the producer-state fields and the CRC', () => {
    const batch = encodeRecordBatch([{ value: Buffer.from('x'), timestamp: 1 }], { producerId: 1, producerEpoch: 0, baseSequence: 0 });
    const before = Buffer.from(batch);
    restampProducerState(batch, 1, 0, 9);
    const changed = [...batch.keys()].filter((i) => batch[i] !== before[i]);
    expect(changed.every((i) => (i >= 17 && i < 21) || (i >= 53 && i < 57))).toBe(true);
    expect(readBatchHeader(batch).baseSequence).toBe(9);
  });
});
