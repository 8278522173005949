import { describe, expect, it } from 'vitest';
import { KubeStatusError } from './api-status.ts';
import { applyJsonPatch, applyMergePatch, type Json } from './json-patch.ts';

function codeOf(fn: () => unknown): number | undefined {
  try {
    fn();
  } catch (err) {
    if (err instanceof KubeStatusError) return err.code;
    throw err;
  }
  return undefined;
}

describe('merge patch (RFC 7386)', () => {
  it('merges objects, removes keys with null, replaces lists and scalars', () => {
    const target: Json = { spec: { partitions: 3, config: { a: 1, b: 2 } }, list: [1, 2] };
    expect(applyMergePatch(target, { spec: { config: { a: null, c: 3 } }, list: [9] })).toEqual({ spec: { partitions: 3, config: { b: 2, c: 3 } }, list: [9] });
    // The target is not modified.
    expect(target).toEqual({ spec: { partitions: 3, config: { a: 1, b: 2 } }, list: [1, 2] });
  });
});

describe('JSON patch (RFC 6902)', () => {
  const doc: Json = { metadata: { resourceVersion: '7', 'a/b': 1, finalizers: ['x', 'y'] }, spec: { partitions: 3 } };

  it('applies add, remove, replace, move, copy and test, including escaped and "-" paths', () => {
    const out = applyJsonPatch(doc, [
      { op: 'test', path: '/metadata/resourceVersion', value: '7' },
      { op: 'add', path: '/metadata/finalizers/-', value: 'z' },
      { op: 'remove', path: '/metadata/finalizers/0' },
      { op: 'replace', path: '/spec/partitions', value: 6 },
      { op: 'copy', from: '/spec/partitions', path: '/spec/copied' },
      { op: 'move', from: '/metadata/a~1b', path: '/spec/moved' },
    ]);
    expect(out).toEqual({ metadata: { resourceVersion: '7', finalizers: ['y', 'z'] }, spec: { partitions: 6, copied: 6, moved: 1 } });
    expect(doc).toEqual({ metadata: { resourceVersion: '7', 'a/b': 1, finalizers: ['x', 'y'] }, spec: { partitions: 3 } });
  });

  it('answers 422 when a test fails or a path is missing, and 400 for a patch that is not an operation list', () => {
    expect(codeOf(() => applyJsonPatch(doc, [{ op: 'test', path: '/metadata/resourceVersion', value: '6' }]))).toBe(422);
    expect(codeOf(() => applyJsonPatch(doc, [{ op: 'replace', path: '/spec/missing', value: 1 }]))).toBe(422);
    expect(codeOf(() => applyJsonPatch(doc, [{ op: 'remove', path: '/nope/deeper' }]))).toBe(422);
    expect(codeOf(() => applyJsonPatch(doc, [{ op: 'add', path: '/metadata/finalizers/5', value: 'q' }]))).toBe(422);
    expect(codeOf(() => applyJsonPatch(doc, { op: 'add' }))).toBe(400);
    expect(codeOf(() => applyJsonPatch(doc, [{ op: 'frobnicate', path: '/spec' }]))).toBe(400);
  });
});
