import { describe, expect, it } from 'vitest';
import { loadSluiceProto } from '../common/proto.ts';
import { encodeProduceRequest } from './produce-stream.ts';

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
});
