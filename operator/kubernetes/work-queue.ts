// The operator's work queue (DESIGN §6, Operator shape): keys (one per object, e.g.
// `topic/orders`) instead of events, so a burst of changes to one object is one reconcile of its
// latest state; at most one reconcile per key at a time (a key added while it runs runs once
// more afterwards); a failed reconcile comes back after an exponential backoff per key, reset by
// a success; a reconcile may ask to run again after a delay (waiting states). client-go's
// rate-limited workqueue, in small.
import type { Logger } from '../../common/logger.ts';
import type { Clock } from '../local/clock.ts';

export interface ReconcileResult {
  /** Run this key again after this long, even if nothing changes (polling a waiting state). */
  readonly requeueAfterMs?: number;
}

export interface WorkQueueOptions {
  readonly handler: (key: string) => Promise<ReconcileResult | void>;
  readonly clock: Clock;
  readonly logger: Logger;
  /** Reconciles running at once (over different keys). Default 4. */
  readonly concurrency?: number;
  /** First retry delay after a failure; doubles per consecutive failure. Default 100 ms. */
  readonly baseDelayMs?: number;
  /** Longest retry delay. Default 30 s. */
  readonly maxDelayMs?: number;
  /** Called after each failed reconcile (metrics). */
  readonly onError?: (key: string, error: unknown, attempt: number) => void;
}

export class WorkQueue {
  readonly #o: Required<Omit<WorkQueueOptions, 'onError'>> & Pick<WorkQueueOptions, 'onError'>;
  /** Keys waiting to run, in the order they were added. */
  readonly #ready = new Set<string>();
  readonly #running = new Set<string>();
  /** Keys added while running: they run again once the current run ends. */
  readonly #dirty = new Set<string>();
  readonly #delayed = new Map<string, { at: number; cancel: () => void }>();
  readonly #failures = new Map<string, number>();
  readonly #inFlight = new Set<Promise<void>>();
  #stopped = false;

  constructor(options: WorkQueueOptions) {
    this.#o = { concurrency: 4, baseDelayMs: 100, maxDelayMs: 30_000, ...options };
  }

  /** Queues `key` to be reconciled (once, however often it is added before it runs). */
  add(key: string): void {
    if (this.#stopped) return;
    this.#cancelDelayed(key);
    if (this.#running.has(key)) {
      this.#dirty.add(key);
      return;
    }
    this.#ready.add(key);
    this.#pump();
  }

  /** Queues `key` after `ms`; an earlier add (or addAfter with less delay) wins. */
  addAfter(key: string, ms: number): void {
    if (this.#stopped) return;
    if (ms <= 0) return this.add(key);
    const at = this.#o.clock.now() + ms;
    const existing = this.#delayed.get(key);
    if (existing && existing.at <= at) return;
    existing?.cancel();
    const cancel = this.#o.clock.setTimer(() => {
      this.#delayed.delete(key);
      this.add(key);
    }, ms);
    this.#delayed.set(key, { at, cancel });
  }

  /** Keys queued, running or waiting for a delay (for tests and diagnostics). */
  get size(): number {
    return new Set([...this.#ready, ...this.#running, ...this.#dirty, ...this.#delayed.keys()]).size;
  }

  /** Consecutive failures of `key` so far. */
  failures(key: string): number {
    return this.#failures.get(key) ?? 0;
  }

  /** Stops taking work, drops what is queued, and waits for running reconciles to end. */
  async stop(): Promise<void> {
    this.#stopped = true;
    this.#ready.clear();
    this.#dirty.clear();
    for (const d of this.#delayed.values()) d.cancel();
    this.#delayed.clear();
    while (this.#inFlight.size > 0) await Promise.allSettled([...this.#inFlight]);
  }

  /** Resolves once nothing is queued or running (delayed keys aside). */
  async idle(): Promise<void> {
    while (this.#inFlight.size > 0 || this.#ready.size > 0) {
      await Promise.allSettled([...this.#inFlight]);
      await new Promise((resolve) => setImmediate(resolve));
    }
  }

  #cancelDelayed(key: string): void {
    const d = this.#delayed.get(key);
    if (!d) return;
    d.cancel();
    this.#delayed.delete(key);
  }

  #pump(): void {
    while (!this.#stopped && this.#running.size < this.#o.concurrency && this.#ready.size > 0) {
      const key = this.#ready.values().next().value as string;
      this.#ready.delete(key);
      this.#running.add(key);
      const run = this.#run(key).finally(() => {
        this.#inFlight.delete(run);
        this.#running.delete(key);
        if (this.#dirty.delete(key)) this.add(key);
        this.#pump();
      });
      this.#inFlight.add(run);
    }
  }

  async #run(key: string): Promise<void> {
    let result: ReconcileResult | void;
    try {
      result = await this.#o.handler(key);
    } catch (e) {
      const attempt = (this.#failures.get(key) ?? 0) + 1;
      this.#failures.set(key, attempt);
      const delay = Math.min(this.#o.maxDelayMs, this.#o.baseDelayMs * 2 ** (attempt - 1));
      this.#o.logger.warn({ err: e, key, attempt, retryInMs: delay }, 'reconcile failed; retrying with backoff');
      this.#o.onError?.(key, e, attempt);
      // Added again now, a change to the object meanwhile would skip the backoff: that is wanted
      // (new input may fix it), so the retry is only the floor.
      if (!this.#dirty.has(key)) this.addAfter(key, delay);
      return;
    }
    this.#failures.delete(key);
    if (result?.requeueAfterMs !== undefined) this.addAfter(key, result.requeueAfterMs);
  }
}
