// Test double of Clock: time moves only when a test calls advance(), and due timers fire in
// order as it passes them.
import type { Clock } from './clock.ts';

interface PendingTimer {
  at: number;
  seq: number;
  fn: () => void;
}

export class FakeClock implements Clock {
  #now = 0;
  #seq = 0;
  #timers: PendingTimer[] = [];
  readonly #earlyByMs: number;

  /** `earlyByMs` makes timers fire that much before they are due, as real setTimeout timers
   *  sometimes do when measured against performance.now(). */
  constructor(options: { earlyByMs?: number } = {}) {
    this.#earlyByMs = options.earlyByMs ?? 0;
  }

  now(): number {
    return this.#now;
  }

  setTimer(fn: () => void, ms: number): () => void {
    const timer = { at: this.#now + Math.max(0, ms - this.#earlyByMs), seq: this.#seq++, fn };
    this.#timers.push(timer);
    return () => {
      this.#timers = this.#timers.filter((t) => t !== timer);
    };
  }

  /** Moves time forward by ms, firing every timer that falls due on the way (including ones they set). */
  advance(ms: number): void {
    const target = this.#now + ms;
    for (;;) {
      const due = this.#timers.filter((t) => t.at <= target).sort((a, b) => a.at - b.at || a.seq - b.seq)[0];
      if (!due) break;
      this.#timers = this.#timers.filter((t) => t !== due);
      this.#now = due.at;
      due.fn();
    }
    this.#now = target;
  }

  get pendingTimers(): number {
    return this.#timers.length;
  }
}
