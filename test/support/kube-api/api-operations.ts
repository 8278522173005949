// The REST verbs with the API server's rules (k8s.io/apiserver registry/generic/registry.Store
// and rest.BeforeCreate/BeforeUpdate/BeforeDelete), over the versioned store:
//  * create: server-owned metadata (uid, creationTimestamp, generation) set, status reset where
//    the strategy says, schema applied, 409 AlreadyExists;
//  * update: 409 Conflict when metadata.resourceVersion is not the current one (and 422 when a
//    custom resource omits it), server-owned metadata restored, status isolated when the
//    /status subresource exists, generation bumped on non-metadata changes, no new revision
//    for a no-op write, and removal when the last finalizer goes from an object being deleted;
//  * patch: merge / JSON patch applied to the current object, then the update rules;
//  * delete: preconditions, graceful deletion (pods on a node), finalizers (deletionTimestamp
//    set, generation bumped, object kept until the finalizers are gone).
import { isDeepStrictEqual } from 'node:util';
import {
  alreadyExists,
  badRequest,
  conflict,
  deleteSuccess,
  expired,
  fieldError,
  internalError,
  invalid,
  notFound,
  resourceVersionTooLarge,
  STALE_OBJECT_MESSAGE,
  unsupportedMediaType,
  type ErrorTarget,
  type KubeStatus,
  type StatusCause,
} from './api-status.ts';
import { applyJsonPatch, applyMergePatch, type Json } from './json-patch.ts';
import type { ObjectStore } from './object-store.ts';
import { formatTime, type KubeObject, type ObjectMeta, type ResourceType } from './resource-types.ts';
import { checkFieldSelector, matchesFields, matchesLabels, parseFieldSelector, parseLabelSelector } from './selectors.ts';

export type FieldValidation = 'Strict' | 'Warn' | 'Ignore';

export interface WriteOptions {
  dryRun?: boolean;
  /** What to do with fields the schema prunes: 400 (Strict), a Warning header (Warn, the default), nothing. */
  fieldValidation?: FieldValidation;
}

export interface UpdateOptions extends WriteOptions {
  subresource?: 'status';
}

export interface DeleteOptions {
  gracePeriodSeconds?: number;
  preconditions?: { uid?: string; resourceVersion?: string };
  dryRun?: boolean;
}

export interface ListQuery {
  labelSelector?: string;
  fieldSelector?: string;
  resourceVersion?: string;
  resourceVersionMatch?: string;
  limit?: number;
  continue?: string;
}

export interface WriteResult {
  object: KubeObject;
  /** Warning header texts (pruned unknown fields). */
  warnings: string[];
  /** An update of a missing object that created it (Events): the server answers 201. */
  created?: boolean;
}

export interface ListResult {
  apiVersion: string;
  kind: string;
  metadata: { resourceVersion: string; continue?: string; remainingItemCount?: number };
  items: KubeObject[];
}

export interface ApiOperationsOptions {
  now: () => Date;
  newUid: () => string;
  /**
   * How long the simulated kubelet takes to finish a graceful pod deletion (it then deletes with
   * grace period 0, as a kubelet does), at most the pod's grace period; 'manual' leaves pods
   * Terminating until a test does so.
   */
  podTerminationDelayMs: number | 'manual';
}

/** A predicate over objects in a view's form: namespace, name, label and field selectors. */
export type ObjectFilter = (obj: KubeObject) => boolean;

export function makeObjectFilter(t: ResourceType, namespace: string | undefined, name: string | undefined, labelSelector?: string, fieldSelector?: string): ObjectFilter {
  const labels = parseLabelSelector(labelSelector);
  const fields = parseFieldSelector(fieldSelector);
  checkFieldSelector(fields, t.fieldLabels, t.plural);
  return (obj) =>
    (namespace === undefined || obj.metadata.namespace === namespace) &&
    (name === undefined || obj.metadata.name === name) &&
    matchesLabels(labels, obj.metadata.labels) &&
    matchesFields(fields, t.fieldLabels, obj);
}

export function errorTarget(t: ResourceType): ErrorTarget {
  return { group: t.group, resource: t.plural, kind: t.kind };
}

// apimachinery validation.IsDNS1123Subdomain: what every object name here must be.
const DNS1123_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const DNS1123_SUBDOMAIN_MESSAGE =
  "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')";

function metadataCauses(meta: ObjectMeta): StatusCause[] {
  const name = meta.name ?? '';
  if (name.length > 253) return [fieldError('FieldValueInvalid', 'metadata.name', `Invalid value: ${JSON.stringify(name)}: must be no more than 253 characters`)];
  if (!DNS1123_SUBDOMAIN.test(name)) return [fieldError('FieldValueInvalid', 'metadata.name', `Invalid value: ${JSON.stringify(name)}: ${DNS1123_SUBDOMAIN_MESSAGE}`)];
  return [];
}

function isObject(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

/** Everything but metadata: what a generation bump compares. */
function withoutMetadata(obj: KubeObject): Record<string, unknown> {
  const { metadata: _m, ...rest } = obj;
  return rest;
}

/** Server-owned metadata an update cannot change (rest.BeforeUpdate). */
const SYSTEM_METADATA = ['uid', 'creationTimestamp', 'deletionTimestamp', 'deletionGracePeriodSeconds', 'generation'] as const;

const GENERATE_NAME_ALPHABET = 'bcdfghjklmnpqrstvwxz2456789';

export class ApiOperations {
  private readonly store: ObjectStore;
  private readonly options: ApiOperationsOptions;
  private readonly kubeletTimers = new Set<NodeJS.Timeout>();

  constructor(store: ObjectStore, options: ApiOperationsOptions) {
    this.store = store;
    this.options = options;
  }

  /** Cancels simulated-kubelet work (the double is stopping). */
  stop(): void {
    for (const t of this.kubeletTimers) clearTimeout(t);
    this.kubeletTimers.clear();
  }

  private checkTypeMeta(t: ResourceType, body: Record<string, unknown>): void {
    const { apiVersion, kind } = body;
    if (t.custom && (apiVersion === undefined || apiVersion === '')) throw badRequest(`Object 'apiVersion' is missing in '${JSON.stringify(body)}'`);
    if (t.custom && (kind === undefined || kind === '')) throw badRequest(`Object 'Kind' is missing in '${JSON.stringify(body)}'`);
    if (apiVersion !== undefined && apiVersion !== t.apiVersion) {
      throw badRequest(`the API version in the data (${String(apiVersion)}) does not match the expected API version (${t.apiVersion})`);
    }
    if (kind !== undefined && kind !== t.kind) throw badRequest(`the kind in the data (${String(kind)}) does not match the expected kind (${t.kind})`);
  }

  /** Prunes/defaults, then refuses with 422 (schema, CEL, built-in rules) or 400 (Strict). */
  private admit(t: ResourceType, next: KubeObject, old: KubeObject | undefined, options: WriteOptions): string[] {
    const pruned = t.normalize(next);
    const fieldValidation = options.fieldValidation ?? 'Warn';
    if (pruned.length > 0 && fieldValidation === 'Strict') {
      throw badRequest(`strict decoding error: ${pruned.map((f) => `unknown field "${f}"`).join(', ')}`);
    }
    const causes = [...metadataCauses(next.metadata), ...t.validate(next, old)];
    if (causes.length > 0) throw invalid(errorTarget(t), next.metadata.name ?? '', causes);
    return fieldValidation === 'Warn' ? pruned.map((f) => `unknown field "${f}"`) : [];
  }

  get(t: ResourceType, namespace: string | undefined, name: string): KubeObject {
    const stored = this.store.get(t.storageKey, namespace, name);
    if (!stored) throw notFound(errorTarget(t), name);
    return t.fromStorage(stored);
  }

  list(t: ResourceType, namespace: string | undefined, q: ListQuery): ListResult {
    const filter = makeObjectFilter(t, namespace, undefined, q.labelSelector, q.fieldSelector);
    const current = this.store.resourceVersion;
    let rv = current;
    let start = '';
    if (q.continue) {
      let token: { rv?: unknown; start?: unknown };
      try {
        token = JSON.parse(Buffer.from(q.continue, 'base64url').toString('utf8')) as typeof token;
      } catch {
        throw badRequest('continue key is not valid: incorrect encoded start resourceVersion (version meta.k8s.io/v1)');
      }
      if (typeof token.rv !== 'number' || typeof token.start !== 'string') throw badRequest('continue key is not valid');
      if (token.rv < this.store.oldestWatchableVersion) {
        throw expired('The provided continue parameter is too old to display a consistent list result. You can start a new list without the continue parameter.');
      }
      rv = token.rv;
      start = token.start;
    } else if (q.resourceVersion !== undefined && q.resourceVersion !== '' && q.resourceVersion !== '0') {
      const requested = Number(q.resourceVersion);
      if (!Number.isInteger(requested) || requested < 0) throw badRequest(`resourceVersion: Invalid value: ${JSON.stringify(q.resourceVersion)}: must be a non-negative integer`);
      if (requested > current) throw resourceVersionTooLarge(requested, current);
      // NotOlderThan (the default) is served from the newest state; Exact needs that snapshot.
      if (q.resourceVersionMatch === 'Exact') rv = requested;
    }
    const objects = rv === current ? this.store.list(t.storageKey) : this.store.listAt(t.storageKey, rv);
    let items = objects
      .map((o) => t.fromStorage(o))
      .filter(filter)
      .filter((o) => start === '' || `${o.metadata.namespace ?? ''}/${o.metadata.name}` > start);
    const metadata: ListResult['metadata'] = { resourceVersion: String(rv) };
    if (q.limit !== undefined && q.limit > 0 && items.length > q.limit) {
      const last = items[q.limit - 1];
      metadata.continue = Buffer.from(JSON.stringify({ v: 'meta.k8s.io/v1', rv, start: `${last.metadata.namespace ?? ''}/${last.metadata.name}` })).toString('base64url');
      metadata.remainingItemCount = items.length - q.limit;
      items = items.slice(0, q.limit);
    }
    if (!t.custom) {
      items = items.map(({ apiVersion: _a, kind: _k, ...rest }) => rest as KubeObject);
    }
    return { apiVersion: t.apiVersion, kind: t.listKind, metadata, items };
  }

  create(t: ResourceType, namespace: string | undefined, body: unknown, options: WriteOptions = {}): WriteResult {
    if (!isObject(body)) throw badRequest('the body of the request must be a JSON object');
    this.checkTypeMeta(t, body);
    const next = structuredClone(body) as KubeObject;
    next.apiVersion = t.apiVersion;
    next.kind = t.kind;
    const meta: ObjectMeta = isObject(next.metadata) ? next.metadata : {};
    next.metadata = meta;
    if (t.namespaced) {
      if (namespace === undefined) throw badRequest(`the server could not find the requested resource (post ${t.plural}): a namespace is required`);
      if (meta.namespace !== undefined && meta.namespace !== '' && meta.namespace !== namespace) {
        throw badRequest('the namespace of the provided object does not match the namespace sent on the request');
      }
      meta.namespace = namespace;
    } else {
      delete meta.namespace;
    }
    if ((meta.name === undefined || meta.name === '') && meta.generateName) meta.name = this.generateName(t, meta.namespace, meta.generateName);
    if (meta.name === undefined || meta.name === '') {
      throw invalid(errorTarget(t), '', [fieldError('FieldValueRequired', 'metadata.name', 'Required value: name or generateName is required')]);
    }
    if (meta.resourceVersion !== undefined && meta.resourceVersion !== '') throw internalError('resourceVersion should not be set on objects to be created');
    delete meta.resourceVersion;
    meta.uid = this.options.newUid();
    meta.creationTimestamp = formatTime(this.options.now());
    delete meta.deletionTimestamp;
    delete meta.deletionGracePeriodSeconds;
    if (t.tracksGeneration) meta.generation = 1;
    else delete meta.generation;
    t.prepareForCreate(next);
    const warnings = this.admit(t, next, undefined, options);
    if (this.store.get(t.storageKey, meta.namespace, meta.name)) throw alreadyExists(errorTarget(t), meta.name);
    if (options.dryRun) return { object: next, warnings };
    return { object: t.fromStorage(this.store.create(t.storageKey, t.toStorage(next))), warnings };
  }

  private generateName(t: ResourceType, namespace: string | undefined, prefix: string): string {
    for (;;) {
      let suffix = '';
      for (let i = 0; i < 5; i++) suffix += GENERATE_NAME_ALPHABET[Math.floor(Math.random() * GENERATE_NAME_ALPHABET.length)];
      const name = `${prefix.slice(0, 58)}${suffix}`;
      if (!this.store.get(t.storageKey, namespace, name)) return name;
    }
  }

  update(t: ResourceType, namespace: string | undefined, name: string, body: unknown, options: UpdateOptions = {}): WriteResult {
    if (!isObject(body)) throw badRequest('the body of the request must be a JSON object');
    this.checkTypeMeta(t, body);
    const meta: ObjectMeta = isObject(body.metadata) ? (body.metadata as ObjectMeta) : {};
    if (meta.name !== undefined && meta.name !== name) {
      throw badRequest(`the name of the object (${meta.name}) does not match the name on the URL (${name})`);
    }
    if (t.namespaced && meta.namespace !== undefined && meta.namespace !== '' && meta.namespace !== namespace) {
      throw badRequest('the namespace of the provided object does not match the namespace sent on the request');
    }
    const existingStored = this.store.get(t.storageKey, namespace, name);
    if (!existingStored) {
      if (t.allowCreateOnUpdate && options.subresource === undefined) {
        const { resourceVersion: _rv, ...rest } = meta;
        return { ...this.create(t, namespace, { ...body, metadata: { ...rest, name } }, options), created: true };
      }
      throw notFound(errorTarget(t), name);
    }
    const existing = t.fromStorage(existingStored);
    const target = errorTarget(t);
    // Optimistic concurrency: the write must be based on the current revision.
    if (meta.resourceVersion === undefined || meta.resourceVersion === '') {
      if (!t.allowUnconditionalUpdate) {
        throw invalid(target, name, [fieldError('FieldValueInvalid', 'metadata.resourceVersion', 'Invalid value: 0x0: must be specified for an update')]);
      }
    } else if (meta.resourceVersion !== existing.metadata.resourceVersion) {
      throw conflict(target, name, STALE_OBJECT_MESSAGE);
    }

    let next: KubeObject;
    if (options.subresource === 'status') {
      // Status strategy: the new object is the old one with only status taken from the request.
      next = structuredClone(existing);
      if (Object.hasOwn(body, 'status')) next.status = structuredClone(body.status);
      else delete next.status;
    } else {
      next = structuredClone(body) as KubeObject;
      next.metadata = structuredClone(meta);
      next.apiVersion = t.apiVersion;
      next.kind = t.kind;
      if (t.statusSubresource) {
        // Main-resource writes cannot change status when /status exists.
        if (Object.hasOwn(existing, 'status')) next.status = structuredClone(existing.status);
        else delete next.status;
      }
      if (meta.uid !== undefined && meta.uid !== '' && meta.uid !== existing.metadata.uid) {
        throw invalid(target, name, [fieldError('FieldValueInvalid', 'metadata.uid', `Invalid value: ${JSON.stringify(meta.uid)}: field is immutable`)]);
      }
      const nm = next.metadata;
      nm.name = name;
      if (t.namespaced) nm.namespace = namespace;
      for (const key of SYSTEM_METADATA) {
        if (existing.metadata[key] === undefined) delete nm[key];
        else (nm as Record<string, unknown>)[key] = existing.metadata[key];
      }
      nm.resourceVersion = existing.metadata.resourceVersion;
      if (existing.metadata.deletionTimestamp !== undefined) {
        const before = new Set(existing.metadata.finalizers ?? []);
        const added = (nm.finalizers ?? []).filter((f) => !before.has(f));
        if (added.length > 0) {
          throw invalid(target, name, [
            fieldError('FieldValueForbidden', 'metadata.finalizers', `Forbidden: no new finalizers can be added if the object is being deleted, found new finalizers []string{${added.map((f) => JSON.stringify(f)).join(', ')}}`),
          ]);
        }
      }
    }
    const warnings = this.admit(t, next, existing, options);
    // customResourceStrategy.PrepareForUpdate: any change outside metadata is a new generation;
    // status writes through /status never are.
    if (t.tracksGeneration && options.subresource === undefined && !isDeepStrictEqual(withoutMetadata(next), withoutMetadata(existing))) {
      next.metadata.generation = (existing.metadata.generation ?? 0) + 1;
    }
    const nextStored = t.toStorage(next);
    // A write that changes nothing is not a new revision and wakes no watcher.
    if (isDeepStrictEqual(nextStored, existingStored)) return { object: existing, warnings };
    if (options.dryRun) return { object: next, warnings };
    const m = nextStored.metadata;
    // registry.Store.Update (shouldDeleteDuringUpdate): the last finalizer of an object being
    // deleted with no grace period left is gone, so the object goes with it.
    if (m.deletionTimestamp !== undefined && m.deletionGracePeriodSeconds === 0 && (m.finalizers ?? []).length === 0) {
      this.store.remove(t.storageKey, nextStored);
      return { object: t.fromStorage(nextStored), warnings };
    }
    return { object: t.fromStorage(this.store.update(t.storageKey, nextStored)), warnings };
  }

  patch(t: ResourceType, namespace: string | undefined, name: string, rawBody: string, contentType: string, options: UpdateOptions = {}): WriteResult {
    const existingStored = this.store.get(t.storageKey, namespace, name);
    if (!existingStored) throw notFound(errorTarget(t), name);
    const existing = t.fromStorage(existingStored) as unknown as Json;
    let patch: unknown;
    try {
      patch = JSON.parse(rawBody);
    } catch (err) {
      throw badRequest(`error decoding patch: ${(err as Error).message}`);
    }
    let patched: Json;
    switch (contentType) {
      case 'application/merge-patch+json':
        if (!isObject(patch)) throw badRequest('merge patch must be a JSON object');
        patched = applyMergePatch(existing, patch as Json);
        break;
      case 'application/strategic-merge-patch+json':
        // Strategic merge is treated as a merge patch: lists are replaced, not merged by key.
        if (!t.strategicMergePatch) throw unsupportedMediaType(`the body of the request was in an unknown format - accepted media types include: application/json-patch+json, application/merge-patch+json, application/apply-patch+yaml`);
        if (!isObject(patch)) throw badRequest('strategic merge patch must be a JSON object');
        patched = applyMergePatch(existing, patch as Json);
        break;
      case 'application/json-patch+json':
        patched = applyJsonPatch(existing, patch);
        break;
      default:
        throw unsupportedMediaType(`the body of the request was in an unknown format - accepted media types include: application/json-patch+json, application/merge-patch+json${t.strategicMergePatch ? ', application/strategic-merge-patch+json' : ''} (server-side apply is not modelled by the double)`);
    }
    if (!isObject(patched)) throw invalid(errorTarget(t), name, [fieldError('FieldValueInvalid', '', 'Invalid value: the patched object is not a JSON object')]);
    const patchedMeta: ObjectMeta = isObject(patched.metadata) ? (patched.metadata as ObjectMeta) : {};
    // A patch is applied to the current object, so it is unconditional — unless it names a
    // resourceVersion itself, which then must match (optimistic concurrency for patches).
    if (patchedMeta.resourceVersion === undefined || patchedMeta.resourceVersion === '') {
      patchedMeta.resourceVersion = existingStored.metadata.resourceVersion;
      patched.metadata = patchedMeta as unknown as Json;
    }
    return this.update(t, namespace, name, patched, options);
  }

  delete(t: ResourceType, namespace: string | undefined, name: string, options: DeleteOptions = {}): KubeObject | KubeStatus {
    const stored = this.store.get(t.storageKey, namespace, name);
    const target = errorTarget(t);
    if (!stored) throw notFound(target, name);
    const pre = options.preconditions ?? {};
    if (pre.uid !== undefined && pre.uid !== stored.metadata.uid) {
      throw conflict(target, name, `Precondition failed: UID in precondition: ${pre.uid}, UID in object meta: ${stored.metadata.uid}`);
    }
    if (pre.resourceVersion !== undefined && pre.resourceVersion !== stored.metadata.resourceVersion) {
      throw conflict(target, name, `Precondition failed: ResourceVersion in precondition: ${pre.resourceVersion}, ResourceVersion in object meta: ${stored.metadata.resourceVersion}`);
    }
    const view = t.fromStorage(stored);
    const m = stored.metadata;
    const now = this.options.now();
    const grace = t.gracePeriodSeconds(view, options.gracePeriodSeconds);
    if (grace > 0) {
      // rest.BeforeDelete: graceful deletion only ever shortens an existing grace period.
      if (m.deletionTimestamp !== undefined && (m.deletionGracePeriodSeconds ?? 0) <= grace) return view;
      const next = structuredClone(stored);
      if (m.deletionTimestamp === undefined && (m.generation ?? 0) > 0) next.metadata.generation = (m.generation ?? 0) + 1;
      next.metadata.deletionTimestamp = formatTime(new Date(now.getTime() + grace * 1000));
      next.metadata.deletionGracePeriodSeconds = grace;
      if (options.dryRun) return t.fromStorage(next);
      const updated = this.store.update(t.storageKey, next);
      this.scheduleKubelet(t, namespace, name, m.uid ?? '', grace);
      return t.fromStorage(updated);
    }
    if ((m.finalizers ?? []).length > 0) {
      // registry.Store markAsDeleting: the object stays, marked, until its finalizers are removed.
      if (m.deletionTimestamp !== undefined && m.deletionGracePeriodSeconds === 0) return view;
      const next = structuredClone(stored);
      if (m.deletionTimestamp === undefined && (m.generation ?? 0) > 0) next.metadata.generation = (m.generation ?? 0) + 1;
      if (m.deletionTimestamp === undefined || new Date(m.deletionTimestamp) > now) next.metadata.deletionTimestamp = formatTime(now);
      next.metadata.deletionGracePeriodSeconds = 0;
      if (options.dryRun) return t.fromStorage(next);
      return t.fromStorage(this.store.update(t.storageKey, next));
    }
    if (!options.dryRun) this.store.remove(t.storageKey, stored);
    return t.returnDeletedObject ? view : deleteSuccess(target, name, m.uid ?? '');
  }

  deleteCollection(t: ResourceType, namespace: string | undefined, q: ListQuery, options: DeleteOptions = {}): ListResult {
    const listed = this.list(t, namespace, { labelSelector: q.labelSelector, fieldSelector: q.fieldSelector });
    const deleted: KubeObject[] = [];
    for (const item of listed.items) {
      const result = this.delete(t, item.metadata.namespace, item.metadata.name ?? '', { gracePeriodSeconds: options.gracePeriodSeconds, dryRun: options.dryRun });
      if (result.kind !== 'Status') deleted.push(result as KubeObject);
      else deleted.push(item);
    }
    return { ...listed, items: deleted };
  }

  /**
   * The simulated kubelet: once its containers have stopped (after the delay), the pod is deleted
   * with grace 0 (finalizers still apply). A kubelet kills containers still running when the grace
   * period ends, so the pod never outlives it. 'manual' models a kubelet that does not act (its
   * node is unreachable): the pod stays until the test deletes it.
   */
  private scheduleKubelet(t: ResourceType, namespace: string | undefined, name: string, uid: string, graceSeconds: number): void {
    const configured = this.options.podTerminationDelayMs;
    if (configured === 'manual') return;
    const delay = Math.min(configured, graceSeconds * 1000);
    const timer = setTimeout(() => {
      this.kubeletTimers.delete(timer);
      try {
        this.delete(t, namespace, name, { gracePeriodSeconds: 0, preconditions: { uid } });
      } catch {
        // Already gone, or replaced by a new pod of the same name: nothing left for the kubelet.
      }
    }, delay);
    this.kubeletTimers.add(timer);
  }
}
