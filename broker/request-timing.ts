// Request duration and result for the broker's unary gRPC methods (sluice_request_duration_seconds).
// The result is what the caller was answered: the Sluice error code of a failed call (its
// `sluice-error-code` trailer), else the first error carried inside the response (a produce's
// `error`, a fetch's per-partition errors), else "ok". Streaming methods time each request on
// the stream in their own handlers.
import type * as grpc from '@grpc/grpc-js';
import { codeFromProto } from '../common/grpc-errors.ts';
import type { RequestObserver } from './broker-metrics.ts';

interface WithErrors {
  error?: { code?: string | number } | null;
  partitions?: readonly { error?: { code?: string | number } | null }[];
}

/** The error code inside a successful response, or null when it carries none. */
export function responseErrorCode(response: unknown): string | null {
  const r = response as WithErrors | null | undefined;
  if (!r || typeof r !== 'object') return null;
  if (r.error) return codeFromProto(r.error.code);
  if (Array.isArray(r.partitions)) {
    for (const p of r.partitions) if (p?.error) return codeFromProto(p.error.code);
  }
  return null;
}

function failedCallCode(err: Partial<grpc.ServiceError> | null | undefined): string {
  const code = err?.metadata?.get('sluice-error-code')?.[0];
  return typeof code === 'string' && code !== '' ? code : 'UNKNOWN';
}

/** Wraps the unary handlers of `service` so each call is timed; others pass through. */
export function timeUnaryCalls<H extends grpc.UntypedServiceImplementation>(service: grpc.ServiceDefinition, handlers: H, observe: RequestObserver): H {
  const out: grpc.UntypedServiceImplementation = {};
  for (const [name, handler] of Object.entries(handlers)) {
    const method = service[name];
    if (!method || method.requestStream || method.responseStream) {
      out[name] = handler;
      continue;
    }
    const h = handler as grpc.handleUnaryCall<unknown, unknown>;
    out[name] = ((call: grpc.ServerUnaryCall<unknown, unknown>, callback: grpc.sendUnaryData<unknown>) => {
      const startedAt = performance.now();
      h(call, (err, value, trailer, flags) => {
        observe(name, startedAt, err ? failedCallCode(err) : responseErrorCode(value));
        callback(err, value, trailer, flags);
      });
    }) as grpc.handleUnaryCall<unknown, unknown>;
  }
  return out as H;
}
