// labelSelector and fieldSelector as the API server parses them (apimachinery
// `labels.Parse`, `fields.ParseSelector`): a syntax error is a 400, and a field the resource
// does not index is a 400 too, so an operator that filters on an unsupported field fails here
// as it would against a real server instead of silently receiving everything.
import { badRequest } from './api-status.ts';

export type LabelRequirement =
  | { op: 'exists' | 'notExists'; key: string }
  | { op: 'in' | 'notIn'; key: string; values: string[] }
  | { op: 'gt' | 'lt'; key: string; value: number };

export type LabelSelector = LabelRequirement[];

// Label keys: optional DNS-subdomain prefix and a name of [A-Za-z0-9_.-]; values are the same
// character set (possibly empty). Checked loosely: the point is to reject garbage, not to
// re-implement every length limit.
const KEY = /^([a-z0-9]([-a-z0-9.]*[a-z0-9])?\/)?[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$/;
const VALUE = /^([A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?)?$/;

function splitTopLevel(input: string): string[] {
  const parts: string[] = [];
  let depth = 0;
  let current = '';
  for (const ch of input) {
    if (ch === '(') depth += 1;
    if (ch === ')') depth -= 1;
    if (ch === ',' && depth === 0) {
      parts.push(current);
      current = '';
    } else {
      current += ch;
    }
  }
  parts.push(current);
  return parts.map((p) => p.trim()).filter((p) => p.length > 0);
}

function checkKey(key: string, whole: string): string {
  if (!KEY.test(key)) throw badRequest(`unable to parse requirement: invalid label key "${key}" in "${whole}"`);
  return key;
}

function checkValue(value: string, whole: string): string {
  if (!VALUE.test(value)) throw badRequest(`unable to parse requirement: invalid label value "${value}" in "${whole}"`);
  return value;
}

export function parseLabelSelector(input: string | null | undefined): LabelSelector {
  if (input === null || input === undefined || input.trim() === '') return [];
  return splitTopLevel(input).map((part): LabelRequirement => {
    const set = /^(\S+)\s+(in|notin)\s*\((.*)\)$/.exec(part);
    if (set) {
      const values = set[3].split(',').map((v) => checkValue(v.trim(), input));
      return { op: set[2] === 'in' ? 'in' : 'notIn', key: checkKey(set[1], input), values };
    }
    const cmp = /^([^!=<>\s]+)\s*(==|=|!=|>|<)\s*(.*)$/.exec(part);
    if (cmp) {
      const key = checkKey(cmp[1], input);
      const value = cmp[3].trim();
      if (cmp[2] === '>' || cmp[2] === '<') {
        const n = Number(value);
        if (!Number.isInteger(n)) throw badRequest(`unable to parse requirement: for 'Gt', 'Lt' operators, the value must be an integer`);
        return { op: cmp[2] === '>' ? 'gt' : 'lt', key, value: n };
      }
      return { op: cmp[2] === '!=' ? 'notIn' : 'in', key, values: [checkValue(value, input)] };
    }
    if (part.startsWith('!')) return { op: 'notExists', key: checkKey(part.slice(1).trim(), input) };
    return { op: 'exists', key: checkKey(part, input) };
  });
}

export function matchesLabels(selector: LabelSelector, labels: Record<string, string> | undefined): boolean {
  const l = labels ?? {};
  return selector.every((r) => {
    const has = Object.hasOwn(l, r.key);
    switch (r.op) {
      case 'exists':
        return has;
      case 'notExists':
        return !has;
      case 'in':
        return has && r.values.includes(l[r.key]);
      case 'notIn':
        // Like apimachinery: `a!=b` and `a notin (b)` also match objects without label `a`.
        return !has || !r.values.includes(l[r.key]);
      case 'gt':
      case 'lt': {
        if (!has) return false;
        const n = Number(l[r.key]);
        if (!Number.isInteger(n)) return false;
        return r.op === 'gt' ? n > r.value : n < r.value;
      }
    }
  });
}

export interface FieldRequirement {
  field: string;
  value: string;
  negate: boolean;
}

export type FieldSelector = FieldRequirement[];

/** Splits on unescaped `sep`, keeping escapes for the second pass. */
function splitUnescaped(input: string, sep: string): string[] {
  const parts: string[] = [];
  let current = '';
  for (let i = 0; i < input.length; i++) {
    const ch = input[i];
    if (ch === '\\' && i + 1 < input.length) {
      current += ch + input[i + 1];
      i += 1;
    } else if (ch === sep) {
      parts.push(current);
      current = '';
    } else {
      current += ch;
    }
  }
  parts.push(current);
  return parts;
}

function unescapeFieldValue(value: string): string {
  return value.replace(/\\(.)/g, '$1');
}

export function parseFieldSelector(input: string | null | undefined): FieldSelector {
  if (input === null || input === undefined || input.trim() === '') return [];
  return splitUnescaped(input, ',')
    .filter((p) => p.trim() !== '')
    .map((part) => {
      const m = /^([^=!]+)(==|=|!=)(.*)$/.exec(part.trim());
      if (!m) throw badRequest(`invalid selector: '${input}'; can't understand '${part}'`);
      return { field: m[1].trim(), value: unescapeFieldValue(m[3]), negate: m[2] === '!=' };
    });
}

/** Field name → how to read it from an object; the resource's set of indexed fields. */
export type FieldLabels = Record<string, (obj: Record<string, unknown>) => string | undefined>;

/** Refuses fields the resource does not index, as the server does (400). */
export function checkFieldSelector(selector: FieldSelector, labels: FieldLabels, resource: string): void {
  for (const r of selector) {
    if (!Object.hasOwn(labels, r.field)) {
      throw badRequest(`field label not supported: ${r.field} (resource ${resource} supports: ${Object.keys(labels).join(', ')})`);
    }
  }
}

export function matchesFields(selector: FieldSelector, labels: FieldLabels, obj: Record<string, unknown>): boolean {
  return selector.every((r) => {
    const actual = labels[r.field](obj) ?? '';
    return r.negate ? actual !== r.value : actual === r.value;
  });
}

/** Reads a dotted path (`spec.nodeName`) as a field-label string; non-strings are formatted like Go. */
export function readFieldPath(obj: Record<string, unknown>, path: string): string | undefined {
  let cur: unknown = obj;
  for (const key of path.split('.')) {
    if (cur === null || typeof cur !== 'object') return undefined;
    cur = (cur as Record<string, unknown>)[key];
  }
  if (cur === undefined || cur === null) return undefined;
  return typeof cur === 'string' ? cur : String(cur);
}
