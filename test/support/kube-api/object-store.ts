// The double's etcd: every object of every resource under one global, strictly increasing
// revision (the resourceVersion), plus a bounded history of changes that watches replay from
// and lists reconstruct old snapshots from. Once an event falls out of the history (bounded
// size, or an explicit compaction) a watch or list from before it answers 410 Expired — the
// signal that makes informers re-list, which is exactly what operator tests need to provoke.
import { expired, resourceVersionTooLarge } from './api-status.ts';
import type { KubeObject } from './resource-types.ts';

export type ChangeType = 'ADDED' | 'MODIFIED' | 'DELETED';

export interface StoredChange {
  type: ChangeType;
  /** Revision of this change; for DELETED the deletion's own revision. */
  rv: number;
  storageKey: string;
  /** The object after the change (for DELETED, its last state, carrying the deletion revision). */
  object: KubeObject;
  /** The object before the change (MODIFIED, DELETED) — for selector transitions and rollback. */
  previous?: KubeObject;
}

function objectKey(obj: KubeObject): string {
  return `${obj.metadata.namespace ?? ''}/${obj.metadata.name}`;
}

export class ObjectStore {
  private revision: number;
  private readonly objects = new Map<string, Map<string, KubeObject>>();
  private readonly history: StoredChange[] = [];
  /** Every change with rv <= this is forgotten: watching or listing from before it is Expired. */
  private compactedThrough: number;
  private readonly historyLimit: number;
  private readonly listeners: ((change: StoredChange) => void)[] = [];

  constructor(options: { historyLimit: number; firstResourceVersion: number }) {
    this.historyLimit = options.historyLimit;
    this.revision = options.firstResourceVersion;
    this.compactedThrough = options.firstResourceVersion;
  }

  get resourceVersion(): number {
    return this.revision;
  }

  /** The oldest revision a watch may still start from. */
  get oldestWatchableVersion(): number {
    return this.compactedThrough;
  }

  onChange(listener: (change: StoredChange) => void): void {
    this.listeners.push(listener);
  }

  private bucket(storageKey: string): Map<string, KubeObject> {
    let b = this.objects.get(storageKey);
    if (!b) {
      b = new Map();
      this.objects.set(storageKey, b);
    }
    return b;
  }

  get(storageKey: string, namespace: string | undefined, name: string): KubeObject | undefined {
    const o = this.objects.get(storageKey)?.get(`${namespace ?? ''}/${name}`);
    return o === undefined ? undefined : structuredClone(o);
  }

  /** Current objects in key order (namespace/name), as etcd returns a range. */
  list(storageKey: string): KubeObject[] {
    return [...(this.objects.get(storageKey)?.values() ?? [])]
      .map((o) => structuredClone(o))
      .sort((a, b) => (objectKey(a) < objectKey(b) ? -1 : objectKey(a) > objectKey(b) ? 1 : 0));
  }

  /** The objects as they were at revision `rv`, rebuilt by undoing later changes. */
  listAt(storageKey: string, rv: number): KubeObject[] {
    if (rv > this.revision) throw resourceVersionTooLarge(rv, this.revision);
    if (rv < this.compactedThrough) throw expired('The resourceVersion for the provided list is too old.');
    const state = new Map<string, KubeObject>();
    for (const o of this.objects.get(storageKey)?.values() ?? []) state.set(objectKey(o), o);
    for (let i = this.history.length - 1; i >= 0 && this.history[i].rv > rv; i--) {
      const c = this.history[i];
      if (c.storageKey !== storageKey) continue;
      if (c.type === 'ADDED') state.delete(objectKey(c.object));
      else if (c.previous) state.set(objectKey(c.previous), c.previous);
    }
    return [...state.values()]
      .map((o) => structuredClone(o))
      .sort((a, b) => (objectKey(a) < objectKey(b) ? -1 : objectKey(a) > objectKey(b) ? 1 : 0));
  }

  /** Changes after `rv` for one resource, or 410 when the history no longer reaches back to `rv`. */
  changesSince(storageKey: string, rv: number): StoredChange[] {
    if (rv < this.compactedThrough) {
      throw expired(`too old resource version: ${rv} (${this.compactedThrough + 1})`);
    }
    return this.history.filter((c) => c.rv > rv && c.storageKey === storageKey).map((c) => structuredClone(c));
  }

  private record(change: StoredChange): void {
    this.history.push(change);
    while (this.history.length > this.historyLimit) {
      const dropped = this.history.shift();
      if (dropped) this.compactedThrough = dropped.rv;
    }
    for (const l of this.listeners) l(structuredClone(change));
  }

  private nextRevision(): number {
    this.revision += 1;
    return this.revision;
  }

  /** Stores a new object; it must not exist. Returns it with its resourceVersion. */
  create(storageKey: string, obj: KubeObject): KubeObject {
    const rv = this.nextRevision();
    const stored = structuredClone(obj);
    stored.metadata.resourceVersion = String(rv);
    this.bucket(storageKey).set(objectKey(stored), stored);
    this.record({ type: 'ADDED', rv, storageKey, object: structuredClone(stored) });
    return structuredClone(stored);
  }

  /** Replaces an existing object (the caller has checked the resourceVersion precondition). */
  update(storageKey: string, obj: KubeObject): KubeObject {
    const previous = this.bucket(storageKey).get(objectKey(obj));
    if (!previous) throw new Error(`update of a missing object ${storageKey} ${objectKey(obj)}`);
    const rv = this.nextRevision();
    const stored = structuredClone(obj);
    stored.metadata.resourceVersion = String(rv);
    this.bucket(storageKey).set(objectKey(stored), stored);
    this.record({ type: 'MODIFIED', rv, storageKey, object: structuredClone(stored), previous: structuredClone(previous) });
    return structuredClone(stored);
  }

  /**
   * Removes an object. `last` is its final state (an update that removed the last finalizer
   * deletes in the same step, so that state may never have been stored). Returns the DELETED
   * event's object, which carries the deletion revision.
   */
  remove(storageKey: string, last: KubeObject): KubeObject {
    const previous = this.bucket(storageKey).get(objectKey(last));
    if (!previous) throw new Error(`delete of a missing object ${storageKey} ${objectKey(last)}`);
    const rv = this.nextRevision();
    this.bucket(storageKey).delete(objectKey(last));
    const tombstone = structuredClone(last);
    tombstone.metadata.resourceVersion = String(rv);
    this.record({ type: 'DELETED', rv, storageKey, object: structuredClone(tombstone), previous: structuredClone(previous) });
    return tombstone;
  }

  /** Forgets all history, as an etcd compaction at the current revision would. */
  compact(): void {
    this.history.length = 0;
    this.compactedThrough = this.revision;
  }
}
