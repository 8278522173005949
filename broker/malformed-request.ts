// Requests whose bytes do not parse as their protobuf message. grpc-js answers those itself
// with INTERNAL "Error deserializing request", which reads as a broker fault and carries no
// Sluice code. A parse failure is the caller's mistake, so the broker's services deserialize
// tolerantly: a message that fails to parse becomes a marker object, and the handlers answer
// it with INVALID_ARGUMENT + INVALID_REQUEST like any other malformed request.
import type * as grpc from '@grpc/grpc-js';
import { SluiceError } from '../common/errors.ts';
import { toServiceError } from '../common/grpc-errors.ts';

const MALFORMED = Symbol('sluice.malformedRequest');

interface MalformedRequest {
  readonly [MALFORMED]: SluiceError;
}

type Method = grpc.MethodDefinition<object, object> & { requestType?: { type?: { name?: string } } };

/** The refusal of a request that did not parse, or null for a real request. */
export function malformedRequestError(request: unknown): SluiceError | null {
  return (request as Partial<MalformedRequest> | null)?.[MALFORMED] ?? null;
}

/** The service definition with deserializers that never throw (see the file comment). */
export function tolerantServiceDefinition(service: grpc.ServiceDefinition): grpc.ServiceDefinition {
  const out: Record<string, grpc.MethodDefinition<object, object>> = {};
  for (const [name, def] of Object.entries(service)) {
    const method = def as Method;
    const typeName = method.requestType?.type?.name ?? 'request';
    out[name] = {
      ...method,
      requestDeserialize: (bytes: Buffer) => {
        try {
          return method.requestDeserialize(bytes);
        } catch (err) {
          const marker: MalformedRequest = {
            [MALFORMED]: new SluiceError('INVALID_REQUEST', `the ${bytes.length}-byte message sent to ${method.path} is not a valid ${typeName} (${(err as Error).message}); send a serialized sluice.v1.${typeName}`),
          };
          return marker as unknown as object;
        }
      },
    };
  }
  return out;
}

/**
 * Wraps unary and server-streaming handlers so a malformed request is refused before the
 * handler sees it. Handlers of client-streaming methods check each message themselves.
 */
export function refuseMalformedRequests<H extends grpc.UntypedServiceImplementation>(service: grpc.ServiceDefinition, handlers: H): H {
  const out: grpc.UntypedServiceImplementation = {};
  for (const [name, handler] of Object.entries(handlers)) {
    const method = service[name];
    if (!method || method.requestStream) {
      out[name] = handler;
    } else if (method.responseStream) {
      const h = handler as grpc.handleServerStreamingCall<unknown, unknown>;
      out[name] = ((call: grpc.ServerWritableStream<unknown, unknown>) => {
        const error = malformedRequestError(call.request);
        if (error) call.emit('error', toServiceError(error));
        else h(call);
      }) as grpc.handleServerStreamingCall<unknown, unknown>;
    } else {
      const h = handler as grpc.handleUnaryCall<unknown, unknown>;
      out[name] = ((call: grpc.ServerUnaryCall<unknown, unknown>, callback: grpc.sendUnaryData<unknown>) => {
        const error = malformedRequestError(call.request);
        if (error) callback(toServiceError(error));
        else h(call, callback);
      }) as grpc.handleUnaryCall<unknown, unknown>;
    }
  }
  return out as H;
}
