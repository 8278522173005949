import { describe, expect, it } from 'vitest';
import { BATCH_HEADER_SIZE, encodeRecordBatch } from '../common/record-batch.ts';
import { RecordAccumulator, estimateRecordSize, type PendingRecord } from './record-accumulator.ts';

let nextId = 0;
function record(valueBytes: number): { record: PendingRecord; bytes: number } {
  const value = Buffer.alloc(valueBytes, 1);
  const r: PendingRecord = { key: null, value, headers: undefined, timestamp: 1, id: nextId++, resolve: () => {}, reject: () => {} };
  return { record: r, bytes: estimateRecordSize(null, value, undefined) };
}

describe('record accumulator', () => {
  it('fills one batch up to batchSize, then opens the next', () => {
    const one = record(100).bytes;
    const acc = new RecordAccumulator({ batchSize: BATCH_HEADER_SIZE + one * 3, bufferMemory: 1 << 20, lingerMs: 5 });
    const results = [];
    for (let i = 0; i < 7; i++) {
      const r = record(100);
      results.push(acc.append('t', 0, r.record, r.bytes, 0));
    }
    const q = acc.queue('t', 0);
    expect(q.batches.map((b) => b.records.length)).toEqual([3, 3, 1]);
    expect(q.batches.map((b) => b.closed)).toEqual([true, true, false]);
    // The append that filled a batch reports it, so the sender sends without waiting for linger.
    expect(results.map((r) => r.batchFull)).toEqual([false, false, true, false, false, true, false]);
    expect(results.map((r) => r.newBatch)).toEqual([true, false, false, true, false, false, true]);
  });

  it('gives a record larger than batchSize a batch of its own', () => {
    const acc = new RecordAccumulator({ batchSize: 500, bufferMemory: 1 << 20, lingerMs: 5 });
    for (const size of [10, 2000, 10]) {
      const r = record(size);
      acc.append('t', 0, r.record, r.bytes, 0);
    }
    expect(acc.queue('t', 0).batches.map((b) => b.records.length)).toEqual([1, 1, 1]);
  });

  it('keeps records in append order across batches', () => {
    const acc = new RecordAccumulator({ batchSize: 300, bufferMemory: 1 << 20, lingerMs: 5 });
    const ids: number[] = [];
    for (let i = 0; i < 20; i++) {
      const r = record(50);
      ids.push(r.record.id);
      acc.append('t', 0, r.record, r.bytes, 0);
    }
    expect(acc.queue('t', 0).batches.flatMap((b) => b.records.map((r) => r.id))).toEqual(ids);
    const batchIds = acc.queue('t', 0).batches.map((b) => b.id);
    expect([...batchIds].sort((a, b) => a - b)).toEqual(batchIds);
  });

  it('holds an open batch for lingerMs, a full one not at all, and none while flushing', () => {
    const acc = new RecordAccumulator({ batchSize: 1 << 16, bufferMemory: 1 << 20, lingerMs: 50 });
    const r = record(10);
    acc.append('t', 0, r.record, r.bytes, 1000);
    const q = acc.queue('t', 0);
    expect(acc.readyAt(q)).toBe(1050);
    acc.flushing++;
    expect(acc.readyAt(q)).toBe(0);
    acc.flushing--;
    q.batches[0]!.closed = true;
    expect(acc.readyAt(q)).toBe(0);
    q.retryAt = 2000;
    expect(acc.readyAt(q)).toBe(2000);
    expect(acc.readyAt(acc.queue('t', 1))).toBe(Number.POSITIVE_INFINITY);
  });

  it('charges bufferMemory per record and gives it back when a batch settles', () => {
    const r1 = record(1000);
    const acc = new RecordAccumulator({ batchSize: 1 << 16, bufferMemory: r1.bytes * 2, lingerMs: 5 });
    expect(acc.hasRoom(r1.bytes)).toBe(true);
    acc.append('a', 0, r1.record, r1.bytes, 0);
    const r2 = record(1000);
    acc.append('b', 0, r2.record, r2.bytes, 0);
    expect(acc.usedMemory).toBe(r1.bytes * 2);
    expect(acc.hasRoom(1)).toBe(false);
    const batchA = acc.queue('a', 0).batches[0]!;
    acc.release(batchA);
    acc.release(batchA);
    expect(acc.usedMemory).toBe(r2.bytes);
    expect(acc.hasRoom(r1.bytes)).toBe(true);
  });

  it('tracks the oldest unsettled record for flush()', () => {
    const acc = new RecordAccumulator({ batchSize: 1 << 16, bufferMemory: 1 << 20, lingerMs: 5 });
    const a = record(10);
    const b = record(10);
    acc.append('a', 0, a.record, a.bytes, 0);
    acc.append('b', 0, b.record, b.bytes, 0);
    expect(acc.oldestIncompleteRecordId()).toBe(a.record.id);
    acc.release(acc.queue('a', 0).batches[0]!);
    expect(acc.oldestIncompleteRecordId()).toBe(b.record.id);
    acc.release(acc.queue('b', 0).batches[0]!);
    expect(acc.oldestIncompleteRecordId()).toBe(Number.POSITIVE_INFINITY);
  });

  it('estimates at least the encoded size of a record', () => {
    const key = Buffer.from('key');
    const value = Buffer.alloc(300, 7);
    const headers = [{ key: 'h', value: Buffer.from('v') }];
    const encoded = encodeRecordBatch([{ key, value, headers, timestamp: Date.now() }]);
    expect(estimateRecordSize(key, value, headers) + BATCH_HEADER_SIZE).toBeGreaterThanOrEqual(encoded.length);
  });
});
