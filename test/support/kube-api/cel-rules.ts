// The CRD's `x-kubernetes-validations` CEL rules, evaluated with @marcbachmann/cel-js the way
// apiextensions-apiserver evaluates them:
//  * a rule runs at its schema node, with `self` bound to the value there, and only when that
//    value is present;
//  * a transition rule (one that mentions `oldSelf`) runs only on update and only where the old
//    object has a value at the same place ("correlatable": reached through object properties,
//    map keys, or `x-kubernetes-list-type: map` keys — not through list indices); with
//    `optionalOldSelf: true` it also runs on create, `oldSelf` then being an optional;
//  * values are typed by the schema: integers are CEL `int` (BigInt here), property names are
//    escaped (`retention.ms` → `retention__dot__ms`), and at the root `metadata` exposes only
//    name and generateName;
//  * a failed rule is a field error at the node (plus the rule's `fieldPath`), with the rule's
//    `reason`, and `message`/`messageExpression` or "failed rule: <rule>".
// Every rule is compiled when the CRD is installed, so a rule that does not compile fails the
// double's start, as it would fail `kubectl apply` of the CRD.
//
// Not modelled: the Kubernetes CEL extension libraries (quantity, url, ip, format, isSorted,
// lists.* …), date-time/duration strings as CEL timestamps/durations, cost limits, and
// validation ratcheting. A rule using an unsupported function fails at start, not silently.
import { Environment, Optional } from '@marcbachmann/cel-js';
import { fieldError, type StatusCause } from './api-status.ts';
import { schemaAdditional, schemaItems, schemaProperties, type OpenApiSchema } from './schema-validation.ts';

export interface ValidationRule {
  rule: string;
  message?: string;
  messageExpression?: string;
  reason?: 'FieldValueInvalid' | 'FieldValueForbidden' | 'FieldValueRequired' | 'FieldValueDuplicate';
  fieldPath?: string;
  optionalOldSelf?: boolean;
}

// apiextensions-apiserver/pkg/apiserver/schema/cel/model: names CEL would read as keywords.
const CEL_RESERVED = new Set([
  'true', 'false', 'null', 'in', 'as', 'break', 'const', 'continue', 'else', 'for', 'function', 'if',
  'import', 'let', 'loop', 'package', 'namespace', 'return', 'var', 'void', 'while',
]);

/** A property name as CEL sees it, or undefined when Kubernetes makes it inaccessible. */
export function escapeCelName(name: string): string | undefined {
  if (CEL_RESERVED.has(name)) return `__${name}__`;
  if (!/^[a-zA-Z_.\-/][a-zA-Z0-9_.\-/]*$/.test(name)) return undefined;
  let out = '';
  for (let i = 0; i < name.length; i++) {
    const ch = name[i];
    if (ch === '_' && name[i + 1] === '_') {
      out += '__underscores__';
      i += 1;
    } else if (ch === '.') out += '__dot__';
    else if (ch === '-') out += '__dash__';
    else if (ch === '/') out += '__slash__';
    else out += ch;
  }
  return out;
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

/** JSON without a schema (preserved unknown fields): integral numbers are CEL ints. */
function untypedCelValue(v: unknown): unknown {
  if (typeof v === 'number' && Number.isInteger(v)) return BigInt(v);
  if (Array.isArray(v)) return v.map(untypedCelValue);
  if (isPlainObject(v)) return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, untypedCelValue(x)]));
  return v;
}

/** A JSON value as the CEL value Kubernetes would bind for this schema node. */
export function celValue(v: unknown, schema: OpenApiSchema | undefined, isRoot = false): unknown {
  if (v === null || v === undefined || schema === undefined) return untypedCelValue(v);
  if (schema['x-kubernetes-int-or-string'] === true || schema.type === 'integer') {
    return typeof v === 'number' && Number.isInteger(v) ? BigInt(v) : v;
  }
  if (Array.isArray(v)) {
    const items = schemaItems(schema);
    return v.map((x) => celValue(x, items));
  }
  if (!isPlainObject(v)) return v;
  const additional = schemaAdditional(schema);
  if (additional) return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, celValue(x, additional)]));
  const props = schemaProperties(schema);
  const out: Record<string, unknown> = {};
  for (const [k, x] of Object.entries(v)) {
    if (isRoot && k === 'metadata' && isPlainObject(x)) {
      const meta: Record<string, unknown> = {};
      if (x.name !== undefined) meta.name = x.name;
      if (x.generateName !== undefined) meta.generateName = x.generateName;
      out.metadata = meta;
      continue;
    }
    const name = escapeCelName(k);
    if (name === undefined) continue;
    out[name] = props[k] ? celValue(x, props[k]) : untypedCelValue(x);
  }
  return out;
}

type Evaluate = (context: Record<string, unknown>) => unknown;

interface CompiledRule {
  rule: ValidationRule;
  transition: boolean;
  evaluate: Evaluate;
  message?: Evaluate;
}

function rulesAt(schema: OpenApiSchema): ValidationRule[] {
  const raw = schema['x-kubernetes-validations'];
  return Array.isArray(raw) ? (raw as ValidationRule[]) : [];
}

function joinField(parent: string, child: string): string {
  if (child === '') return parent;
  if (parent === '') return child;
  return child.startsWith('[') ? `${parent}${child}` : `${parent}.${child}`;
}

/** Old list items matched to new ones by `x-kubernetes-list-map-keys`, the only list correlation. */
function correlateListItem(item: unknown, oldList: unknown, schema: OpenApiSchema): unknown {
  if (schema['x-kubernetes-list-type'] !== 'map' || !Array.isArray(oldList) || !isPlainObject(item)) return undefined;
  const keys = Array.isArray(schema['x-kubernetes-list-map-keys']) ? (schema['x-kubernetes-list-map-keys'] as string[]) : [];
  return oldList.find((o) => isPlainObject(o) && keys.every((k) => o[k] === item[k]));
}

function compileExpression(env: Environment, source: string, where: string, errors: string[]): { evaluate: Evaluate; type: string } | undefined {
  try {
    const parsed = env.parse(source);
    const checked = parsed.check();
    if (!checked.valid) {
      errors.push(`${where}: ${checked.error?.message.split('\n')[0]}`);
      return undefined;
    }
    return { evaluate: (context) => parsed(context), type: checked.type ?? 'dyn' };
  } catch (err) {
    errors.push(`${where}: ${err instanceof Error ? err.message.split('\n')[0] : String(err)}`);
    return undefined;
  }
}

export class CelRules {
  private readonly env: Environment;
  private readonly optionalEnv: Environment;
  private readonly compiled = new Map<ValidationRule, CompiledRule>();
  private readonly schema: OpenApiSchema;

  constructor(schema: OpenApiSchema) {
    this.schema = schema;
    this.env = new Environment().registerVariable('self', 'dyn').registerVariable('oldSelf', 'dyn');
    this.optionalEnv = new Environment({ enableOptionalTypes: true }).registerVariable('self', 'dyn').registerVariable('oldSelf', 'optional<dyn>');
    const errors: string[] = [];
    this.compileAll(schema, 'openAPIV3Schema', errors);
    if (errors.length > 0) throw new Error(`x-kubernetes-validations do not compile:\n  ${errors.join('\n  ')}`);
  }

  private compileAll(schema: OpenApiSchema, path: string, errors: string[]): void {
    rulesAt(schema).forEach((rule, i) => {
      const env = rule.optionalOldSelf ? this.optionalEnv : this.env;
      const where = `${path}.x-kubernetes-validations[${i}]`;
      if (typeof rule.rule !== 'string') {
        errors.push(`${where}.rule: Required value`);
        return;
      }
      const compiled = compileExpression(env, rule.rule, `${where}.rule`, errors);
      if (compiled === undefined) return;
      if (compiled.type !== 'bool' && compiled.type !== 'dyn') errors.push(`${where}.rule: must evaluate to a bool, not ${compiled.type}`);
      const message = rule.messageExpression === undefined ? undefined : compileExpression(env, rule.messageExpression, `${where}.messageExpression`, errors);
      this.compiled.set(rule, { rule, transition: /\boldSelf\b/.test(rule.rule), evaluate: compiled.evaluate, message: message?.evaluate });
    });
    for (const [k, child] of Object.entries(schemaProperties(schema))) this.compileAll(child, `${path}.properties[${k}]`, errors);
    const additional = schemaAdditional(schema);
    if (additional) this.compileAll(additional, `${path}.additionalProperties`, errors);
    const items = schemaItems(schema);
    if (items) this.compileAll(items, `${path}.items`, errors);
  }

  /** True when the schema carries any rule at all (lets the store skip the walk). */
  get empty(): boolean {
    return this.compiled.size === 0;
  }

  /** Field errors for `obj` (`old` on update, undefined on create). */
  validate(obj: Record<string, unknown>, old: Record<string, unknown> | undefined): StatusCause[] {
    const causes: StatusCause[] = [];
    if (!this.empty) this.walk(obj, old, this.schema, '', true, causes);
    return causes;
  }

  private walk(value: unknown, old: unknown, schema: OpenApiSchema, field: string, isRoot: boolean, causes: StatusCause[]): void {
    if (value === undefined || value === null) return;
    for (const rule of rulesAt(schema)) {
      const c = this.compiled.get(rule);
      if (c === undefined) continue;
      if (c.transition && old === undefined && !rule.optionalOldSelf) continue;
      const cause = this.evaluate(c, value, old, schema, field, isRoot);
      if (cause) causes.push(cause);
    }
    if (Array.isArray(value)) {
      const items = schemaItems(schema);
      if (items) value.forEach((item, i) => this.walk(item, correlateListItem(item, old, schema), items, `${field}[${i}]`, false, causes));
      return;
    }
    if (!isPlainObject(value)) return;
    const props = schemaProperties(schema);
    const additional = schemaAdditional(schema);
    for (const [k, v] of Object.entries(value)) {
      const child = props[k] ?? additional;
      if (!child) continue;
      const oldChild = isPlainObject(old) ? old[k] : undefined;
      this.walk(v, oldChild, child, joinField(field, k), false, causes);
    }
  }

  private evaluate(c: CompiledRule, value: unknown, old: unknown, schema: OpenApiSchema, field: string, isRoot: boolean): StatusCause | undefined {
    const { rule } = c;
    const self = celValue(value, schema, isRoot);
    const oldSelf = old === undefined ? undefined : celValue(old, schema, isRoot);
    const context = { self, oldSelf: rule.optionalOldSelf ? Optional.of(oldSelf) : (oldSelf ?? null) };
    const target = rule.fieldPath ? joinField(field, rule.fieldPath.replace(/^\./, '')) : field;
    const typeName = typeof schema.type === 'string' ? schema.type : 'object';
    let detail: string;
    try {
      if (c.evaluate(context) === true) return undefined;
      detail = rule.message ?? `failed rule: ${rule.rule.trim()}`;
      if (c.message !== undefined) {
        try {
          const m = c.message(context);
          if (typeof m === 'string' && m.trim() !== '') detail = m;
        } catch {
          // The API server falls back to message / "failed rule" when messageExpression fails.
        }
      }
    } catch (err) {
      const why = err instanceof Error ? err.message.split('\n')[0] : String(err);
      return fieldError('FieldValueInvalid', target, `Invalid value: "${typeName}": ${why} evaluating rule: ${rule.rule.trim()}`);
    }
    switch (rule.reason) {
      case 'FieldValueForbidden':
        return fieldError('FieldValueForbidden', target, `Forbidden: ${detail}`);
      case 'FieldValueRequired':
        return fieldError('FieldValueRequired', target, `Required value: ${detail}`);
      case 'FieldValueDuplicate':
        return fieldError('FieldValueDuplicate', target, `Duplicate value: ${JSON.stringify(detail)}`);
      default:
        return fieldError('FieldValueInvalid', target, `Invalid value: "${typeName}": ${detail}`);
    }
  }
}
