// Leader election on a coordination.k8s.io/v1 Lease (DESIGN §6: several operator replicas, one
// active). client-node 2.x has no helper for it, so this is client-go's leaderelection in small:
//
// * Every write is a compare-and-swap on the Lease's resourceVersion, so of two candidates only
//   one wins, and a holder whose write fails with 409 knows someone else took over.
// * A candidate judges expiry by its own clock, from when it last saw the Lease change (never by
//   comparing the holder's renewTime with its own wall clock, which may be skewed): the Lease is
//   free once it has not changed for leaseDurationSeconds.
// * The holder renews every retryPeriod and gives up leadership as soon as renewDeadline has
//   passed since its last successful renewal. renewDeadline < leaseDuration, so it stops acting
//   before any candidate can consider the Lease expired (a paused process notices on waking,
//   through `isLeader`, before its next write).
// * On a graceful stop the holder releases the Lease (empty holder), so a standby takes over at
//   its next poll instead of after a full lease duration.
// * A Lease deleted by hand is recreated by its holder at once, with its annotations (the cluster
//   record). A candidate that saw the Lease and then finds it gone waits a full lease duration
//   before creating it itself: a live holder recreates it within a retry period, and a candidate
//   that created it first would hold a Lease without the record, which no operator can start from.
//
// The holder also writes annotations on the Lease (the controller's cluster record, see
// cluster-record.ts) through writeAnnotations(): the same compare-and-swap, serialized with the
// renewals, so that such a write succeeds only while this process still holds the Lease.
import { EventEmitter } from 'node:events';
import { ApiException, type CoordinationV1Api, type V1Lease } from '@kubernetes/client-node';
import type { Logger } from '../../common/logger.ts';

export interface LeaseElectorOptions {
  readonly api: CoordinationV1Api;
  readonly namespace: string;
  readonly name: string;
  /** Unique per process (pod name plus a random suffix). */
  readonly identity: string;
  /** How long a Lease not renewed stays held. Written to the Lease in whole seconds. */
  readonly leaseDurationMs: number;
  /** The holder gives up leadership when it could not renew for this long. */
  readonly renewDeadlineMs: number;
  /** Interval of renewals and of attempts to acquire. */
  readonly retryPeriodMs: number;
  readonly logger: Logger;
  /** Monotonic milliseconds (performance.now by default). */
  readonly now?: () => number;
}

/** Thrown by writeAnnotations when this process does not hold the Lease (any more). */
export class LeadershipLostError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'LeadershipLostError';
  }
}

/**
 * Events: 'leading' (once leadership is acquired), 'stopped' (leadership lost or released, with
 * the reason), 'leader' (identity of the holder as last observed, when it changes).
 */
export class LeaseElector extends EventEmitter {
  readonly #o: LeaseElectorOptions;
  readonly #now: () => number;
  #lease: V1Lease | undefined;
  /** When the Lease was last seen to change (holder or renewTime), by our clock. */
  #observedAt = 0;
  #observedKey = '';
  #leading = false;
  /** When this process last renewed successfully, by our clock. */
  #renewedAt = 0;
  #timer: NodeJS.Timeout | undefined;
  #running = false;
  /** Every Lease write, one at a time. */
  #chain: Promise<unknown> = Promise.resolve();
  #observedHolder = '';
  /** Whether a Lease was ever read or written by this process. */
  #seen = false;
  /** When a candidate first found a Lease it had seen missing (our clock), else undefined. */
  #missingSince: number | undefined;

  constructor(options: LeaseElectorOptions) {
    super();
    if (!(options.renewDeadlineMs < options.leaseDurationMs && options.retryPeriodMs < options.renewDeadlineMs)) {
      throw new Error(`lease timings must satisfy retryPeriod (${options.retryPeriodMs} ms) < renewDeadline (${options.renewDeadlineMs} ms) < leaseDuration (${options.leaseDurationMs} ms)`);
    }
    this.#o = options;
    this.#now = options.now ?? (() => performance.now());
  }

  get identity(): string {
    return this.#o.identity;
  }

  /** True while this process holds the Lease and renewed it within renewDeadline. */
  get isLeader(): boolean {
    return this.#leading && this.#now() - this.#renewedAt < this.#o.renewDeadlineMs;
  }

  /** Holder identity as last observed ('' when none). */
  get observedHolder(): string {
    return this.#observedHolder;
  }

  /** Annotations of the Lease as last read or written. */
  annotations(): Record<string, string> {
    return { ...(this.#lease?.metadata?.annotations ?? {}) };
  }

  /** The Lease's leaseTransitions as last read or written. */
  get leaseTransitions(): number {
    return this.#lease?.spec?.leaseTransitions ?? 0;
  }

  start(): void {
    if (this.#running) return;
    this.#running = true;
    this.#schedule(0);
  }

  /** Stops campaigning; a holder releases the Lease so that a standby takes over at once. */
  async stop(): Promise<void> {
    this.#running = false;
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = undefined;
    await this.#serialized(async () => {
      if (!this.#leading) return;
      this.#lose('released');
      const lease = this.#lease;
      if (!lease?.spec || lease.spec.holderIdentity !== this.#o.identity) return;
      try {
        // client-go's ReleaseOnCancel: no holder, and a 1 s duration so a candidate that still
        // sees a holder waits no longer than that.
        const released: V1Lease = { ...lease, spec: { ...lease.spec, holderIdentity: '', leaseDurationSeconds: 1, renewTime: isoMicro(new Date()) as unknown as Date } };
        this.#lease = await this.#o.api.replaceNamespacedLease({ name: this.#o.name, namespace: this.#o.namespace, body: released });
        this.#o.logger.info({ lease: this.#o.name }, 'lease released');
      } catch (e) {
        this.#o.logger.warn({ err: e, lease: this.#o.name }, 'could not release the lease; a standby takes over once it expires');
      }
    });
  }

  /**
   * Sets annotations on the Lease (and renews it), only if this process holds it. Rejects with
   * LeadershipLostError when it does not (and then emits 'stopped'); with the API error when the
   * write failed otherwise (the Lease may or may not hold the new value only if the error came
   * after the request was sent: callers treat that as unknown).
   */
  writeAnnotations(annotations: Record<string, string>): Promise<void> {
    return this.#serialized(async () => {
      if (!this.isLeader || !this.#lease) throw new LeadershipLostError(`this operator (${this.#o.identity}) does not hold lease ${this.#o.name}`);
      const next = this.#renewed(this.#lease, annotations);
      try {
        this.#accept(await this.#o.api.replaceNamespacedLease({ name: this.#o.name, namespace: this.#o.namespace, body: next }));
        this.#renewedAt = this.#now();
      } catch (e) {
        if (e instanceof ApiException && (e.code === 409 || e.code === 404)) {
          // Someone else wrote the Lease: only a candidate that found it expired does that.
          this.#lose(`lease ${this.#o.name} was taken over (${e.code} on write)`);
          throw new LeadershipLostError(`lease ${this.#o.name} is no longer held by ${this.#o.identity}`);
        }
        throw e;
      }
    });
  }

  #schedule(ms: number): void {
    if (!this.#running) return;
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      void this.#serialized(() => this.#tryAcquireOrRenew()).finally(() => this.#schedule(this.#o.retryPeriodMs));
    }, ms);
  }

  #serialized<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.#chain.then(fn);
    this.#chain = run.catch(() => undefined);
    return run;
  }

  async #tryAcquireOrRenew(): Promise<void> {
    if (!this.#running) return;
    if (this.#leading && !this.isLeader) {
      this.#lose(`could not renew lease ${this.#o.name} for ${this.#o.renewDeadlineMs} ms`);
    }
    try {
      if (this.#leading && this.#lease) {
        // Renewal: write from what we last wrote; a 409 means someone else wrote since.
        try {
          this.#accept(await this.#o.api.replaceNamespacedLease({ name: this.#o.name, namespace: this.#o.namespace, body: this.#renewed(this.#lease, {}) }));
          this.#renewedAt = this.#now();
        } catch (e) {
          // Deleted by hand: recreate it, with the annotations it held (the cluster record).
          if (e instanceof ApiException && e.code === 404) await this.#create();
          else throw e;
        }
        return;
      }
      let current: V1Lease;
      try {
        current = await this.#o.api.readNamespacedLease({ name: this.#o.name, namespace: this.#o.namespace });
      } catch (e) {
        if (!(e instanceof ApiException && e.code === 404)) throw e;
        if (this.#seen) {
          this.#missingSince ??= this.#now();
          if (this.#now() - this.#missingSince < this.#o.leaseDurationMs) {
            this.#o.logger.info({ lease: this.#o.name }, 'lease is gone; leaving its holder a lease duration to recreate it with the cluster record');
            return;
          }
        }
        await this.#create();
        return;
      }
      this.#observe(current);
      const holder = current.spec?.holderIdentity ?? '';
      const durationMs = (current.spec?.leaseDurationSeconds ?? 0) * 1000;
      const free = holder === '' || holder === this.#o.identity || this.#now() - this.#observedAt >= durationMs;
      if (!free) return;
      const acquired = this.#acquired(current);
      this.#accept(await this.#o.api.replaceNamespacedLease({ name: this.#o.name, namespace: this.#o.namespace, body: acquired }));
      this.#gain(holder);
    } catch (e) {
      if (e instanceof ApiException && e.code === 409) {
        if (this.#leading) this.#lose(`lease ${this.#o.name} was taken over (409 on renewal)`);
        else this.#o.logger.debug({ lease: this.#o.name }, 'another candidate acquired the lease first');
        this.#lease = undefined;
        return;
      }
      this.#o.logger.warn({ err: e, lease: this.#o.name, leading: this.#leading }, 'lease request failed');
    }
  }

  async #create(): Promise<void> {
    const now = isoMicro(new Date()) as unknown as Date;
    const body: V1Lease = {
      apiVersion: 'coordination.k8s.io/v1',
      kind: 'Lease',
      metadata: { name: this.#o.name, namespace: this.#o.namespace, annotations: this.#lease?.metadata?.annotations },
      spec: { holderIdentity: this.#o.identity, leaseDurationSeconds: this.#durationSeconds(), acquireTime: now, renewTime: now, leaseTransitions: this.leaseTransitions },
    };
    try {
      this.#accept(await this.#o.api.createNamespacedLease({ namespace: this.#o.namespace, body }));
      this.#gain('');
    } catch (e) {
      if (e instanceof ApiException && e.code === 409) return; // another candidate created it first
      throw e;
    }
  }

  #durationSeconds(): number {
    return Math.max(1, Math.ceil(this.#o.leaseDurationMs / 1000));
  }

  #acquired(current: V1Lease): V1Lease {
    const now = isoMicro(new Date()) as unknown as Date;
    const same = current.spec?.holderIdentity === this.#o.identity;
    return {
      ...current,
      spec: {
        ...current.spec,
        holderIdentity: this.#o.identity,
        leaseDurationSeconds: this.#durationSeconds(),
        acquireTime: same ? current.spec?.acquireTime : now,
        renewTime: now,
        leaseTransitions: (current.spec?.leaseTransitions ?? 0) + (same ? 0 : 1),
      },
    };
  }

  #renewed(lease: V1Lease, annotations: Record<string, string>): V1Lease {
    return {
      ...lease,
      metadata: { ...lease.metadata, annotations: { ...(lease.metadata?.annotations ?? {}), ...annotations } },
      spec: { ...lease.spec, holderIdentity: this.#o.identity, leaseDurationSeconds: this.#durationSeconds(), renewTime: isoMicro(new Date()) as unknown as Date },
    };
  }

  #accept(lease: V1Lease): void {
    this.#lease = lease;
    this.#observe(lease);
  }

  #observe(lease: V1Lease): void {
    this.#seen = true;
    this.#missingSince = undefined;
    const key = `${lease.spec?.holderIdentity ?? ''}|${String(lease.spec?.renewTime ?? '')}|${lease.metadata?.resourceVersion ?? ''}`;
    if (key !== this.#observedKey) {
      this.#observedKey = key;
      this.#observedAt = this.#now();
    }
    const holder = lease.spec?.holderIdentity ?? '';
    if (holder !== this.#observedHolder) {
      this.#observedHolder = holder;
      this.emit('leader', holder);
    }
  }

  #gain(previousHolder: string): void {
    this.#renewedAt = this.#now();
    if (this.#leading) return;
    this.#leading = true;
    this.#o.logger.info({ lease: this.#o.name, identity: this.#o.identity, previousHolder, transitions: this.leaseTransitions }, 'became the leader');
    this.emit('leading');
  }

  #lose(reason: string): void {
    if (!this.#leading) return;
    this.#leading = false;
    this.#o.logger.warn({ lease: this.#o.name, identity: this.#o.identity, reason }, 'stopped leading');
    this.emit('stopped', reason);
  }
}

/** metav1.MicroTime as the API server writes it (six fractional digits, UTC). */
function isoMicro(d: Date): string {
  return `${d.toISOString().slice(0, 23)}000Z`;
}
