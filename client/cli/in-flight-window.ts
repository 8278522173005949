// A bound on sends awaiting their acknowledgement. `produce` and `perf produce` read input far
// faster than a cluster acknowledges it; without a bound a large file would become millions of
// pending promises and records in memory before the producer's own buffer limit is reached.
export class InFlightWindow {
  private readonly limit: number;
  private count = 0;
  private waiters: (() => void)[] = [];

  constructor(limit: number) {
    if (!Number.isInteger(limit) || limit < 1) throw new RangeError(`in-flight limit must be a whole number >= 1 (got ${limit})`);
    this.limit = limit;
  }

  get inFlight(): number {
    return this.count;
  }

  /** Resolves once there is room for one more send. */
  async admit(): Promise<void> {
    while (this.count >= this.limit) {
      await new Promise<void>((resolve) => this.waiters.push(resolve));
    }
  }

  /** Counts `operation` until it settles; its outcome is the caller's to handle. */
  track(operation: Promise<unknown>): void {
    this.count++;
    const done = () => {
      this.count--;
      this.wake();
    };
    operation.then(done, done);
  }

  /** Resolves when nothing is in flight. */
  async drain(): Promise<void> {
    while (this.count > 0) {
      await new Promise<void>((resolve) => this.waiters.push(resolve));
    }
  }

  private wake(): void {
    const waiters = this.waiters;
    this.waiters = [];
    for (const w of waiters) w();
  }
}
