// SluiceError <-> gRPC status. A unary call that fails as a whole ends with the gRPC status
// derived from the Sluice code, plus trailers: `sluice-error-code` (readable in grpcurl) and
// `sluice-error-bin` (a serialized sluice.v1.ErrorDetail with the leader or offset range).
import * as grpc from '@grpc/grpc-js';
import protobuf from 'protobufjs';
import { ERROR_CODES, SluiceError, isErrorCode, type ErrorCode, type ErrorDetails } from './errors.ts';
import { MAX_GRPC_MESSAGE_BYTES, PROTO_ROOT } from './proto.ts';
import type { ErrorDetail, ErrorDetail__Output } from '../proto/gen/sluice/v1/ErrorDetail.ts';

const PREFIX = 'ERROR_CODE_';
/**
 * The details grpc-js gives a call that this process cancelled (ClientUnaryCall.cancel() and
 * friends, call.ts). Every other CANCELLED comes from the other side: a server that is
 * stopping (forceShutdown resets its streams) or a proxy. The test in grpc-errors.test.ts runs
 * both against grpc-js, so an upgrade that changes the text fails there, not in production.
 */
const CANCELLED_BY_CLIENT = 'Cancelled on client';
/** grpc-js: "Received message larger than max (N vs. M)" / "Sent message larger than max (N vs. M)". */
const MESSAGE_SIZE_LIMIT = /message larger than max/i;

let errorDetailType: protobuf.Type | undefined;
function detailType(): protobuf.Type {
  if (!errorDetailType) {
    const root = new protobuf.Root();
    root.resolvePath = (_origin, target) => `${PROTO_ROOT}/${target}`;
    root.loadSync('sluice/v1/common.proto', { keepCase: true });
    errorDetailType = root.lookupType('sluice.v1.ErrorDetail');
  }
  return errorDetailType;
}

/** Proto enum name (`ERROR_CODE_NOT_LEADER`) -> Sluice code (`NOT_LEADER`). */
export function codeFromProto(name: string | number | undefined): ErrorCode {
  if (name === undefined || name === 0 || name === 'ERROR_CODE_UNSPECIFIED') return 'NONE';
  const short = typeof name === 'string' && name.startsWith(PREFIX) ? name.slice(PREFIX.length) : String(name);
  return isErrorCode(short) ? short : 'UNKNOWN';
}

export function codeToProto(code: ErrorCode): string {
  return code === 'NONE' ? 'ERROR_CODE_UNSPECIFIED' : `${PREFIX}${code}`;
}

/** The ErrorDetail message for a response field. `undefined` error = no error (null field). */
export function toErrorDetail(err: SluiceError): ErrorDetail {
  const d = err.details;
  return {
    code: codeToProto(err.code) as ErrorDetail['code'],
    message: err.message,
    topic: d.topic ?? '',
    partition: d.partition ?? 0,
    leader_id: d.leaderId ?? -1,
    leader_address: d.leaderAddress ?? '',
    leader_epoch: d.leaderEpoch ?? -1,
    log_start_offset: d.logStartOffset ?? -1,
    log_end_offset: d.logEndOffset ?? -1,
  };
}

/** A SluiceError from an ErrorDetail field, or null when the field says "no error". */
export function fromErrorDetail(detail: ErrorDetail__Output | ErrorDetail | null | undefined): SluiceError | null {
  if (!detail) return null;
  const code = codeFromProto(detail.code as string | number | undefined);
  if (code === 'NONE') return null;
  const details: ErrorDetails = {};
  if (detail.topic) details.topic = detail.topic;
  if (detail.topic) details.partition = Number(detail.partition ?? 0);
  if (detail.leader_id !== undefined && Number(detail.leader_id) >= 0) details.leaderId = Number(detail.leader_id);
  if (detail.leader_address) details.leaderAddress = detail.leader_address;
  if (detail.leader_epoch !== undefined && Number(detail.leader_epoch) >= 0) details.leaderEpoch = Number(detail.leader_epoch);
  if (detail.log_start_offset !== undefined && Number(detail.log_start_offset) >= 0) details.logStartOffset = Number(detail.log_start_offset);
  if (detail.log_end_offset !== undefined && Number(detail.log_end_offset) >= 0) details.logEndOffset = Number(detail.log_end_offset);
  return new SluiceError(code, detail.message ?? code, details);
}

/** The error object a grpc-js handler passes to its callback (or `call.emit('error')`). */
export function toServiceError(err: unknown): Partial<grpc.ServiceError> {
  const sluice = asSluiceError(err);
  const metadata = new grpc.Metadata();
  metadata.set('sluice-error-code', sluice.code);
  metadata.set('sluice-error-bin', Buffer.from(detailType().encode(detailType().fromObject(toErrorDetail(sluice))).finish()));
  return { code: sluice.grpcStatus, details: sluice.message, metadata };
}

/** A SluiceError from whatever a grpc-js client call failed with. */
export function fromServiceError(err: unknown): SluiceError {
  if (err instanceof SluiceError) return err;
  const e = err as Partial<grpc.ServiceError> | undefined;
  const bin = e?.metadata?.get('sluice-error-bin')?.[0];
  if (bin instanceof Buffer) {
    const obj = detailType().toObject(detailType().decode(bin), { longs: Number, enums: String, defaults: true });
    const decoded = fromErrorDetail(obj as ErrorDetail__Output);
    if (decoded) return decoded;
  }
  const code = e?.code;
  const message = e?.details || e?.message || String(err);
  switch (code) {
    case grpc.status.UNAVAILABLE:
      return new SluiceError('BROKER_NOT_AVAILABLE', `broker unreachable: ${message}`, {}, { cause: err });
    case grpc.status.DEADLINE_EXCEEDED:
      return new SluiceError('REQUEST_TIMED_OUT', `request timed out: ${message}`, {}, { cause: err });
    case grpc.status.CANCELLED:
      // Only a cancellation this client made is final; the server cancelling calls is a broker
      // going away (a restart's forceShutdown), which a retry elsewhere or later gets past.
      if (message === CANCELLED_BY_CLIENT) return new SluiceError('CLOSED', `request cancelled: ${message}`, {}, { cause: err });
      return new SluiceError('BROKER_NOT_AVAILABLE', `the broker cancelled the request (it may be shutting down): ${message}`, {}, { cause: err });
    case grpc.status.RESOURCE_EXHAUSTED:
      // Brokers send their own RESOURCE_EXHAUSTED with a trailer (decoded above); without one it
      // is grpc-js refusing a message over the size limit, or an HTTP/2 peer out of resources.
      if (MESSAGE_SIZE_LIMIT.test(message)) {
        return new SluiceError(
          'MESSAGE_TOO_LARGE',
          `${message}: a request or reply went over the ${MAX_GRPC_MESSAGE_BYTES / 1024 / 1024} MiB gRPC message limit of Sluice clients and brokers; ask for less per call (consumer maxBytes / maxPartitionFetchBytes, producer batchSize)`,
          {},
          { cause: err },
        );
      }
      return new SluiceError('BROKER_NOT_AVAILABLE', `the broker refused the call for lack of resources: ${message}`, {}, { cause: err });
    case grpc.status.INVALID_ARGUMENT:
      return new SluiceError('INVALID_REQUEST', message, {}, { cause: err });
    default:
      return new SluiceError('UNKNOWN', message, {}, { cause: err });
  }
}

/** Anything thrown inside a handler becomes a SluiceError; unexpected ones keep their cause. */
export function asSluiceError(err: unknown): SluiceError {
  if (err instanceof SluiceError) return err;
  const message = err instanceof Error ? err.message : String(err);
  return new SluiceError('UNKNOWN', `internal error: ${message}`, {}, { cause: err });
}

export { ERROR_CODES };
