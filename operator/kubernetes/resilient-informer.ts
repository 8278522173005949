// A client-node informer (makeInformer: list, then watch, with a local cache) that keeps running:
//
// * client-node's ListWatch stops on any error that is not 410 Gone or its own inactivity timeout,
//   reporting it only on 'error'; this restarts it with a capped exponential backoff. Errors after
//   stop() (its own AbortError among them) are ignored.
// * A watch that goes silent is aborted by client-node after 30 s of inactivity and resumed from
//   the last resourceVersion, so a quiet resource reconnects (and emits 'connect') at least that
//   often. Nothing at all for `stallTimeoutMs` means the loop itself is stuck: it is restarted.
// * 410 Gone makes ListWatch list again; objects that vanished meanwhile come out as deletes.
//
// Every add, update and delete calls `onChange` with the object: the operator only turns it into
// a work-queue key, never acting on the kind of event.
import { makeInformer, type Informer, type KubeConfig, type KubernetesListObject, type KubernetesObject, type ObjectCache } from '@kubernetes/client-node';
import type { Logger } from '../../common/logger.ts';

export interface ResilientInformerOptions<T extends KubernetesObject> {
  readonly kubeConfig: KubeConfig;
  /** Watch path, e.g. /api/v1/namespaces/sluice/pods. */
  readonly path: string;
  readonly list: () => Promise<KubernetesListObject<T>>;
  readonly labelSelector?: string;
  /** For logs and metrics: topics, pods, nodes. */
  readonly name: string;
  readonly onChange: (obj: T) => void;
  readonly logger: Logger;
  /** Restart when nothing (no event, no reconnect) happened for this long. Default 90 s. */
  readonly stallTimeoutMs?: number;
  readonly minRestartDelayMs?: number;
  readonly maxRestartDelayMs?: number;
  /** Called at every restart (metrics). */
  readonly onRestart?: () => void;
}

interface Generation<T extends KubernetesObject> {
  readonly informer: Informer<T> & ObjectCache<T>;
  failed: boolean;
  synced: boolean;
}

export class ResilientInformer<T extends KubernetesObject> {
  readonly #o: ResilientInformerOptions<T>;
  /** The informer running now. */
  #current: Generation<T> | undefined;
  /**
   * The last informer whose list completed: reads come from it, so a restart never shows an empty
   * cache (an object missing from it would look deleted) until the new list is in.
   */
  #serving: Generation<T> | undefined;
  #stopped = true;
  #restartDelayMs: number;
  #restartTimer: NodeJS.Timeout | undefined;
  #stallTimer: NodeJS.Timeout | undefined;
  #lastActivity = 0;
  #restarts = 0;

  constructor(options: ResilientInformerOptions<T>) {
    this.#o = options;
    this.#restartDelayMs = options.minRestartDelayMs ?? 500;
  }

  /** True once a list has been loaded (the cache is usable). */
  get synced(): boolean {
    return this.#serving !== undefined;
  }

  /** How often the informer was restarted after an error or a stall. */
  get restarts(): number {
    return this.#restarts;
  }

  get(name: string, namespace?: string): T | undefined {
    return this.#serving?.informer.get(name, namespace);
  }

  list(namespace?: string): readonly T[] {
    return this.#serving?.informer.list(namespace) ?? [];
  }

  start(): void {
    if (!this.#stopped) return;
    this.#stopped = false;
    this.#run();
    this.#armStallCheck();
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    if (this.#restartTimer) clearTimeout(this.#restartTimer);
    if (this.#stallTimer) clearInterval(this.#stallTimer);
    this.#restartTimer = undefined;
    this.#stallTimer = undefined;
    const running = [this.#current, this.#serving].filter((g): g is Generation<T> => g !== undefined);
    await Promise.all(running.map((g) => g.informer.stop()));
  }

  /** A fresh informer each time: a stopped ListWatch reports its own abort late, as an error. */
  #run(): void {
    this.#touch();
    const informer = makeInformer<T>(this.#o.kubeConfig, this.#o.path, this.#o.list, this.#o.labelSelector);
    const gen: Generation<T> = { informer, failed: false, synced: false };
    const live = () => !this.#stopped && this.#current === gen;
    const changed = (obj: T) => {
      if (!live()) return;
      this.#touch();
      this.#o.onChange(obj);
    };
    informer.on('add', changed);
    informer.on('update', changed);
    informer.on('delete', changed);
    informer.on('connect', () => live() && this.#touch());
    informer.on('error', (err: unknown) => {
      if (!live()) return; // stopped (by us, or replaced): its abort is no failure
      gen.failed = true;
      this.#onError(err);
    });
    this.#current = gen;
    informer.start().then(
      () => {
        if (!live() || gen.failed) return;
        gen.synced = true;
        const previous = this.#serving;
        this.#serving = gen;
        this.#restartDelayMs = this.#o.minRestartDelayMs ?? 500;
        if (previous && previous !== gen) {
          void previous.informer.stop();
          // Its list was announced while reads still came from the previous cache: again, now
          // that the new cache answers.
          for (const obj of gen.informer.list()) this.#o.onChange(obj);
          // Objects that vanished while no watch ran are gone from the new cache without a
          // delete event: announce them, so their keys are reconciled too.
          for (const old of previous.informer.list()) {
            const { name, namespace } = old.metadata ?? {};
            if (name !== undefined && !gen.informer.get(name, namespace)) this.#o.onChange(old);
          }
        }
      },
      (err: unknown) => {
        if (!live()) return;
        gen.failed = true;
        this.#onError(err);
      },
    );
  }

  #touch(): void {
    this.#lastActivity = performance.now();
  }

  #onError(err: unknown): void {
    if (this.#stopped) return;
    const delay = this.#restartDelayMs;
    this.#restartDelayMs = Math.min(this.#o.maxRestartDelayMs ?? 30_000, delay * 2);
    this.#o.logger.warn({ err, informer: this.#o.name, retryInMs: delay }, 'informer stopped on an error; restarting it');
    this.#scheduleRestart(delay);
  }

  #scheduleRestart(delay: number): void {
    if (this.#restartTimer) return;
    this.#restartTimer = setTimeout(() => {
      this.#restartTimer = undefined;
      if (this.#stopped) return;
      this.#restarts++;
      this.#o.onRestart?.();
      const old = this.#current;
      // The serving generation keeps answering reads until the new one has listed.
      if (old && old !== this.#serving) void old.informer.stop();
      else if (old) this.#current = undefined;
      this.#run();
    }, delay);
  }

  #armStallCheck(): void {
    const limit = this.#o.stallTimeoutMs ?? 90_000;
    this.#stallTimer = setInterval(() => {
      if (this.#stopped || this.#restartTimer) return;
      const silentFor = performance.now() - this.#lastActivity;
      if (silentFor < limit) return;
      this.#o.logger.warn({ informer: this.#o.name, silentForMs: Math.round(silentFor) }, 'informer silent for too long (stalled watch); restarting it');
      this.#touch();
      this.#scheduleRestart(0);
    }, Math.max(50, Math.min(limit / 4, 5_000)));
    this.#stallTimer.unref();
  }
}
