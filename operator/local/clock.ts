// Time as the local shell sees it, injected so that session lapses can be tested without
// sleeping: tests pass a FakeClock, production the system clock.

export interface Clock {
  /** Milliseconds on a monotonic scale (only differences mean anything). */
  now(): number;
  /** Runs fn once after ms; the returned function cancels it. */
  setTimer(fn: () => void, ms: number): () => void;
}

export const systemClock: Clock = {
  // Monotonic, so a wall-clock step (NTP, suspend) neither fences every broker at once nor
  // keeps a dead one alive.
  now: () => performance.now(),
  setTimer(fn, ms) {
    const t = setTimeout(fn, ms);
    return () => clearTimeout(t);
  },
};
