// The one error type of Sluice. Every failure that crosses a module or process boundary is a
// SluiceError with a code from the closed list below; gRPC status codes are derived from it,
// so a client in any language sees the same pair (gRPC status, Sluice code).
import { status as GrpcStatus } from '@grpc/grpc-js';

/** Closed list of Sluice error codes. Mirrors `sluice.v1.ErrorCode` (without its prefix). */
export const ERROR_CODES = {
  NONE: { retriable: false, grpc: GrpcStatus.OK },
  UNKNOWN: { retriable: false, grpc: GrpcStatus.UNKNOWN },
  INVALID_REQUEST: { retriable: false, grpc: GrpcStatus.INVALID_ARGUMENT },
  CORRUPT_MESSAGE: { retriable: false, grpc: GrpcStatus.INVALID_ARGUMENT },
  MESSAGE_TOO_LARGE: { retriable: false, grpc: GrpcStatus.INVALID_ARGUMENT },
  UNSUPPORTED_COMPRESSION: { retriable: false, grpc: GrpcStatus.INVALID_ARGUMENT },
  INVALID_TIMESTAMP: { retriable: false, grpc: GrpcStatus.INVALID_ARGUMENT },
  INVALID_TOPIC: { retriable: false, grpc: GrpcStatus.INVALID_ARGUMENT },
  INVALID_PARTITIONS: { retriable: false, grpc: GrpcStatus.INVALID_ARGUMENT },
  INVALID_REPLICATION_FACTOR: { retriable: false, grpc: GrpcStatus.INVALID_ARGUMENT },
  INVALID_CONFIG: { retriable: false, grpc: GrpcStatus.INVALID_ARGUMENT },
  TOPIC_ALREADY_EXISTS: { retriable: false, grpc: GrpcStatus.ALREADY_EXISTS },
  UNKNOWN_TOPIC_OR_PARTITION: { retriable: true, grpc: GrpcStatus.NOT_FOUND },
  OFFSET_OUT_OF_RANGE: { retriable: false, grpc: GrpcStatus.OUT_OF_RANGE },
  NOT_LEADER: { retriable: true, grpc: GrpcStatus.FAILED_PRECONDITION },
  LEADER_NOT_AVAILABLE: { retriable: true, grpc: GrpcStatus.UNAVAILABLE },
  NOT_ENOUGH_REPLICAS: { retriable: true, grpc: GrpcStatus.UNAVAILABLE },
  NOT_ENOUGH_REPLICAS_AFTER_APPEND: { retriable: true, grpc: GrpcStatus.UNAVAILABLE },
  REQUEST_TIMED_OUT: { retriable: true, grpc: GrpcStatus.DEADLINE_EXCEEDED },
  STORAGE_ERROR: { retriable: true, grpc: GrpcStatus.RESOURCE_EXHAUSTED },
  OUT_OF_ORDER_SEQUENCE: { retriable: false, grpc: GrpcStatus.FAILED_PRECONDITION },
  UNKNOWN_PRODUCER_ID: { retriable: false, grpc: GrpcStatus.FAILED_PRECONDITION },
  INVALID_PRODUCER_EPOCH: { retriable: false, grpc: GrpcStatus.FAILED_PRECONDITION },
  FENCED_LEADER_EPOCH: { retriable: true, grpc: GrpcStatus.FAILED_PRECONDITION },
  UNKNOWN_LEADER_EPOCH: { retriable: true, grpc: GrpcStatus.FAILED_PRECONDITION },
  STALE_BROKER_EPOCH: { retriable: false, grpc: GrpcStatus.FAILED_PRECONDITION },
  NOT_CONTROLLER: { retriable: true, grpc: GrpcStatus.UNAVAILABLE },
  BROKER_NOT_AVAILABLE: { retriable: true, grpc: GrpcStatus.UNAVAILABLE },
  POLICY_VIOLATION: { retriable: false, grpc: GrpcStatus.FAILED_PRECONDITION },
  BUFFER_EXHAUSTED: { retriable: true, grpc: GrpcStatus.RESOURCE_EXHAUSTED },
  CLOSED: { retriable: false, grpc: GrpcStatus.CANCELLED },
} as const satisfies Record<string, { retriable: boolean; grpc: GrpcStatus }>;

export type ErrorCode = keyof typeof ERROR_CODES;

export function isErrorCode(value: string): value is ErrorCode {
  return Object.hasOwn(ERROR_CODES, value);
}

/** Context that travels with an error so a client can act without another round trip. */
export interface ErrorDetails {
  topic?: string;
  partition?: number;
  /** For NOT_LEADER: where to send the request instead (-1 / '' when unknown). */
  leaderId?: number;
  leaderAddress?: string;
  leaderEpoch?: number;
  /** For OFFSET_OUT_OF_RANGE: the valid range is [logStartOffset, logEndOffset]. */
  logStartOffset?: number;
  logEndOffset?: number;
  brokerId?: number;
}

export class SluiceError extends Error {
  readonly code: ErrorCode;
  readonly details: ErrorDetails;

  constructor(code: ErrorCode, message: string, details: ErrorDetails = {}, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'SluiceError';
    this.code = code;
    this.details = details;
  }

  /** Whether the same request may succeed if retried (possibly after refreshing metadata). */
  get retriable(): boolean {
    return ERROR_CODES[this.code].retriable;
  }

  get grpcStatus(): GrpcStatus {
    return ERROR_CODES[this.code].grpc;
  }
}

export function isSluiceError(err: unknown, code?: ErrorCode): err is SluiceError {
  return err instanceof SluiceError && (code === undefined || err.code === code);
}
