// Errors in the shape the Kubernetes API server sends them: a `Status` object (kind Status,
// status Failure, reason, code, details) with the matching HTTP code. Messages and details
// follow apimachinery's `k8s.io/apimachinery/pkg/api/errors` constructors, because operator
// code branches on `reason`/`code` and logs `message`, and a double that answered with
// different words would let code pass here that misreads a real server.

export interface StatusCause {
  /** FieldValueInvalid, FieldValueRequired, FieldValueNotSupported, FieldValueForbidden, … */
  reason: string;
  message: string;
  field?: string;
}

export interface StatusDetails {
  name?: string;
  group?: string;
  kind?: string;
  uid?: string;
  causes?: StatusCause[];
  retryAfterSeconds?: number;
}

export interface KubeStatus {
  kind: 'Status';
  apiVersion: 'v1';
  metadata: Record<string, never>;
  status: 'Success' | 'Failure';
  message?: string;
  reason?: string;
  details?: StatusDetails;
  code: number;
}

/** A refusal the double sends as a Status; thrown by the store, turned into a response by the server. */
export class KubeStatusError extends Error {
  readonly status: KubeStatus;
  constructor(status: KubeStatus) {
    super(status.message ?? status.reason ?? `HTTP ${status.code}`);
    this.name = 'KubeStatusError';
    this.status = status;
  }
  get code(): number {
    return this.status.code;
  }
  get reason(): string | undefined {
    return this.status.reason;
  }
}

/** Which resource an error is about, as apimachinery's GroupResource (+ Kind for Invalid). */
export interface ErrorTarget {
  group: string;
  /** Plural resource name: `topics`, `pods`. */
  resource: string;
  kind: string;
}

function qualifiedResource(t: ErrorTarget): string {
  return t.group === '' ? t.resource : `${t.resource}.${t.group}`;
}

function qualifiedKind(t: ErrorTarget): string {
  return t.group === '' ? t.kind : `${t.kind}.${t.group}`;
}

function failure(code: number, reason: string, message: string, details?: StatusDetails): KubeStatusError {
  const status: KubeStatus = { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message, reason, code };
  if (details !== undefined) status.details = details;
  return new KubeStatusError(status);
}

function resourceDetails(t: ErrorTarget, name: string): StatusDetails {
  const details: StatusDetails = { name, kind: t.resource };
  if (t.group !== '') details.group = t.group;
  return details;
}

export function notFound(t: ErrorTarget, name: string): KubeStatusError {
  return failure(404, 'NotFound', `${qualifiedResource(t)} "${name}" not found`, resourceDetails(t, name));
}

export function alreadyExists(t: ErrorTarget, name: string): KubeStatusError {
  return failure(409, 'AlreadyExists', `${qualifiedResource(t)} "${name}" already exists`, resourceDetails(t, name));
}

/** A write based on an old resourceVersion (optimistic concurrency), or a failed precondition. */
export function conflict(t: ErrorTarget, name: string, why: string): KubeStatusError {
  return failure(409, 'Conflict', `Operation cannot be fulfilled on ${qualifiedResource(t)} "${name}": ${why}`, resourceDetails(t, name));
}

export const STALE_OBJECT_MESSAGE = 'the object has been modified; please apply your changes to the latest version and try again';

/** A field error as apimachinery's field.Error renders it; `message` excludes the field prefix. */
export function fieldError(reason: string, field: string, message: string): StatusCause {
  return { reason, field, message };
}

/** 422 with every cause listed, message `Kind.group "name" is invalid: [f: m, …]`. */
export function invalid(t: ErrorTarget, name: string, causes: StatusCause[]): KubeStatusError {
  const rendered = causes.map((c) => (c.field ? `${c.field}: ${c.message}` : c.message));
  const joined = rendered.length === 1 ? rendered[0] : `[${rendered.join(', ')}]`;
  const details: StatusDetails = { name, kind: t.kind, causes };
  if (t.group !== '') details.group = t.group;
  return failure(422, 'Invalid', `${qualifiedKind(t)} "${name}" is invalid: ${joined}`, details);
}

export function badRequest(message: string): KubeStatusError {
  return failure(400, 'BadRequest', message);
}

/** 410 Gone: a watch or list from a resourceVersion the server no longer has history for. */
export function expired(message: string): KubeStatusError {
  return failure(410, 'Expired', message);
}

export function methodNotAllowed(message: string): KubeStatusError {
  return failure(405, 'MethodNotAllowed', message);
}

export function unsupportedMediaType(message: string): KubeStatusError {
  return failure(415, 'UnsupportedMediaType', message);
}

export function internalError(message: string): KubeStatusError {
  return failure(500, 'InternalError', `Internal error occurred: ${message}`, { causes: [{ reason: '', message }] });
}

/** The server's answer to a list/watch from a resourceVersion it has not reached yet. */
export function resourceVersionTooLarge(requested: number, current: number): KubeStatusError {
  return failure(504, 'Timeout', `Too large resource version: ${requested}, current: ${current}`, {
    causes: [{ reason: 'ResourceVersionTooLarge', message: 'Too large resource version' }],
    retryAfterSeconds: 1,
  });
}

/** The endpoint does not exist (unknown group, version or resource). */
export function noSuchEndpoint(): KubeStatusError {
  return failure(404, 'NotFound', 'the server could not find the requested resource', {});
}

/** A Status the test chose to inject (fault injection hook). */
export function injected(code: number, reason: string, message: string, retryAfterSeconds?: number): KubeStatusError {
  return failure(code, reason, message, retryAfterSeconds === undefined ? undefined : { retryAfterSeconds });
}

/** DELETE of a resource whose registry answers with a Status rather than the deleted object. */
export function deleteSuccess(t: ErrorTarget, name: string, uid: string): KubeStatus {
  const details: StatusDetails = { name, kind: t.resource, uid };
  if (t.group !== '') details.group = t.group;
  return { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Success', details, code: 200 };
}

/** How apimachinery prints a value inside `Invalid value: …`: strings quoted, numbers bare. */
export function formatFieldValue(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value);
  if (typeof value === 'number' || typeof value === 'boolean' || typeof value === 'bigint') return String(value);
  if (value === null || value === undefined) return 'null';
  return Array.isArray(value) ? '"array"' : '"object"';
}
