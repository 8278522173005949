// Preferred-leader rebalance (DESIGN §6), the shell around the core's electPreferredLeaders:
// every interval, and at once when an ISR change brings a partition's preferred replica back in
// sync (a restarted broker has caught up), leadership returns to the preferred replicas, so
// leaders stay spread as placement laid them out. Kafka's auto.leader.rebalance.enable.
import type { Logger } from '../../common/logger.ts';
import { electPreferredLeaders, preferredLeaderCandidates, type PartitionRef } from '../core/cluster-state.ts';
import type { Clock } from './clock.ts';
import type { CommittedState, StateChange } from './committed-state.ts';

export interface LeaderRebalancerOptions {
  readonly committed: CommittedState;
  readonly clock: Clock;
  /** 0 disables the rebalance altogether (periodic and triggered). */
  readonly intervalMs: number;
  readonly logger: Logger;
}

export class LeaderRebalancer {
  readonly #o: LeaderRebalancerOptions;
  #cancelTimer: (() => void) | undefined;
  #closed = false;

  constructor(options: LeaderRebalancerOptions) {
    this.#o = options;
    if (options.intervalMs <= 0) return;
    options.committed.onChange((change) => {
      const caughtUp = preferredBackInSync(change);
      if (caughtUp.length > 0) void this.rebalance(caughtUp);
    });
    this.#arm();
  }

  /**
   * Moves leadership to the preferred replica of the partitions named (or of every partition)
   * that are eligible when the change runs. Resolves with the partitions moved; never rejects.
   */
  async rebalance(only?: readonly PartitionRef[]): Promise<PartitionRef[]> {
    if (this.#closed) return [];
    try {
      return await this.#o.committed.commit((state) => electPreferredLeaders(state, only));
    } catch (e) {
      // Refused only when the state can no longer be persisted; the next round tries again.
      this.#o.logger.error({ err: e }, 'preferred leader rebalance failed');
      return [];
    }
  }

  close(): void {
    this.#closed = true;
    this.#cancelTimer?.();
    this.#cancelTimer = undefined;
  }

  #arm(): void {
    if (this.#closed) return;
    this.#cancelTimer = this.#o.clock.setTimer(() => {
      this.#cancelTimer = undefined;
      // Skip the commit (and its disk write) when nothing would move; re-arm only after a round
      // finished, so rounds never pile up behind a slow disk.
      const round = preferredLeaderCandidates(this.#o.committed.current).length > 0 ? this.rebalance() : Promise.resolve([]);
      void round.then(() => this.#arm());
    }, this.#o.intervalMs);
  }
}

/** Partitions whose preferred replica this change put back into the ISR while another leads. */
function preferredBackInSync(change: StateChange): PartitionRef[] {
  const out: PartitionRef[] = [];
  for (const e of change.events) {
    if (e.type !== 'partition_changed' || e.reason !== 'alter_partition') continue;
    const preferred = e.current.replicas[0];
    if (preferred === undefined || preferred === e.current.leader) continue;
    if (e.current.isr.includes(preferred) && !e.previous.isr.includes(preferred)) out.push({ topic: e.topic, partition: e.partition });
  }
  return out;
}
