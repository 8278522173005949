// Broker liveness from Pods and Nodes (DESIGN §6): a broker whose Pod is deleted, failed or
// evicted, or whose node is not ready, is fenced at once — as a lapsed session would be, without
// waiting for the session timeout — and may not register again until a Pod of its ordinal runs on
// a ready node. The rack a broker registers with is its node's zone.
import { SluiceError } from '../../common/errors.ts';
import type { Logger } from '../../common/logger.ts';
import type { BrokerRegistrationInput } from '../core/cluster-state.ts';
import type { BrokerSessions } from '../local/broker-sessions.ts';
import type { CommittedState } from '../local/committed-state.ts';
import { podVerdict, type NodeLike, type PodLike } from './broker-pods.ts';
import type { ReconcileResult } from './work-queue.ts';

export interface BrokerLivenessOptions {
  readonly pods: () => readonly PodLike[];
  readonly nodes: () => readonly NodeLike[];
  readonly committed: CommittedState;
  readonly logger: Logger;
}

export class BrokerLiveness {
  readonly #o: BrokerLivenessOptions;
  #sessions: BrokerSessions | undefined;

  constructor(options: BrokerLivenessOptions) {
    this.#o = options;
  }

  attach(sessions: BrokerSessions): void {
    this.#sessions = sessions;
  }

  /** BrokerSessions' admission check: runs inside the commit of the registration. */
  admit = (input: BrokerRegistrationInput): BrokerRegistrationInput => {
    const verdict = podVerdict(input.brokerId, this.#o.pods(), this.#o.nodes());
    if (verdict.state !== 'running') {
      throw new SluiceError(
        'BROKER_NOT_AVAILABLE',
        `broker ${input.brokerId} may not register: ${verdict.why}; it can register once a Pod with ordinal ${input.brokerId} is Running on a ready node`,
        { brokerId: input.brokerId },
      );
    }
    // The node's zone is the truth in Kubernetes; a rack the broker was configured with is kept
    // only where nodes carry none.
    return verdict.rack ? { ...input, rack: verdict.rack } : input;
  };

  /** Fences every live broker whose Pod is lost. Level-triggered: run it on any Pod or Node change. */
  async reconcile(): Promise<ReconcileResult> {
    const sessions = this.#sessions;
    if (!sessions) return {};
    const pods = this.#o.pods();
    const nodes = this.#o.nodes();
    for (const b of this.#o.committed.current.brokers) {
      if (b.state === 'fenced') continue;
      const verdict = podVerdict(b.id, pods, nodes);
      if (verdict.state !== 'lost') continue;
      this.#o.logger.warn({ broker: b.id, epoch: b.brokerEpoch, why: verdict.why }, 'broker pod lost; fencing the broker');
      await sessions.fence(b.id, 'pod_lost', verdict.why);
    }
    return {};
  }
}
