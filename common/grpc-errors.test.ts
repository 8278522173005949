import { describe, expect, it } from 'vitest';
import * as grpc from '@grpc/grpc-js';
import { SluiceError } from './errors.ts';
import { codeFromProto, codeToProto, fromErrorDetail, fromServiceError, toErrorDetail, toServiceError } from './grpc-errors.ts';

describe('gRPC error mapping', () => {
  it('carries code, leader and offset range through status trailers', () => {
    const original = new SluiceError('NOT_LEADER', 'broker 1 does not lead orders-3', { topic: 'orders', partition: 3, leaderId: 2, leaderAddress: '127.0.0.1:9094', leaderEpoch: 7 });
    const wire = toServiceError(original);
    expect(wire.code).toBe(grpc.status.FAILED_PRECONDITION);
    expect(wire.metadata?.get('sluice-error-code')).toEqual(['NOT_LEADER']);
    const back = fromServiceError(wire);
    expect(back.code).toBe('NOT_LEADER');
    expect(back.message).toBe('broker 1 does not lead orders-3');
    expect(back.details).toMatchObject({ topic: 'orders', partition: 3, leaderId: 2, leaderAddress: '127.0.0.1:9094', leaderEpoch: 7 });
    expect(back.retriable).toBe(true);
  });

  it('round-trips OFFSET_OUT_OF_RANGE with the valid range through ErrorDetail', () => {
    const e = fromErrorDetail(toErrorDetail(new SluiceError('OFFSET_OUT_OF_RANGE', 'x', { logStartOffset: 10, logEndOffset: 20 })));
    expect(e?.code).toBe('OFFSET_OUT_OF_RANGE');
    expect(e?.details).toMatchObject({ logStartOffset: 10, logEndOffset: 20 });
  });

  it('reads "no error" as null and maps enum names both ways', () => {
    expect(fromErrorDetail(null)).toBeNull();
    expect(fromErrorDetail({ code: 'ERROR_CODE_UNSPECIFIED', message: '' } as never)).toBeNull();
    expect(codeFromProto('ERROR_CODE_STORAGE_ERROR')).toBe('STORAGE_ERROR');
    expect(codeToProto('STORAGE_ERROR')).toBe('ERROR_CODE_STORAGE_ERROR');
    expect(codeFromProto('ERROR_CODE_FROM_THE_FUTURE')).toBe('UNKNOWN');
  });

  it('turns transport failures without trailers into retriable Sluice errors', () => {
    const e = fromServiceError({ code: grpc.status.UNAVAILABLE, details: 'connect ECONNREFUSED', metadata: new grpc.Metadata() });
    expect(e.code).toBe('BROKER_NOT_AVAILABLE');
    expect(e.retriable).toBe(true);
  });
});
