// The resources the double serves and, for each, the per-type rules the API server's registry
// strategies apply (k8s.io/kubernetes/pkg/registry/..., apiextensions-apiserver's
// customresource strategy): which fields a create resets, whether status is a subresource,
// whether generation is tracked, whether an update without resourceVersion is allowed, which
// field selectors are indexed, how a DELETE is graceful. Built-in types are not schema
// validated beyond the few rules an operator is likely to trip over (listed per type).
import { fieldError, formatFieldValue, type StatusCause } from './api-status.ts';
import { CelRules } from './cel-rules.ts';
import { CrdSchema, asSchema, type OpenApiSchema } from './schema-validation.ts';
import { readFieldPath, type FieldLabels } from './selectors.ts';

export type KubeObject = Record<string, unknown> & { metadata: ObjectMeta };

export interface ObjectMeta {
  name?: string;
  generateName?: string;
  namespace?: string;
  uid?: string;
  resourceVersion?: string;
  generation?: number;
  creationTimestamp?: string;
  deletionTimestamp?: string;
  deletionGracePeriodSeconds?: number;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  finalizers?: string[];
  ownerReferences?: unknown[];
  [key: string]: unknown;
}

export interface ResourceType {
  group: string;
  version: string;
  /** `group/version`, or `v1` for the core group. */
  apiVersion: string;
  plural: string;
  singular: string;
  kind: string;
  listKind: string;
  shortNames: string[];
  namespaced: boolean;
  /** Served versions of one resource share storage; this names it (`sluice.dev/topics`). */
  storageKey: string;
  /** The `/status` subresource exists: main writes keep the old status, status writes keep all but status. */
  statusSubresource: boolean;
  /** generation starts at 1 and increments on every change outside metadata (CRDs). */
  tracksGeneration: boolean;
  /** PUT without metadata.resourceVersion is accepted (false for custom resources). */
  allowUnconditionalUpdate: boolean;
  /** PUT of a missing object creates it (true only for Events). */
  allowCreateOnUpdate: boolean;
  /** DELETE answers with the deleted object (else with a Status Success). */
  returnDeletedObject: boolean;
  /** application/strategic-merge-patch+json accepted (built-in types only). */
  strategicMergePatch: boolean;
  /**
   * Defined by a CRD: the body must carry apiVersion/kind (a typed built-in gets them from the
   * URL), and list items keep kind/apiVersion (typed lists drop them).
   */
  custom: boolean;
  fieldLabels: FieldLabels;
  /** Clears what a create may not set (status of pods and of CRs with a status subresource). */
  prepareForCreate(obj: KubeObject): void;
  /** Pruning, defaulting and format normalization, in place; returns pruned field paths. */
  normalize(obj: KubeObject): string[];
  /** Field errors; `old` is set on updates. */
  validate(obj: KubeObject, old: KubeObject | undefined): StatusCause[];
  /** Grace period a DELETE gets; > 0 means the object only gets a deletionTimestamp first. */
  gracePeriodSeconds(obj: KubeObject, requested: number | undefined): number;
  /** This view's form → storage form, and back (events.k8s.io/v1 ↔ core/v1 Events). */
  toStorage(obj: KubeObject): KubeObject;
  fromStorage(obj: KubeObject): KubeObject;
}

const META_FIELDS: FieldLabels = {
  'metadata.name': (o) => readFieldPath(o, 'metadata.name'),
  'metadata.namespace': (o) => readFieldPath(o, 'metadata.namespace'),
};

function fieldsAt(paths: string[]): FieldLabels {
  return Object.fromEntries(paths.map((p) => [p, (o: Record<string, unknown>) => readFieldPath(o, p)]));
}

function withApiVersion(obj: KubeObject, apiVersion: string, kind: string): KubeObject {
  return { ...structuredClone(obj), apiVersion, kind };
}

interface BaseSpec {
  group: string;
  version: string;
  plural: string;
  kind: string;
  namespaced: boolean;
  storageKey?: string;
  shortNames?: string[];
}

function builtin(spec: BaseSpec, overrides: Partial<ResourceType>): ResourceType {
  const apiVersion = spec.group === '' ? spec.version : `${spec.group}/${spec.version}`;
  return {
    group: spec.group,
    version: spec.version,
    apiVersion,
    plural: spec.plural,
    singular: spec.kind.toLowerCase(),
    kind: spec.kind,
    listKind: `${spec.kind}List`,
    shortNames: spec.shortNames ?? [],
    namespaced: spec.namespaced,
    storageKey: spec.storageKey ?? `${spec.group}/${spec.plural}`,
    statusSubresource: false,
    tracksGeneration: false,
    allowUnconditionalUpdate: true,
    allowCreateOnUpdate: false,
    returnDeletedObject: false,
    strategicMergePatch: true,
    custom: false,
    fieldLabels: spec.namespaced ? META_FIELDS : { 'metadata.name': META_FIELDS['metadata.name'] },
    prepareForCreate: () => {},
    normalize: () => [],
    validate: () => [],
    gracePeriodSeconds: () => 0,
    toStorage: (o) => withApiVersion(o, apiVersion, spec.kind),
    fromStorage: (o) => withApiVersion(o, apiVersion, spec.kind),
    ...overrides,
  };
}

function record(v: unknown): Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : {};
}

// metav1.MicroTime is serialized with exactly six fractional digits and metav1.Time with none,
// always in UTC; client-node sends Date.toISOString() (milliseconds), which the real server
// accepts and re-serializes. Doing the same keeps a round-tripped object byte-identical to what
// a real server would return.
const RFC3339_PARTS = /^(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2})(?:\.(\d+))?(Z|[+-]\d{2}:\d{2})$/;

export function formatTime(d: Date): string {
  return `${d.toISOString().slice(0, 19)}Z`;
}

export function formatMicroTime(d: Date): string {
  return `${d.toISOString().slice(0, 23)}000Z`;
}

interface TimeField {
  path: string;
  micro: boolean;
}

function timeParent(obj: Record<string, unknown>, path: string): { parent: Record<string, unknown>; key: string } | undefined {
  const keys = path.split('.');
  let cur: Record<string, unknown> = obj;
  for (const k of keys.slice(0, -1)) {
    const next = cur[k];
    if (next === null || typeof next !== 'object' || Array.isArray(next)) return undefined;
    cur = next as Record<string, unknown>;
  }
  return { parent: cur, key: keys[keys.length - 1] };
}

/** Rewrites well-formed times to the server's serialization, in place; leaves others for validation. */
function normalizeTimes(obj: Record<string, unknown>, fields: TimeField[]): void {
  for (const { path, micro } of fields) {
    const at = timeParent(obj, path);
    const v = at?.parent[at.key];
    if (at === undefined || typeof v !== 'string') continue;
    const m = RFC3339_PARTS.exec(v);
    if (!m) continue;
    if (m[3] === 'Z') at.parent[at.key] = micro ? `${m[1]}.${(m[2] ?? '').padEnd(6, '0').slice(0, 6)}Z` : `${m[1]}Z`;
    else at.parent[at.key] = micro ? formatMicroTime(new Date(v)) : formatTime(new Date(v));
  }
}

/** A time the server could not decode (reported here as a field error, not a 400). */
function timeErrors(obj: Record<string, unknown>, fields: TimeField[]): StatusCause[] {
  const causes: StatusCause[] = [];
  for (const { path } of fields) {
    const at = timeParent(obj, path);
    const v = at?.parent[at.key];
    if (v === undefined || v === null) continue;
    if (typeof v !== 'string' || !RFC3339_PARTS.test(v)) {
      causes.push(fieldError('FieldValueInvalid', path, `Invalid value: ${formatFieldValue(v)}: must be an RFC3339 timestamp`));
    }
  }
  return causes;
}

// ---------------------------------------------------------------------------------- core/v1 Pods

function podValidate(obj: KubeObject): StatusCause[] {
  const spec = record(obj.spec);
  const containers = Array.isArray(spec.containers) ? spec.containers : [];
  if (containers.length === 0) return [fieldError('FieldValueRequired', 'spec.containers', 'Required value')];
  const causes: StatusCause[] = [];
  containers.forEach((c, i) => {
    const container = record(c);
    if (typeof container.name !== 'string' || container.name === '') causes.push(fieldError('FieldValueRequired', `spec.containers[${i}].name`, 'Required value'));
    if (typeof container.image !== 'string' || container.image === '') causes.push(fieldError('FieldValueRequired', `spec.containers[${i}].image`, 'Required value'));
  });
  return causes;
}

const pods = builtin(
  { group: '', version: 'v1', plural: 'pods', kind: 'Pod', namespaced: true, shortNames: ['po'] },
  {
    statusSubresource: true,
    returnDeletedObject: true,
    fieldLabels: {
      ...META_FIELDS,
      ...fieldsAt(['spec.nodeName', 'spec.restartPolicy', 'spec.schedulerName', 'spec.serviceAccountName', 'spec.hostNetwork', 'status.phase', 'status.podIP', 'status.nominatedNodeName']),
    },
    // podStrategy.PrepareForCreate: whatever status was sent, a new pod is Pending.
    prepareForCreate: (obj) => {
      obj.status = { phase: 'Pending' };
    },
    validate: (obj) => podValidate(obj),
    // podStrategy.CheckGracefulDelete: unscheduled and finished pods go at once; others wait for
    // the kubelet, for the request's grace period or the pod's terminationGracePeriodSeconds.
    gracePeriodSeconds: (obj, requested) => {
      const spec = record(obj.spec);
      const phase = record(obj.status).phase;
      if (typeof spec.nodeName !== 'string' || spec.nodeName === '' || phase === 'Succeeded' || phase === 'Failed') return 0;
      if (requested !== undefined) return requested;
      return typeof spec.terminationGracePeriodSeconds === 'number' ? spec.terminationGracePeriodSeconds : 30;
    },
  },
);

// --------------------------------------------------------------------------------- core/v1 Nodes

// nodeStrategy: "Nodes allow *all* fields, including status, to be set on create."
const nodes = builtin(
  { group: '', version: 'v1', plural: 'nodes', kind: 'Node', namespaced: false, shortNames: ['no'] },
  { statusSubresource: true, fieldLabels: { ...META_FIELDS, ...fieldsAt(['spec.unschedulable']) } },
);

// ------------------------------------------------------------------------ coordination.k8s.io/v1

const LEASE_TIMES: TimeField[] = [
  { path: 'spec.acquireTime', micro: true },
  { path: 'spec.renewTime', micro: true },
];

const leases = builtin(
  { group: 'coordination.k8s.io', version: 'v1', plural: 'leases', kind: 'Lease', namespaced: true },
  {
    normalize: (obj) => {
      normalizeTimes(obj, LEASE_TIMES);
      return [];
    },
    validate: (obj) => {
      const spec = record(obj.spec);
      const causes = timeErrors(obj, LEASE_TIMES);
      if (spec.leaseDurationSeconds !== undefined && spec.leaseDurationSeconds !== null && !(Number(spec.leaseDurationSeconds) > 0)) {
        causes.push(fieldError('FieldValueInvalid', 'spec.leaseDurationSeconds', `Invalid value: ${formatFieldValue(spec.leaseDurationSeconds)}: must be greater than 0`));
      }
      if (spec.leaseTransitions !== undefined && spec.leaseTransitions !== null && !(Number(spec.leaseTransitions) >= 0)) {
        causes.push(fieldError('FieldValueInvalid', 'spec.leaseTransitions', `Invalid value: ${formatFieldValue(spec.leaseTransitions)}: must be greater than or equal to 0`));
      }
      return causes;
    },
  },
);

// ------------------------------------------------------------------------------------- Events
// One storage, two views, as in the real server: core/v1 Events are the storage form and
// events.k8s.io/v1 renames fields on the way in and out (pkg/apis/events/v1 conversion), so an
// Event written through either API is listed by both.

const EVENT_TIMES: TimeField[] = [
  { path: 'eventTime', micro: true },
  { path: 'firstTimestamp', micro: false },
  { path: 'lastTimestamp', micro: false },
  { path: 'series.lastObservedTime', micro: true },
];

const EVENT_V1_TIMES: TimeField[] = [
  { path: 'eventTime', micro: true },
  { path: 'deprecatedFirstTimestamp', micro: false },
  { path: 'deprecatedLastTimestamp', micro: false },
  { path: 'series.lastObservedTime', micro: true },
];

/** events.k8s.io/v1 name → core/v1 name. */
const EVENTS_V1_RENAMES: [string, string][] = [
  ['regarding', 'involvedObject'],
  ['note', 'message'],
  ['reportingController', 'reportingComponent'],
  ['deprecatedSource', 'source'],
  ['deprecatedFirstTimestamp', 'firstTimestamp'],
  ['deprecatedLastTimestamp', 'lastTimestamp'],
  ['deprecatedCount', 'count'],
];

function renameFields(obj: KubeObject, pairs: [string, string][]): KubeObject {
  const out: Record<string, unknown> = structuredClone(obj);
  for (const [from, to] of pairs) {
    if (Object.hasOwn(out, from)) {
      out[to] = out[from];
      delete out[from];
    }
  }
  return out as KubeObject;
}

function eventType(obj: KubeObject, field: string): StatusCause[] {
  if (obj.type === undefined || obj.type === 'Normal' || obj.type === 'Warning') return [];
  return [fieldError('FieldValueNotSupported', field, `Unsupported value: ${JSON.stringify(obj.type)}: supported values: "Normal", "Warning"`)];
}

const coreEvents = builtin(
  { group: '', version: 'v1', plural: 'events', kind: 'Event', namespaced: true, storageKey: 'events', shortNames: ['ev'] },
  {
    allowCreateOnUpdate: true,
    fieldLabels: {
      ...META_FIELDS,
      ...fieldsAt([
        'involvedObject.kind', 'involvedObject.namespace', 'involvedObject.name', 'involvedObject.uid',
        'involvedObject.apiVersion', 'involvedObject.resourceVersion', 'involvedObject.fieldPath',
        'reason', 'reportingComponent', 'type',
      ]),
      source: (o) => readFieldPath(o, 'source.component'),
    },
    normalize: (obj) => {
      normalizeTimes(obj, EVENT_TIMES);
      return [];
    },
    validate: (obj) => {
      const causes = [...eventType(obj, 'type'), ...timeErrors(obj, EVENT_TIMES)];
      const involvedNs = record(obj.involvedObject).namespace;
      // ValidateEventCreate: an event lives in the namespace of what it is about.
      if (typeof involvedNs === 'string' && involvedNs !== '' && involvedNs !== obj.metadata.namespace) {
        causes.push(fieldError('FieldValueInvalid', 'involvedObject.namespace', `Invalid value: ${JSON.stringify(involvedNs)}: does not match event.namespace`));
      }
      return causes;
    },
  },
);

const eventsV1 = builtin(
  { group: 'events.k8s.io', version: 'v1', plural: 'events', kind: 'Event', namespaced: true, storageKey: 'events', shortNames: ['ev'] },
  {
    allowCreateOnUpdate: true,
    fieldLabels: {
      ...META_FIELDS,
      ...fieldsAt(['regarding.kind', 'regarding.namespace', 'regarding.name', 'regarding.uid', 'reason', 'reportingController', 'type']),
    },
    // events.k8s.io/v1 validation (ValidateEventCreate for new-style events): the fields that
    // make an event attributable are required.
    normalize: (obj) => {
      normalizeTimes(obj, EVENT_V1_TIMES);
      return [];
    },
    validate: (obj) => {
      const causes = [...eventType(obj, 'type'), ...timeErrors(obj, EVENT_V1_TIMES)];
      if (obj.type === undefined) causes.push(fieldError('FieldValueRequired', 'type', 'Required value'));
      for (const f of ['eventTime', 'reportingController', 'reportingInstance', 'action', 'reason']) {
        if (obj[f] === undefined || obj[f] === null || obj[f] === '') causes.push(fieldError('FieldValueRequired', f, 'Required value'));
      }
      if (typeof obj.note === 'string' && Buffer.byteLength(obj.note) > 1024) {
        causes.push(fieldError('FieldValueTooLong', 'note', 'Too long: may not be more than 1024 bytes'));
      }
      return causes;
    },
    toStorage: (o) => withApiVersion(renameFields(o, EVENTS_V1_RENAMES), 'v1', 'Event'),
    fromStorage: (o) => withApiVersion(renameFields(o, EVENTS_V1_RENAMES.map(([a, b]) => [b, a])), 'events.k8s.io/v1', 'Event'),
  },
);

export function builtinResourceTypes(): ResourceType[] {
  return [pods, nodes, leases, coreEvents, eventsV1];
}

// ------------------------------------------------------------------------------------ CRDs

/** The parts of an apiextensions.k8s.io/v1 CustomResourceDefinition the double reads. */
export interface CustomResourceDefinition {
  apiVersion?: string;
  kind?: string;
  metadata?: { name?: string };
  spec: {
    group: string;
    scope: 'Namespaced' | 'Cluster';
    names: { plural: string; singular?: string; kind: string; listKind?: string; shortNames?: string[] };
    versions: {
      name: string;
      served: boolean;
      storage: boolean;
      schema?: { openAPIV3Schema?: OpenApiSchema };
      subresources?: { status?: object; scale?: object };
      selectableFields?: { jsonPath: string }[];
      [key: string]: unknown;
    }[];
    [key: string]: unknown;
  };
}

/** One ResourceType per served version; refuses a CRD a real API server would refuse. */
export function crdResourceTypes(crd: CustomResourceDefinition): ResourceType[] {
  const { group, names, scope, versions } = crd.spec;
  const where = `CRD ${crd.metadata?.name ?? `${names.plural}.${group}`}`;
  if (crd.metadata?.name !== undefined && crd.metadata.name !== `${names.plural}.${group}`) {
    throw new Error(`${where}: metadata.name must be spec.names.plural+"."+spec.group (${names.plural}.${group})`);
  }
  if (versions.filter((v) => v.storage).length !== 1) throw new Error(`${where}: exactly one version must have storage: true`);
  const storageKey = `${group}/${names.plural}`;
  const storageApiVersion = `${group}/${versions.find((v) => v.storage)?.name}`;
  const namespaced = scope === 'Namespaced';
  return versions
    .filter((v) => v.served)
    .map((v) => {
      const openApi = asSchema(v.schema?.openAPIV3Schema);
      if (!openApi) throw new Error(`${where}: version ${v.name} has no schema.openAPIV3Schema (required in apiextensions.k8s.io/v1)`);
      let schema: CrdSchema;
      let cel: CelRules;
      try {
        schema = new CrdSchema(openApi);
        cel = new CelRules(openApi);
      } catch (err) {
        throw new Error(`${where} version ${v.name}: ${(err as Error).message}`);
      }
      const apiVersion = `${group}/${v.name}`;
      const statusSubresource = v.subresources?.status !== undefined;
      const selectable = (v.selectableFields ?? []).map((f) => f.jsonPath.replace(/^\./, ''));
      return builtin(
        { group, version: v.name, plural: names.plural, kind: names.kind, namespaced, storageKey, shortNames: names.shortNames },
        {
          singular: names.singular ?? names.kind.toLowerCase(),
          listKind: names.listKind ?? `${names.kind}List`,
          statusSubresource,
          tracksGeneration: true,
          // customResourceStrategy: no unconditional updates, no create-on-update, and no
          // strategic merge patch (CRs carry no patch-merge-key metadata).
          allowUnconditionalUpdate: false,
          returnDeletedObject: true,
          strategicMergePatch: false,
          custom: true,
          fieldLabels: { ...(namespaced ? META_FIELDS : { 'metadata.name': META_FIELDS['metadata.name'] }), ...fieldsAt(selectable) },
          prepareForCreate: (obj) => {
            if (statusSubresource) delete obj.status;
          },
          normalize: (obj) => schema.normalize(obj),
          // CEL rules run only on schema-valid objects: a rule reading a field of the wrong type
          // would only add a confusing second error for the same mistake.
          validate: (obj, old) => {
            const causes = schema.validate(obj);
            return causes.length > 0 ? causes : cel.validate(obj, old);
          },
          // Storage keeps the storage version's apiVersion; with no conversion webhook
          // ("None" strategy) serving another version only rewrites apiVersion.
          toStorage: (o) => withApiVersion(o, storageApiVersion, names.kind),
          fromStorage: (o) => withApiVersion(o, apiVersion, names.kind),
        },
      );
    });
}
