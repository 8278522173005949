// A bound on sends awaiting their acknowledgement. `produce` and `perf produce` read input far
// faster than a cluster acknowledges it; without a bound a large file would become millions of
// pending promises and records in memory before the producer's own buffer limit is reached.
export class InFlightWindow {
  private readonly limit: number;
  private readonly resumeAt: number;
  private count = 0;
  private waiters: (() => void)[] = [];

  /**
   * `resumeAt` (default limit - 1: as soon as there is room) is how low the count must fall
   * before waiters are woken. A lower value lets a sender that is always at the limit resume
   * once per group of acknowledgements instead of once per record.
   */
  constructor(limit: number, options: { resumeAt?: number } = {}) {
    if (!Number.isInteger(limit) || limit < 1) throw new RangeError(`in-flight limit must be a whole number >= 1 (got ${limit})`);
    const resumeAt = options.resumeAt ?? limit - 1;
    if (!Number.isInteger(resumeAt) || resumeAt < 0 || resumeAt >= limit) {
      throw new RangeError(`resumeAt must be a whole number from 0 to limit - 1 (got ${resumeAt} with limit ${limit})`);
    }
    this.limit = limit;
    this.resumeAt = resumeAt;
  }

  get inFlight(): number {
    return this.count;
  }

  /** True when one more may start now: lets a hot loop skip admit() and its promise. */
  get hasRoom(): boolean {
    return this.count < this.limit;
  }

  /** Resolves once there is room for one more send. */
  async admit(): Promise<void> {
    while (this.count >= this.limit) {
      await new Promise<void>((resolve) => this.waiters.push(resolve));
    }
  }

  /** Counts `operation` until it settles; its outcome is the caller's to handle. */
  track(operation: Promise<unknown>): void {
    this.enter();
    const done = () => this.leave();
    operation.then(done, done);
  }

  /**
   * track() for a caller that already handles the outcome: enter() when it starts, leave()
   * exactly once when it settles. Saves a promise and two closures per operation.
   */
  enter(): void {
    this.count++;
  }

  leave(): void {
    this.count--;
    if (this.count <= this.resumeAt || this.count === 0) this.wake();
  }

  /** Resolves when nothing is in flight. */
  async drain(): Promise<void> {
    while (this.count > 0) {
      await new Promise<void>((resolve) => this.waiters.push(resolve));
    }
  }

  private wake(): void {
    if (this.waiters.length === 0) return;
    const waiters = this.waiters;
    this.waiters = [];
    for (const w of waiters) w();
  }
}
