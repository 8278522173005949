import { afterEach, describe, expect, it } from 'vitest';
import * as grpc from '@grpc/grpc-js';
import { SluiceError } from './errors.ts';
import { codeFromProto, codeToProto, fromErrorDetail, fromServiceError, toErrorDetail, toServiceError } from './grpc-errors.ts';
import { loadSluiceProto } from './proto.ts';

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

describe('gRPC transport failures against a real grpc-js server', () => {
  let server: grpc.Server | null = null;
  let client: grpc.Client | null = null;

  afterEach(() => {
    client?.close();
    server?.forceShutdown();
    client = null;
    server = null;
  });

  /** A LogService whose Fetch answers with `reply` bytes of records, or never when reply is null. */
  async function start(reply: number | null, clientOptions: grpc.ChannelOptions = {}): Promise<{ fetch: () => { call: grpc.ClientUnaryCall; result: Promise<unknown> } }> {
    const { proto } = loadSluiceProto();
    server = new grpc.Server();
    server.addService(proto.sluice.v1.LogService.service, {
      Fetch: (_call: unknown, cb: grpc.sendUnaryData<unknown>) => {
        if (reply !== null) cb(null, { partitions: [{ topic: 't', partition: 0, records: Buffer.alloc(reply) }] });
      },
    });
    const port = await new Promise<number>((resolve, reject) => server!.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (err, p) => (err ? reject(err) : resolve(p))));
    const log = new proto.sluice.v1.LogService(`127.0.0.1:${port}`, grpc.credentials.createInsecure(), clientOptions);
    client = log;
    return {
      fetch: () => {
        let call!: grpc.ClientUnaryCall;
        const result = new Promise<unknown>((resolve) => {
          call = log.Fetch({ partitions: [] }, (err) => resolve(err));
        });
        return { call, result };
      },
    };
  }

  it('a call the client cancels itself is CLOSED', async () => {
    const { fetch } = await start(null);
    const { call, result } = fetch();
    await new Promise((r) => setTimeout(r, 50));
    call.cancel();
    const e = fromServiceError(await result);
    expect(e.code).toBe('CLOSED');
    expect(e.retriable).toBe(false);
  });

  it('a call the server cancels (forceShutdown of a stopping broker) is BROKER_NOT_AVAILABLE, so clients retry', async () => {
    const { fetch } = await start(null);
    const { result } = fetch();
    await new Promise((r) => setTimeout(r, 50));
    server!.forceShutdown();
    const err = (await result) as grpc.ServiceError;
    const e = fromServiceError(err);
    expect(e.code).toBe('BROKER_NOT_AVAILABLE');
    expect(e.retriable).toBe(true);
  });

  it('a reply over the message size limit is MESSAGE_TOO_LARGE, explaining the 64 MiB gRPC limit', async () => {
    const { fetch } = await start(4096, { 'grpc.max_receive_message_length': 1024 });
    const err = (await fetch().result) as grpc.ServiceError;
    expect(err.code).toBe(grpc.status.RESOURCE_EXHAUSTED);
    const e = fromServiceError(err);
    expect(e.code).toBe('MESSAGE_TOO_LARGE');
    expect(e.message).toMatch(/larger than max.*64 MiB gRPC message limit/);
  });
});
