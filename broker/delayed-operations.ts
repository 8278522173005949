// Requests that cannot be answered yet: acks=all produces waiting for the HW to pass their
// batch, fetches waiting for min_bytes, subscriptions waiting for the next record. Kafka's
// DelayedOperationPurgatory: an operation is watched under the keys of the partitions it
// depends on, and whoever changes a partition (an append, an HW advance, a leadership change,
// a deletion) calls checkAndComplete(key). Nothing polls on a timer; the only timer per
// operation is its deadline.

export interface DelayedOperation {
  /** Answers the caller and returns true if the operation can finish now; false to keep waiting. */
  tryComplete(): boolean;
  /** Answers the caller after the deadline passed without tryComplete succeeding. */
  onExpire(): void;
}

/** Handle of a parked operation, to drop it when its caller went away. */
export interface WatchedOperation {
  readonly done: boolean;
}

class Entry implements WatchedOperation {
  done = false;
  timer: NodeJS.Timeout | undefined;
  readonly op: DelayedOperation;
  readonly keys: readonly string[];

  constructor(op: DelayedOperation, keys: readonly string[]) {
    this.op = op;
    this.keys = keys;
  }
}

export type DelayedOperationErrorHandler = (err: unknown, op: DelayedOperation) => void;

export class DelayedOperationPurgatory {
  readonly #watchers = new Map<string, Set<Entry>>();
  readonly #entries = new Set<Entry>();
  readonly #onError: DelayedOperationErrorHandler;
  #closed = false;

  constructor(onError: DelayedOperationErrorHandler) {
    this.#onError = onError;
  }

  /**
   * Completes the operation now if it can; otherwise parks it under keys until a
   * checkAndComplete on one of them completes it or timeoutMs passes (no timeout when
   * undefined). Returns null when it completed at once.
   */
  tryCompleteElseWatch(op: DelayedOperation, keys: readonly string[], timeoutMs?: number): WatchedOperation | null {
    if (this.#attempt(op)) return null;
    if (this.#closed) {
      this.#expireNow(op);
      return null;
    }
    const entry = new Entry(op, keys);
    for (const key of keys) {
      let set = this.#watchers.get(key);
      if (!set) {
        set = new Set();
        this.#watchers.set(key, set);
      }
      set.add(entry);
    }
    this.#entries.add(entry);
    if (timeoutMs !== undefined) {
      entry.timer = setTimeout(() => this.#expire(entry), Math.max(0, timeoutMs));
    }
    return entry;
  }

  /** Gives every operation watching key a chance to complete; returns how many did. */
  checkAndComplete(key: string): number {
    const set = this.#watchers.get(key);
    if (set === undefined) return 0;
    let completed = 0;
    for (const entry of set) {
      if (entry.done) continue;
      if (this.#attempt(entry.op)) {
        this.#remove(entry);
        completed++;
      }
    }
    return completed;
  }

  /** Drops a parked operation without answering it (its caller cancelled). */
  cancel(handle: WatchedOperation): void {
    const entry = handle as Entry;
    if (!entry.done) this.#remove(entry);
  }

  /**
   * Expires every parked operation now and every one offered from here on, so a stopping
   * broker answers its callers instead of leaving them hanging until their deadlines.
   */
  close(): void {
    this.#closed = true;
    for (const entry of [...this.#entries]) this.#expire(entry);
  }

  /** Number of parked operations watching key (all of them without a key). */
  watched(key?: string): number {
    if (key === undefined) return this.#entries.size;
    return this.#watchers.get(key)?.size ?? 0;
  }

  #attempt(op: DelayedOperation): boolean {
    try {
      return op.tryComplete();
    } catch (err) {
      // An operation that throws cannot be retried meaningfully; dropping it is better than
      // rethrowing into the append or metadata path that happened to wake it.
      this.#onError(err, op);
      return true;
    }
  }

  #expire(entry: Entry): void {
    if (entry.done) return;
    this.#remove(entry);
    this.#expireNow(entry.op);
  }

  #expireNow(op: DelayedOperation): void {
    try {
      op.onExpire();
    } catch (err) {
      this.#onError(err, op);
    }
  }

  #remove(entry: Entry): void {
    entry.done = true;
    if (entry.timer !== undefined) clearTimeout(entry.timer);
    this.#entries.delete(entry);
    for (const key of entry.keys) {
      const set = this.#watchers.get(key);
      if (!set) continue;
      set.delete(entry);
      if (set.size === 0) this.#watchers.delete(key);
    }
  }
}
