// The one writer of Topic.status in the operator process, through the status subresource.
//
// Two kinds of write go through it, one at a time per Topic: `persist` (the partition state of a
// committed change, which must be durable before brokers hear of it) and `publish` (the verdict
// of a reconcile: observedGeneration, a refusal). Both write the whole status, built by
// buildTopicStatus from the last persisted state and the last verdict, so neither can undo the
// other.
//
// Each write is a compare-and-set on the object's resourceVersion. A 409 is normal when a user
// edited the spec meanwhile: the writer reads the object again and retries. But if the persisted
// partition state on the object (metadata version included) is not what this process last wrote
// (or loaded), someone else wrote it — another operator that believes it leads — and the writer
// refuses with StateConflictError: this process must stop acting on its state.
//
// A third kind of write, `claim`, is a new leader's at its takeover: the status as it is, with the
// takeover's metadata version. After it, a previous leader's write of that Topic cannot land (see
// kube-state-persister.ts).
import { ApiException, type CustomObjectsApi } from '@kubernetes/client-node';
import type { Logger } from '../../common/logger.ts';
import { StateConflictError } from '../local/state-store.ts';
import { TOPIC_GROUP, TOPIC_PLURAL, TOPIC_VERSION } from './topic-crd.ts';
import { persistedTopicOf, samePersistedState, type PersistedTopic, type TopicObject, type TopicStatus } from './topic-resource.ts';
import { buildTopicStatus, sameStatus, type TopicVerdict } from './topic-status.ts';

export interface TopicStatusWriterOptions {
  readonly api: CustomObjectsApi;
  readonly namespace: string;
  /** The informer's copy of a Topic, if any. */
  readonly cached: (name: string) => TopicObject | undefined;
  readonly logger: Logger;
  readonly now?: () => Date;
  /** Attempts for a write failing with a transient error (5xx, 429, network). Default 4. */
  readonly attempts?: number;
}

const MAX_CONFLICT_RETRIES = 10;

export class TopicStatusWriter {
  readonly #o: TopicStatusWriterOptions;
  readonly #chains = new Map<string, Promise<unknown>>();
  /** What this process last persisted for a Topic (what the next write must carry). */
  readonly #persisted = new Map<string, PersistedTopic | undefined>();
  /** What the object is known to hold: the reference for telling our writes from someone else's. */
  readonly #onObject = new Map<string, PersistedTopic | undefined>();
  readonly #verdicts = new Map<string, TopicVerdict>();
  /** The object as returned by our last write. */
  readonly #latest = new Map<string, TopicObject>();

  constructor(options: TopicStatusWriterOptions) {
    this.#o = options;
  }

  /**
   * A Topic as read at takeover: its persisted state is the reference against which later writes
   * tell our changes from someone else's (until `persist` is called for it, writes keep what the
   * object holds), and the object is where the first write starts unless the informer's copy is
   * newer.
   */
  seed(obj: TopicObject): void {
    const name = obj.metadata.name;
    this.#onObject.set(name, persistedTopicOf(obj));
    this.#latest.set(name, obj);
  }

  verdictOf(name: string): TopicVerdict | undefined {
    return this.#verdicts.get(name);
  }

  /** Writes the partition state of a committed change; resolves once it is durable. */
  persist(name: string, persisted: PersistedTopic): Promise<void> {
    return this.#serialized(name, () => {
      this.#persisted.set(name, persisted);
      return this.#write(name);
    });
  }

  /**
   * Stamps the persisted state on the object, unchanged, with `metadataVersion` (a takeover's):
   * fails with StateConflictError if the object does not hold the state this process loaded.
   * Conditions and observedGeneration stay as they are. Resolves once written.
   */
  claim(name: string, metadataVersion: number): Promise<void> {
    return this.#serialized(name, () => this.#write(name, metadataVersion));
  }

  /** Records a reconcile's verdict and writes the status if that changes it. */
  publish(name: string, verdict: TopicVerdict): Promise<void> {
    return this.#serialized(name, () => {
      this.#verdicts.set(name, verdict);
      return this.#write(name);
    });
  }

  /** Drops what is known about a Topic that is gone. */
  forget(name: string): void {
    this.#persisted.delete(name);
    this.#onObject.delete(name);
    this.#verdicts.delete(name);
    this.#latest.delete(name);
  }

  #serialized(name: string, fn: () => Promise<void>): Promise<void> {
    const run = (this.#chains.get(name) ?? Promise.resolve()).then(fn);
    const tail = run.catch(() => undefined);
    this.#chains.set(name, tail);
    void tail.then(() => {
      if (this.#chains.get(name) === tail) this.#chains.delete(name);
    });
    return run;
  }

  async #write(name: string, claimVersion?: number): Promise<void> {
    let obj = this.#freshest(name) ?? (await this.#read(name));
    for (let conflicts = 0; obj; conflicts++) {
      this.#checkOwnership(name, obj);
      let persisted = this.#persisted.has(name) ? this.#persisted.get(name) : persistedTopicOf(obj);
      let status: TopicStatus;
      if (claimVersion !== undefined) {
        if (!persisted) throw new StateConflictError(`Topic ${name} holds no partition state to claim, though this operator loaded some: is another operator acting as leader?`);
        if (persisted.metadataVersion !== claimVersion) {
          persisted = { ...persisted, metadataVersion: claimVersion };
          // Before the write: an answer lost on the way must still be recognized as ours.
          this.#persisted.set(name, persisted);
        }
        status = { ...obj.status, metadataVersion: claimVersion };
      } else {
        status = buildTopicStatus({ persisted, verdict: this.#verdicts.get(name), generation: obj.metadata.generation ?? 0, previous: obj.status, now: this.#o.now?.() ?? new Date() });
      }
      if (sameStatus(obj.status, status)) return;
      try {
        const written = (await this.#withRetries(name, () =>
          this.#o.api.replaceNamespacedCustomObjectStatus({ group: TOPIC_GROUP, version: TOPIC_VERSION, plural: TOPIC_PLURAL, namespace: this.#o.namespace, name, body: { ...obj, status } }),
        )) as TopicObject;
        this.#latest.set(name, written);
        this.#onObject.set(name, persistedTopicOf(written));
        return;
      } catch (e) {
        if (!(e instanceof ApiException) || e.code !== 409) {
          if (e instanceof ApiException && e.code === 404) return this.#gone(name);
          throw e;
        }
        if (conflicts >= MAX_CONFLICT_RETRIES) throw new Error(`status of Topic ${name} kept conflicting (${conflicts} times); retrying later`, { cause: e });
        this.#latest.delete(name);
        obj = await this.#read(name);
      }
    }
    this.#gone(name);
  }

  /** Refuses to overwrite partition state that this process did not write (see the file comment). */
  #checkOwnership(name: string, obj: TopicObject): void {
    const onObject = persistedTopicOf(obj);
    if (!this.#onObject.has(name)) {
      this.#onObject.set(name, onObject);
      return;
    }
    const expected = this.#onObject.get(name);
    if (sameWrite(onObject, expected)) return;
    // A write whose answer was lost (and was retried into this 409) did land: that is ours too.
    if (this.#persisted.has(name) && sameWrite(onObject, this.#persisted.get(name))) {
      this.#onObject.set(name, onObject);
      return;
    }
    throw new StateConflictError(
      `the partition state in the status of Topic ${name} was changed by someone else (expected version ${expected?.metadataVersion ?? 'none'}, found ${onObject?.metadataVersion ?? 'none'}): is another operator acting as leader?`,
    );
  }

  #gone(name: string): void {
    this.#o.logger.info({ topicObject: name }, 'Topic is gone; its status is not written');
  }

  /** Our last write, or the informer's copy when that is newer (a spec edit since). */
  #freshest(name: string): TopicObject | undefined {
    const latest = this.#latest.get(name);
    const cached = this.#o.cached(name);
    if (!latest) return cached;
    if (!cached) return latest;
    const a = Number(latest.metadata.resourceVersion);
    const b = Number(cached.metadata.resourceVersion);
    return Number.isFinite(a) && Number.isFinite(b) && b > a ? cached : latest;
  }

  async #read(name: string): Promise<TopicObject | undefined> {
    try {
      return (await this.#withRetries(name, () =>
        this.#o.api.getNamespacedCustomObject({ group: TOPIC_GROUP, version: TOPIC_VERSION, plural: TOPIC_PLURAL, namespace: this.#o.namespace, name }),
      )) as TopicObject;
    } catch (e) {
      if (e instanceof ApiException && e.code === 404) return undefined;
      throw e;
    }
  }

  async #withRetries<T>(name: string, call: () => Promise<T>): Promise<T> {
    const attempts = this.#o.attempts ?? 4;
    for (let attempt = 1; ; attempt++) {
      try {
        return await call();
      } catch (e) {
        const transient = !(e instanceof ApiException) || e.code >= 500 || e.code === 429;
        if (!transient || attempt >= attempts) throw e;
        this.#o.logger.warn({ err: e, topicObject: name, attempt }, 'Topic request failed; retrying');
        await new Promise((r) => setTimeout(r, 100 * 2 ** (attempt - 1)));
      }
    }
  }
}

/**
 * The same write: the same partition state at the same metadata version. The version tells a
 * new leader's claim (the same partitions, a newer version) from what the previous leader wrote.
 */
function sameWrite(a: PersistedTopic | undefined, b: PersistedTopic | undefined): boolean {
  return samePersistedState(a, b) && a?.metadataVersion === b?.metadataVersion;
}
