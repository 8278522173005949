import { describe, expect, it } from 'vitest';
import { loadSluiceProto } from '../common/proto.ts';
import { encodeRecordBatch } from '../common/record-batch.ts';
import { encodeProduceRequest, produceRequestHeadroom } from './produce-stream.ts';

const decode = (buf: Buffer) => loadSluiceProto().proto.sluice.v1.LogService.service.ProduceStream.requestDeserialize(buf);

describe('ProduceRequest encoding', () => {
  it('is read back by the generated decoder field for field', () => {
    const records = Buffer.alloc(70_000, 9);
    const decoded = decode(
      encodeProduceRequest({ topic: 'orders-ü', partition: 300, acks: 'ACKS_LEADER', timeout_ms: 30_000, records, correlation_id: 2 ** 40 + 3 }),
    );
    expect(decoded).toEqual({ topic: 'orders-ü', partition: 300, acks: 'ACKS_LEADER', timeout_ms: 30_000, records, correlation_id: 2 ** 40 + 3 });
  });

  it('encodes zero values and every acks level', () => {
    for (const acks of ['ACKS_NONE', 'ACKS_LEADER', 'ACKS_ALL'] as const) {
      const decoded = decode(encodeProduceRequest({ topic: 't', partition: 0, acks, timeout_ms: 0, records: Buffer.alloc(0), correlation_id: 0 }));
      expect(decoded).toMatchObject({ topic: 't', partition: 0, acks, timeout_ms: 0, correlation_id: 0 });
      expect(decoded.records.length).toBe(0);
    }
  });

  it('refuses values the wire format would silently mangle', () => {
    expect(() => encodeProduceRequest({ topic: 't', partition: -1, acks: 'ACKS_ALL', records: Buffer.alloc(1), correlation_id: 1 })).toThrow(/partition -1/);
  });

  it('frames a batch encoded with headroom in place, without copying it', () => {
    const topic = 'orders-ü';
    const records = encodeRecordBatch([{ value: Buffer.alloc(70_000, 5), timestamp: 1 }], { headroom: produceRequestHeadroom(topic) });
    const before = Buffer.from(records);
    for (const correlationId of [1, 2 ** 40 + 3, Number.MAX_SAFE_INTEGER]) {
      const encoded = encodeProduceRequest({ topic, partition: 2 ** 31 - 1, acks: 'ACKS_ALL', timeout_ms: 2 ** 31 - 1, records, correlation_id: correlationId, recordsHeadroom: produceRequestHeadroom(topic) });
      expect(encoded.buffer).toBe(records.buffer);
      expect(encoded.byteOffset + encoded.length).toBe(records.byteOffset + records.length);
      const decoded = decode(encoded);
      expect(decoded).toEqual({ topic, partition: 2 ** 31 - 1, acks: 'ACKS_ALL', timeout_ms: 2 ** 31 - 1, records: before, correlation_id: correlationId });
    }
    expect(records.equals(before)).toBe(true);
  });

  it('copies when the headroom is too small for the fields', () => {
    const records = encodeRecordBatch([{ value: Buffer.from('x') }], { headroom: 4 });
    const encoded = encodeProduceRequest({ topic: 't', partition: 0, acks: 'ACKS_LEADER', records, correlation_id: 9, recordsHeadroom: 4 });
    expect(encoded.buffer).not.toBe(records.buffer);
    expect(decode(encoded)).toMatchObject({ topic: 't', records, correlation_id: 9 });
  });
});
