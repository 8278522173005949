// A CRD version's openAPIV3Schema applied the way apiextensions-apiserver applies it to a
// request body, in the same order: prune unknown fields (unless
// x-kubernetes-preserve-unknown-fields), drop non-nullable nulls that have no default, apply
// defaults, then validate. Validation runs on ajv over a draft-07 translation of the structural
// schema; ajv's errors are rewritten into the field errors the API server reports
// (`spec.partitions: Invalid value: 0: spec.partitions in body should be greater than or equal
// to 1`), so a test can assert on the same causes a user would see from kubectl.
import { Ajv, type ErrorObject, type Format, type ValidateFunction } from 'ajv';
import { fieldError, formatFieldValue, type StatusCause } from './api-status.ts';

/** An OpenAPI v3 schema node as it appears in a CRD (plain JSON). */
export type OpenApiSchema = { [key: string]: unknown };

export function asSchema(v: unknown): OpenApiSchema | undefined {
  return v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as OpenApiSchema) : undefined;
}

export function schemaProperties(s: OpenApiSchema): Record<string, OpenApiSchema> {
  return (asSchema(s.properties) ?? {}) as Record<string, OpenApiSchema>;
}

/** The value schema of a map (`additionalProperties: {…}`), if the node is a map. */
export function schemaAdditional(s: OpenApiSchema): OpenApiSchema | undefined {
  return asSchema(s.additionalProperties);
}

export function schemaItems(s: OpenApiSchema): OpenApiSchema | undefined {
  return asSchema(s.items);
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

const VALUE_VALIDATION_ONLY = ['allOf', 'anyOf', 'oneOf', 'not'] as const;

/**
 * The structural-schema rules apiextensions-apiserver enforces before it accepts a v1 CRD,
 * reduced to the ones a hand-written CRD gets wrong: every node has a type (unless it is
 * int-or-string or preserves unknown fields), `properties` and `additionalProperties` are not
 * combined, and value-validation branches (anyOf…) declare no types or defaults of their own.
 * Returns messages; empty means structural.
 */
export function structuralErrors(schema: OpenApiSchema, path = 'openAPIV3Schema'): string[] {
  const errors: string[] = [];
  const typeless = schema['x-kubernetes-int-or-string'] === true || schema['x-kubernetes-preserve-unknown-fields'] === true;
  if (schema.type === undefined && !typeless) errors.push(`${path}.type: Required value: must not be empty for specified object fields`);
  if (schema.properties !== undefined && schema.additionalProperties !== undefined) {
    errors.push(`${path}.additionalProperties: Forbidden: additionalProperties and properties are mutual exclusive`);
  }
  if (schema.additionalProperties === false) errors.push(`${path}.additionalProperties: Forbidden: must not be false`);
  for (const [name, child] of Object.entries(schemaProperties(schema))) errors.push(...structuralErrors(child, `${path}.properties[${name}]`));
  const additional = schemaAdditional(schema);
  if (additional) errors.push(...structuralErrors(additional, `${path}.additionalProperties`));
  const items = schemaItems(schema);
  if (items) errors.push(...structuralErrors(items, `${path}.items`));
  if (schema.type === 'array' && !items) errors.push(`${path}.items: Required value: must be specified`);
  for (const key of VALUE_VALIDATION_ONLY) {
    const branches = key === 'not' ? [schema[key]] : Array.isArray(schema[key]) ? (schema[key] as unknown[]) : [];
    for (const b of branches) {
      const branch = asSchema(b);
      if (!branch) continue;
      for (const forbidden of ['type', 'default', 'nullable', 'x-kubernetes-preserve-unknown-fields', 'x-kubernetes-validations']) {
        if (branch[forbidden] !== undefined) errors.push(`${path}.${key}.${forbidden}: Forbidden: must be empty to be structural`);
      }
    }
  }
  return errors;
}

/**
 * The draft-07 equivalent for ajv: `nullable` becomes a `null` type member, int-or-string a
 * two-member type, OpenAPI 3.0's boolean `exclusiveMinimum` becomes draft-07's numeric form,
 * and `x-kubernetes-*` keys are dropped (list types and CEL are checked outside ajv).
 * `additionalProperties` is left open because pruning already removed unknown fields.
 */
export function toAjvSchema(schema: OpenApiSchema): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  const nullable = schema.nullable === true;
  if (schema['x-kubernetes-int-or-string'] === true) out.type = nullable ? ['integer', 'string', 'null'] : ['integer', 'string'];
  else if (typeof schema.type === 'string') out.type = nullable ? [schema.type, 'null'] : schema.type;
  for (const key of ['required', 'minimum', 'maximum', 'multipleOf', 'minLength', 'maxLength', 'pattern', 'minItems', 'maxItems', 'uniqueItems', 'minProperties', 'maxProperties', 'format']) {
    if (schema[key] !== undefined) out[key] = schema[key];
  }
  if (Array.isArray(schema.enum)) out.enum = nullable ? [...schema.enum, null] : schema.enum;
  if (schema.exclusiveMinimum === true && typeof schema.minimum === 'number') {
    out.exclusiveMinimum = schema.minimum;
    delete out.minimum;
  }
  if (schema.exclusiveMaximum === true && typeof schema.maximum === 'number') {
    out.exclusiveMaximum = schema.maximum;
    delete out.maximum;
  }
  const props = schemaProperties(schema);
  if (Object.keys(props).length > 0) {
    out.properties = Object.fromEntries(Object.entries(props).map(([k, v]) => [k, toAjvSchema(v)]));
  }
  const additional = schemaAdditional(schema);
  if (additional) out.additionalProperties = toAjvSchema(additional);
  const items = schemaItems(schema);
  if (items) out.items = toAjvSchema(items);
  for (const key of ['allOf', 'anyOf', 'oneOf'] as const) {
    if (Array.isArray(schema[key])) out[key] = (schema[key] as unknown[]).map((b) => toAjvSchema(asSchema(b) ?? {}));
  }
  const not = asSchema(schema.not);
  if (not) out.not = toAjvSchema(not);
  return out;
}

const RFC3339 = /^\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})$/;
const UUID = /^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$/;
const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

// The formats Kubernetes checks that a Sluice CRD might use; any other format name is accepted
// unchecked, which is also what the API server does with formats it does not know.
const FORMATS: Record<string, Format> = {
  'date-time': RFC3339,
  date: /^\d{4}-\d{2}-\d{2}$/,
  uuid: UUID,
  byte: BASE64,
  int32: { type: 'number' as const, validate: (n: number) => Number.isInteger(n) && n >= -(2 ** 31) && n < 2 ** 31 },
  int64: { type: 'number' as const, validate: (n: number) => Number.isInteger(n) },
  float: true,
  double: true,
  duration: true,
  quantity: true,
  uri: true,
  email: true,
  hostname: true,
  ipv4: true,
  ipv6: true,
  cidr: true,
  mac: true,
  password: true,
  binary: true,
};

function jsonTypeName(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'array';
  if (typeof v === 'number') return Number.isInteger(v) ? 'integer' : 'number';
  return typeof v;
}

/** `/spec/list/0/name` → `spec.list[0].name`, deciding index vs key by walking the value. */
export function fieldPathOf(root: unknown, pointer: string): string {
  if (pointer === '') return '';
  let cur: unknown = root;
  let path = '';
  for (const raw of pointer.slice(1).split('/')) {
    const token = raw.replace(/~1/g, '/').replace(/~0/g, '~');
    if (Array.isArray(cur)) {
      path += `[${token}]`;
      cur = cur[Number(token)];
    } else {
      path += path === '' ? token : `.${token}`;
      cur = isPlainObject(cur) ? cur[token] : undefined;
    }
  }
  return path;
}

function valueAt(root: unknown, pointer: string): unknown {
  if (pointer === '') return root;
  let cur: unknown = root;
  for (const raw of pointer.slice(1).split('/')) {
    const token = raw.replace(/~1/g, '/').replace(/~0/g, '~');
    if (Array.isArray(cur)) cur = cur[Number(token)];
    else if (isPlainObject(cur)) cur = cur[token];
    else return undefined;
  }
  return cur;
}

function joinField(parent: string, child: string): string {
  return parent === '' ? child : `${parent}.${child}`;
}

/** One ajv error as the field error kube-openapi's validator would have produced. */
function toCause(e: ErrorObject, root: unknown): StatusCause {
  const field = fieldPathOf(root, e.instancePath);
  const value = valueAt(root, e.instancePath);
  const inBody = `${field === '' ? 'body' : field} in body`;
  const invalid = (detail: string) => fieldError('FieldValueInvalid', field, `Invalid value: ${formatFieldValue(value)}: ${inBody} ${detail}`);
  const p = e.params as Record<string, unknown>;
  switch (e.keyword) {
    case 'required':
      return fieldError('FieldValueRequired', joinField(field, String(p.missingProperty)), 'Required value');
    case 'type': {
      const expected = String(p.type).split(',').filter((t) => t !== 'null').join(',');
      return fieldError('FieldValueTypeInvalid', field, `Invalid value: ${formatFieldValue(value)}: ${inBody} must be of type ${expected}: "${jsonTypeName(value)}"`);
    }
    case 'enum': {
      const allowed = (p.allowedValues as unknown[]).filter((v) => v !== null).map((v) => JSON.stringify(v));
      return fieldError('FieldValueNotSupported', field, `Unsupported value: ${JSON.stringify(value)}: supported values: ${allowed.join(', ')}`);
    }
    case 'minimum':
      return invalid(`should be greater than or equal to ${String(p.limit)}`);
    case 'exclusiveMinimum':
      return invalid(`should be greater than ${String(p.limit)}`);
    case 'maximum':
      return invalid(`should be less than or equal to ${String(p.limit)}`);
    case 'exclusiveMaximum':
      return invalid(`should be less than ${String(p.limit)}`);
    case 'multipleOf':
      return invalid(`should be a multiple of ${String(p.multipleOf)}`);
    case 'maxLength':
      return fieldError('FieldValueTooLong', field, `Too long: may not be more than ${String(p.limit)} bytes`);
    case 'minLength':
      return invalid(`should be at least ${String(p.limit)} chars long`);
    case 'pattern':
      return invalid(`should match '${String(p.pattern)}'`);
    case 'maxItems':
      return fieldError('FieldValueTooMany', field, `Too many: ${(value as unknown[]).length}: must have at most ${String(p.limit)} items`);
    case 'minItems':
      return invalid(`should have at least ${String(p.limit)} items`);
    case 'uniqueItems':
      return fieldError('FieldValueDuplicate', field, `Duplicate value: ${formatFieldValue(value)}`);
    case 'maxProperties':
      return fieldError('FieldValueTooMany', field, `Too many: ${Object.keys(value as object).length}: must have at most ${String(p.limit)} items`);
    case 'minProperties':
      return invalid(`should have at least ${String(p.limit)} properties`);
    case 'format':
      return invalid(`must be of type ${String(p.format)}: ${JSON.stringify(value)}`);
    default:
      return invalid(`${e.message ?? 'is invalid'} (${e.keyword})`);
  }
}

/**
 * Drops errors reported inside anyOf/oneOf/not branches: the combinator's own error says the
 * value matched none of them, and the per-branch errors would list failures the user did not
 * make (kube-openapi reports the combinator only, too).
 */
function outermost(errors: ErrorObject[]): ErrorObject[] {
  return errors.filter((e) => !/\/(anyOf|oneOf|not)\//.test(e.schemaPath));
}

/** Duplicate members of `x-kubernetes-list-type: set|map` lists (the apiserver rejects them). */
function listTypeErrors(value: unknown, schema: OpenApiSchema, field: string, out: StatusCause[]): void {
  if (Array.isArray(value)) {
    const items = schemaItems(schema);
    const listType = schema['x-kubernetes-list-type'];
    const mapKeys = Array.isArray(schema['x-kubernetes-list-map-keys']) ? (schema['x-kubernetes-list-map-keys'] as string[]) : [];
    const seen = new Set<string>();
    value.forEach((item, i) => {
      let identity: string | undefined;
      if (listType === 'set') identity = JSON.stringify(item);
      if (listType === 'map' && isPlainObject(item)) identity = JSON.stringify(mapKeys.map((k) => item[k] ?? null));
      if (identity !== undefined) {
        if (seen.has(identity)) {
          const shown = listType === 'map' ? `{${mapKeys.map((k) => `${JSON.stringify(k)}:${JSON.stringify((item as Record<string, unknown>)[k])}`).join(',')}}` : formatFieldValue(item);
          out.push(fieldError('FieldValueDuplicate', `${field}[${i}]`, `Duplicate value: ${shown}`));
        }
        seen.add(identity);
      }
      if (items) listTypeErrors(item, items, `${field}[${i}]`, out);
    });
  } else if (isPlainObject(value)) {
    const props = schemaProperties(schema);
    const additional = schemaAdditional(schema);
    for (const [k, v] of Object.entries(value)) {
      const child = props[k] ?? additional;
      if (child) listTypeErrors(v, child, joinField(field, k), out);
    }
  }
}

/** Fields that exist at the root of every object regardless of the CRD schema. */
const ROOT_FIELDS = new Set(['apiVersion', 'kind', 'metadata']);

function preservesUnknown(schema: OpenApiSchema): boolean {
  return schema['x-kubernetes-preserve-unknown-fields'] === true || schema.additionalProperties === true;
}

function isNonNullableNull(v: unknown, s: OpenApiSchema | undefined): boolean {
  return v === null && s !== undefined && s.nullable !== true;
}

/**
 * Pruning (apiextensions-apiserver `pruning.Prune`): unknown fields are removed, root
 * apiVersion/kind/metadata always kept. Returns the removed paths, which the server reports as
 * warnings, or as a 400 under fieldValidation=Strict.
 */
function prune(value: unknown, schema: OpenApiSchema | undefined, field: string, isRoot: boolean, removed: string[]): void {
  if (schema === undefined) return;
  if (Array.isArray(value)) {
    const items = schemaItems(schema);
    value.forEach((item, i) => prune(item, items, `${field}[${i}]`, false, removed));
    return;
  }
  if (!isPlainObject(value)) return;
  const props = schemaProperties(schema);
  const additional = schemaAdditional(schema);
  const embedded = schema['x-kubernetes-embedded-resource'] === true;
  for (const key of Object.keys(value)) {
    const childField = joinField(field, key);
    if ((isRoot || embedded) && ROOT_FIELDS.has(key)) {
      if (key !== 'metadata' && props[key]) prune(value[key], props[key], childField, false, removed);
      continue;
    }
    const child = props[key] ?? additional;
    if (child) prune(value[key], child, childField, false, removed);
    else if (!preservesUnknown(schema)) {
      delete value[key];
      removed.push(childField);
    }
  }
}

/** `PruneNonNullableNullsWithoutDefaults`, then `Default`: the two steps before validation. */
function nullsAndDefaults(value: unknown, schema: OpenApiSchema | undefined): void {
  if (schema === undefined) return;
  if (Array.isArray(value)) {
    const items = schemaItems(schema);
    if (!items) return;
    value.forEach((item, i) => {
      if (isNonNullableNull(item, items) && items.default !== undefined) value[i] = structuredClone(items.default);
      nullsAndDefaults(value[i], items);
    });
    return;
  }
  if (!isPlainObject(value)) return;
  const props = schemaProperties(schema);
  const additional = schemaAdditional(schema);
  for (const key of Object.keys(value)) {
    const child = props[key] ?? additional;
    if (isNonNullableNull(value[key], child) && child?.default === undefined) delete value[key];
  }
  for (const [key, child] of Object.entries(props)) {
    if (child.default === undefined) continue;
    if (!Object.hasOwn(value, key) || isNonNullableNull(value[key], child)) value[key] = structuredClone(child.default);
  }
  for (const [key, v] of Object.entries(value)) nullsAndDefaults(v, props[key] ?? additional);
}

/** One CRD version's schema, compiled once when the double starts (as the CRD is installed). */
export class CrdSchema {
  readonly schema: OpenApiSchema;
  private readonly validateFn: ValidateFunction;

  constructor(schema: OpenApiSchema) {
    const errors = structuralErrors(schema);
    if (errors.length > 0) throw new Error(`schema is not structural:\n  ${errors.join('\n  ')}`);
    this.schema = schema;
    const ajv = new Ajv({ allErrors: true, strict: false, logger: false, formats: FORMATS });
    this.validateFn = ajv.compile(toAjvSchema(schema));
  }

  /** Prune, drop nulls, default — in place, as on every write. Returns the pruned field paths. */
  normalize(obj: Record<string, unknown>): string[] {
    const removed: string[] = [];
    prune(obj, this.schema, '', true, removed);
    nullsAndDefaults(obj, this.schema);
    return removed;
  }

  /** Schema and list-type errors as the API server's causes; empty when valid. */
  validate(obj: Record<string, unknown>): StatusCause[] {
    const causes: StatusCause[] = [];
    // metadata is validated as ObjectMeta by the store, not by the CRD schema (which may only
    // constrain name/generateName); hiding it keeps ajv from checking fields it cannot know.
    const { metadata, ...rest } = obj;
    const subject = isPlainObject(metadata) ? { ...rest, metadata: { name: metadata.name, generateName: metadata.generateName } } : obj;
    for (const k of ['name', 'generateName']) {
      const m = subject.metadata as Record<string, unknown> | undefined;
      if (m && m[k] === undefined) delete m[k];
    }
    if (!this.validateFn(subject)) causes.push(...outermost(this.validateFn.errors ?? []).map((e) => toCause(e, subject)));
    listTypeErrors(obj, this.schema, '', causes);
    return causes;
  }
}
